// Part 2, challenge 2 solved: static files carry Last-Modified, and a request whose
// If-Modified-Since is not older than the file gets 304 Not Modified with no body (RFC 9110
// §8.8.2, §13.1.3): the browser's cached copy is still good. The rest is the part 2 site.
//
//   npx tsx part2-tcp-http/solutions/challenge-2.ts --port 8002
//   curl -v http://127.0.0.1:8002/static/hello.txt
//     then again with -H 'If-Modified-Since: <its Last-Modified>'
//   npm run check -- part2 part2-tcp-http/solutions/challenge-2.ts --challenge 2
//
// What it leaves out: ETag and If-None-Match (§8.8.3, §13.1.2), which would win over the date.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { headerValue } from '../head.ts';
import type { Handler } from '../server.ts';
import { CONTENT_TYPES, PUBLIC_DIR, resolveInside } from '../static.ts';
import { serveSolution, staticPathOf } from './serve.ts';

/**
 * Static files as the site sends them, plus Last-Modified;
 * 304 when the client's copy is current.
 */
function withLastModified(site: Handler, publicDir = PUBLIC_DIR): Handler {
  return async (request, response) => {
    const path = staticPathOf(request);
    if (path === null) return site(request, response);
    // The same path checks as every static file: 403 outside public/, 404 for no such file.
    const file = await resolveInside(publicDir, path);
    // An HTTP date has whole seconds; compare at that precision, or a file would never match.
    const modified = Math.floor((await stat(file)).mtimeMs / 1000) * 1000;
    const lastModified: [string, string] = ['Last-Modified', new Date(modified).toUTCString()];
    // An unreadable date is ignored (Date.parse gives NaN, and NaN >= anything is false).
    const since = Date.parse(headerValue(request.head.headers, 'if-modified-since') ?? '');
    if (since >= modified) {
      response.sendWhole(304, [lastModified]);
      return;
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    response.sendWhole(
      200,
      [['Content-Type', type], ['X-Content-Type-Options', 'nosniff'], lastModified],
      await readFile(file),
    );
  };
}

serveSolution(2, withLastModified, "curl -v 'URL/static/hello.txt'");
