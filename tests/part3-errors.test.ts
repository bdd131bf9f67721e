// When the application fails (part3-gateway/contract.ts; the one question is whether the head has gone out): before the head is out, a clean 500
// with a generic body and the details in the error log only; after it, a cut connection. In
// every case the body is closed exactly once and the server goes on serving.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Application, Body } from '../part3-gateway/contract.ts';
import { bytes, eventually, routes, useGateway } from './helpers/gateway.ts';
import { parseResponses } from './helpers/http-text.ts';
import { exchange, openSocket, readUntil } from './helpers/wire.ts';

const TEXT: [string, string][] = [['Content-Type', 'text/plain']];
const SECRET = 'password=hunter2 in the stack trace';

/** What a test app records about how the server treated its body. */
interface Cleanup {
  returned: number;
  closed: number;
  chunksPulled: number;
}

/**
 * A hand-written body (not a generator) that counts the server's calls to return() and
 * close(). It yields `chunks` chunks, then throws if `failAt` is that index, and waits
 * `delayMs` before each chunk after the first.
 */
function countedBody(record: Cleanup, options: { chunks: number; failAt?: number; delayMs?: number }): Body {
  let index = 0;
  const iterator: AsyncIterator<Uint8Array> = {
    async next() {
      if (index > 0 && options.delayMs !== undefined) await sleep(options.delayMs);
      if (index === options.failAt) throw new Error(SECRET);
      if (index >= options.chunks) return { done: true, value: undefined };
      index++;
      record.chunksPulled++;
      return { done: false, value: bytes(`chunk ${index}\n`) };
    },
    async return() {
      record.returned++;
      return { done: true, value: undefined };
    },
  };
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: () => void record.closed++,
  };
}

let cleanup: Cleanup = { returned: 0, closed: 0, chunksPulled: 0 };
let signalAborted: Promise<unknown> = Promise.resolve();
let writeFailure: Promise<unknown> = Promise.resolve();

const apps: Record<string, Application> = {
  '/throw-at-once': () => {
    throw new Error(SECRET);
  },
  '/reject': async () => {
    await sleep(1);
    throw new Error(SECRET);
  },
  '/throw-in-generator': function* () {
    throw new Error(SECRET);
  },
  '/empty-chunk-then-throw': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield new Uint8Array(0);
    throw new Error(SECRET);
  },
  '/no-start-response': () => [bytes('headless\n')],
  '/returns-string': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return 'a string' as unknown as Body;
  },
  '/returns-number': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return 42 as unknown as Body;
  },
  '/returns-bytes': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return bytes('one Uint8Array') as unknown as Body;
  },
  '/returns-nothing': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return undefined as unknown as Body;
  },
  '/array-with-a-string': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return [bytes('fine, '), 'not bytes' as unknown as Uint8Array];
  },
  '/write-after-leaving': async (environ, startResponse) => {
    const write = startResponse('200 OK', TEXT);
    write(bytes('first\n'));
    writeFailure = new Promise((resolve) => {
      const writeUntilItFails = async (): Promise<void> => {
        for (let i = 0; i < 200; i++) {
          await sleep(10);
          try {
            write(bytes('more\n'));
          } catch (error) {
            return resolve(error);
          }
        }
        resolve('write() never threw');
      };
      void writeUntilItFails();
    });
    await writeFailure;
    return [];
  },
  '/yields-string': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield 'a string' as unknown as Uint8Array;
  },
  '/throw-after-head': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('a good start\n');
    throw new Error(SECRET);
  },
  '/throw-a-moment-after-head': async function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('a good start\n');
    await sleep(50); // the client has read the first chunk by now
    throw new Error(SECRET);
  },
  '/throw-after-head-with-length': function* (_environ, startResponse) {
    startResponse('200 OK', [...TEXT, ['Content-Length', '100']]);
    yield bytes('a good start\n');
    throw new Error(SECRET);
  },
  '/counted-ok': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return countedBody(cleanup, { chunks: 3 });
  },
  '/counted-fail-before-head': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return countedBody(cleanup, { chunks: 3, failAt: 0 });
  },
  '/counted-fail-after-head': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return countedBody(cleanup, { chunks: 3, failAt: 2 });
  },
  '/counted-slow': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return countedBody(cleanup, { chunks: 1000, delayMs: 10 });
  },
  '/generator-finally': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    try {
      for (let i = 0; ; i++) yield bytes(`line ${i}\n`.repeat(1000));
    } finally {
      cleanup.returned++;
    }
  },
  '/heartbeat': async function* (environ, startResponse) {
    // A long-lived response (think server-sent events) that stops when its client leaves.
    const signal = environ['gateway.signal'];
    signalAborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
    startResponse('200 OK', TEXT);
    while (!signal.aborted) {
      yield bytes('still here\n');
      await sleep(20);
    }
  },
};

const gateway = useGateway(routes(apps));
beforeEach(() => {
  cleanup = { returned: 0, closed: 0, chunksPulled: 0 };
});

/** Ask for `path`, read until `seen` arrives, then hang up mid-response. */
async function leaveDuring(path: string, seen: (soFar: Buffer) => boolean): Promise<void> {
  const socket = await openSocket(gateway.port);
  socket.write(get(path));
  await readUntil(socket, seen);
  socket.destroy();
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;

/** The server still answers a fresh request after whatever the previous test did to it. */
async function expectStillServing(): Promise<void> {
  const response = await request(`${gateway.url}/counted-ok`);
  expect(response.statusCode).toBe(200);
  expect(await response.body.text()).toBe('chunk 1\nchunk 2\nchunk 3\n');
}

describe('an app that fails before the head is sent gets a clean 500', () => {
  it.each([
    ['throws when called', '/throw-at-once'],
    ['returns a rejected promise', '/reject'],
    ['throws from its generator before calling startResponse', '/throw-in-generator'],
    ['yields an empty chunk, then throws', '/empty-chunk-then-throw'],
  ])('an app that %s: 500, a generic body, the details only in the error log', async (_what, path) => {
    const response = await request(`${gateway.url}${path}`);
    const body = await response.body.text();
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(body).toBe(
      '500 Internal Server Error: The application failed while answering; the details are in the server log.\n',
    );
    expect(body).not.toContain('hunter2');
    const log = gateway.log.join('');
    expect(log).toContain(`GET ${path}: answered 500: Error: ${SECRET}`);
    expect(log).toContain('    at '); // the stack trace, for whoever reads the log
    await expectStillServing();
  });

  it.each([
    [
      'a string',
      '/returns-string',
      'The application returned a string (8 characters) as its body: return an iterable of chunks instead, e.g. [bytes].',
    ],
    ['a number', '/returns-number', 'The application returned a number: return an iterable of Uint8Array chunks'],
    [
      'a single Uint8Array',
      '/returns-bytes',
      'The application returned a single Uint8Array (14 bytes) as its body: return an iterable of chunks instead',
    ],
    ['nothing', '/returns-nothing', 'The application returned undefined: is a `return` missing?'],
  ])('an app that returns %s as its body: 500, and a log line that names the fix', async (_what, path, message) => {
    const response = await request(`${gateway.url}${path}`);
    await response.body.text();
    expect(response.statusCode).toBe(500);
    expect(gateway.log.join('')).toContain(message);
  });

  it('an app whose body yields something other than a Uint8Array: 500, and a log line saying what to yield', async () => {
    const response = await request(`${gateway.url}/yields-string`);
    await response.body.text();
    expect(response.statusCode).toBe(500);
    expect(gateway.log.join('')).toContain(
      'The body yielded a string (8 characters); yield Uint8Array chunks (encode text with new TextEncoder().encode(text)).',
    );
  });

  it('an array body with a chunk that is not a Uint8Array gets a clean 500: nothing is sent before the whole array is checked', async () => {
    const response = await request(`${gateway.url}/array-with-a-string`);
    expect(response.statusCode).toBe(500);
    expect(await response.body.text()).not.toContain('fine');
    expect(gateway.log.join('')).toContain('yield Uint8Array chunks');
  });

  it('an app that sends body bytes without calling startResponse: 500, and a log line saying to call it first', async () => {
    const response = await request(`${gateway.url}/no-start-response`);
    await response.body.text();
    expect(response.statusCode).toBe(500);
    expect(gateway.log.join('')).toContain('call startResponse(status, headers) first');
  });
});

describe('an app that fails after the head is sent gets a cut connection', () => {
  it('a chunked response is cut before its last chunk: the client sees the good start and no terminating 0-chunk', async () => {
    const wire = await exchange(gateway.port, get('/throw-after-head'));
    expect(wire.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(wire).toContain('\r\nd\r\na good start\n\r\n');
    expect(wire.endsWith('0\r\n\r\n')).toBe(false);
    expect(parseResponses(wire)).toEqual([]); // not one complete response
    expect(gateway.log.join('')).toContain(
      `GET /throw-after-head: connection cut (head already sent): Error: ${SECRET}`,
    );
  });

  it('a close-delimited HTTP/1.0 response is ended with a reset, not a FIN that would make the cut body look complete', async () => {
    const socket = await openSocket(gateway.port);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const ending = new Promise<string>((resolve) => {
      socket.once('end', () => resolve('a clean end (FIN)'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(String(error.code)));
    });
    socket.write('GET /throw-a-moment-after-head HTTP/1.0\r\n\r\n');
    expect(await ending).toBe('ECONNRESET');
    socket.destroy();
    expect(received.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  });

  it('undici, a strict client, reports the truncated response as an error rather than a body', async () => {
    const response = await request(`${gateway.url}/throw-after-head`);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
  });

  it('a response with a Content-Length is cut short of it, and the server answers the next request', async () => {
    const wire = await exchange(gateway.port, get('/throw-after-head-with-length'));
    expect(wire.endsWith('\r\n\r\na good start\n')).toBe(true);
    await expectStillServing();
  });

  it('another connection is served while and after one is cut', async () => {
    const cut = request(`${gateway.url}/throw-after-head`).then((response) => response.body.text());
    await expectStillServing();
    await expect(cut).rejects.toThrow();
    await expectStillServing();
  });
});

describe("the body's return() and close() are called exactly once, however the response ends", () => {
  it('when the body ends normally', async () => {
    await expectStillServing(); // GET /counted-ok
    await eventually(() => cleanup.closed > 0);
    expect(cleanup).toEqual({ returned: 1, closed: 1, chunksPulled: 3 });
  });

  it('when the body throws before the head', async () => {
    const response = await request(`${gateway.url}/counted-fail-before-head`);
    await response.body.text();
    expect(response.statusCode).toBe(500);
    await eventually(() => cleanup.closed > 0);
    expect(cleanup).toMatchObject({ returned: 1, closed: 1 });
  });

  it('when the body throws after the head', async () => {
    await exchange(gateway.port, get('/counted-fail-after-head'));
    await eventually(() => cleanup.closed > 0);
    expect(cleanup).toEqual({ returned: 1, closed: 1, chunksPulled: 2 });
  });

  it('when the client goes away in the middle of the stream', async () => {
    await leaveDuring('/counted-slow', (soFar) => soFar.includes('chunk 3\n'));
    await eventually(() => cleanup.closed > 0, 2_000, 'close() after the client left');
    await sleep(50); // time for a wrongly repeated call to show up
    expect(cleanup.returned).toBe(1);
    expect(cleanup.closed).toBe(1);
    expect(cleanup.chunksPulled).toBeLessThan(100); // it stopped pulling soon after
    expect(gateway.log).toEqual([]); // a client leaving is not an app error
  });

  it("a generator's finally block runs when the client leaves mid-stream", async () => {
    await leaveDuring('/generator-finally', (soFar) => soFar.length > 100_000);
    await eventually(() => cleanup.returned > 0, 2_000, 'the finally block');
    expect(cleanup.returned).toBe(1);
  });
});

describe('the legacy write()', () => {
  it('throws once the client has gone away, so an app pushing data with it learns to stop', async () => {
    await leaveDuring('/write-after-leaving', (soFar) => soFar.includes('first'));
    const failure = await writeFailure;
    expect(String(failure)).toContain('the client has gone away');
  });
});

describe('gateway.signal', () => {
  it('fires when the client disconnects before the response is complete, and the app stops', async () => {
    await leaveDuring('/heartbeat', (soFar) => soFar.includes('still here'));
    // The server learns that the client is gone when a write fails (a FIN alone could be a
    // half-close: "done sending, still reading"), so here within a heartbeat or two.
    const reason = await Promise.race([signalAborted, sleep(2_000).then(() => 'not fired within 2 s')]);
    expect(String(reason)).toContain('The client disconnected.');
    expect(gateway.log).toEqual([]);
    await expectStillServing();
  });
});
