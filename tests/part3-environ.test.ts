// The environ an application receives, built from the bytes of real requests (part3-gateway/contract.ts, Environ): each
// request below is sent over a raw socket, and the environ it became is compared key by key,
// so a missing key, an extra key or a wrong value each fails.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Environ } from '../part3-gateway/contract.ts';
import { buildEnviron, type RequestInfo } from '../part3-gateway/environ.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { bytes, eventually, startGateway, type RunningGateway } from './helpers/gateway.ts';
import { readResponses } from './helpers/http-text.ts';
import { openSocket } from './helpers/wire.ts';

let seen: Environ[] = [];
let gateway: RunningGateway;
let multiprocessGateway: RunningGateway;

beforeAll(async () => {
  process.env.PART3_TEST_SECRET = 'must never reach an app';
  const app = (
    environ: Environ,
    startResponse: (status: string, headers: [string, string][]) => unknown,
  ): Uint8Array[] => {
    seen.push(environ);
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes('seen\n')];
  };
  gateway = await startGateway(app);
  multiprocessGateway = await startGateway(app, { multiprocess: true });
});
afterAll(async () => {
  delete process.env.PART3_TEST_SECRET;
  await gateway.close();
  await multiprocessGateway.close();
});
beforeEach(() => {
  seen = [];
});

/** Send raw request bytes on one connection; return the environs they became and the socket. */
async function environsFor(
  requestBytes: string,
  count = 1,
  port = gateway.port,
): Promise<{ environs: Environ[]; clientPort: number }> {
  const socket = await openSocket(port);
  const clientPort = socket.localPort ?? 0;
  socket.write(Buffer.from(requestBytes, 'latin1'));
  await readResponses(socket, count);
  socket.destroy();
  return { environs: seen, clientPort };
}

/** The string-valued (CGI and HTTP_*) keys of an environ: everything but the gateway.* objects. */
function cgiKeys(environ: Environ): Record<string, unknown> {
  return Object.fromEntries(Object.entries(environ).filter(([key]) => !key.startsWith('gateway.')));
}

describe('CGI keys from the request bytes', () => {
  it('a GET with a query: method, empty SCRIPT_NAME, decoded PATH_INFO, raw QUERY_STRING and REQUEST_URI', async () => {
    const { environs, clientPort } = await environsFor(
      'GET /caf%C3%A9/a%20b?name=Zo%C3%AB&x=1+2 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n',
    );
    expect(cgiKeys(environs[0])).toEqual({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/café/a b',
      QUERY_STRING: 'name=Zo%C3%AB&x=1+2',
      REQUEST_URI: '/caf%C3%A9/a%20b?name=Zo%C3%AB&x=1+2',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(clientPort),
      HTTP_HOST: 'example.com:8080',
      HTTP_USER_AGENT: 'test/1.0',
      HTTP_ACCEPT: '*/*',
    });
  });

  it('a POST: CONTENT_TYPE and CONTENT_LENGTH, never HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH', async () => {
    const { environs } = await environsFor(
      'POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nname=Ad',
    );
    expect(cgiKeys(environs[0])).toMatchObject({
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'application/x-www-form-urlencoded',
      CONTENT_LENGTH: '7',
    });
    expect(environs[0]).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environs[0]).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('a GET without a body has neither CONTENT_TYPE nor CONTENT_LENGTH', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(environs[0]).not.toHaveProperty('CONTENT_TYPE');
    expect(environs[0]).not.toHaveProperty('CONTENT_LENGTH');
  });

  it('repeated header fields become one HTTP_* key joined with ", "; a name with an underscore is dropped', async () => {
    const { environs } = await environsFor(
      'GET / HTTP/1.1\r\nHost: h\r\nX-Tag: a\r\nx-tag: b\r\nX_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n',
    );
    expect(environs[0].HTTP_X_TAG).toBe('a, b');
    expect(environs[0].HTTP_X_FORWARDED_FOR).toBe('10.0.0.1'); // the spoofed X_Forwarded_For is gone
  });

  it('keeps a malformed percent-escape as sent, and still decodes the good ones', async () => {
    const { environs } = await environsFor('GET /100%zz/caf%C3%A9/%E9 HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(environs[0].PATH_INFO).toBe('/100%zz/café/%E9'); // %E9 alone is not UTF-8: kept too
    expect(environs[0].REQUEST_URI).toBe('/100%zz/caf%C3%A9/%E9');
  });

  it('takes SERVER_NAME and SERVER_PORT from an IPv6 Host header, brackets kept (RFC 3875 §4.1.14)', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: [::1]:8003\r\n\r\n');
    expect(environs[0]).toMatchObject({ SERVER_NAME: '[::1]', SERVER_PORT: '8003' });
  });

  it('uses port 80 when the Host header has no port', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect(environs[0]).toMatchObject({ SERVER_NAME: 'example.com', SERVER_PORT: '80' });
  });

  it('falls back to the address the connection arrived on for an HTTP/1.0 request without Host', async () => {
    const { environs } = await environsFor('GET /old HTTP/1.0\r\n\r\n');
    expect(cgiKeys(environs[0])).toMatchObject({
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(gateway.port),
      SERVER_PROTOCOL: 'HTTP/1.0',
    });
    expect(environs[0]).not.toHaveProperty('HTTP_HOST');
  });

  it('builds a fresh environ for each pipelined request on one connection', async () => {
    const { environs } = await environsFor(
      'GET /one?a=1 HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n',
      2,
    );
    expect(environs.map((environ) => [environ.REQUEST_METHOD, environ.PATH_INFO, environ.QUERY_STRING])).toEqual([
      ['GET', '/one', 'a=1'],
      ['GET', '/two', ''],
    ]);
    expect(environs[0]).not.toBe(environs[1]);
  });

  it('never copies process.env into the environ', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const values = Object.values(environs[0]);
    expect(values).not.toContain('must never reach an app');
    expect(Object.keys(environs[0])).not.toContain('PATH');
    expect(Object.keys(environs[0])).not.toContain('PART3_TEST_SECRET');
  });
});

describe('the gateway.* keys', () => {
  it('are all there, with the types the contract promises', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const environ = environs[0];
    expect(
      Object.keys(environ)
        .filter((key) => key.startsWith('gateway.'))
        .sort(),
    ).toEqual([
      'gateway.errors',
      'gateway.input',
      'gateway.multiprocess',
      'gateway.multithread',
      'gateway.run_once',
      'gateway.signal',
      'gateway.url_scheme',
      'gateway.version',
    ]);
    expect(environ['gateway.version']).toEqual([1, 0]);
    expect(environ['gateway.url_scheme']).toBe('http');
    expect(environ['gateway.multithread']).toBe(true);
    expect(environ['gateway.multiprocess']).toBe(false);
    expect(environ['gateway.run_once']).toBe(false);
    expect(environ['gateway.signal']).toBeInstanceOf(AbortSignal);
    expect(environ['gateway.signal'].aborted).toBe(false); // the response completed normally
    expect(typeof environ['gateway.input'].read).toBe('function');
    expect(typeof environ['gateway.input'].readline).toBe('function');
    expect(typeof environ['gateway.input'][Symbol.asyncIterator]).toBe('function');
    expect(typeof environ['gateway.errors'].write).toBe('function');
    expect(typeof environ['gateway.errors'].flush).toBe('function');
  });

  it('gateway.multiprocess is true when the server says several processes serve the app', async () => {
    const { environs } = await environsFor('GET / HTTP/1.1\r\nHost: h\r\n\r\n', 1, multiprocessGateway.port);
    expect(environs[0]['gateway.multiprocess']).toBe(true);
  });

  it("gateway.errors writes to the server's error log", async () => {
    await environsFor('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    seen[0]['gateway.errors'].write('a note from the app\n');
    expect(gateway.log).toContain('a note from the app\n');
  });
});

describe('REMOTE_ADDR and REMOTE_PORT', () => {
  it("are still the client's when an app reads them after the client has reset the connection", async () => {
    // An app that writes its access log when it is done, and is done only after its client has
    // walked away: by then the system no longer tells the address (getpeername fails on a reset
    // connection), so the gateway must have read it when the request arrived.
    let called = false;
    let logged: { address: string; port: string } | undefined;
    const late = await startGateway(async (environ, startResponse) => {
      called = true;
      const signal = environ['gateway.signal'];
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      logged = { address: environ.REMOTE_ADDR, port: environ.REMOTE_PORT };
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('too late\n')];
    });
    try {
      const socket = await openSocket(late.port);
      const clientPort = socket.localPort;
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await eventually(() => called, 5_000, 'the app being called');
      socket.resetAndDestroy();
      await eventually(() => logged !== undefined, 5_000, 'the app reading the address after the reset');
      expect(logged).toEqual({ address: '127.0.0.1', port: String(clientPort) });
    } finally {
      await late.close();
    }
  });
});

describe('buildEnviron on its own', () => {
  /** A request as a server describes it to buildEnviron. */
  const request = (head: Partial<RequestInfo['head']>): RequestInfo => ({
    head: { method: 'GET', target: '/', version: 'HTTP/1.1', headers: [], ...head },
    remoteAddress: '10.0.0.2',
    remotePort: 50000,
    localAddress: '10.0.0.1',
    localPort: 8003,
    signal: new AbortController().signal,
  });
  const extras = {
    input: new GatewayInput(async () => null),
    errors: { write: () => {}, flush: () => {} },
    multiprocess: false,
  };

  it('takes PATH_INFO and QUERY_STRING from an absolute-form target, and SERVER_NAME from its authority over Host (RFC 9112 §3.2.2)', () => {
    const environ = buildEnviron(
      request({ target: 'http://example.com:8080/a%2Fb?q=1', headers: [{ name: 'Host', value: 'other.example' }] }),
      extras,
    );
    expect(environ).toMatchObject({
      PATH_INFO: '/a/b',
      QUERY_STRING: 'q=1',
      REQUEST_URI: 'http://example.com:8080/a%2Fb?q=1',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8080',
    });
    expect(environ.HTTP_HOST).toBe('other.example'); // the header itself is still passed on as sent
  });

  it('names the keys of many different header fields rightly, and drops names with an underscore', () => {
    // environ.ts remembers the keys of the first 500 field names it meets; the rest are worked
    // out each time, and must come out the same.
    const headers = Array.from({ length: 1200 }, (_, i) => ({
      name: i % 2 === 0 ? `X-Made-Up-${i}` : `x_made_up_${i}`,
      value: String(i),
    }));
    for (let round = 0; round < 2; round++) {
      const environ = buildEnviron(request({ headers }), extras);
      const made = Object.keys(environ).filter((key) => key.startsWith('HTTP_X_MADE_UP_'));
      expect(made).toHaveLength(600);
      expect(environ.HTTP_X_MADE_UP_1198).toBe('1198');
      expect(environ.HTTP_X_MADE_UP_1199).toBeUndefined(); // an underscore in the name: dropped
    }
  });

  it('gives OPTIONS * an empty PATH_INFO', () => {
    const environ = buildEnviron(
      request({ method: 'OPTIONS', target: '*', headers: [{ name: 'Host', value: 'h' }] }),
      extras,
    );
    expect(environ).toMatchObject({ PATH_INFO: '', QUERY_STRING: '', REQUEST_URI: '*' });
  });
});
