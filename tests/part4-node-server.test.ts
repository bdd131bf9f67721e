// What the node:http adapter (part4-frameworks/node-server.ts) itself promises: the part 3
// contract's server-side rules, kept on top of a parser and a ServerResponse nobody here
// wrote. node:http would happily send a head before the app is sure, more bytes than a
// Content-Length, a Connection header from the app, or 100 Continue to every client; each test
// shows the adapter does not. (The guestbook suite, tests/part4-guestbook.test.ts, runs whole
// apps on this server too; these are the edges an app rarely reaches.)
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import {
  echoBody,
  failsAfterHead,
  failsBeforeHead,
  HOP_BY_HOP,
  mismatchedArray,
  recordedStream,
  refusesUnread,
  SECRET,
  streamed,
  TEXT,
  withHeader,
  type BodyUse,
} from './fixtures/contract-apps.ts';
import { bytes, eventually, routes } from './helpers/gateway.ts';
import { header, parseResponses, readResponses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange, openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

let use: BodyUse = { pulled: 0, returned: 0, closed: 0 };

const apps: Record<string, Application> = {
  '/throw-at-once': () => {
    throw new Error(SECRET);
  },
  '/fail-before-head': failsBeforeHead,
  '/fail-after-head': failsAfterHead,
  '/array': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return [bytes('hello, '), bytes('world\n')];
  },
  '/generator': streamed('200 OK', TEXT, ['one\n', 'two\n']),
  '/async-generator': async function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('one\n');
    yield bytes('two\n');
  },
  '/declared-array': (_environ, startResponse) => {
    startResponse('200 OK', [...TEXT, ['Content-Length', '6']]);
    return [bytes('hello\n')];
  },
  '/declared-stream': streamed('200 OK', [...TEXT, ['Content-Length', '6']], ['hel', 'lo\n']),
  // An app may answer HEAD with no body and the length GET would get (contract.ts, StartResponse).
  '/declared-empty': (environ, startResponse) => {
    startResponse('200 OK', [...TEXT, ['Content-Length', '6']]);
    return environ.REQUEST_METHOD === 'HEAD' ? [] : [bytes('hello\n')];
  },
  '/own-server': streamed('200 OK', [...TEXT, ['Server', 'my-app/1.0']], ['mine\n']),
  '/too-long': streamed('200 OK', [...TEXT, ['Content-Length', '10']], ['12345678', '90abcdef']),
  '/first-chunk-too-long': streamed('200 OK', [...TEXT, ['Content-Length', '5']], ['hello, world']),
  '/array-too-long': mismatchedArray(5, ['hello, ', 'world']),
  '/array-too-short': mismatchedArray(100, ['hello']),
  '/too-short': streamed('200 OK', [...TEXT, ['Content-Length', '100']], ['only ', 'these bytes']),
  // `use` is replaced before each test, so the app is looked up with it at request time.
  '/slow-stream': (environ, startResponse) => recordedStream(use, 1000, 10)(environ, startResponse),
  '/short-stream': (environ, startResponse) => recordedStream(use, 2, 1)(environ, startResponse),
  '/echo': echoBody,
  '/refuse': refusesUnread,
};
for (const name of HOP_BY_HOP) apps[`/hop/${name}`] = withHeader(name, name === 'Transfer-Encoding' ? 'chunked' : 'x');

let server: RunningServer;
const log: string[] = [];
beforeAll(async () => {
  server = await start(
    createNodeGatewayServer(routes(apps), { errors: { write: (text) => void log.push(text), flush: () => {} } }),
  );
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  log.length = 0;
  use = { pulled: 0, returned: 0, closed: 0 };
});

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;

describe('node-server: the head waits for the first body bytes', () => {
  it('answers 500 with a generic body when the app throws before returning, the details in the log only', async () => {
    const response = await request(`${server.url}/throw-at-once`);
    expect(response.statusCode).toBe(500);
    const text = await response.body.text();
    expect(text).toMatch(/details are in the server log/);
    expect(text).not.toContain(SECRET);
    expect(log.join('')).toContain(SECRET);
  });

  it('still answers a clean 500 when the body fails after startResponse but before any bytes', async () => {
    const response = await request(`${server.url}/fail-before-head`);
    expect(response.statusCode).toBe(500);
    expect(await response.body.text()).not.toContain(SECRET);
    expect(log.join('')).toMatch(/answered 500/);
  });

  it('cuts the connection when the body fails after the head: undici sees an error, not a complete 200', async () => {
    // The cut may come before undici has read the head (then request() rejects) or after (then
    // the body does): either way the client never takes the response for a whole one.
    const whole = request(`${server.url}/fail-after-head`).then((response) => response.body.text());
    await expect(whole).rejects.toThrow();
    expect(log.join('')).toMatch(/connection cut \(head already sent\)/);
  });

  it('serves the next request after an app failed', async () => {
    await request(`${server.url}/throw-at-once`).then((response) => response.body.text());
    const response = await request(`${server.url}/array`);
    expect(await response.body.text()).toBe('hello, world\n');
  });
});

describe('node-server: framing and headers', () => {
  it('computes Content-Length for an array body, and leaves the framing of a generator body to node:http (chunked)', async () => {
    const [array] = parseResponses(await exchange(server.port, get('/array')), { closed: true });
    expect(header(array, 'content-length')).toBe('13');
    expect(header(array, 'transfer-encoding')).toBeUndefined();
    // The contract gives an array a Content-Length; any other body is framed by the server.
    // node:http sends chunked whatever comes after writeHead() (part 3's writer would count a
    // body that ends at once: tests/part3-framing.test.ts).
    const [generator] = parseResponses(await exchange(server.port, get('/generator')), { closed: true });
    expect(header(generator, 'transfer-encoding')).toBe('chunked');
    expect(generator.body).toBe('one\ntwo\n');
    const [asyncGenerator] = parseResponses(await exchange(server.port, get('/async-generator')), { closed: true });
    expect(header(asyncGenerator, 'transfer-encoding')).toBe('chunked');
    expect(asyncGenerator.body).toBe('one\ntwo\n');
  });

  it('answers HEAD with the Content-Length the app declared for GET, and no body, whether the app returns the GET body or none', async () => {
    for (const path of ['/declared-array', '/declared-stream', '/declared-empty']) {
      const wire = await exchange(server.port, `HEAD ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
      expect(wire, path).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(wire, path).toMatch(/\r\nContent-Length: 6\r\n/i);
      expect(wire.endsWith('\r\n\r\n'), path).toBe(true);
    }
    expect(log).toEqual([]);
  });

  it('adds Date and its own Server header, but keeps a Server header the app gave', async () => {
    const [ours] = parseResponses(await exchange(server.port, get('/array')), { closed: true });
    expect(header(ours, 'server')).toBe('small-journey-node-http');
    expect(header(ours, 'date')).toMatch(/GMT$/);
    const [theirs] = parseResponses(await exchange(server.port, get('/own-server')), { closed: true });
    expect(theirs.headers.filter(([name]) => name === 'server')).toEqual([['server', 'my-app/1.0']]);
  });

  it("uses part 2's reason phrases, as the gateway does, not node:http's older ones (413 Content Too Large)", async () => {
    const wire = await exchange(server.port, 'POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 2000000\r\n\r\n');
    expect(wire).toMatch(/^HTTP\/1\.1 413 Content Too Large\r\n/);
    expect(wire).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('never sends more bytes than the declared Content-Length: it cuts the connection at the chunk that would overrun it', async () => {
    const wire = await exchange(server.port, get('/too-long'));
    const head = wire.slice(0, wire.indexOf('\r\n\r\n') + 4);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/Content-Length: 10\r\n/i);
    expect(wire.slice(head.length)).toBe('12345678'); // the second chunk would have gone past 10
    expect(log.join('')).toMatch(/longer than its Content-Length/);
  });

  it('answers a clean 500, as the gateway does, when the first chunk alone overruns the Content-Length', async () => {
    const [response] = parseResponses(await exchange(server.port, get('/first-chunk-too-long')), { closed: true });
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('hello');
    expect(log.join('')).toMatch(/answered 500: Error: The body is longer than its Content-Length/);
  });

  it("answers a clean 500, as the gateway does, when an array body does not match its declared Content-Length, and logs the app's bug", async () => {
    for (const path of ['/array-too-long', '/array-too-short']) {
      const [response] = parseResponses(await exchange(server.port, get(path)), { closed: true });
      expect(response.status).toBe(500);
      expect(response.body).not.toContain('hello');
    }
    expect(log.join('')).toMatch(/answered 500: Error: Content-Length: 5 was declared for a body of 12 bytes/);
    expect(log.join('')).toMatch(/answered 500: Error: Content-Length: 100 was declared for a body of 5 bytes/);
  });

  it('cuts the connection when the body ends short of its Content-Length, so the client sees it is incomplete', async () => {
    // As above: undici may see the cut before or after the head, and never a whole response.
    const whole = request(`${server.url}/too-short`).then((response) => response.body.text());
    await expect(whole).rejects.toThrow();
    expect(log.join('')).toMatch(/ended 84 bytes short/);
  });

  it.each(HOP_BY_HOP)('refuses the hop-by-hop header %s from the app with a 500', async (name) => {
    const [response] = parseResponses(await exchange(server.port, get(`/hop/${name}`)), { closed: true });
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('should never be sent');
    expect(log.join('')).toMatch(/hop-by-hop header .* remove it/);
  });
});

describe('node-server: cleanup', () => {
  it("calls the body's return() and close() once each when the client leaves mid-stream, and stops pulling", async () => {
    const socket = await openSocket(server.port);
    socket.write(get('/slow-stream'));
    await readUntil(socket, (soFar) => soFar.toString('latin1').includes('chunk 2\n'));
    socket.destroy();
    await eventually(() => use.closed > 0, 2_000, 'close() after the client left');
    const pulledWhenClosed = use.pulled;
    expect(use).toMatchObject({ returned: 1, closed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(use.pulled).toBe(pulledWhenClosed);
    expect(pulledWhenClosed).toBeLessThan(1000);
  });

  it('calls return() and close() once each when the body runs to its end', async () => {
    const response = await request(`${server.url}/short-stream`);
    expect(await response.body.text()).toBe('chunk 1\nchunk 2\n');
    await eventually(() => use.closed > 0);
    expect(use).toEqual({ pulled: 2, returned: 1, closed: 1 });
  });
});

describe('node-server: Expect: 100-continue', () => {
  const head = (path: string, length: number): string =>
    `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;

  it('sends 100 Continue only when the app reads the body, then the final response', async () => {
    const socket = await openSocket(server.port);
    socket.write(head('/echo', 4));
    await readUntil(socket, (soFar) => soFar.toString('latin1') === 'HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('body');
    const [final] = await readResponses(socket, 1);
    expect(final.status).toBe(200);
    expect(final.body).toBe('body');
    socket.destroy();
  });

  it('never sends 100 Continue to a client the app answers without reading', async () => {
    const socket = await openSocket(server.port);
    const received = readUntilClose(socket);
    socket.write(head('/refuse', 1_000_000));
    const [response] = await readResponses(socket, 1);
    expect(response.status).toBe(413);
    socket.end();
    expect((await received).toString('latin1')).not.toContain('100 Continue');
  });
});
