// Part 1's "hello, browser" server: a strict HTTP client (undici) accepts its hand-written
// response, and a raw socket sees exactly which bytes go each way.
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHelloServer, HELLO_BODY, showBytes } from '../part1-sockets/hello-browser.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange } from './helpers/wire.ts';

let server: RunningServer;
let logLines: string[];

beforeEach(async () => {
  logLines = [];
  server = await start(createHelloServer({ log: (line) => logLines.push(line) }));
});

afterEach(() => server.close());

/** Split a response at the empty line that ends its head. */
function splitResponse(response: string): { headLines: string[]; body: Buffer } {
  const end = response.indexOf('\r\n\r\n');
  expect(end, 'the response has an empty line ending its head').toBeGreaterThan(0);
  return { headLines: response.slice(0, end).split('\r\n'), body: Buffer.from(response.slice(end + 4), 'latin1') };
}

describe('the hello-browser server', () => {
  it('gives an HTTP client status 200, a Content-Type, and a Content-Length that matches the body', async () => {
    const response = await request(`${server.url}/`);
    const body = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(body.length));
    expect(body.toString('utf8')).toBe(HELLO_BODY);
  });

  it('answers a browser-like request with the smallest complete response, then closes', async () => {
    const browserRequest =
      'GET / HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${server.port}\r\n` +
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0 Safari/537.36\r\n' +
      'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
      'Accept-Language: en-US,en;q=0.9\r\n' +
      'Connection: keep-alive\r\n' +
      '\r\n';
    // exchange() returns only once the server has closed the connection.
    const { headLines, body } = splitResponse(await exchange(server.port, browserRequest));
    expect(headLines).toEqual([
      'HTTP/1.1 200 OK',
      'Content-Type: text/plain; charset=utf-8',
      `Content-Length: ${body.length}`,
      'Connection: close',
    ]);
    expect(body.toString('utf8')).toBe(HELLO_BODY);
  });

  it('prints the bytes it received with CR and LF made visible', async () => {
    await exchange(server.port, 'GET /hi HTTP/1.1\r\nHost: x\r\n\r\n');
    const shown = logLines.find((line) => line.includes(' sent 29 bytes:'));
    expect(shown).toBeDefined();
    expect(shown).toContain('sent 29 bytes:\nGET /hi HTTP/1.1\\r\\n\nHost: x\\r\\n\n\\r\\n\n');
  });

  it('answers any first chunk the same way, HTTP or not, because it does not parse', async () => {
    const { headLines } = splitResponse(await exchange(server.port, 'hi\n'));
    expect(headLines[0]).toBe('HTTP/1.1 200 OK');
  });
});

describe('showBytes', () => {
  it('keeps printable ASCII, shows CR and LF as \\r and \\n, and other bytes as \\xHH', () => {
    expect(showBytes(Buffer.from('ok\r\n\t\u00e9\x00', 'latin1'))).toBe('ok\\r\\n\n\\x09\\xe9\\x00');
  });
});
