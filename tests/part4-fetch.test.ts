// The bridge to the fetch contract (part4-frameworks/fetch.ts), rule by rule:
//
// - fromFetch: a fetch handler served by part 3's gateway, inside part 3's validator: the
//   Request it gets (URL, headers, a body read only when the handler reads it, so 100 Continue
//   waits; the signal; HEAD asked as GET) and what becomes of its Response (reason phrase,
//   repeated Set-Cookie, connection fields, one read per chunk the server pulls, the stream
//   cancelled when the server stops early).
// - toFetch: the course's guestbooks answering plain WHATWG Request objects (list, create 201
//   with Location, page), and the Response's stream pulling the app lazily and closing it once.
// - A Hono app nobody in the project wrote (tests/fixtures/hono-app.ts), on the gateway through
//   fromFetch and through `npm run part4 -- --app it --server node`; `npm run part3 -- it`
//   answers in one line how to run it.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Application, Body } from '../part3-gateway/contract.ts';
import { loadApplication, LoadError } from '../part3-gateway/loader.ts';
import { fromFetch, loadAnyApp, toFetch, type FetchHandler } from '../part4-frameworks/fetch.ts';
import { FRAMEWORKS, SERVERS } from '../part4-frameworks/site.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { bytes, startGateway, type RunningGateway } from './helpers/gateway.ts';
import { readResponses } from './helpers/http-text.ts';
import { chunkedBody } from './helpers/serve-app.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { ViolationLog } from './helpers/validator.ts';
import { exchange, openSocket, readUntil } from './helpers/wire.ts';

const QUIET = { write: () => {}, flush: () => {} };
/** tsx compiles the stage and what it imports at start-up: seconds on a busy machine. */
const START_MS = 20_000;

/** A fetch handler on part 3's gateway, inside the validator; the test fails on a violation. */
async function serveFetch(handler: FetchHandler): Promise<RunningGateway & { violations: ViolationLog }> {
  const violations = new ViolationLog();
  const gateway = await startGateway(violations.validated(fromFetch(handler)));
  return Object.assign(gateway, { violations });
}

/** Send raw bytes, get the responses back (the head's bytes as sent, Set-Cookie lines and all). */
/** Send `text` (a request that ends with Connection: close) and read everything until the close. */
async function rawExchange(port: number, text: string): Promise<string> {
  return (await exchange(port, text)).toString();
}

/** Wait until `check` holds, polling; a hang fails at the generous timeout, never a slow machine. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('fromFetch: a fetch handler on the gateway', () => {
  const running: Array<RunningGateway & { violations: ViolationLog }> = [];
  const serve = async (handler: FetchHandler) => {
    const gateway = await serveFetch(handler);
    running.push(gateway);
    return gateway;
  };
  afterAll(async () => {
    for (const gateway of running) {
      await gateway.close();
      expect(gateway.violations.messages()).toEqual([]);
    }
  });

  it('builds the URL from the scheme, Host and the request-target, query as sent', async () => {
    const gateway = await serve((req) => new Response(req.url));
    const answer = await request(`${gateway.url}/a/caf%C3%A9?x=1&y=%20z#frag`, {
      headers: { host: 'example.test:8080' },
    });
    expect(await answer.body.text()).toBe('http://example.test:8080/a/caf%C3%A9?x=1&y=%20z');
  });

  it('gives the headers back from HTTP_*, CONTENT_TYPE and CONTENT_LENGTH, names lower-case', async () => {
    const gateway = await serve(async (req) =>
      Response.json({ headers: Object.fromEntries(req.headers), body: await req.text() }),
    );
    const answer = await request(`${gateway.url}/`, {
      method: 'POST',
      body: 'hi',
      headers: { 'Content-Type': 'text/plain', 'X-Trace-Id': 'abc', Accept: 'a/b' },
    });
    const seen = (await answer.body.json()) as { headers: Record<string, string>; body: string };
    expect(seen.body).toBe('hi');
    expect(seen.headers).toMatchObject({
      'content-type': 'text/plain',
      'content-length': '2',
      'x-trace-id': 'abc',
      accept: 'a/b',
      host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
  });

  it('reads gateway.input only when the handler reads the body: no 100 Continue for a handler that answers first', async () => {
    const gateway = await serve((req) =>
      req.headers.get('authorization') === null
        ? new Response('log in first\n', { status: 401 })
        : new Response(req.body),
    );
    const socket = await openSocket(gateway.port);
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\n\r\n`,
    );
    const [refused] = await readResponses(socket, 1);
    expect(refused.status).toBe(401);
    socket.destroy();

    const reader = await openSocket(gateway.port);
    reader.write(
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: yes\r\nContent-Length: 5\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n`,
    );
    const interim = await readUntil(reader, (soFar) => soFar.includes('\r\n\r\n'));
    expect(interim.toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    reader.write('hello');
    const [echoed] = await readResponses(reader, 1);
    expect(echoed.status).toBe(200);
    expect(echoed.body).toBe('hello');
    reader.destroy();
  });

  it('streams a chunked upload into the Request body (duplex half), read piece by piece', async () => {
    const gateway = await serve(async (req) => {
      let pieces = 0;
      let total = 0;
      for await (const piece of req.body ?? []) {
        pieces++;
        total += piece.length;
      }
      return Response.json({ pieces, total });
    });
    const answer = await request(`${gateway.url}/`, { method: 'POST', body: chunkedBody(4, 1000) });
    const seen = (await answer.body.json()) as { pieces: number; total: number };
    expect(seen.total).toBe(4000);
    expect(seen.pieces).toBeGreaterThanOrEqual(1);
  });

  it('passes a body the server refused (413, over its limit) to the handler as an error with its status, answered with it', async () => {
    const violations = new ViolationLog();
    const gateway = await startGateway(
      violations.validated(fromFetch(async (req) => new Response(`${(await req.arrayBuffer()).byteLength}`))),
      { limits: { maxBodyBytes: 1000 } },
    );
    try {
      const answer = await request(`${gateway.url}/`, { method: 'POST', body: chunkedBody(4, 500) });
      expect(answer.statusCode).toBe(413);
      expect(await answer.body.text()).toContain('at most 1000 bytes');
    } finally {
      await gateway.close();
    }
    expect(violations.messages()).toEqual([]);
  });

  it('asks a HEAD as GET: the server counts the body and sends none of it', async () => {
    const methods: string[] = [];
    const gateway = await serve((req) => {
      methods.push(req.method);
      return new Response('twelve bytes', { headers: { 'Content-Type': 'text/plain', 'Content-Length': '12' } });
    });
    const head = await request(`${gateway.url}/`, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('12');
    expect(await head.body.text()).toBe('');
    expect(methods).toEqual(['GET']);
  });

  it("gives the status its reason phrase: the Response's statusText, else RFC 9110's name, else Node's", async () => {
    const gateway = await serve((req) => {
      const status = Number(new URL(req.url).searchParams.get('status'));
      return new Response('x', { status, statusText: status === 299 ? 'Custom Reason' : '' });
    });
    const reasons: string[] = [];
    for (const status of [201, 413, 418, 299]) {
      const socket = await openSocket(gateway.port);
      socket.write(`GET /?status=${status} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const [response] = await readResponses(socket, 1);
      reasons.push(response.raw.slice(0, response.raw.indexOf('\r\n')));
      socket.destroy();
    }
    expect(reasons).toEqual([
      'HTTP/1.1 201 Created',
      'HTTP/1.1 413 Content Too Large',
      "HTTP/1.1 418 I'm a Teapot",
      'HTTP/1.1 299 Custom Reason',
    ]);
  });

  it('keeps each Set-Cookie its own field (getSetCookie), drops connection fields, defaults Content-Type for a body without one', async () => {
    const gateway = await serve(() => {
      const headers = new Headers({ Connection: 'keep-alive', 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes' });
      headers.append('Set-Cookie', 'a=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT');
      headers.append('Set-Cookie', 'b=2; HttpOnly');
      return new Response(
        new ReadableStream({ start: (controller) => (controller.enqueue(bytes('body')), controller.close()) }),
        { headers },
      );
    });
    const text = await rawExchange(gateway.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head.match(/^set-cookie: .*$/gim)).toEqual([
      'set-cookie: a=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT',
      'set-cookie: b=2; HttpOnly',
    ]);
    expect(head).toMatch(/^x-kept: yes$/m);
    expect(head).toMatch(/^content-type: application\/octet-stream$/m);
    expect(head).not.toMatch(/^connection: keep-alive$/m); // the handler's; the server's own says close
    // The server frames the body itself (here a Content-Length: the stream ended at once).
    expect(head.match(/^transfer-encoding:/gim)).toBeNull();
    expect(head).toMatch(/^content-length: 4$/im);
  });

  it('sends the Response body as it comes, chunk by chunk', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gateway = await serve(
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(bytes('first\n'));
              await gate;
              controller.enqueue(bytes('second\n'));
              controller.close();
            },
          }),
          { headers: { 'Content-Type': 'text/plain' } },
        ),
    );
    const answer = await request(`${gateway.url}/`);
    const chunks = answer.body[Symbol.asyncIterator]();
    expect(String((await chunks.next()).value)).toBe('first\n'); // while the handler still waits
    release();
    expect(String((await chunks.next()).value)).toBe('second\n');
  });

  it('returns a handler that is not a Response as a 500, logged', async () => {
    const gateway = await startGateway(fromFetch(() => ({ status: 'nope' }) as unknown as Response));
    running.push(Object.assign(gateway, { violations: new ViolationLog() }));
    expect((await request(`${gateway.url}/`)).statusCode).toBe(500);
    expect(gateway.log.join('')).toContain('The fetch handler returned object: return a Response');
  });

  it('answers 501 for a method fetch forbids (TRACE): no Request can carry it', async () => {
    const gateway = await serve(() => new Response('never'));
    const socket = await openSocket(gateway.port);
    socket.write('TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [response] = await readResponses(socket, 1);
    expect(response.status).toBe(501);
    expect(response.body).toContain('cannot be given to a fetch handler');
    socket.destroy();
  });
});

describe('fromFetch in process: one read per chunk the server pulls, the stream cancelled when it stops', () => {
  /** Call the wrapped handler as a server would, and get its body's iterator. */
  async function bodyOf(
    handler: FetchHandler,
    signal = new AbortController().signal,
  ): Promise<AsyncIterator<Uint8Array>> {
    const app = fromFetch(handler);
    const environ = {
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/',
      QUERY_STRING: '',
      REQUEST_URI: '/',
      SERVER_NAME: 'x',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: '1',
      HTTP_HOST: 'x',
      'gateway.version': [1, 0] as const,
      'gateway.url_scheme': 'http' as const,
      'gateway.input': {
        read: async () => new Uint8Array(),
        readline: async () => new Uint8Array(),
        async *[Symbol.asyncIterator]() {},
      },
      'gateway.errors': QUIET,
      'gateway.multithread': true,
      'gateway.multiprocess': false,
      'gateway.run_once': false,
      'gateway.signal': signal,
    };
    const body: Body = await app(environ, () => () => {});
    if (!(Symbol.asyncIterator in body)) throw new Error('expected a streamed body');
    return body[Symbol.asyncIterator]();
  }

  /** An endless stream that counts its pulls and records its cancel. */
  function countingStream(): { stream: ReadableStream<Uint8Array>; pulls: () => number; cancelled: () => unknown[] } {
    let pulls = 0;
    const reasons: unknown[] = [];
    const stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          pulls++;
          controller.enqueue(bytes(`chunk ${pulls}\n`));
        },
        cancel: (reason) => void reasons.push(reason),
      },
      { highWaterMark: 0 },
    );
    return { stream, pulls: () => pulls, cancelled: () => reasons };
  }

  it('reads nothing before the server asks, then one chunk per next()', async () => {
    const source = countingStream();
    const body = await bodyOf(() => new Response(source.stream));
    expect(source.pulls()).toBe(0);
    await body.next();
    await body.next();
    expect(source.pulls()).toBe(2);
    await body.return?.();
    expect(source.cancelled()).toHaveLength(1);
  });

  it('cancels the stream once when the server returns early, and not at all after the end', async () => {
    const source = countingStream();
    const body = await bodyOf(() => new Response(source.stream));
    await body.next();
    await body.return?.();
    await body.return?.();
    expect(source.cancelled()).toHaveLength(1);
    expect(String(source.cancelled()[0])).toMatch(/stopped reading/);

    const whole = await bodyOf(() => new Response('all of it'));
    expect((await whole.next()).done).toBe(false);
    expect((await whole.next()).done).toBe(true);
    await expect(whole.return?.()).resolves.toEqual({ done: true, value: undefined });
  });

  it('cancels a stream waiting for data as soon as gateway.signal aborts (the client left)', async () => {
    const reasons: unknown[] = [];
    const quiet = new ReadableStream<Uint8Array>(
      { pull: () => new Promise(() => {}), cancel: (reason) => void reasons.push(reason) },
      { highWaterMark: 0 },
    );
    const client = new AbortController();
    const body = await bodyOf(() => new Response(quiet), client.signal);
    const pending = body.next();
    client.abort(new Error('The client disconnected.'));
    await expect(pending).rejects.toThrow('The client disconnected.');
    expect(reasons).toHaveLength(1);
  });
});

describe('toFetch: the course guestbooks answer plain Request objects', () => {
  describe.each(Object.entries(FRAMEWORKS))('%s', (name, create) => {
    const handler = toFetch(create(), { errors: QUIET });

    it('lists, creates (201 with Location), serves the entry, and shows the page', async () => {
      const empty = await handler(new Request('http://guestbook.test/entries'));
      expect(empty.status).toBe(200);
      expect(empty.headers.get('content-type')).toBe('application/json');
      expect(await empty.json()).toEqual({ entries: [] });

      const created = await handler(
        new Request('http://guestbook.test/entries', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: 'Ada', message: 'Hello' }),
        }),
      );
      expect(created.status).toBe(201);
      expect(created.statusText).toBe('Created');
      expect(created.headers.get('location')).toBe('/entries/1');
      const entry = (await created.json()) as { id: number; name: string };
      expect(entry).toMatchObject({ id: 1, name: 'Ada', message: 'Hello' });

      const one = await handler(new Request(new URL('/entries/1', 'http://guestbook.test/')));
      expect(await one.json()).toEqual(entry);

      const page = await handler(new Request('http://guestbook.test/'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')?.toLowerCase()).toBe('text/html; charset=utf-8');
      const html = await page.text();
      expect(html).toContain(`<title>Guestbook (${name})</title>`);
      expect(html).toContain('<form method="post" action="/entries">');
      expect(html).toMatch(/<strong>Ada<\/strong>: Hello/);
    });
  });

  it('builds the environ from the Request, saying what it cannot know', async () => {
    let seen: Record<string, unknown> = {};
    const handler = toFetch((environ, startResponse) => {
      seen = { ...environ, 'gateway.input': undefined, 'gateway.errors': undefined, 'gateway.signal': undefined };
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('ok')];
    });
    await handler(new Request('https://shop.test:8443/caf%C3%A9/items?id=7', { headers: { 'User-Agent': 'test' } }));
    expect(seen).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/café/items',
      QUERY_STRING: 'id=7',
      REQUEST_URI: '/caf%C3%A9/items?id=7',
      SERVER_NAME: 'shop.test',
      SERVER_PORT: '8443',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '',
      REMOTE_PORT: '0',
      HTTP_HOST: 'shop.test:8443',
      HTTP_USER_AGENT: 'test',
      'gateway.url_scheme': 'https',
    });
  });

  it('reads the Request body through gateway.input', async () => {
    const handler = toFetch(async (environ, startResponse) => {
      const body = await environ['gateway.input'].read();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(`${body.length} bytes`)];
    });
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => (controller.enqueue(bytes('abc')), controller.enqueue(bytes('defg')), controller.close()),
    });
    const response = await handler(new Request('http://x/', { method: 'POST', body: stream, duplex: 'half' }));
    expect(await response.text()).toBe('7 bytes');
  });

  /** A generator app that counts what it produced and whether it was closed. */
  function countingApp(): { app: Application; pulled: () => number; closes: () => number; finallies: () => number } {
    let pulled = 0;
    let closes = 0;
    let finallies = 0;
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const chunks = (function* () {
        try {
          for (;;) yield bytes(`chunk ${++pulled}\n`);
        } finally {
          finallies++;
        }
      })();
      return Object.assign(chunks, { close: () => void closes++ });
    };
    return { app, pulled: () => pulled, closes: () => closes, finallies: () => finallies };
  }

  it('pulls the app lazily, one chunk ahead of the reader at most, and closes it once when the body is cancelled', async () => {
    const counting = countingApp();
    const response = await toFetch(counting.app)(new Request('http://x/'));
    expect(counting.pulled()).toBe(1); // the head waits for the first chunk, as on a server
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error('expected a body');
    for (let i = 1; i <= 3; i++) {
      expect(new TextDecoder().decode((await reader.read()).value)).toBe(`chunk ${i}\n`);
      expect(counting.pulled()).toBeLessThanOrEqual(i + 1);
    }
    await reader.cancel();
    await until(() => counting.closes() === 1, 'the body to be closed');
    expect(counting.finallies()).toBe(1);
    await sleep(20);
    expect(counting.closes()).toBe(1);
  });

  it('closes a body that ends once too; answers 500 for a crash before the head and errors the stream after it', async () => {
    let closes = 0;
    const ending: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign([bytes('a'), bytes('b')], { close: () => void closes++ });
    };
    const response = await toFetch(ending)(new Request('http://x/'));
    expect(response.headers.get('content-length')).toBe('2');
    expect(await response.text()).toBe('ab');
    // close() runs after the last byte was handed over, so the reader may see the end first.
    await until(() => closes === 1, 'the body to be closed');
    await sleep(20);
    expect(closes).toBe(1);

    const log: string[] = [];
    const errors = { write: (text: string) => void log.push(text), flush: () => {} };
    const early = await toFetch(
      () => {
        throw new Error('boom');
      },
      { errors },
    )(new Request('http://x/'));
    expect(early.status).toBe(500);
    expect(log.join('')).toContain('boom');

    const late = await toFetch(
      async function* (_environ, startResponse) {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        yield bytes('half');
        throw new Error('late boom');
      },
      { errors },
    )(new Request('http://x/'));
    expect(late.status).toBe(200);
    await expect(late.text()).rejects.toThrow();
  });

  it('answers HEAD with the GET head and a null body, repeated Set-Cookie kept', async () => {
    const handler = toFetch((_environ, startResponse) => {
      startResponse('200 OK', [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ]);
      return [bytes('four')];
    });
    const head = await handler(new Request('http://x/', { method: 'HEAD' }));
    expect(head.body).toBeNull();
    expect(head.headers.get('content-length')).toBe('4');
    expect(head.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });
});

// ---- A Hono app nobody in the project wrote ------------------------------------------------

const FIXTURE = 'tests/fixtures/hono-app.ts';

interface Host {
  name: string;
  url(): string;
}

const gatewayHost = ((): Host => {
  let server: RunningServer | null = null;
  const violations = new ViolationLog();
  beforeAll(async () => {
    const { app } = await loadAnyApp(FIXTURE);
    server = await start(SERVERS.gateway(violations.validated(app), { errors: QUIET }));
  });
  afterAll(async () => {
    await server?.close();
    expect(violations.messages()).toEqual([]);
  });
  return { name: 'the gateway, through fromFetch', url: () => server?.url ?? '' };
})();

const part4Host = ((): Host => {
  let stage: StageRun | null = null;
  let base = '';
  beforeAll(async () => {
    stage = runStage(['part4-frameworks/main.ts', '--port', '0', '--app', FIXTURE, '--server', 'node']);
    [, base] = await stage.waitForOutput(
      /Serving tests\/fixtures\/hono-app\.ts \(a fetch app: its fetch method, wrapped with fromFetch\) on node:http .*, at (http:\/\/127\.0\.0\.1:\d+)\//,
      START_MS,
    );
  }, START_MS);
  afterAll(async () => {
    stage?.child.kill('SIGTERM');
    expect(await stage?.exited).toEqual({ code: 0, signal: null });
  });
  return { name: 'npm run part4 -- --app it --server node', url: () => base };
})();

describe.each([gatewayHost, part4Host])('a Hono app nobody here wrote, served by $name', (host) => {
  const at = (path: string): string => `${host.url()}${path}`;

  it('answers its routes, route parameters and query strings (repeated ones too)', async () => {
    const home = await request(at('/'));
    expect(home.statusCode).toBe(200);
    expect(await home.body.text()).toBe('Hello Hono!');
    const hello = await request(at('/hello/Ada?lang=fr&tag=a&tag=b'));
    expect(await hello.body.json()).toEqual({ greeting: 'Bonjour Ada', tags: ['a', 'b'] });
    expect((await request(at('/nowhere'))).statusCode).toBe(404);
  });

  it('takes a JSON body and a chunked upload', async () => {
    const echoed = await request(at('/echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    expect(echoed.statusCode).toBe(201);
    expect(await echoed.body.json()).toEqual({ received: { a: [1, 2] } });
    const upload = await request(at('/upload'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: chunkedBody(5, 1000),
    });
    expect(await upload.body.json()).toEqual({ bytes: 5000, type: 'application/octet-stream' });
  });

  it('sends repeated Set-Cookie fields, each whole', async () => {
    const answer = await request(at('/cookies'));
    await answer.body.text();
    expect(answer.headers['set-cookie']).toEqual([
      'theme=dark; Path=/',
      'session=abc123; Max-Age=3600; Path=/; HttpOnly',
    ]);
  });

  it('answers HEAD with the GET head and no body', async () => {
    const get = await request(at('/'));
    await get.body.text();
    const head = await request(at('/'), { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(await head.body.text()).toBe('');
  });

  it('streams events as they happen, and a client that leaves mid-stream has its stream cancelled', async () => {
    const stats = async (): Promise<{ listening: number; closedByClient: number }> =>
      (await request(at('/stats'))).body.json() as Promise<{ listening: number; closedByClient: number }>;
    const before = await stats();
    const events = await request(at('/events'));
    expect(events.headers['content-type']).toBe('text/event-stream');
    const chunks = events.body[Symbol.asyncIterator]();
    const next = async (): Promise<string> => String((await chunks.next()).value);
    expect(await next()).toBe('event: ready\ndata: listening\n\n');
    for (const text of ['one', 'two']) {
      await request(at('/messages'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(await next()).toBe(`data: ${text}\n\n`); // each piece on its own, while the stream stays open
    }

    events.body.destroy();
    // node:http sees the connection close and aborts gateway.signal at once; the gateway learns
    // it at its next write (a FIN is a half-close to part 2): a message makes one.
    await until(async () => {
      await request(at('/messages'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"text":"anyone?"}',
      });
      return (await stats()).closedByClient > before.closedByClient;
    }, 'the stream to be cancelled');
    expect((await stats()).listening).toBe(before.listening);
  });
});

describe('the loaders and a fetch app', () => {
  it('part 3 answers in one line how to run it, and does not run it', async () => {
    const error = await loadApplication(FIXTURE).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).message).toBe(
      `${FIXTURE}'s export "default" is a fetch app (it has a fetch(request) method), not an app (environ, startResponse): run it with npm run part4 -- --app ${FIXTURE}, or wrap it in the file with fromFetch from part4-frameworks/fetch.ts.`,
    );
  });

  it(
    'npm run part3 -- it: that line, and exit code 2',
    async () => {
      const stage = runStage(['part3-gateway/main.ts', FIXTURE, '--port', '0']);
      expect(await stage.exited).toEqual({ code: 2, signal: null });
      expect(stage.stderr().trim().split(/\r?\n/)).toEqual([
        expect.stringMatching(
          /^tests\/fixtures\/hono-app\.ts's export "default" is a fetch app .*npm run part4 -- --app tests\/fixtures\/hono-app\.ts/,
        ),
      ]);
    },
    START_MS,
  );

  it('part 4 takes a bare fetch handler (one parameter) and an object with fetch, and wraps each', async () => {
    expect((await loadAnyApp(FIXTURE)).how).toBe('a fetch app: its fetch method, wrapped with fromFetch');
    expect((await loadAnyApp('tests/fixtures/fetch-handler.ts')).how).toBe('a fetch handler, wrapped with fromFetch');
    expect((await loadAnyApp('part3-gateway/apps/hello.ts')).how).toBe('an app of the contract');
  });
});
