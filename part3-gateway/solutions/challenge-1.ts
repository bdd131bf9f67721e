// Challenge 1 of part 3, solved: repeated Cookie lines reach the app joined with "; ".
//
//   npm run check -- part3 part3-gateway/solutions/challenge-1.ts --challenge 1
//
// RFC 9110 §5.3 joins a repeated field's lines with ", " (buildEnviron does), but a Cookie
// header is a list of its own: RFC 6265 §5.4 separates cookies with "; ". An HTTP/1.1 browser
// sends one Cookie line; two come from a proxy that turns HTTP/2's split cookies back into
// HTTP/1.1 lines, or from a hand-written client.
//
// The gateway is the course's own (createGatewayHandler on part 2's server); the solution joins
// the Cookie lines of each request's head before the environ is built from it.
import type { HeaderField } from '../../part2-tcp-http/head.ts';
import { createHttpServer } from '../../part2-tcp-http/server.ts';
import { createGatewayHandler } from '../server.ts';
import { serveFromCommandLine } from './serve.ts';

/** The header lines with every Cookie line merged into the first one, joined with "; ". */
export function joinCookieLines(headers: HeaderField[]): HeaderField[] {
  const cookies = headers.filter((field) => field.name.toLowerCase() === 'cookie');
  if (cookies.length < 2) return headers;
  const joined: HeaderField = {
    name: cookies[0].name,
    value: cookies.map((field) => field.value).join('; '),
  };
  return headers.flatMap((field) =>
    field === cookies[0] ? [joined] : cookies.includes(field) ? [] : [field],
  );
}

serveFromCommandLine('Gateway (challenge 1: cookies joined with "; ")', (app) => {
  const gateway = createGatewayHandler(app);
  return createHttpServer(
    (request, response) => {
      request.head.headers = joinCookieLines(request.head.headers);
      return gateway(request, response);
    },
    { serverName: 'small-journey-gateway' },
  );
});
