// Part 1, "hello, browser": the bridge to part 2. Point a browser at this raw TCP server and the
// terminal shows the exact bytes the browser sent (with \r and \n made visible); the browser
// shows our answer, the smallest valid HTTP/1.1 response, written by hand.
//
// Run it:   npm run part1 -- hello    (127.0.0.1:8001 like the echo server; --port N to change)
// Try it:   open http://127.0.0.1:8001/ in a browser, or: curl -v http://127.0.0.1:8001/
//
// What it deliberately does not do: read the request. No parsing, no method, no path, no
// headers: whatever the first chunk holds (even "hi" from nc) gets the same answer, and then the
// connection closes. Part 2 parses requests, frames bodies and keeps connections open.
import { createServer, type Server, type Socket } from 'node:net';
import type { Log } from './echo-server.ts';

export interface HelloServerOptions {
  /** Defaults to console.log; tests pass `() => {}` or collect the lines. */
  log?: Log;
}

const CRLF = '\r\n';

// On the wire the body is bytes: this text is 19 JavaScript characters but 21 UTF-8 bytes, as
// the wave alone takes 4. Content-Length counts the bytes.
export const HELLO_BODY = 'Hello, browser! \u{1F44B}\n';

/** The whole response, head and body, as the bytes we send. */
export function helloResponse(): Buffer {
  const body = Buffer.from(HELLO_BODY, 'utf8');
  const head =
    // RFC 9112 §4 status line: the version we speak, a status code, a reason phrase for humans.
    'HTTP/1.1 200 OK' +
    CRLF +
    // Without it the browser has to guess (sniff) what the bytes are; charset says how to decode.
    'Content-Type: text/plain; charset=utf-8' +
    CRLF +
    // TCP has no message boundaries: this is how the client knows where the body ends. Counted
    // in bytes, not characters. Without it (and without closing) the browser keeps waiting.
    `Content-Length: ${body.length}` +
    CRLF +
    // RFC 9112 §9.6: a server that closes after one response must say so in that response.
    'Connection: close' +
    CRLF +
    // The empty line ends the head. Everything after it is body.
    CRLF;
  // Header bytes are ASCII (latin1 maps each character to one byte); the body is UTF-8.
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A TCP server (not yet listening) that shows each request's bytes and answers hello. */
export function createHelloServer(options: HelloServerOptions = {}): Server {
  const log = options.log ?? console.log;
  return createServer((socket) => sayHello(socket, log));
}

function sayHello(socket: Socket, log: Log): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  log(`${peer} connected`);

  socket.on('data', (chunk: Buffer) => {
    log(`${peer} sent ${chunk.length} bytes:\n${showBytes(chunk)}`);
    // Simplification: the first chunk is taken to be the whole request. A long request (big
    // cookies, a POST body) can arrive in several chunks; later ones are shown, not answered.
    // Part 2 reads until the empty line instead, and then exactly Content-Length more bytes.
    if (!socket.writableEnded) socket.end(helloResponse());
  });

  socket.on('error', (error: NodeJS.ErrnoException) =>
    log(`${peer} error: ${error.code ?? error.message}`),
  );
  // Browsers often open a spare connection ahead of time and close it unused: 0 bytes in.
  socket.on('close', () =>
    log(`${peer} closed; bytes in: ${socket.bytesRead}, out: ${socket.bytesWritten}`),
  );
}

/**
 * Bytes as text you can see: printable ASCII as is, CR as `\r`, LF as `\n` plus a line break
 * (so a request still reads line by line), anything else as `\xHH`.
 *
 *   showBytes(Buffer.from('GET / HTTP/1.1\r\n')) === 'GET / HTTP/1.1\\r\\n\n'
 */
export function showBytes(bytes: Uint8Array): string {
  let shown = '';
  for (const byte of bytes) {
    if (byte === 0x0d) shown += '\\r';
    else if (byte === 0x0a) shown += '\\n\n';
    else if (byte >= 0x20 && byte < 0x7f) shown += String.fromCharCode(byte);
    else shown += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return shown;
}
