// validator(app) (part3-gateway/validator.ts), the application's side: one known-bad app per
// rule, each proving its check fires with a message that says how to fix the app, and the good
// apps (the examples among them) passing without a word. Apps run in process (callApp); the
// server's side is in part3-validator-server.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Application, Body, Environ, StartResponse } from '../part3-gateway/contract.ts';
import { app as demoApp } from '../part3-gateway/apps/demo.ts';
import { app as helloApp } from '../part3-gateway/apps/hello.ts';
import { createStreamingApp } from '../part3-gateway/apps/streaming.ts';
import { app as uploadApp } from '../part3-gateway/apps/upload.ts';
import { callApp } from './helpers/call-app.ts';
import { bytes } from './helpers/gateway.ts';
import { answering, expectViolation, smuggle, TEXT, ViolationLog } from './helpers/validator.ts';

const found = new ViolationLog();
afterEach(() => found.reset());
const validated = (app: Application): Application => found.validated(app);

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
    await expectViolation(found, answering(status, TEXT), rule, fix);
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
    await expectViolation(found, answering('200 OK', headers), rule, fix);
  });

  it.each(['Connection', 'Keep-Alive', 'Transfer-Encoding', 'TE', 'Trailer', 'Upgrade', 'Proxy-Authenticate'])(
    'refuses the hop-by-hop header %s',
    async (name) => {
      await expectViolation(
        found,
        answering('200 OK', [...TEXT, [name, 'x']]),
        'hop-by-hop',
        /the server manages the connection.*remove the header/,
      );
    },
  );

  it('refuses Content-Length on a 204, which has no body', async () => {
    await expectViolation(
      found,
      answering('204 No Content', [['Content-Length', '0']], []),
      'content-length-no-body',
      /remove the header/,
    );
  });

  it('refuses a second startResponse without an error', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      startResponse('404 Not Found', TEXT);
      return [bytes('two heads')];
    };
    await expectViolation(found, app, 'start-response-twice', /pass the caught error as the third argument/);
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
    expect(found.rules()).toEqual([]);
  });

  it('refuses startResponse called after the body has ended', async () => {
    const saved: { startResponse: StartResponse | null } = { startResponse: null };
    const app: Application = (_environ, startResponse) => {
      saved.startResponse = startResponse;
      startResponse('200 OK', TEXT);
      return [bytes('done')];
    };
    await callApp(validated(app));
    expect(() => saved.startResponse?.('500 Internal Server Error', TEXT, new Error('late'))).toThrow(
      /call it before returning the body/,
    );
    expect(found.rules()).toEqual(['start-response-late']);
  });
});

describe('the application side: the body', () => {
  it('refuses a body produced before startResponse', async () => {
    const app: Application = function* (_environ, startResponse) {
      yield bytes('too soon');
      startResponse('200 OK', TEXT);
    };
    await expectViolation(
      found,
      app,
      'start-response-missing',
      /call startResponse\(status, headers\) first .*before the first yield/,
    );
  });

  it('refuses an array body returned without calling startResponse', async () => {
    await expectViolation(
      found,
      () => [bytes('no head')],
      'start-response-missing',
      /call startResponse\(status, headers\) first/,
    );
  });

  it('refuses an empty body that ends without startResponse', async () => {
    const app: Application = function* () {};
    await expectViolation(
      found,
      app,
      'start-response-missing',
      /never called: call startResponse\(status, headers\) before returning the body/,
    );
  });

  it.each([
    ['body-missing', undefined, /return the body, if only an empty array/],
    [
      'body-string',
      'hello',
      /You should not return a string as your application body; instead return a single-item array/,
    ],
    ['body-bytes', bytes('hello'), /return \[bytes\] instead/],
    ['body-not-iterable', { text: 'hello' }, /a generator \(function\*\) or an async generator/],
    ['body-not-iterable', 42, /return an iterable of Uint8Array chunks/],
  ])('refuses a body that is not one (%s)', async (rule, body, fix) => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return smuggle<Body>(body);
    };
    await expectViolation(found, app, rule, fix);
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
    await expectViolation(found, app, rule, fix);
  });

  it('refuses a chunk that is not a Uint8Array in an array body, before the server sees it', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return smuggle<Body>(['hello']);
    };
    await expectViolation(found, app, 'chunk-string', /new TextEncoder\(\)\.encode\(text\)/);
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
    await expectViolation(
      found,
      app,
      'content-length-exceeded',
      /says 5 bytes, but the body has produced 11 already: fix the header, or leave it out/,
    );
    expect(produced).toEqual(['hel', 'lo', ' world']);
  });

  it('refuses a body shorter than its Content-Length, when it ends', async () => {
    await expectViolation(
      found,
      answering('200 OK', [...TEXT, ['Content-Length', '10']], ['short']),
      'content-length-mismatch',
      /says 10 bytes, but the body had 5: make them agree/,
    );
  });

  it('refuses a body for a 204 response', async () => {
    await expectViolation(
      found,
      answering('204 No Content', [], ['surprise']),
      'body-forbidden',
      /return an empty body/,
    );
  });

  it('lets a HEAD response declare a Content-Length and send no body, or send the body anyway', async () => {
    const declared = answering('200 OK', [...TEXT, ['Content-Length', '11']], []);
    const sent = answering('200 OK', [...TEXT, ['Content-Length', '11']], ['hello world']);
    expect((await callApp(validated(declared), { method: 'HEAD' })).status).toBe(200);
    expect((await callApp(validated(sent), { method: 'HEAD' })).text).toBe('hello world');
    expect(found.rules()).toEqual([]);
  });

  it('lets a 304 response carry Content-Length without Content-Type or body', async () => {
    const app = answering(
      '304 Not Modified',
      [
        ['Content-Length', '1234'],
        ['ETag', '"v1"'],
      ],
      [],
    );
    expect((await callApp(validated(app))).status).toBe(304);
    expect(found.rules()).toEqual([]);
  });

  it('refuses write() with a string', async () => {
    const app: Application = (_environ, startResponse) => {
      const write = startResponse('200 OK', TEXT);
      write(smuggle<Uint8Array>('legacy text'));
      return [];
    };
    await expectViolation(found, app, 'chunk-string', /write\(\) produced a string: encode text yourself/);
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
    await expectViolation(
      found,
      app,
      'input-size',
      /pass a whole number of bytes \(0 or more\), or nothing to read to the end/,
      { body: 'payload' },
    );
  });

  it('refuses readline with a negative size', async () => {
    const app = reading((environ) => environ['gateway.input'].readline(-5));
    await expectViolation(found, app, 'input-size', /whole number of bytes/, { body: 'line\n' });
  });

  it('refuses a second read started before the first one finished', async () => {
    const app = reading((environ) => Promise.all([environ['gateway.input'].read(2), environ['gateway.input'].read(2)]));
    await expectViolation(found, app, 'input-concurrent', /await each read before starting the next/, {
      body: 'payload',
    });
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
    expect(found.rules()).toEqual([]);
  });

  it('refuses gateway.errors.write with something other than a string', async () => {
    const app = reading(async (environ) => environ['gateway.errors'].write(smuggle<string>(new Error('oops'))));
    await expectViolation(found, app, 'errors-write', /pass a string, e\.g\. String\(error\) or error\.stack/);
  });
});

describe('good applications pass without a word', () => {
  it('a generator app', async () => {
    const response = await callApp(validated(helloApp), { path: '/there' });
    expect(response.text).toBe('Hello, World! You asked for /there\n');
    expect(found.rules()).toEqual([]);
  });

  it('an async generator app reading the body', async () => {
    const response = await callApp(validated(uploadApp), { method: 'PUT', body: 'one\ntwo\n' });
    expect(JSON.parse(response.text)).toMatchObject({ bytes: 8, lines: 2 });
    expect(found.rules()).toEqual([]);
  });

  it('an app returning an array with a Content-Length that matches', async () => {
    const response = await callApp(
      validated(answering('200 OK', [...TEXT, ['Content-Length', '11']], ['hello', ' world'])),
    );
    expect(response.text).toBe('hello world');
    expect(found.rules()).toEqual([]);
  });

  it('the streaming and demo example apps', async () => {
    expect((await callApp(validated(createStreamingApp(0)), { query: 'count=3' })).text).toMatch(/chunk 3 of 3/);
    expect((await callApp(validated(demoApp), { method: 'POST', form: { message: 'hi' } })).text).toContain(
      'message=hi',
    );
    expect((await callApp(validated(demoApp), { path: '/missing' })).status).toBe(404);
    expect(found.rules()).toEqual([]);
  });
});
