// App faults, on both servers that run the contract (part 3's gateway and part 4's node:http
// adapter): every way an application can misbehave gets a defined answer, and the server serves
// on. Hanging is the new case: the per-request deadline (handler.ts, APP_TIMEOUT_MS, here 200 ms
// through `appTimeoutMs`) answers 503 if nothing was sent, else cuts the connection, closes the
// body as far as it can, and logs it. (part3-errors.test.ts details the failures before and
// after the head on the gateway; this file is the catalogue, on both servers.)
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import type { Application, Body } from '../part3-gateway/contract.ts';
import { APP_TIMEOUT_MS } from '../part3-gateway/handler.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import { bytes, eventually, routes } from './helpers/gateway.ts';
import { exchangeResponses, header, parseResponses, readResponses, statuses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange, openSocket } from './helpers/wire.ts';

const DEADLINE_MS = 200;
const TEXT: [string, string][] = [['Content-Type', 'text/plain']];
const never = (): Promise<never> => new Promise<never>(() => {});

/** What the app writing after its deadline got from write(). */
let lateWrite: unknown = null;
/** What the hanging apps saw of the server's cleanup. */
const seen = { returned: 0, closed: 0 };

/** A hand-written body whose next() never settles once `chunks` are out; it counts return() and close(). */
function stuckBody(chunks: number): Body {
  let sent = 0;
  const iterator: AsyncIterator<Uint8Array> = {
    next: async () => (sent++ < chunks ? { done: false, value: bytes('a good start\n') } : never()),
    return: async () => {
      seen.returned++;
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator, close: () => void seen.closed++ };
}

const apps: Record<string, Application> = {
  '/throws': () => {
    throw new Error('boom');
  },
  '/rejects': async () => {
    await sleep(1);
    throw new Error('boom');
  },
  '/returns-a-number': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return 42 as unknown as Body;
  },
  '/yields-a-string': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield 'text' as unknown as Uint8Array;
  },
  '/never-calls-start-response': () => [bytes('headless\n')],
  '/hangs-in-the-call': () => never(),
  '/hangs-before-the-head': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return stuckBody(0);
  },
  '/hangs-after-the-head': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return stuckBody(1);
  },
  '/hangs-in-return': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    let done = false;
    const iterator: AsyncIterator<Uint8Array> = {
      next: async () =>
        done ? { done: true, value: undefined } : ((done = true), { done: false, value: bytes('complete\n') }),
      return: () => never(),
    };
    return { [Symbol.asyncIterator]: () => iterator };
  },
  '/writes-after-the-deadline': async (_environ, startResponse) => {
    const write = startResponse('200 OK', TEXT);
    await sleep(DEADLINE_MS * 2);
    try {
      write(bytes('too late\n'));
      lateWrite = 'write() accepted the bytes';
    } catch (error) {
      lateWrite = error;
    }
    return [];
  },
  '/fine': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return [bytes('fine\n')];
  },
};

const get = (path: string, close = true): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

interface Served {
  name: string;
  server: RunningServer;
  log: string[];
}

const served: Served[] = [];
beforeAll(async () => {
  for (const name of ['part 3 gateway', 'node:http adapter']) {
    const log: string[] = [];
    const options = {
      errors: { write: (text: string) => void log.push(text), flush: () => {} },
      appTimeoutMs: DEADLINE_MS,
    };
    const server =
      name === 'part 3 gateway'
        ? createGatewayServer(routes(apps), options)
        : createNodeGatewayServer(routes(apps), options);
    served.push({ name, server: await start(server), log });
  }
});
afterAll(() => Promise.all(served.map(({ server }) => server.close())));
beforeEach(() => {
  seen.returned = 0;
  seen.closed = 0;
  for (const { log } of served) log.length = 0;
});

it('gives every request 30 seconds by default', () => {
  expect(APP_TIMEOUT_MS).toBe(30_000);
});

it.each([Infinity, 2 ** 32])(
  'takes appTimeoutMs %s as no deadline at all (setTimeout would fire a too-long one at once)',
  async (appTimeoutMs) => {
    const slow: Application = async (_environ, startResponse) => {
      await sleep(50);
      startResponse('200 OK', TEXT);
      return [bytes('slow but fine\n')];
    };
    const server = await start(createGatewayServer(slow, { appTimeoutMs }));
    try {
      expect(statuses(await exchangeResponses(server.port, get('/')))).toEqual([200]);
    } finally {
      await server.close();
    }
  },
);

describe.each(['part 3 gateway', 'node:http adapter'])('app faults on the %s', (name) => {
  const current = (): Served => served.find((entry) => entry.name === name) ?? expect.fail(`no ${name}`);

  /** The server answers a well-behaved request on a fresh connection. */
  async function expectStillServing(): Promise<void> {
    const [response] = await exchangeResponses(current().server.port, get('/fine'));
    expect(response.body).toBe('fine\n');
  }

  it.each(['/throws', '/rejects', '/returns-a-number', '/yields-a-string', '/never-calls-start-response'])(
    '%s: a clean 500, the reason in the log, and the server serves on',
    async (path) => {
      const responses = await exchangeResponses(current().server.port, get(path));
      expect(statuses(responses)).toEqual([500]);
      expect(current().log.join('')).toContain('answered 500');
      await expectStillServing();
    },
  );

  it('an app that never returns from the call: 503 at the deadline with Connection: close, logged', async () => {
    const started = Date.now();
    const responses = await exchangeResponses(current().server.port, get('/hangs-in-the-call'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 10);
    expect(statuses(responses)).toEqual([503]);
    expect(header(responses[0], 'connection')).toBe('close');
    expect(current().log.join('')).toMatch(/GET \/hangs-in-the-call: not finished within 200 ms: answered 503/);
    await expectStillServing();
  });

  it("a body that never yields its first chunk: 503 at the deadline, and its iterator's return() and close() called", async () => {
    const responses = await exchangeResponses(current().server.port, get('/hangs-before-the-head'));
    expect(statuses(responses)).toEqual([503]);
    await eventually(() => seen.returned === 1 && seen.closed === 1, 1_000, 'return() and close() called once each');
    await expectStillServing();
  });

  it('a body that stops in the middle: the connection is cut at the deadline, so the client sees an incomplete response', async () => {
    const received = await exchange(current().server.port, get('/hangs-after-the-head'));
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('a good start\n');
    expect(parseResponses(received)).toEqual([]); // no final chunk: incomplete, not a short "success"
    expect(current().log.join('')).toContain('connection cut (head already sent)');
    await eventually(() => seen.returned === 1 && seen.closed === 1, 1_000, 'return() and close() called once each');
    await expectStillServing();
  });

  it('a body whose return() never settles: the complete response stands, and the same connection serves the next request', async () => {
    const socket = await openSocket(current().server.port);
    socket.write(get('/hangs-in-return', false));
    const [first] = await readResponses(socket, 1);
    expect(first.body).toBe('complete\n');
    socket.write(get('/fine'));
    const [second] = await readResponses(socket, 1);
    expect(second.body).toBe('fine\n');
    socket.destroy();
    await eventually(() => current().log.join('').includes('the response was complete'), 1_000, 'the log line');
  });

  it('an app writing with the legacy write() after its deadline gets an error: the server has answered for it', async () => {
    lateWrite = null;
    const received = await exchange(current().server.port, get('/writes-after-the-deadline', false));
    expect(statuses(parseResponses(received))).toEqual([503]);
    await eventually(() => lateWrite !== null, 1_000, 'the late write');
    expect(lateWrite).toBeInstanceOf(Error); // "missed its deadline", or "the client has gone" once the connection closed
    await expectStillServing();
  });
});
