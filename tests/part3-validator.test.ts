// validator(app) (part3-gateway/validator.ts): one known-bad application (or server) per rule,
// each proving its check fires with a message that says how to fix it, and good applications
// passing without a word. Apps run in process (tests/helpers/call-app.ts) or, for the server's
// side, driven by hand over an environ from part 3's own buildEnviron; the last block runs
// everything through the real gateway server and undici.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application, Body, Environ, StartResponse } from '../part3-gateway/contract.ts';
import { buildEnviron, GatewayInput } from '../part3-gateway/environ.ts';
import { app as helloApp } from '../part3-gateway/apps/hello.ts';
import { app as uploadApp } from '../part3-gateway/apps/upload.ts';
import { app as demoApp } from '../part3-gateway/apps/demo.ts';
import { createStreamingApp } from '../part3-gateway/apps/streaming.ts';
import { ContractError, validator } from '../part3-gateway/validator.ts';
import { callApp, type AppRequest } from './helpers/call-app.ts';
import { bytes, eventually, startGateway } from './helpers/gateway.ts';
import { openSocket, readUntil } from './helpers/wire.ts';

const TEXT: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8']];

// TypeScript already refuses most of these mistakes at compile time; the validator is there
// for what it cannot see (plain JavaScript apps, values from JSON, `any` upstream). To make
// such a mistake in a test, one value at a time is let past the type checker, here only.
function smuggle<T>(value: unknown): T {
  return value as T;
}

/** Every violation the validator found, thrown or only logged; checked empty after each test. */
let violations: ContractError[] = [];
afterEach(() => {
  violations = [];
});
/** The validator as these tests use it: a short close() deadline, violations into this test's list. */
function validated(app: Application): Application {
  const found = violations;
  return validator(app, { onViolation: (error) => found.push(error), closeGraceMs: 20 });
}

/** Run `app` under the validator and expect it to fail with `rule`, its message matching `fix`. */
async function expectViolation(app: Application, rule: string, fix: RegExp, request: AppRequest = {}): Promise<void> {
  const failure: unknown = await callApp(validated(app), request).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(ContractError);
  expect(failure).toMatchObject({ rule });
  expect(String(failure)).toMatch(fix);
  expect(violations.map((violation) => violation.rule)).toContain(rule);
}

/** An app that calls startResponse with these (possibly ill-typed) arguments and sends `body`. */
function answering(status: unknown, headers: unknown, body: string[] = ['ok']): Application {
  return (_environ, startResponse) => {
    startResponse(smuggle<string>(status), smuggle<[string, string][]>(headers));
    return body.map(bytes);
  };
}

describe('the application side: startResponse', () => {
  it.each([
    ['status-type', 200, /e\.g\. '200 OK'/],
    ['status-format', '200', /three-digit code, one space and a reason phrase/],
    ['status-format', '20 OK', /e\.g\. '404 Not Found'/],
    ['status-code', '099 Too Early', /outside 100–599/],
    ['status-code', '600 Beyond', /use a real code/],
    ['status-crlf', '200 OK\r\nX-Injected: 1', /remove them/],
    ['status-latin1', '200 Fine ✓', /plain ASCII reason phrase/],
    ['status-control', '200 O\x07K', /printable text only/],
  ])('refuses a bad status (%s): %j', async (rule, status, fix) => {
    await expectViolation(answering(status, TEXT), rule, fix);
  });

  it.each([
    ['headers-type', new Map([['Content-Type', 'text/plain']]), /pass an array of \[name, value\] pairs/],
    ['headers-type', { 'Content-Type': 'text/plain' }, /pass an array of \[name, value\] pairs/],
    ['header-pair', [['Content-Type']], /two-element array/],
    ['header-string', [...TEXT, ['Content-Length', 2]], /String\(size\)/],
    ['header-name', [...TEXT, ['X Request Id', '7']], /use letters, digits and -/],
    ['header-crlf', [...TEXT, ['X-Note', 'a\r\nSet-Cookie: admin=1']], /response splitting\): remove them/],
    ['header-latin1', [...TEXT, ['Content-Disposition', 'attachment; filename="€.txt"']], /RFC 8187/],
    ['header-control', [...TEXT, ['X-Note', 'bell\x07']], /remove it, or encode the value/],
    ['header-status', [...TEXT, ['Status', '404 Not Found']], /startResponse's first argument/],
    ['content-type-missing', [['Content-Length', '2']], /add one, e\.g\. \['Content-Type'/],
    ['content-length-format', [...TEXT, ['Content-Length', '2 bytes']], /String\(bytes\.byteLength\)/],
    ['content-length-twice', [...TEXT, ['Content-Length', '2'], ['Content-Length', '2']], /send it once/],
  ])('refuses bad headers (%s)', async (rule, headers, fix) => {
    await expectViolation(answering('200 OK', headers), rule, fix);
  });

  it.each(['Connection', 'Keep-Alive', 'Transfer-Encoding', 'TE', 'Trailer', 'Upgrade', 'Proxy-Authenticate'])(
    'refuses the hop-by-hop header %s',
    async (name) => {
      await expectViolation(answering('200 OK', [...TEXT, [name, 'x']]), 'hop-by-hop', /the server manages the connection.*remove the header/);
    },
  );

  it('refuses Content-Length on a 204, which has no body', async () => {
    await expectViolation(answering('204 No Content', [['Content-Length', '0']], []), 'content-length-no-body', /remove the header/);
  });

  it('refuses a second startResponse without an error', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      startResponse('404 Not Found', TEXT);
      return [bytes('two heads')];
    };
    await expectViolation(app, 'start-response-twice', /pass the caught error as the third argument/);
  });

  it('lets a second startResponse with an error replace the head', async () => {
    const app: Application = function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      try {
        throw new Error('the database is down');
      } catch (error) {
        startResponse('500 Internal Server Error', TEXT, error);
        yield bytes('sorry\n');
      }
    };
    const response = await callApp(validated(app));
    expect(response.status).toBe(500);
    expect(violations).toEqual([]);
  });

  it('refuses startResponse called after the body has ended', async () => {
    const saved: { startResponse: StartResponse | null } = { startResponse: null };
    const app: Application = (_environ, startResponse) => {
      saved.startResponse = startResponse;
      startResponse('200 OK', TEXT);
      return [bytes('done')];
    };
    await callApp(validated(app));
    expect(() => saved.startResponse?.('500 Internal Server Error', TEXT, new Error('late'))).toThrow(/call it before returning the body/);
    expect(violations.map((violation) => violation.rule)).toEqual(['start-response-late']);
  });
});

describe('the application side: the body', () => {
  it('refuses a body produced before startResponse', async () => {
    const app: Application = function* (_environ, startResponse) {
      yield bytes('too soon');
      startResponse('200 OK', TEXT);
    };
    await expectViolation(app, 'start-response-missing', /call startResponse\(status, headers\) first .*before the first yield/);
  });

  it('refuses an array body returned without calling startResponse', async () => {
    await expectViolation(() => [bytes('no head')], 'start-response-missing', /call startResponse\(status, headers\) first/);
  });

  it('refuses an empty body that ends without startResponse', async () => {
    const app: Application = function* () {};
    await expectViolation(app, 'start-response-missing', /never called: call startResponse\(status, headers\) before returning the body/);
  });

  it.each([
    ['body-missing', undefined, /return the body, if only an empty array/],
    ['body-string', 'hello', /You should not return a string as your application body; instead return a single-item array/],
    ['body-bytes', bytes('hello'), /return \[bytes\] instead/],
    ['body-not-iterable', { text: 'hello' }, /a generator \(function\*\) or an async generator/],
    ['body-not-iterable', 42, /return an iterable of Uint8Array chunks/],
  ])('refuses a body that is not one (%s)', async (rule, body, fix) => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return smuggle<Body>(body);
    };
    await expectViolation(app, rule, fix);
  });

  it.each([
    ['chunk-string', 'hello', /new TextEncoder\(\)\.encode\(text\)/],
    ['chunk-number', 104, /return bytes instead of \[bytes\]/],
    ['chunk-type', { bytes: [104] }, /encode or serialise it first/],
  ])('refuses a chunk that is not a Uint8Array (%s), from a generator', async (rule, chunk, fix) => {
    const app: Application = function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      yield smuggle<Uint8Array>(chunk);
    };
    await expectViolation(app, rule, fix);
  });

  it('refuses a chunk that is not a Uint8Array in an array body, before the server sees it', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return smuggle<Body>(['hello']);
    };
    await expectViolation(app, 'chunk-string', /new TextEncoder\(\)\.encode\(text\)/);
  });

  it('refuses a body longer than its Content-Length, at the first byte too many', async () => {
    const produced: string[] = [];
    const app: Application = async function* (_environ, startResponse) {
      startResponse('200 OK', [...TEXT, ['Content-Length', '5']]);
      for (const piece of ['hel', 'lo', ' world']) {
        produced.push(piece);
        yield bytes(piece);
      }
    };
    await expectViolation(app, 'content-length-exceeded', /says 5 bytes, but the body has produced 11 already: fix the header, or leave it out/);
    expect(produced).toEqual(['hel', 'lo', ' world']);
  });

  it('refuses a body shorter than its Content-Length, when it ends', async () => {
    await expectViolation(answering('200 OK', [...TEXT, ['Content-Length', '10']], ['short']), 'content-length-mismatch', /says 10 bytes, but the body had 5: make them agree/);
  });

  it('refuses a body for a 204 response', async () => {
    await expectViolation(answering('204 No Content', [], ['surprise']), 'body-forbidden', /return an empty body/);
  });

  it('lets a HEAD response declare a Content-Length and send no body, or send the body anyway', async () => {
    const declared = answering('200 OK', [...TEXT, ['Content-Length', '11']], []);
    const sent = answering('200 OK', [...TEXT, ['Content-Length', '11']], ['hello world']);
    expect((await callApp(validated(declared), { method: 'HEAD' })).status).toBe(200);
    expect((await callApp(validated(sent), { method: 'HEAD' })).text).toBe('hello world');
    expect(violations).toEqual([]);
  });

  it('lets a 304 response carry Content-Length without Content-Type or body', async () => {
    const app = answering('304 Not Modified', [['Content-Length', '1234'], ['ETag', '"v1"']], []);
    expect((await callApp(validated(app))).status).toBe(304);
    expect(violations).toEqual([]);
  });

  it('refuses write() with a string', async () => {
    const app: Application = (_environ, startResponse) => {
      const write = startResponse('200 OK', TEXT);
      write(smuggle<Uint8Array>('legacy text'));
      return [];
    };
    await expectViolation(app, 'chunk-string', /write\(\) produced a string: encode text yourself/);
  });

  it('refuses write() after the body has ended', async () => {
    const saved: { write: ((chunk: Uint8Array) => void) | null } = { write: null };
    const app: Application = (_environ, startResponse) => {
      saved.write = startResponse('200 OK', TEXT);
      return [bytes('done')];
    };
    await callApp(validated(app));
    expect(() => saved.write?.(bytes('too late'))).toThrow(/produce every byte before the body ends/);
  });
});

describe('the application side: gateway.input and gateway.errors', () => {
  const reading = (read: (environ: Environ) => Promise<unknown>): Application =>
    async function* (environ, startResponse) {
      await read(environ);
      startResponse('200 OK', TEXT);
      yield bytes('read');
    };

  it.each([-1, 1.5, '10'])('refuses read(%j)', async (size) => {
    const app = reading((environ) => environ['gateway.input'].read(smuggle<number>(size)));
    await expectViolation(app, 'input-size', /pass a whole number of bytes \(0 or more\), or nothing to read to the end/, { body: 'payload' });
  });

  it('refuses readline with a negative size', async () => {
    const app = reading((environ) => environ['gateway.input'].readline(-5));
    await expectViolation(app, 'input-size', /whole number of bytes/, { body: 'line\n' });
  });

  it('refuses a second read started before the first one finished', async () => {
    const app = reading((environ) => Promise.all([environ['gateway.input'].read(2), environ['gateway.input'].read(2)]));
    await expectViolation(app, 'input-concurrent', /await each read before starting the next/, { body: 'payload' });
  });

  it('passes reads, readline and async iteration through unchanged', async () => {
    const app: Application = async function* (environ, startResponse) {
      const input = environ['gateway.input'];
      const first = await input.readline();
      const two = await input.read(2);
      const rest: Uint8Array[] = [];
      for await (const chunk of input) rest.push(chunk);
      startResponse('200 OK', TEXT);
      yield first;
      yield two;
      yield* rest;
    };
    const response = await callApp(validated(app), { method: 'POST', body: 'line one\nline two\n' });
    expect(response.text).toBe('line one\nline two\n');
    expect(violations).toEqual([]);
  });

  it('refuses gateway.errors.write with something other than a string', async () => {
    const app = reading(async (environ) => environ['gateway.errors'].write(smuggle<string>(new Error('oops'))));
    await expectViolation(app, 'errors-write', /pass a string, e\.g\. String\(error\) or error\.stack/);
  });
});

describe('good applications pass without a word', () => {
  it('a generator app', async () => {
    const response = await callApp(validated(helloApp), { path: '/there' });
    expect(response.text).toBe('Hello, World! You asked for /there\n');
    expect(violations).toEqual([]);
  });

  it('an async generator app reading the body', async () => {
    const response = await callApp(validated(uploadApp), { method: 'PUT', body: 'one\ntwo\n' });
    expect(JSON.parse(response.text)).toMatchObject({ bytes: 8, lines: 2 });
    expect(violations).toEqual([]);
  });

  it('an app returning an array with a Content-Length that matches', async () => {
    const response = await callApp(validated(answering('200 OK', [...TEXT, ['Content-Length', '11']], ['hello', ' world'])));
    expect(response.text).toBe('hello world');
    expect(violations).toEqual([]);
  });

  it('the streaming and demo example apps', async () => {
    expect((await callApp(validated(createStreamingApp(0)), { query: 'count=3' })).text).toMatch(/chunk 3 of 3/);
    expect((await callApp(validated(demoApp), { method: 'POST', form: { message: 'hi' } })).text).toContain('message=hi');
    expect((await callApp(validated(demoApp), { path: '/missing' })).status).toBe(404);
    expect(violations).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The server's side. An environ as part 3's server builds it, and a hand-driven "server".

/** The environ part 3's server would build for `GET target` (or `method target` with a body). */
function serverEnviron(method = 'GET', target = '/', body = ''): { environ: Environ; log: string[]; abort: () => void } {
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
      method,
      target,
      protocol: 'HTTP/1.1',
      headers: [{ name: 'Host', value: 'example.test:8003' }, ...(body === '' ? [] : [{ name: 'Content-Length', value: String(body.length) }])],
      remoteAddress: '127.0.0.1',
      remotePort: 50123,
      localAddress: '127.0.0.1',
      localPort: 8003,
    },
    { input, errors: { write: (text) => void log.push(text), flush: () => {} }, signal: controller.signal, multiprocess: false },
  );
  return { environ, log, abort: () => controller.abort() };
}

const okStartResponse: StartResponse = () => () => {};

/** The body's async iterator, whichever kind the body is (what a server does first). */
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
    expect(violations).toEqual([]);
  });

  it.each<[string, (environ: Environ) => Environ, RegExp]>([
    ['environ-type', (environ) => Object.assign(Object.create({ inherited: true }), environ), /must pass a plain object/],
    ['environ-missing', (environ) => (Reflect.deleteProperty(environ, 'QUERY_STRING'), environ), /has no QUERY_STRING: the server must always set it/],
    ['environ-http-content', (environ) => ({ ...environ, HTTP_CONTENT_LENGTH: '3' }), /under CONTENT_LENGTH instead/],
    ['environ-unknown-key', (environ) => ({ ...environ, PATH: process.env.PATH ?? '/usr/bin' }), /copied from process\.env/],
    ['environ-unknown-key', (environ) => ({ ...environ, route: 'home' }), /prefixed name like 'myserver\.route'/],
    ['environ-cgi-string', (environ) => ({ ...environ, SERVER_PORT: smuggle<string>(8003) }), /convert it with String\(\)/],
    ['environ-cgi-string', (environ) => ({ ...environ, HTTP_ACCEPT: undefined }), /leave the key out/],
    ['environ-method', (environ) => ({ ...environ, REQUEST_METHOD: 'GE T' }), /a token such as 'GET'/],
    ['environ-protocol', (environ) => ({ ...environ, SERVER_PROTOCOL: 'HTTP/2' }), /e\.g\. 'HTTP\/1\.1'/],
    ['environ-server-name', (environ) => ({ ...environ, SERVER_NAME: '' }), /use the Host header's name/],
    ['environ-server-port', (environ) => ({ ...environ, SERVER_PORT: 'http' }), /the port as digits/],
    ['environ-script-name', (environ) => ({ ...environ, SCRIPT_NAME: '/' }), /make it '' and put the '\/' at the start of PATH_INFO/],
    ['environ-script-name', (environ) => ({ ...environ, SCRIPT_NAME: 'shop' }), /or start with '\/'/],
    ['environ-path-info', (environ) => ({ ...environ, PATH_INFO: 'items' }), /must be '' or start with '\/'/],
    ['environ-path-empty', (environ) => ({ ...environ, PATH_INFO: '' }), /PATH_INFO should be '\/'/],
    ['environ-content-length', (environ) => ({ ...environ, CONTENT_LENGTH: '-1' }), /digits only; leave the key out/],
    ['environ-version', (environ) => ({ ...environ, 'gateway.version': smuggle<[number, number]>('1.0') }), /\[1, 0\]/],
    ['environ-url-scheme', (environ) => ({ ...environ, 'gateway.url_scheme': smuggle<'http'>('ftp') }), /'http' or 'https'/],
    ['environ-input', (environ) => ({ ...environ, 'gateway.input': smuggle<Environ['gateway.input']>({ read: async () => new Uint8Array() }) }), /has no readline\(\)/],
    ['environ-errors', (environ) => ({ ...environ, 'gateway.errors': smuggle<Environ['gateway.errors']>({ write: () => {} }) }), /has no flush\(\)/],
    ['environ-flag', (environ) => ({ ...environ, 'gateway.multithread': smuggle<boolean>('yes') }), /true or false/],
    ['environ-signal', (environ) => ({ ...environ, 'gateway.signal': smuggle<AbortSignal>({ aborted: false }) }), /new AbortController\(\)\.signal/],
  ])('refuses a bad environ (%s)', async (rule, spoil, fix) => {
    // A server (or a middleware in front of the validator) that hands over a broken environ.
    const spoiling: Application = (environ, startResponse) => validated(helloApp)(spoil(environ), startResponse);
    await expectViolation(spoiling, rule, fix);
  });

  it('refuses an input stream that resolves to something other than bytes', async () => {
    const { environ } = serverEnviron('POST', '/', 'abc');
    environ['gateway.input'] = { ...environ['gateway.input'], read: async () => smuggle<Uint8Array>('abc'), readline: async () => new Uint8Array(), [Symbol.asyncIterator]: environ['gateway.input'][Symbol.asyncIterator] };
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
    expect(violations).toEqual([]);
    expect(log).toEqual([]);
  });

  it('reports a server that never closes the body, once the request is over, in gateway.errors', async () => {
    const { environ, log } = serverEnviron();
    const body = await validated(trackedApp().app)(environ, okStartResponse);
    const iterator = iteratorOf(body);
    while ((await iterator.next()).done !== true);
    await iterator.return?.();
    expect(violations).toEqual([]); // the server still has 20 ms
    await sleep(60);
    expect(violations.map((violation) => violation.rule)).toEqual(['server-no-close']);
    expect(log.join('')).toMatch(/\[validator\] GET \/: \[server-no-close\] .*call it once on every exit \(done, app error, client gone\)/);
  });

  it('reports a server that stops pulling when the client goes away and never returns nor closes', async () => {
    const { environ, abort } = serverEnviron();
    const { app, cleanedUp } = trackedApp();
    const body = await validated(app)(environ, okStartResponse);
    await iteratorOf(body).next();
    abort();
    await sleep(60);
    expect(cleanedUp()).toBe(false);
    expect(violations.map((violation) => violation.rule)).toEqual(['server-no-return', 'server-no-close']);
    expect(violations[0].message).toMatch(/so the app's finally blocks run/);
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
    expect(violations).toEqual([]);
  });

  it('reports a server that closes the body without calling return() first', async () => {
    const { environ } = serverEnviron();
    const { app, cleanedUp } = trackedApp();
    const body = await validated(app)(environ, okStartResponse);
    await iteratorOf(body).next();
    await body.close?.();
    expect(cleanedUp()).toBe(false);
    expect(violations.map((violation) => violation.rule)).toEqual(['server-no-return']);
  });

  it('reports a server that closes the body twice', async () => {
    const { environ } = serverEnviron();
    const body = await validated(answering('200 OK', TEXT))(environ, okStartResponse);
    await body.close?.();
    await body.close?.();
    expect(violations.map((violation) => violation.rule)).toEqual(['server-close-twice']);
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
    for (const [iterator, body] of [[second, afterReturn], [third, concurrent]] as const) {
      await iterator.return?.();
      await body.close?.();
    }

    expect(violations.map((violation) => violation.rule)).toEqual(['server-next-after-close', 'server-next-after-return', 'server-iterate-twice', 'server-next-concurrent']);
  });
});

// ---------------------------------------------------------------------------------------------
// Through part 3's real server.

describe('through the gateway server', () => {
  const serve = (app: Application) => startGateway(validated(app));

  it('serves good apps untouched, an array body still with its computed Content-Length', async () => {
    const server = await serve((environ, startResponse) => {
      if (environ.PATH_INFO === '/stream') return createStreamingApp(0)(environ, startResponse);
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
      const head = await request(`${server.url}/`, { method: 'HEAD' });
      expect(head.statusCode).toBe(200);
      await head.body.dump();
      await sleep(40); // past closeGraceMs: a server that forgot close() would be reported by now
      expect(server.log).toEqual([]);
      expect(violations).toEqual([]);
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
      expect(violations).toEqual([]);
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
      expect(server.log.join('')).toMatch(/answered 500: ContractError: \[hop-by-hop\] Transfer-Encoding is a hop-by-hop header.*remove the header/);
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
      expect(server.log.join('')).toMatch(/connection cut \(head already sent\): ContractError: \[content-length-mismatch\]/);
    } finally {
      await server.close();
    }
  });
});
