// The small site, through undici: pages, query strings, HEAD, 404/405/501, the echo, and the
// form and JSON POSTs with their 400/415/422 answers.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { exchangeResponses, statuses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange } from './helpers/wire.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await start(createSiteServer({ streamIntervalMs: 0, logError: () => {} }));
});
afterAll(() => server.close());

async function get(
  path: string,
  init: Parameters<typeof request>[1] = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const response = await request(`${server.url}${path}`, init);
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

const postAs = (contentType: string, body: string): Parameters<typeof request>[1] => ({
  method: 'POST',
  headers: { 'content-type': contentType },
  body,
});

describe('pages and query strings', () => {
  it('links the start page to the address the client reached when an HTTP/1.0 request has no Host', async () => {
    const answer = await exchange(server.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain(`http://127.0.0.1:${server.port}/`);
    expect(answer).not.toContain('undefined');
  });

  it('serves the start page as HTML with a form for each kind of request', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<form method="get" action="/hello">');
    expect(page.text).toContain('<form method="post" action="/form">');
    expect(page.text).toContain('href="/echo"');
  });

  it('greets the name from the query string, percent-decoded and with + as a space', async () => {
    expect((await get('/hello?name=Ada%20Lovelace')).text).toContain('<h1>Hello, Ada Lovelace!</h1>');
    expect((await get('/hello?name=Grace+Hopper&x=1')).text).toContain('<h1>Hello, Grace Hopper!</h1>');
    expect((await get('/hello?name=%C3%89mile')).text).toContain('<h1>Hello, Émile!</h1>');
  });

  it('greets the world when no name is given', async () => {
    expect((await get('/hello')).text).toContain('<h1>Hello, world!</h1>');
  });

  it('HTML-escapes the name instead of letting it become markup', async () => {
    const page = await get('/hello?name=%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E');
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
  });

  it('accepts a request-target in absolute form (RFC 9112 §3.2.2)', async () => {
    const [response] = await exchangeResponses(
      server.port,
      'GET http://example.test/hello?name=Abs HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    );
    expect(response.body).toContain('Hello, Abs!');
  });

  it('answers 400 to a path with broken percent-encoding', async () => {
    expect((await get('/hello%zz')).status).toBe(400);
  });
});

describe('HEAD', () => {
  for (const path of ['/', '/hello?name=Ada', '/static/hello.txt', '/static/logo.svg']) {
    it(`answers HEAD ${path} with the GET headers, the same Content-Length, and no body`, async () => {
      const full = await get(path);
      const head = await get(path, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toBe(full.headers['content-type']);
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(full.text)));
      expect(head.text).toBe('');
    });
  }

  it('sends no body bytes on the wire for HEAD, even for a streamed or echoed GET route', async () => {
    for (const path of ['/stream', '/echo']) {
      const received = await exchange(server.port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(received.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      expect(received.endsWith('\r\n\r\n')).toBe(true);
      expect(received).not.toContain('Transfer-Encoding');
    }
  });
});

describe('unknown paths and methods', () => {
  it('answers 404 in plain text for a path that does not exist', async () => {
    const page = await get('/no/such/page');
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('answers 405 with an Allow header listing what the path does support', async () => {
    const cases: Array<[path: string, method: string, allow: string]> = [
      ['/', 'POST', 'GET, HEAD'],
      ['/echo', 'DELETE', 'GET, HEAD, POST'],
      ['/form', 'GET', 'POST'],
      ['/api/greeting', 'PUT', 'POST'],
      ['/static/hello.txt', 'POST', 'GET, HEAD'],
    ];
    for (const [path, method, allow] of cases) {
      const page = await get(path, { method });
      expect(page.status, `${method} ${path}`).toBe(405);
      expect(page.headers.allow, `${method} ${path}`).toBe(allow);
    }
  });

  it('answers 501 to a method HTTP does not define', async () => {
    const responses = await exchangeResponses(server.port, 'BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statuses(responses)).toEqual([501]);
  });

  it("logs a client's unknown method as one line, without a stack trace (those are for the server's bugs)", async () => {
    const log: unknown[][] = [];
    const logged = await start(createSiteServer({ logError: (...entry) => log.push(entry) }));
    const requests =
      'FOO / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3) + 'FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    expect(statuses(await exchangeResponses(logged.port, requests))).toEqual([501, 501, 501, 501]);
    await logged.close();
    expect(log).toHaveLength(4);
    for (const entry of log) {
      expect(entry).toHaveLength(1);
      expect(entry[0]).toBe('FOO /: answered 501: Unknown method: this server implements GET, HEAD and POST.');
    }
  });
});

describe('/echo', () => {
  it('shows the request line, the headers in order with duplicates, and the body as plain text', async () => {
    const page = await get('/echo?x=1', {
      method: 'POST',
      headers: ['X-First', 'a', 'Content-Type', 'text/plain', 'X-First', 'b'],
      body: 'hello body',
    });
    expect(page.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.text).toContain('POST /echo?x=1 HTTP/1.1\n');
    expect(page.text).toMatch(/X-First: a\nContent-Type: text\/plain\nX-First: b\n/i);
    expect(page.text.endsWith('\n\nhello body')).toBe(true);
  });

  it("names the client's address and port, as the socket reports them", async () => {
    const page = await get('/echo');
    expect(page.text).toMatch(/^Your request, as parsed by the server \(from 127\.0\.0\.1:\d+\):/);
    const report = JSON.parse((await get('/echo?format=json')).text) as { client: string };
    expect(report.client).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('answers as JSON when asked with Accept: application/json', async () => {
    const page = await get('/echo', { headers: { accept: 'application/json', 'x-note': '<b>"quoted"</b>' } });
    expect(page.headers['content-type']).toBe('application/json');
    const report = JSON.parse(page.text) as {
      method: string;
      target: string;
      version: string;
      headers: Array<[string, string]>;
      body: string;
    };
    expect(report).toMatchObject({ method: 'GET', target: '/echo', version: 'HTTP/1.1', body: '' });
    expect(report.headers).toContainEqual(['x-note', '<b>"quoted"</b>']);
  });
});

describe('POST /form (application/x-www-form-urlencoded)', () => {
  it('reads the fields from the body and answers with an HTML page listing them, escaped', async () => {
    const page = await get(
      '/form',
      postAs('application/x-www-form-urlencoded', 'name=Grace&message=Hello+%26+%3Cwelcome%3E'),
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Thank you, Grace!</h1>');
    expect(page.text).toContain('<tr><th>message</th><td>Hello &#38; &#60;welcome&#62;</td></tr>');
  });

  it('answers 415 when the body is not form-encoded', async () => {
    const page = await get('/form', postAs('application/json', '{"name":"Grace"}'));
    expect(page.status).toBe(415);
    expect(page.text).toContain('application/x-www-form-urlencoded');
  });
});

describe('POST /api/greeting (application/json)', () => {
  it('reads the JSON body and answers in JSON', async () => {
    const page = await get('/api/greeting', postAs('application/json; charset=utf-8', '{"name": "Ada"}'));
    expect(page.status).toBe(200);
    expect(JSON.parse(page.text)).toEqual({ greeting: 'Hello, Ada!', receivedBytes: 15 });
  });

  it('answers 400 with a clear message, and without quoting the body, when the JSON is malformed', async () => {
    const page = await get('/api/greeting', postAs('application/json', '{"name": <img src=x>}'));
    expect(page.status).toBe(400);
    expect(page.text).toContain('not valid JSON');
    expect(page.text).not.toContain('<img');
  });

  it('answers 415 when the body is not declared as JSON', async () => {
    expect((await get('/api/greeting', postAs('text/plain', '{"name": "Ada"}'))).status).toBe(415);
  });

  it('answers 422 to well-formed JSON without a name', async () => {
    for (const body of ['{"nom": "Ada"}', '["Ada"]', '{"name": 42}', 'null']) {
      expect((await get('/api/greeting', postAs('application/json', body))).status, body).toBe(422);
    }
  });

  it('keeps the connection usable after an error answer to a well-framed request', async () => {
    const responses = await exchangeResponses(
      server.port,
      'POST /api/greeting HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /hello?name=next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([415, 200]);
    expect(responses[1].body).toContain('Hello, next!');
  });
});
