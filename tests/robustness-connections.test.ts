// Clients that try to hold a connection, or the server's memory, without ever finishing a
// request: each is dropped or slowed down by part 2's connection loop (which part 3 reuses).
// The heavy versions (hundreds of such clients at once) are in tests/stress/.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type Handler, type HttpServerOptions } from '../part2-tcp-http/server.ts';
import { eventually } from './helpers/gateway.ts';
import { parseResponses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const SHORT = { headTimeoutMs: 200, idleTimeoutMs: 200, bodyTimeoutMs: 200, lingerTimeoutMs: 200 };
const hello: Handler = (_request, response) => response.sendWhole(200, [['Content-Type', 'text/plain']], 'hello\n');

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function serve(handler: Handler, options: HttpServerOptions = {}): Promise<RunningServer> {
  const server = await start(createHttpServer(handler, { logError: () => {}, ...options }));
  running.push(server);
  return server;
}

/** A client that never closes its side, even after the server's FIN (allowHalfOpen). */
function stubbornClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('connections that never become a request', () => {
  it('answers 408 at the head deadline to a connection that sends nothing but empty lines, a byte at a time', async () => {
    // RFC 9112 §2.2 lets a server skip empty lines before a request line; not for ever. "\r"
    // alone looks like the start of a head, "\r\n" like nothing: neither may restart a timer.
    const server = await serve(hello, SHORT);
    const socket = await openSocket(server.port);
    // The trickle never stops on its own: a deadline that it restarted would never come, and
    // readUntilClose would give up after ten head timeouts.
    const answer = readUntilClose(socket, 10 * SHORT.headTimeoutMs);
    let byte = 0;
    const trickle = setInterval(() => socket.write(byte++ % 2 === 0 ? '\r' : '\n'), 25);
    try {
      expect((await answer).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it.each([
    { answer: 400, send: 'GARBAGE\r\n\r\n' },
    { answer: 408, send: 'GET / HTTP/1.1\r\nHost: x\r\n' },
  ])(
    'drops a client that ignores the $answer and our FIN and never closes, once the linger time is over',
    async ({ answer, send }) => {
      const server = await serve(hello, SHORT);
      const socket = await stubbornClient(server.port);
      const head = readUntil(socket, (soFar) => soFar.includes('\r\n\r\n'));
      socket.write(send);
      expect((await head).toString('latin1')).toMatch(new RegExp(`^HTTP/1\\.1 ${answer} `));
      await eventually(() => server.openSockets() === 0, 1_500, 'the server dropping the stubborn client');
      socket.destroy();
    },
  );
});

describe('a busy keep-alive connection', () => {
  it('is not idle: the idle timer starts again after every request, however fast the handler answers', async () => {
    // 14 requests, 50 ms apart: more than three idle timeouts (200 ms) in all, each gap well
    // inside one. Each must be answered on the same connection. (A timer armed once and never
    // re-armed would close it mid-way.) Counted, not timed: a slow machine only makes it longer.
    const server = await serve(hello, SHORT);
    const socket = await openSocket(server.port);
    let closed = false;
    socket.once('close', () => (closed = true));
    for (let request = 0; request < 14; request++) {
      const response = readUntil(socket, (soFar) => soFar.includes('hello\n'), 1_000);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await response).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
      expect(closed).toBe(false);
      await sleep(50);
    }
    expect(closed).toBe(false);
    socket.destroy();
  });
});

describe('a client that pipelines requests and does not read the answers', () => {
  it('is answered one response at a time as it reads, not with every response queued in memory at once', async () => {
    const RESPONSE_BYTES = 1024 * 1024;
    const REQUESTS = 60; // 60 MiB of answers to 2 KiB of requests
    let handled = 0;
    const server = await serve((_request, response) => {
      handled++;
      response.sendWhole(200, [['Content-Type', 'application/octet-stream']], Buffer.alloc(RESPONSE_BYTES, 'x'));
    });
    const socket = await openSocket(server.port);
    socket.pause(); // read nothing for now
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(REQUESTS - 1) +
        'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await sleep(300);
    // The kernel's socket buffers hold a few responses (about 4 MiB on a typical Linux, and
    // they may grow well beyond); the server must stop there and wait, not answer all of them
    // into its own memory.
    expect(handled).toBeLessThan(REQUESTS / 2);

    const everything = readUntilClose(socket, 10_000);
    socket.resume();
    const responses = parseResponses((await everything).toString('latin1'));
    expect(responses).toHaveLength(REQUESTS);
    expect(responses.every((response) => response.status === 200 && response.body.length === RESPONSE_BYTES)).toBe(
      true,
    );
  });
});
