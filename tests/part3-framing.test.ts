// How the gateway's responses are framed: the app never says, the server's writer decides
// (part2-tcp-http/response.ts). A body that has ended by the end of the turn of the event loop
// in which its head was set, within HOLD_BYTES, goes with a Content-Length, however the app
// produced it (an array, a function*, an async function* that never waits); a body still going
// by then is chunked, each chunk on the wire before the app makes the next, with backpressure.
// The contract's other rules do not change: a chunk yielded counts as sent.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { HOLD_BYTES } from '../part2-tcp-http/response.ts';
import { bytes, eventually, routes, useGateway } from './helpers/gateway.ts';
import { header, parseResponses } from './helpers/http-text.ts';
import { exchange, openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const TEXT: [string, string][] = [['Content-Type', 'text/plain']];
const CHUNKS = ['one\n', 'two\n', 'three\n'];

/** Released by the test: the async app below waits for it between its two chunks. */
let releaseSecond: () => void = () => {};
/** How many bytes the long generator has produced so far, and whether its finally ran. */
const long = { pulled: 0, finished: false };
/** How many times a generator's finally block ran. */
let finallyRuns = 0;

const LONG_CHUNK = Buffer.alloc(16 * 1024, 'x');
const LONG_TOTAL = 32 * 1024 * 1024;

const apps: Record<string, Application> = {
  '/sync': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    for (const chunk of CHUNKS) yield bytes(chunk);
  },
  '/array': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return CHUNKS.map(bytes);
  },
  '/async-at-once': async function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    for (const chunk of CHUNKS) yield bytes(chunk);
  },
  '/async': async function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('first\n');
    await new Promise<void>((resolve) => (releaseSecond = resolve));
    yield bytes('second\n');
  },
  '/long': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    try {
      for (long.pulled = 0; long.pulled < LONG_TOTAL; long.pulled += LONG_CHUNK.length) yield LONG_CHUNK;
    } finally {
      long.finished = true;
    }
  },
  '/just-over': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield Buffer.alloc(HOLD_BYTES, 'a');
    yield bytes('b');
  },
  '/just-under': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield Buffer.alloc(HOLD_BYTES - 1, 'a');
    yield bytes('b');
  },
  '/throws-after-yield': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('the start\n');
    throw new Error('broke halfway');
  },
  '/throws-before-yield': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('');
    throw new Error('broke at once');
  },
  '/write-between': function* (_environ, startResponse) {
    const write = startResponse('200 OK', TEXT);
    yield bytes('yielded, ');
    write(bytes('written, '));
    yield bytes('yielded again\n');
  },
  '/finally': function* (_environ, startResponse) {
    try {
      startResponse('200 OK', TEXT);
      yield bytes('done\n');
    } finally {
      finallyRuns++;
    }
  },
};

const gateway = useGateway(routes(apps));

const get = (path: string, method = 'GET'): string =>
  `${method} ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;

/** The bytes of a response with its Date header taken out (it may change between two requests). */
const withoutDate = (wire: string): string => wire.replace(/\r\nDate: [^\r]*/, '');

describe('a synchronous generator', () => {
  it('that ends at once, within the hold, is sent with a Content-Length, not chunked', async () => {
    const [response] = parseResponses(await exchange(gateway.port, get('/sync')), { closed: true });
    expect(header(response, 'content-length')).toBe('14');
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(response.body).toBe('one\ntwo\nthree\n');
  });

  it('gives the same bytes as the same chunks in an array', async () => {
    const generated = await exchange(gateway.port, get('/sync'));
    const array = await exchange(gateway.port, get('/array'));
    expect(withoutDate(generated)).toBe(withoutDate(array));
  });

  it('answers HEAD with the Content-Length a GET gets, as an array does', async () => {
    const wire = await exchange(gateway.port, get('/sync', 'HEAD'));
    const [response] = parseResponses(wire, { closed: true, bodiless: true });
    expect(header(response, 'content-length')).toBe('14');
    expect(wire.endsWith('\r\n\r\n')).toBe(true);
  });

  it('of exactly the hold is sent with a Content-Length; one byte more and it is chunked, with the same body', async () => {
    const [under] = parseResponses(await exchange(gateway.port, get('/just-under')), { closed: true });
    expect(header(under, 'content-length')).toBe(String(HOLD_BYTES));
    const [over] = parseResponses(await exchange(gateway.port, get('/just-over')), { closed: true });
    expect(header(over, 'transfer-encoding')).toBe('chunked');
    expect(over.body).toBe(`${'a'.repeat(HOLD_BYTES)}b`);
  });

  it('that yields far more than 64 KiB is streamed with backpressure: it runs only as fast as the client reads', async () => {
    const socket = await openSocket(gateway.port);
    try {
      socket.pause(); // read nothing yet
      socket.write(get('/long'));
      // The generator runs until the socket's buffers are full, then waits for the client.
      await eventually(() => long.pulled > HOLD_BYTES, 5_000, 'the generator started');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pulledWhilePaused = long.pulled;
      expect(pulledWhilePaused).toBeLessThan(LONG_TOTAL / 2);
      socket.resume();
      const wire = (await readUntilClose(socket, 20_000)).toString('latin1');
      expect(wire).toContain('Transfer-Encoding: chunked\r\n');
      expect(wire.endsWith('\r\n0\r\n\r\n')).toBe(true);
      expect(long.finished).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it('that throws after a yield: the chunk counts as sent, so the client sees the head and the start, then a cut', async () => {
    const wire = await exchange(gateway.port, get('/throws-after-yield'));
    expect(wire.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(wire).toContain('the start\n');
    expect(wire).not.toContain('\r\n0\r\n\r\n');
    expect(gateway.log.join('')).toMatch(/connection cut \(head already sent\): Error: broke halfway/);
  });

  it('that throws before its first non-empty chunk gets a clean 500', async () => {
    const [response] = parseResponses(await exchange(gateway.port, get('/throws-before-yield')), { closed: true });
    expect(response.status).toBe(500);
    expect(gateway.log.join('')).toMatch(/answered 500: Error: broke at once/);
  });

  it('that calls write() between two yields keeps the order of the bytes', async () => {
    const [response] = parseResponses(await exchange(gateway.port, get('/write-between')), { closed: true });
    expect(header(response, 'content-length')).toBe('32');
    expect(response.body).toBe('yielded, written, yielded again\n');
  });

  it('has its finally block run exactly once', async () => {
    finallyRuns = 0;
    await exchange(gateway.port, get('/finally'));
    expect(finallyRuns).toBe(1);
  });
});

describe('an async generator', () => {
  it('that never waits between chunks ends within the turn: it gets a Content-Length, as an array does', async () => {
    const [response] = parseResponses(await exchange(gateway.port, get('/async-at-once')), { closed: true });
    expect(header(response, 'content-length')).toBe('14');
    expect(response.body).toBe('one\ntwo\nthree\n');
  });

  it('that awaits between chunks is streamed, chunked: the first chunk is on the wire before the await ends', async () => {
    const socket: Socket = await openSocket(gateway.port);
    try {
      socket.write(get('/async'));
      // The app waits for releaseSecond(), which only this test calls, after it has seen the
      // first chunk arrive: a server holding it back would never get to send it.
      const first = (await readUntil(socket, (soFar) => soFar.includes('first\n'))).toString('latin1');
      expect(first).toContain('Transfer-Encoding: chunked\r\n');
      expect(first).not.toContain('second');
      const rest = readUntilClose(socket);
      releaseSecond();
      const wire = first + (await rest).toString('latin1');
      const [response] = parseResponses(wire, { closed: true });
      expect(response.body).toBe('first\nsecond\n');
    } finally {
      socket.destroy();
    }
  });
});
