// How the gateway turns what an application gives back into bytes on the wire (the rules in part3-gateway/contract.ts):
// framing (Content-Length given, computed, chunked, close-delimited), bodiless responses,
// the headers the server adds and the ones it refuses, and the rules of startResponse.
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { mismatchedArray } from './fixtures/contract-apps.ts';
import { bytes, routes, useGateway } from './helpers/gateway.ts';
import { header, parseResponses, readResponses, type RawResponse } from './helpers/http-text.ts';
import { exchange, openSocket } from './helpers/wire.ts';

const TEXT: [string, string][] = [['Content-Type', 'text/plain']];

/** An app that answers `status` with `headers` and the given chunks, yielded one by one. */
function streamed(status: string, headers: [string, string][], chunks: string[]): Application {
  return function* (_environ, startResponse) {
    startResponse(status, headers);
    for (const chunk of chunks) yield bytes(chunk);
  };
}

/**
 * The same, from an async generator that waits a turn of the event loop after each chunk, as a
 * real stream does (a timer, a database): each chunk leaves before the next is made, so the
 * length is not known when the head goes, and the body is chunked. (A body that ends within
 * one turn gets a Content-Length, whatever produced it: tests/part3-sync-body.test.ts.)
 */
function streamedAsync(status: string, headers: [string, string][], chunks: string[]): Application {
  return async function* (_environ, startResponse) {
    startResponse(status, headers);
    for (const chunk of chunks) {
      yield bytes(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
}

/** An app that answers with a header the server must refuse. */
function withHeader(name: string, value: string): Application {
  return (_environ, startResponse) => {
    startResponse('200 OK', [...TEXT, [name, value]]);
    return [bytes('should never be sent\n')];
  };
}

const HOP_BY_HOP = [
  'Connection',
  'Keep-Alive',
  'Transfer-Encoding',
  'TE',
  'Trailer',
  'Upgrade',
  'Proxy-Authenticate',
  'Proxy-Foo',
];

const apps: Record<string, Application> = {
  '/array': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    return [bytes('hello, '), bytes('world\n')];
  },
  '/declared': streamed('200 OK', [...TEXT, ['Content-Length', '12']], ['hello, ', 'world']),
  '/generator': streamedAsync('200 OK', TEXT, ['one\n', 'two\n', 'three\n']),
  '/too-long': streamed('200 OK', [...TEXT, ['Content-Length', '10']], ['12345678', '90abcdef']),
  '/first-chunk-too-long': streamed('200 OK', [...TEXT, ['Content-Length', '5']], ['hello, world']),
  '/too-short': streamed('200 OK', [...TEXT, ['Content-Length', '100']], ['only ', 'these bytes']),
  '/array-too-long': mismatchedArray(5, ['hello, ', 'world']),
  '/array-too-short': mismatchedArray(100, ['hello']),
  '/closeable-array-too-long': mismatchedArray(5, ['hello, ', 'world'], true),
  '/no-content': streamed('204 No Content', [], ['a body a 204 may not have']),
  '/not-modified': streamed('304 Not Modified', [['ETag', '"v1"']], ['a body a 304 may not have']),
  '/own-server': (_environ, startResponse) => {
    startResponse('200 OK', [...TEXT, ['Server', 'my-app/1.0'], ['Date', 'Thu, 01 Jan 1970 00:00:00 GMT']]);
    return [bytes('mine\n')];
  },
  '/cookies': (_environ, startResponse) => {
    startResponse('200 OK', [['Set-Cookie', 'a=1'], ...TEXT, ['Set-Cookie', 'b=2']]);
    return [bytes('two cookies\n')];
  },
  '/latin1': withHeader('X-Latin-1', 'café'),
  '/crlf': withHeader('X-Injected', 'ok\r\nSet-Cookie: evil=1'),
  '/lf': withHeader('X-Injected', 'ok\nSet-Cookie: evil=1'),
  '/beyond-latin1': withHeader('X-Name', 'Zoë ☃'),
  '/bad-name': withHeader('X Name', 'value'),
  '/bad-status': (_environ, startResponse) => {
    startResponse('200 OK\r\nSet-Cookie: evil=1', TEXT);
    return [bytes('no\n')];
  },
  '/twice': (_environ, startResponse) => {
    startResponse('200 OK', TEXT);
    startResponse('201 Created', TEXT);
    return [bytes('no\n')];
  },
  '/replace-before-head': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    try {
      throw new Error('database is down');
    } catch (error) {
      startResponse('503 Service Unavailable', [...TEXT, ['Retry-After', '5']], error);
      yield bytes('try again in five seconds\n');
    }
  },
  '/replace-after-head': function* (_environ, startResponse) {
    startResponse('200 OK', TEXT);
    yield bytes('the head is out\n');
    startResponse('500 Internal Server Error', TEXT, new Error('too late'));
    yield bytes('never sent\n');
  },
  '/legacy-write': (_environ, startResponse) => {
    const write = startResponse('200 OK', TEXT);
    write(bytes('written, '));
    write(bytes('then '));
    return [bytes('returned\n')];
  },
  '/two-lengths': (_environ, startResponse) => {
    startResponse('200 OK', [...TEXT, ['Content-Length', '5'], ['Content-Length', '50']]);
    return [bytes('hello')];
  },
  '/interim-status': (_environ, startResponse) => {
    startResponse('103 Early Hints', [['Link', '</style.css>; rel=preload']]);
    return [];
  },
  '/lazy': function* (environ, startResponse) {
    // Nothing runs until the server pulls the first chunk: startResponse is called from inside.
    startResponse('200 OK', TEXT);
    yield bytes(`lazy ${environ.REQUEST_METHOD}\n`);
  },
};
for (const name of HOP_BY_HOP) apps[`/hop/${name}`] = withHeader(name, name === 'Transfer-Encoding' ? 'chunked' : 'x');

const gateway = useGateway(routes(apps));

/** One request on a fresh connection, read to the close: the single response it got. */
async function rawAnswer(requestBytes: string): Promise<{ response: RawResponse; wire: string }> {
  const wire = await exchange(gateway.port, requestBytes);
  const responses = parseResponses(wire, { closed: true, bodiless: requestBytes.startsWith('HEAD ') });
  expect(responses).toHaveLength(1);
  return { response: responses[0], wire };
}

const get = (path: string, version = 'HTTP/1.1'): string =>
  `GET ${path} ${version}\r\nHost: test\r\nConnection: close\r\n\r\n`;

describe('framing the body', () => {
  it('sends an array body with a Content-Length it computed, not chunked', async () => {
    const { response } = await rawAnswer(get('/array'));
    expect(response.status).toBe(200);
    expect(header(response, 'content-length')).toBe('13');
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(response.body).toBe('hello, world\n');
  });

  it("honours the app's own Content-Length for a streamed body, without chunked coding", async () => {
    const { response } = await rawAnswer(get('/declared'));
    expect(header(response, 'content-length')).toBe('12');
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(response.body).toBe('hello, world');
  });

  it('sends an async generator body to an HTTP/1.1 client in chunked coding, one chunk per yield', async () => {
    const { response } = await rawAnswer(get('/generator'));
    expect(header(response, 'transfer-encoding')).toBe('chunked');
    expect(header(response, 'content-length')).toBeUndefined();
    expect(response.raw.endsWith('\r\n\r\n4\r\none\n\r\n4\r\ntwo\n\r\n6\r\nthree\n\r\n0\r\n\r\n')).toBe(true);
  });

  it('sends an async generator body to an HTTP/1.0 client as-is and closes the connection to end it', async () => {
    const socket = await openSocket(gateway.port);
    // Keep-alive asked for, yet the server must close: nothing else can mark the body's end.
    socket.write('GET /generator HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const wire = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.once('end', () => resolve(text));
    });
    socket.destroy();
    const [response] = parseResponses(wire, { closed: true });
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(header(response, 'content-length')).toBeUndefined();
    expect(header(response, 'connection')).toBe('close');
    expect(response.body).toBe('one\ntwo\nthree\n');
  });

  it('cuts the connection when the body runs past its Content-Length, never sending a byte beyond it', async () => {
    const wire = await exchange(gateway.port, get('/too-long'));
    const body = wire.slice(wire.indexOf('\r\n\r\n') + 4);
    expect(wire).toContain('Content-Length: 10\r\n');
    expect(body).toBe('12345678'); // the chunk that fitted; the one that did not is never written
    expect(gateway.log.join('')).toMatch(/connection cut.*longer than its Content-Length/);
  });

  it('answers a clean 500 when the first chunk alone overruns the Content-Length: nothing had reached the wire', async () => {
    const { response, wire } = await rawAnswer(get('/first-chunk-too-long'));
    expect(response.status).toBe(500);
    expect(wire).not.toContain('hello');
    expect(gateway.log.join('')).toMatch(/answered 500: Error: The body is longer than its Content-Length/);
  });

  it('cuts the connection when the body ends short of its Content-Length, so the client sees it is incomplete', async () => {
    await expect(request(`${gateway.url}/too-short`).then((response) => response.body.text())).rejects.toThrow();
    expect(gateway.log.join('')).toMatch(/connection cut.*short of its Content-Length/);
  });
});

describe('an array body that does not match its declared Content-Length', () => {
  // The array's length is known before the head goes out: the app's bug is answered cleanly.
  for (const [path, what] of [
    ['/array-too-long', 'longer than'],
    ['/array-too-short', 'shorter than'],
    ['/closeable-array-too-long', 'longer than (an array with a close(), which takes the general path)'],
  ]) {
    it(`answers a clean 500, no byte of the app's head sent, when the array is ${what} its Content-Length, and logs the app's bug`, async () => {
      const { response, wire } = await rawAnswer(get(path));
      expect(response.status).toBe(500);
      expect(wire).not.toContain('hello');
      expect(gateway.log.join('')).toMatch(
        /answered 500: Error: Content-Length: (5|100) was declared for a body of (12|5) bytes/,
      );
    });
  }
});

describe('responses without a body', () => {
  it('answers HEAD with the head a GET would get, Content-Length included, and no body bytes', async () => {
    const { wire, response } = await rawAnswer('HEAD /array HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    expect(response.status).toBe(200);
    expect(header(response, 'content-length')).toBe('13');
    expect(wire.endsWith('\r\n\r\n')).toBe(true);
  });

  it('answers HEAD for a streamed body with neither chunked coding nor body bytes', async () => {
    const { wire, response } = await rawAnswer('HEAD /generator HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(wire.endsWith('\r\n\r\n')).toBe(true);
  });

  it.each([
    ['/no-content', 204],
    ['/not-modified', 304],
  ])(
    'sends no body for %s (%i) even when the app yields one, and the connection stays usable',
    async (path, status) => {
      const socket = await openSocket(gateway.port);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\nGET /array HTTP/1.1\r\nHost: test\r\n\r\n`);
      const [bodiless, next] = await readResponses(socket, 2);
      socket.destroy();
      expect(bodiless.status).toBe(status);
      expect(bodiless.raw.endsWith('\r\n\r\n')).toBe(true);
      expect(header(bodiless, 'transfer-encoding')).toBeUndefined();
      expect(next.body).toBe('hello, world\n');
    },
  );
});

describe('headers', () => {
  it('adds Date and Server when the app gives neither', async () => {
    const response = await request(`${gateway.url}/array`);
    await response.body.text();
    expect(response.headers.server).toBe('small-journey-gateway');
    expect(new Date(String(response.headers.date)).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("keeps the app's own Server and Date headers instead of adding its own", async () => {
    const { response } = await rawAnswer(get('/own-server'));
    expect(response.headers.filter(([name]) => name === 'server')).toEqual([['server', 'my-app/1.0']]);
    expect(response.headers.filter(([name]) => name === 'date')).toEqual([['date', 'Thu, 01 Jan 1970 00:00:00 GMT']]);
  });

  it('keeps the order and the repeats of the headers the app gave (two Set-Cookie fields)', async () => {
    const { response } = await rawAnswer(get('/cookies'));
    expect(response.headers.slice(0, 3)).toEqual([
      ['set-cookie', 'a=1'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('sends a Latin-1 header value byte for byte', async () => {
    const { wire } = await rawAnswer(get('/latin1'));
    expect(wire).toContain('X-Latin-1: caf\xe9\r\n');
  });

  it.each(HOP_BY_HOP)(
    'refuses the hop-by-hop header %s from an app with a 500, and logs how to fix it',
    async (name) => {
      const { response } = await rawAnswer(get(`/hop/${name}`));
      expect(response.status).toBe(500);
      expect(response.body).not.toContain('should never be sent');
      expect(gateway.log.join('')).toContain(`The hop-by-hop header ${name} is the server's to set`);
    },
  );

  it.each(['/crlf', '/lf', '/bad-status'])(
    'refuses a CR or LF in %s with a 500, so no header can be smuggled into the response',
    async (path) => {
      const { wire, response } = await rawAnswer(get(path));
      expect(response.status).toBe(500);
      expect(wire.toLowerCase()).not.toContain('evil');
    },
  );

  it.each([
    ['a header value with a character above U+00FF', '/beyond-latin1', 'above U+00FF; percent-encode it'],
    [
      'two Content-Length headers, which a client or proxy could read two ways',
      '/two-lengths',
      'Content-Length was given twice',
    ],
    [
      'a 1xx status as the final answer, which leaves the client waiting for another',
      '/interim-status',
      '103 is an interim status',
    ],
    ['a header name that is not a token', '/bad-name', 'Bad header name "X Name"'],
  ])('refuses %s with a 500, and logs how to fix it', async (_what, path, message) => {
    const { response } = await rawAnswer(get(path));
    expect(response.status).toBe(500);
    expect(gateway.log.join('')).toContain(message);
  });
});

describe('startResponse', () => {
  it('may be called lazily inside a generator, when the server pulls the first chunk', async () => {
    const response = await request(`${gateway.url}/lazy`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('lazy GET\n');
  });

  it('called a second time without an error gives a 500 and a log line saying to call it once', async () => {
    const response = await request(`${gateway.url}/twice`);
    expect(response.statusCode).toBe(500);
    await response.body.text();
    expect(gateway.log.join('')).toContain('startResponse() was called a second time without an error');
  });

  it('called again with the error before the head went out replaces the status and headers', async () => {
    const response = await request(`${gateway.url}/replace-before-head`);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(await response.body.text()).toBe('try again in five seconds\n');
    expect(gateway.log).toEqual([]);
  });

  it('called again with an error after the head went out rethrows it: the response is cut', async () => {
    const wire = await exchange(gateway.port, get('/replace-after-head'));
    expect(wire.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(wire).toContain('the head is out\n');
    expect(wire).not.toContain('0\r\n\r\n');
    expect(gateway.log.join('')).toMatch(/connection cut \(head already sent\): Error: too late/);
  });

  it("returns the legacy write(), which sends its chunks at once, before the returned body's", async () => {
    const response = await request(`${gateway.url}/legacy-write`);
    // All of it was there within one turn of the event loop: the writer counted it.
    expect(response.headers['content-length']).toBe('23');
    expect(await response.body.text()).toBe('written, then returned\n');
  });
});
