// Part 2, minimal: the HTTP/1.1 server you can read in one sitting. One file, `node:net` only:
// a connection loop that reads a request line, header lines and a body (by Content-Length, or
// chunked), answers it, and loops for the next request on the same connection (keep-alive),
// including requests that arrived in the same read (pipelining). HEAD works; garbage gets 400.
//
//   npx tsx part2-tcp-http/minimal.ts --port 8002
//     then: curl -v 'http://127.0.0.1:8002/hello?name=Ada'
//   npm run check -- part2 part2-tcp-http/minimal.ts --all
//     every core check passes; some hardening checks fail
//
// What it leaves out, on purpose, and what the full server (main.ts → server.ts, parser.ts,
// response.ts) adds: limits (a 1 GB head or body is buffered whole), timeouts (a client that
// sends half a request holds its connection for ever), strict framing (Host, whitespace,
// control bytes, both Content-Length and Transfer-Encoding: all let through), 413/414/431/501/505,
// Expect: 100-continue, bare-LF line ends, backpressure. README.md, "Build it yourself", lists
// the checks this file fails, and why each one matters.
import { createServer, type Socket } from 'node:net';
import {
  gracefulStop,
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
} from '../part1-sockets/cli.ts';

interface Request {
  method: string;
  target: string;
  version: string;
  /** In arrival order, names as sent: /echo shows them back. */
  headers: Array<[name: string, value: string]>;
  body: Buffer;
}

/** A request we refuse: answered with `status`, then the connection is closed. */
class BadRequest extends Error {}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** The value of header `name` (any case), or '' when absent. */
function headerOf(headers: Request['headers'], name: string): string {
  return headers.find(([field]) => field.toLowerCase() === name)?.[1] ?? '';
}

/**
 * One complete request from the start of `bytes`, and how many bytes it took; null when it has
 * not all arrived yet (TCP delivers bytes, not messages: wait for more and try again).
 */
function parseRequest(bytes: Buffer): { request: Request; size: number } | null {
  // Simplification: lines end with \r\n only (RFC 9112 §2.2 also allows a bare \n).
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd === -1) return null;
  const [requestLine, ...fieldLines] = bytes.toString('latin1', 0, headEnd).split('\r\n');
  // RFC 9112 §3: method SP request-target SP HTTP-version.
  const match = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(requestLine);
  if (match === null)
    throw new BadRequest('Malformed request line: expected "METHOD /target HTTP/1.1".');
  const [, method, target, version] = match;
  const headers = fieldLines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    if (colon === -1) throw new BadRequest('A header line must look like "Name: value".');
    // Simplification: the name is trimmed too, so "Host : x" passes (RFC 9112 §5.1 says 400).
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
  const bodyStart = headEnd + HEAD_END.length;
  // Simplification: no Host check, no limits, and when both framings are sent, chunked wins
  // (RFC 9112 §6.3 says to refuse: that is how requests get smuggled).
  if (/chunked/i.test(headerOf(headers, 'transfer-encoding'))) {
    const chunked = readChunkedBody(bytes, bodyStart);
    return chunked === null
      ? null
      : { request: { method, target, version, headers, body: chunked.body }, size: chunked.end };
  }
  const lengthText = headerOf(headers, 'content-length') || '0';
  if (!/^\d+$/.test(lengthText))
    throw new BadRequest('Content-Length must be a whole number of bytes.');
  const end = bodyStart + Number(lengthText);
  if (bytes.length < end) return null;
  return {
    request: { method, target, version, headers, body: bytes.subarray(bodyStart, end) },
    size: end,
  };
}

/**
 * RFC 9112 §7.1: chunks of "size-in-hex\r\n data \r\n", up to a "0\r\n\r\n".
 * Null: not all here yet.
 */
function readChunkedBody(bytes: Buffer, start: number): { body: Buffer; end: number } | null {
  const pieces: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, offset);
    if (lineEnd === -1) return null;
    // Simplification: chunk extensions (";name=value") are cut off unread.
    const size = parseInt(bytes.toString('latin1', offset, lineEnd).split(';')[0], 16);
    if (Number.isNaN(size)) throw new BadRequest('A chunk must start with its size in hex.');
    offset = lineEnd + 2;
    // Simplification: no trailer fields after the last chunk; the \r\n after data is not checked.
    if (bytes.length < offset + size + 2) return null;
    if (size === 0) return { body: Buffer.concat(pieces), end: offset + 2 };
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size + 2;
  }
}

/** The site: /, /hello?name=, /echo, and 404 for the rest. Returns status, type and body. */
function route(request: Request): [status: number, type: string, body: string] {
  const [path, query = ''] = request.target.split('?');
  // Simplification: any method is served on every path (the full site answers 405 or 501).
  if (path === '/')
    return [
      200,
      'text/html; charset=utf-8',
      '<!doctype html>\n<h1>Minimal</h1>\n' +
        '<p><a href="/hello?name=Ada">Hello</a>, <a href="/echo">echo</a></p>\n',
    ];
  // URLSearchParams decodes %20 and "+" as a space; text/plain, so a name is never run as HTML.
  if (path === '/hello')
    return [
      200,
      'text/plain; charset=utf-8',
      `Hello, ${new URLSearchParams(query).get('name') || 'world'}!\n`,
    ];
  if (path === '/echo') {
    const lines = [
      `${request.method} ${request.target} ${request.version}`,
      ...request.headers.map(([name, value]) => `${name}: ${value}`),
    ];
    return [
      200,
      'text/plain; charset=utf-8',
      `${lines.join('\n')}\n\n${request.body.toString('utf8')}`,
    ];
  }
  return [404, 'text/plain; charset=utf-8', `Nothing at ${path}.\n`];
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found' };

/** Status line, headers, empty line, body: Content-Length is the body's length in bytes. */
function responseBytes(
  status: number,
  type: string,
  body: string,
  options: { keepAlive: boolean; head: boolean },
): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status]}`,
    `Content-Type: ${type}`,
    `Content-Length: ${payload.length}`,
  ];
  if (!options.keepAlive) lines.push('Connection: close');
  // RFC 9110 §9.3.2: HEAD gets GET's headers, Content-Length included, and no body.
  return Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    options.head ? Buffer.alloc(0) : payload,
  ]);
}

/** The connection loop: buffer what arrives, answer every complete request in it, in order. */
function serveConnection(socket: Socket): void {
  let buffered = Buffer.alloc(0);
  let closing = false;
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    // Simplification: no limit on what is buffered, and no deadline for it to complete.
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      let parsed: ReturnType<typeof parseRequest>;
      try {
        parsed = parseRequest(buffered);
      } catch (error) {
        if (!(error instanceof BadRequest)) throw error;
        // We cannot tell where this request ends, so nothing after it can be trusted: hang up.
        socket.end(
          responseBytes(400, 'text/plain; charset=utf-8', `400 Bad Request: ${error.message}\n`, {
            keepAlive: false,
            head: false,
          }),
        );
        closing = true;
        return;
      }
      if (parsed === null) return; // the rest has not arrived: wait for the next 'data'
      const { request, size } = parsed;
      buffered = buffered.subarray(size); // what is left may be the next request (pipelining)
      const connection = headerOf(request.headers, 'connection').toLowerCase();
      // HTTP/1.1 keeps the connection open unless told otherwise; HTTP/1.0 closes unless asked.
      const keepAlive =
        request.version === 'HTTP/1.1' ? connection !== 'close' : connection === 'keep-alive';
      const [status, type, body] = route(request);
      socket.write(
        responseBytes(status, type, body, { keepAlive, head: request.method === 'HEAD' }),
      );
      if (!keepAlive) {
        socket.end();
        closing = true;
        return;
      }
    }
  });
  // A client that resets the connection must not take the server down: 'close' follows.
  socket.on('error', () => {});
}

async function main(): Promise<void> {
  const cli = parseCli(8002);
  const server = createServer(serveConnection);
  const stop = gracefulStop(server);
  const port = await listenOrExplain(server, cli, 'part2');
  stopOnSignals(stop);
  console.log(`Minimal HTTP server listening on http://${cli.host}:${port}/ (Ctrl-C to stop)`);
}

runMain(main);
