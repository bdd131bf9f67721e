// Part 2, challenge 3 solved: /hello is sent gzip-compressed to a client that says it accepts
// gzip (Accept-Encoding, RFC 9110 §12.5.3), with Content-Encoding: gzip (§8.4), Vary:
// Accept-Encoding (a cache must not give the gzipped copy to a client that cannot read it), and
// the compressed length as Content-Length. The rest is the part 2 site, unchanged.
//
//   npx tsx part2-tcp-http/solutions/challenge-3.ts --port 8002
//   curl -v --compressed 'http://127.0.0.1:8002/hello?name=Ada'
//   npm run check -- part2 part2-tcp-http/solutions/challenge-3.ts --challenge 3
//
// What it leaves out: other routes and other codings (br, deflate); a real server compresses
// any large enough text body, and streams it through zlib instead of compressing it whole.
import { gzipSync } from 'node:zlib';
import { headerValue } from '../head.ts';
import { helloPage } from '../pages.ts';
import type { ResponseHeader } from '../response.ts';
import type { Handler } from '../server.ts';
import { serveSolution } from './serve.ts';

/** /hello as the site answers it, gzipped when the client accepts gzip. */
function withGzipHello(site: Handler): Handler {
  return (request, response) => {
    const { method, target, headers } = request.head;
    const [path, query = ''] = target.split('?');
    if (path !== '/hello' || (method !== 'GET' && method !== 'HEAD'))
      return site(request, response);
    const html = Buffer.from(
      helloPage(new URLSearchParams(query).get('name')?.trim() || 'world'),
      'utf8',
    );
    // Both forms say Vary: a cache keeps them apart by the request's Accept-Encoding.
    const fields: ResponseHeader[] = [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['Vary', 'Accept-Encoding'],
    ];
    if (!acceptsGzip(headerValue(headers, 'accept-encoding') ?? ''))
      return response.sendWhole(200, fields, html);
    response.sendWhole(200, [...fields, ['Content-Encoding', 'gzip']], gzipSync(html));
  };
}

/** "gzip" listed with a q-value above 0, or else "*" (RFC 9110 §12.5.3): "gzip;q=0" means no. */
function acceptsGzip(acceptEncoding: string): boolean {
  const weights = new Map<string, number>();
  for (const element of acceptEncoding.split(',')) {
    const [coding, ...parameters] = element.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)));
  }
  return (weights.get('gzip') ?? weights.get('*') ?? 0) > 0;
}

serveSolution(3, withGzipHello, "curl -v --compressed 'URL/hello?name=Ada'");
