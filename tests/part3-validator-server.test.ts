// validator(app) (part3-gateway/validator.ts), the server's side: a broken environ, and a
// hand-driven "server" that iterates, returns and closes the body wrongly, each caught with a
// message that says how to fix the server; then good and bad apps through part 3's real
// gateway server and undici.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application, Body, Environ, StartResponse } from '../part3-gateway/contract.ts';
import { app as helloApp } from '../part3-gateway/apps/hello.ts';
import { createStreamingApp } from '../part3-gateway/apps/streaming.ts';
import { buildEnviron } from '../part3-gateway/environ.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { bytes, eventually, startGateway } from './helpers/gateway.ts';
import { answering, expectViolation, smuggle, TEXT, ViolationLog } from './helpers/validator.ts';
import { openSocket, readUntil } from './helpers/wire.ts';

const found = new ViolationLog();
afterEach(() => found.reset());
const validated = (app: Application): Application => found.validated(app);

/** The environ part 3's server would build for `GET target` (or `method target` with a body). */
function serverEnviron(
  method = 'GET',
  target = '/',
  body = '',
): { environ: Environ; log: string[]; abort: () => void } {
  const log: string[] = [];
  const controller = new AbortController();
  const pending = { chunk: body === '' ? null : Buffer.from(body) };
  const input = new GatewayInput(async () => {
    const chunk = pending.chunk;
    pending.chunk = null;
    return chunk;
  });
  const environ = buildEnviron(
    {
      head: {
        method,
        target,
        version: 'HTTP/1.1',
        headers: [
          { name: 'Host', value: 'example.test:8003' },
          ...(body === '' ? [] : [{ name: 'Content-Length', value: String(body.length) }]),
        ],
      },
      remoteAddress: '127.0.0.1',
      remotePort: 50123,
      localAddress: '127.0.0.1',
      localPort: 8003,
      signal: controller.signal,
    },
    {
      input,
      errors: { write: (text) => void log.push(text), flush: () => {} },
      multiprocess: false,
    },
  );
  return { environ, log, abort: () => controller.abort() };
}

const okStartResponse: StartResponse = () => () => {};

/** The body's iterator, async or not (what a server asks for first). */
function iteratorOf(body: Body): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  return Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
}

/** A generator app that records whether its finally block ran (it runs on return()). */
function trackedApp(): { app: Application; cleanedUp: () => boolean } {
  const state = { cleanedUp: false };
  const app: Application = function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    try {
      yield bytes('one');
      yield bytes('two');
    } finally {
      state.cleanedUp = true;
    }
  };
  return { app, cleanedUp: () => state.cleanedUp };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the server side: the environ', () => {
  it("accepts the environ part 3's own server builds, and OPTIONS * with empty paths", async () => {
    const { environ } = serverEnviron('POST', '/shop/items?id=7', 'a=1');
    await validated(helloApp)(environ, okStartResponse);
    await validated(answering('204 No Content', [], []))(serverEnviron('OPTIONS', '*').environ, okStartResponse);
    expect(found.rules()).toEqual([]);
  });

  it.each<[string, (environ: Environ) => Environ, RegExp]>([
    [
      'environ-type',
      (environ) => Object.assign(Object.create({ inherited: true }), environ),
      /must pass a plain object/,
    ],
    [
      'environ-missing',
      (environ) => (Reflect.deleteProperty(environ, 'QUERY_STRING'), environ),
      /has no QUERY_STRING: the server must always set it/,
    ],
    ['environ-http-content', (environ) => ({ ...environ, HTTP_CONTENT_LENGTH: '3' }), /under CONTENT_LENGTH instead/],
    [
      'environ-unknown-key',
      (environ) => ({ ...environ, PATH: process.env.PATH ?? '/usr/bin' }),
      /copied from process\.env/,
    ],
    ['environ-unknown-key', (environ) => ({ ...environ, route: 'home' }), /prefixed name like 'myserver\.route'/],
    [
      'environ-cgi-string',
      (environ) => ({ ...environ, SERVER_PORT: smuggle<string>(8003) }),
      /convert it with String\(\)/,
    ],
    ['environ-cgi-string', (environ) => ({ ...environ, HTTP_ACCEPT: undefined }), /leave the key out/],
    ['environ-method', (environ) => ({ ...environ, REQUEST_METHOD: 'GE T' }), /a token such as 'GET'/],
    ['environ-protocol', (environ) => ({ ...environ, SERVER_PROTOCOL: 'HTTP/2' }), /e\.g\. 'HTTP\/1\.1'/],
    ['environ-server-name', (environ) => ({ ...environ, SERVER_NAME: '' }), /use the Host header's name/],
    ['environ-server-port', (environ) => ({ ...environ, SERVER_PORT: 'http' }), /the port as digits/],
    [
      'environ-script-name',
      (environ) => ({ ...environ, SCRIPT_NAME: '/' }),
      /make it '' and put the '\/' at the start of PATH_INFO/,
    ],
    ['environ-script-name', (environ) => ({ ...environ, SCRIPT_NAME: 'shop' }), /or start with '\/'/],
    ['environ-path-info', (environ) => ({ ...environ, PATH_INFO: 'items' }), /must be '' or start with '\/'/],
    ['environ-path-empty', (environ) => ({ ...environ, PATH_INFO: '' }), /PATH_INFO should be '\/'/],
    ['environ-content-length', (environ) => ({ ...environ, CONTENT_LENGTH: '-1' }), /digits only; leave the key out/],
    ['environ-version', (environ) => ({ ...environ, 'gateway.version': smuggle<[number, number]>('1.0') }), /\[1, 0\]/],
    [
      'environ-url-scheme',
      (environ) => ({ ...environ, 'gateway.url_scheme': smuggle<'http'>('ftp') }),
      /'http' or 'https'/,
    ],
    [
      'environ-input',
      (environ) => ({
        ...environ,
        'gateway.input': smuggle<Environ['gateway.input']>({ read: async () => new Uint8Array() }),
      }),
      /has no readline\(\)/,
    ],
    [
      'environ-errors',
      (environ) => ({ ...environ, 'gateway.errors': smuggle<Environ['gateway.errors']>({ write: () => {} }) }),
      /has no flush\(\)/,
    ],
    ['environ-flag', (environ) => ({ ...environ, 'gateway.multithread': smuggle<boolean>('yes') }), /true or false/],
    [
      'environ-signal',
      (environ) => ({ ...environ, 'gateway.signal': smuggle<AbortSignal>({ aborted: false }) }),
      /new AbortController\(\)\.signal/,
    ],
  ])('refuses a bad environ (%s)', async (rule, spoil, fix) => {
    // A server (or a middleware in front of the validator) that hands over a broken environ.
    const spoiling: Application = (environ, startResponse) => validated(helloApp)(spoil(environ), startResponse);
    await expectViolation(found, spoiling, rule, fix);
  });

  it('refuses an input stream that resolves to something other than bytes', async () => {
    const { environ } = serverEnviron('POST', '/', 'abc');
    environ['gateway.input'] = {
      ...environ['gateway.input'],
      read: async () => smuggle<Uint8Array>('abc'),
      readline: async () => new Uint8Array(),
      [Symbol.asyncIterator]: environ['gateway.input'][Symbol.asyncIterator],
    };
    const app: Application = async (env, startResponse) => {
      await env['gateway.input'].read();
      startResponse('200 OK', TEXT);
      return [];
    };
    await expect(validated(app)(environ, okStartResponse)).rejects.toThrow(/a server must give Uint8Arrays/);
  });
});

describe('the server side: iterating and closing the body', () => {
  it('is silent when the server iterates, returns and closes, as the contract says', async () => {
    const { environ, log } = serverEnviron();
    const { app, cleanedUp } = trackedApp();
    const body = await validated(app)(environ, okStartResponse);
    const iterator = iteratorOf(body);
    while ((await iterator.next()).done !== true);
    await iterator.return?.();
    await body.close?.();
    await sleep(40);
    expect(cleanedUp()).toBe(true);
    expect(found.rules()).toEqual([]);
    expect(log).toEqual([]);
  });

  it('reports a server that never closes the body, once the request is over, in gateway.errors', async () => {
    const { environ, log } = serverEnviron();
    const body = await validated(trackedApp().app)(environ, okStartResponse);
    const iterator = iteratorOf(body);
    while ((await iterator.next()).done !== true);
    await iterator.return?.();
    expect(found.rules()).toEqual([]); // the server still has 20 ms
    await sleep(60);
    expect(found.rules()).toEqual(['server-no-close']);
    expect(log.join('')).toMatch(
      /\[validator\] GET \/: \[server-no-close\] .*call it once on every exit \(done, app error, client gone\)/,
    );
  });

  it('reports a server that stops pulling when the client goes away and never returns nor closes', async () => {
    const { environ, abort } = serverEnviron();
    const { app, cleanedUp } = trackedApp();
    const body = await validated(app)(environ, okStartResponse);
    await iteratorOf(body).next();
    abort();
    await sleep(60);
    expect(cleanedUp()).toBe(false);
    expect(found.rules()).toEqual(['server-no-return', 'server-no-close']);
    expect(found.messages()[0]).toMatch(/so the app's finally blocks run/);
  });

  it('reports a server that gives up on a body after a broken chunk without returning or closing it', async () => {
    const { environ } = serverEnviron();
    const app: Application = function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      yield smuggle<Uint8Array>('not bytes');
    };
    const body = await validated(app)(environ, okStartResponse);
    expect(() => iteratorOf(body).next()).toThrow(/encode text yourself/);
    await sleep(60);
    expect(found.rules()).toEqual(['chunk-string', 'server-no-return', 'server-no-close']);
  });

  it('does not time a server that is still waiting on a slow app after the client left', async () => {
    const { environ, abort } = serverEnviron();
    const app: Application = async function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      await sleep(80);
      yield bytes('late');
    };
    const body = await validated(app)(environ, okStartResponse);
    const iterator = iteratorOf(body);
    const pending = iterator.next();
    abort();
    await pending;
    await iterator.return?.();
    await body.close?.();
    expect(found.rules()).toEqual([]);
  });

  it('reports a server that closes the body without calling return() first', async () => {
    const { environ } = serverEnviron();
    const { app, cleanedUp } = trackedApp();
    const body = await validated(app)(environ, okStartResponse);
    await iteratorOf(body).next();
    await body.close?.();
    expect(cleanedUp()).toBe(false);
    expect(found.rules()).toEqual(['server-no-return']);
  });

  it('reports a server that closes the body twice', async () => {
    const { environ } = serverEnviron();
    const body = await validated(answering('200 OK', TEXT))(environ, okStartResponse);
    await body.close?.();
    await body.close?.();
    expect(found.rules()).toEqual(['server-close-twice']);
  });

  it('refuses a server that pulls after close(), after return(), twice at once, or iterates twice', async () => {
    const afterClose = await validated(trackedApp().app)(serverEnviron().environ, okStartResponse);
    const first = iteratorOf(afterClose);
    await first.return?.();
    await afterClose.close?.();
    expect(() => first.next()).toThrow(/after calling the body's close\(\)/);

    const afterReturn = await validated(trackedApp().app)(serverEnviron().environ, okStartResponse);
    const second = iteratorOf(afterReturn);
    await second.return?.();
    expect(() => second.next()).toThrow(/a returned iterator is finished/);
    expect(() => iteratorOf(afterReturn)).toThrow(/iterate a body once/);

    const slow: Application = async function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      await sleep(5);
      yield bytes('a');
    };
    const concurrent = await validated(slow)(serverEnviron().environ, okStartResponse);
    const third = iteratorOf(concurrent);
    const pending = third.next();
    await expect(third.next()).rejects.toThrow(/await each next\(\)/);
    await pending;
    for (const [iterator, body] of [
      [second, afterReturn],
      [third, concurrent],
    ] as const) {
      await iterator.return?.();
      await body.close?.();
    }

    expect(found.rules()).toEqual([
      'server-next-after-close',
      'server-next-after-return',
      'server-iterate-twice',
      'server-next-concurrent',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Through part 3's real server.

describe('through the gateway server', () => {
  const serve = (app: Application) => startGateway(validated(app));

  it('serves good apps untouched: an array body keeps its computed Content-Length; streaming, write() and HEAD work', async () => {
    const server = await serve((environ, startResponse) => {
      if (environ.PATH_INFO === '/stream') return createStreamingApp(0)(environ, startResponse);
      if (environ.PATH_INFO === '/write') {
        const write = startResponse('200 OK', TEXT);
        write(bytes('written, '));
        return [bytes('then returned')];
      }
      startResponse('200 OK', TEXT);
      return [bytes('hello '), bytes('world')];
    });
    try {
      const whole = await request(`${server.url}/`);
      expect(whole.headers['content-length']).toBe('11');
      expect(await whole.body.text()).toBe('hello world');
      const streamed = await request(`${server.url}/stream?count=3`);
      expect(streamed.headers['transfer-encoding']).toBe('chunked');
      expect(await streamed.body.text()).toMatch(/chunk 3 of 3/);
      expect(await (await request(`${server.url}/write`)).body.text()).toBe('written, then returned');
      const head = await request(`${server.url}/`, { method: 'HEAD' });
      expect(head.statusCode).toBe(200);
      await head.body.dump();
      await sleep(40); // past closeGraceMs: a server that forgot close() would be reported by now
      expect(server.log).toEqual([]);
      expect(found.rules()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('sees the server return and close the body when the client leaves mid-stream', async () => {
    const state = { cleanedUp: false };
    const server = await serve(async function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      try {
        for (let i = 1; ; i++) {
          yield bytes(`chunk ${i}\n`);
          await sleep(5);
        }
      } finally {
        state.cleanedUp = true;
      }
    });
    try {
      const socket = await openSocket(server.port);
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await readUntil(socket, (soFar) => soFar.includes('chunk 2'));
      socket.destroy();
      await eventually(() => state.cleanedUp, 2_000, "the app's finally block");
      await sleep(40);
      expect(found.rules()).toEqual([]);
      expect(server.log.join('')).not.toContain('[validator]');
    } finally {
      await server.close();
    }
  });

  it('answers 500 to a bad app before the head is sent, and logs the rule and its fix', async () => {
    const server = await serve(answering('200 OK', [...TEXT, ['Transfer-Encoding', 'chunked']]));
    try {
      const response = await request(`${server.url}/`);
      expect(response.statusCode).toBe(500);
      expect(await response.body.text()).not.toContain('hop-by-hop'); // details go to the log only
      expect(server.log.join('')).toMatch(
        /answered 500: ContractError: \[hop-by-hop\] Transfer-Encoding is a hop-by-hop header.*remove the header/,
      );
    } finally {
      await server.close();
    }
  });

  it('cuts the connection when the body breaks its Content-Length after the head went out', async () => {
    const server = await serve(function* (_environ, startResponse) {
      startResponse('200 OK', [...TEXT, ['Content-Length', '10']]);
      yield bytes('short');
    });
    try {
      const response = await request(`${server.url}/`);
      expect(response.statusCode).toBe(200);
      await expect(response.body.text()).rejects.toThrow();
      expect(server.log.join('')).toMatch(
        /connection cut \(head already sent\): ContractError: \[content-length-mismatch\]/,
      );
    } finally {
      await server.close();
    }
  });
});
