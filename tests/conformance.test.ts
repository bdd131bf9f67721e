// HTTP/1.1 conformance over a real socket, on every server that parses requests: part 2's site,
// part 3's gateway (part 2's connection loop under any app), and where it applies part 4's
// node:http server. Each rule here was found broken by an outside check (an independent HTTP/1.1
// suite, a peer parser's test cases); the RFC section is named in each describe.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../part2-tcp-http/server.ts';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import { TEXT } from './fixtures/contract-apps.ts';
import { bytes, eventually, startGateway } from './helpers/gateway.ts';
import { exchangeResponses, header, parseResponses, statuses, type RawResponse } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

/** What the gateway's app and the node server's app were asked to run, `METHOD target`. */
const calls: string[] = [];

/** Answers /hello with 200, POST /echo with the body it read, anything else with 404 (without reading the body). */
const app: Application = (environ, startResponse) => {
  calls.push(`${environ.REQUEST_METHOD} ${environ.REQUEST_URI}`);
  if (environ.PATH_INFO === '/echo') {
    return environ['gateway.input'].read().then((body) => {
      startResponse('200 OK', TEXT);
      return [body];
    });
  }
  if (environ.PATH_INFO === '/hello') {
    startResponse('200 OK', TEXT);
    return [bytes('hello\n')];
  }
  startResponse('404 Not Found', TEXT);
  return [bytes('not found\n')];
};

const QUIET = { write: () => {}, flush: () => {} };
const servers: Record<string, RunningServer> = {};

beforeAll(async () => {
  servers['part 2 site'] = await start(createSiteServer({ logError: () => {} }));
  servers['part 3 gateway'] = await startGateway(app);
  servers['part 4 node server'] = await start(createNodeGatewayServer(app, { errors: QUIET }));
});
afterAll(() => Promise.all(Object.values(servers).map((server) => server.close())));
beforeEach(() => {
  calls.length = 0;
});

/** The two servers built on part 2's parser and connection loop. */
const PART2_LOOP = ['part 2 site', 'part 3 gateway'];

/** Send `bytes` (latin1) on a fresh connection; the responses received until the server closed it. */
function send(server: string, text: string): Promise<RawResponse[]> {
  return exchangeResponses(servers[server].port, Buffer.from(text, 'latin1'));
}

/** A GET /hello with this Host value (and Connection: close, so the server ends the exchange). */
const withHost = (value: string): string => `GET /hello HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`;

/** The parts on part 2's loop, and part 4's node server, which checks the Host value itself. */
const EVERY_SERVER = [...PART2_LOOP, 'part 4 node server'];

describe.each(EVERY_SERVER)('the Host field (RFC 9112 §3.2, RFC 3986 §3.2.2) on the %s', (server) => {
  it('answers 400 and closes when the Host value is not a host with an optional port', async () => {
    for (const value of [
      'exa mple.com',
      '127.0.0.1/evil',
      'example.com:80a',
      'example.com:99999',
      'user@example.com',
      '[::1',
      '[not-an-address]',
    ]) {
      const responses = await send(server, withHost(value));
      expect(statuses(responses), value).toEqual([400]);
      expect(header(responses[0], 'connection')).toBe('close');
      expect(responses[0].body).toContain('Host');
      expect(responses[0].body).not.toContain(value);
    }
  });

  it('accepts a name, an IPv4 address, a bracketed IPv6 address, each with or without a port, and an empty Host', async () => {
    for (const value of [
      'example.com',
      'my_host.local:8080',
      '127.0.0.1:8002',
      '[::1]',
      '[::1]:8080',
      'xn--caf-dma.example',
      '',
    ]) {
      expect(statuses(await send(server, withHost(value))), value).toEqual([200]);
    }
  });
});

describe.each(PART2_LOOP)('HTTP versions (RFC 9110 §6.2, RFC 9112 §2.3) on the %s', (server) => {
  it('answers a request sent as HTTP/1.9 as HTTP/1.1, the highest 1.x it implements', async () => {
    const responses = await send(server, 'GET /hello HTTP/1.9\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  });

  it('still answers 505 to HTTP/2.0 and HTTP/0.9 in the request line', async () => {
    for (const version of ['HTTP/2.0', 'HTTP/0.9']) {
      const responses = await send(server, `GET /hello ${version}\r\nHost: x\r\n\r\n`);
      expect(statuses(responses), version).toEqual([505]);
      expect(responses[0].raw.startsWith('HTTP/1.1 505 ')).toBe(true);
    }
  });
});

describe.each(PART2_LOOP)('line endings in the head (RFC 9112 §2.2) on the %s', (server) => {
  it('answers 400 and closes when CRLF and bare LF are mixed, so a request hidden that way never runs', async () => {
    // A proxy that ends lines only at CRLF reads "Dummy: x\nContent-Length: 23" as one field and
    // the bytes after the head as a second request, GET /admin; read our way, they are a body.
    const smuggled =
      'GET / HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\nDummy: GET /admin HTTP/1.1\r\nHost: x\r\n\r\n';
    for (const text of [smuggled, 'GET /hello HTTP/1.1\nHost: x\n\r\n', 'GET /hello HTTP/1.1\r\nHost: x\n\n']) {
      const responses = await send(server, text);
      expect(statuses(responses), JSON.stringify(text)).toEqual([400]);
      expect(header(responses[0], 'connection')).toBe('close');
      expect(responses[0].body).toContain('CRLF');
    }
    expect(calls).toEqual([]);
  });

  it('accepts a head whose lines all end in a bare LF, as typed into nc', async () => {
    expect(statuses(await send(server, 'GET /hello HTTP/1.1\nHost: x\nConnection: close\n\n'))).toEqual([200]);
  });
});

/** POST /echo with a chunked body, exactly as given. */
const chunked = (body: string): string =>
  `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`;

describe.each(PART2_LOOP)('chunk extensions (RFC 9112 §7.1.1) on the %s', (server) => {
  it('answers 400 and closes for an extension with no name, an unterminated quoted value, or whitespace after the size', async () => {
    for (const body of [
      '2;\r\naa\r\n0\r\n\r\n',
      '5;name="abc\r\nhello\r\n0\r\n\r\n',
      'a \r\n0123456789\r\n0\r\n\r\n',
      '5;a=\r\nhello\r\n0\r\n\r\n',
      '5;a b\r\nhello\r\n0\r\n\r\n',
    ]) {
      const responses = await send(server, chunked(body));
      expect(statuses(responses), JSON.stringify(body)).toEqual([400]);
      expect(header(responses[0], 'connection')).toBe('close');
    }
  });

  it('accepts names, token values and quoted-string values with escapes, on any chunk, the last included', async () => {
    const responses = await send(
      server,
      chunked('5;name=value;q="a \\"b\\"; c";bare\r\nhello\r\n1;x=1\r\n!\r\n0;last="yes"\r\n\r\n'),
    );
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].body.endsWith('hello!')).toBe(true);
  });

  it('accepts bad whitespace (BWS) where the grammar places it: around ";" and "="', async () => {
    const responses = await send(server, chunked('5 ; name = value\t;\tother\r\nhello\r\n0\r\n\r\n'));
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].body.endsWith('hello')).toBe(true);
  });
});

describe.each(PART2_LOOP)('CONNECT and the authority-form (RFC 9110 §9.3.6, RFC 9112 §3.2.3) on the %s', (server) => {
  it('answers 501 to CONNECT host:port, saying this server does not tunnel, and closes', async () => {
    const responses = await send(server, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(statuses(responses)).toEqual([501]);
    expect(responses[0].body).toContain('does not tunnel');
    expect(header(responses[0], 'connection')).toBe('close');
    expect(calls).toEqual([]);
  });

  it('answers 400 to CONNECT with a target that is not host:port, and to host:port with another method', async () => {
    for (const requestLine of ['CONNECT / HTTP/1.1', 'CONNECT example.com HTTP/1.1', 'GET example.com:443 HTTP/1.1']) {
      expect(statuses(await send(server, `${requestLine}\r\nHost: example.com\r\n\r\n`)), requestLine).toEqual([400]);
    }
  });
});

describe('CONNECT on the part 4 node server', () => {
  it('answers 501, saying this server does not tunnel, instead of dropping the connection', async () => {
    const responses = await send(
      'part 4 node server',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([501]);
    expect(responses[0].body).toContain('does not tunnel');
    expect(header(responses[0], 'connection')).toBe('close');
  });
});

describe.each(EVERY_SERVER)('OPTIONS * (RFC 9110 §9.3.7, RFC 9112 §3.2.4) on the %s', (server) => {
  it('answers it itself, without the app: 200, Allow, Content-Length: 0 and no body, the connection kept', async () => {
    const responses = await send(
      server,
      'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([200, 200]);
    expect(header(responses[0], 'allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(header(responses[0], 'content-length')).toBe('0');
    expect(responses[0].body).toBe('');
    expect(calls.filter((call) => call.startsWith('OPTIONS'))).toEqual([]);
  });
});

describe('OPTIONS * with the methods given by option', () => {
  it('lists the serverMethods option in Allow, on part 2 and on part 4', async () => {
    const serverMethods = ['GET', 'HEAD', 'PUT', 'DELETE'];
    for (const running of [
      await start(createSiteServer({ serverMethods })),
      await start(createNodeGatewayServer(app, { serverMethods })),
    ]) {
      const responses = await exchangeResponses(
        running.port,
        'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      await running.close();
      expect(header(responses[0], 'allow')).toBe('GET, HEAD, PUT, DELETE');
    }
  });
});

describe.each(PART2_LOOP)('a client that half-closes in the middle of a body (RFC 9112 §9.6) on the %s', (server) => {
  // The body timeout is 10 s on these servers: a close within 3 s is the FIN's doing.
  for (const [framing, head] of [
    ['chunked', 'PUT /url HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'],
    ['Content-Length', 'PUT /url HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel'],
  ]) {
    it(`closes once its early answer is out when the client sends FIN partway through a ${framing} body`, async () => {
      const socket = await openSocket(servers[server].port);
      const closed = readUntilClose(socket, 3_000);
      socket.write(head);
      await readUntil(socket, (soFar) => parseResponses(soFar.toString('latin1')).length === 1);
      socket.end();
      expect(statuses(parseResponses((await closed).toString('latin1')))).toEqual([404]);
    });
  }
});

describe.each(EVERY_SERVER)('the request-target (RFC 9112 §3.2, RFC 9110 §4.2) on the %s', (server) => {
  it('answers 400 to a target with a #fragment, which no client sends, and runs nothing', async () => {
    for (const target of ['/hello?name=a#b', '/admin#/../hello']) {
      const responses = await send(server, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(statuses(responses), target).toEqual([400]);
    }
    expect(calls).toEqual([]);
  });

  it('answers 400 to an absolute-form target whose authority is not a valid Host: userinfo, bad characters, a port above 65535, no host', async () => {
    for (const authority of ['admin@evil.example:8443', 'a"<b>x:99999', 'example.com:99999', '']) {
      const responses = await send(server, `GET http://${authority}/hello HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(statuses(responses), authority).toEqual([400]);
      expect(header(responses[0], 'connection')).toBe('close');
    }
    expect(calls).toEqual([]);
  });

  it('accepts an absolute-form target with a valid authority', async () => {
    const responses = await send(
      server,
      'GET http://example.com:8080/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([200]);
  });
});

describe.each(EVERY_SERVER)('numbers with leading zeros (RFC 9110 §8.6, RFC 9112 §7.1) on the %s', (server) => {
  it('reads a Content-Length written with leading zeros as the number it is', async () => {
    const responses = await send(
      server,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 00000000000000000005\r\nConnection: close\r\n\r\nhello',
    );
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].body.endsWith('hello')).toBe(true);
  });

  it('reads a chunk size written with leading zeros as the number it is', async () => {
    const responses = await send(
      server,
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n000000005\r\nhello\r\n0000\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].body.endsWith('hello')).toBe(true);
  });
});

describe.each(EVERY_SERVER)('Connection: close wins (RFC 9112 §9.3, §9.6) on the %s', (server) => {
  it('closes an HTTP/1.0 connection whose request says both keep-alive and close, leaving the next request unanswered', async () => {
    const hello = 'GET /hello HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n';
    const responses = await send(server, `${hello}GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
    expect(statuses(responses)).toEqual([200]);
    expect(header(responses[0], 'connection')).toBe('close');
  });
});

describe.each(EVERY_SERVER)(
  'Expect: 100-continue on a request without a body (RFC 9110 §10.1.1) on the %s',
  (server) => {
    it('keeps the connection, since nothing waits for a 100 Continue, and answers a pipelined request behind it', async () => {
      const expecting = 'GET /hello HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n';
      const responses = await send(server, `${expecting}GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // A server may send a 100 Continue all the same (part 4's node:http server does).
      const final = responses.filter((response) => response.status >= 200);
      expect(statuses(final)).toEqual([200, 200]);
      expect(header(final[0], 'connection')).not.toBe('close');
    });
  },
);

describe('the send timeout: a client that stops reading', () => {
  // Far more than the kernel's socket buffers hold on either side, so a client that does not
  // read stops the server's writes for good.
  const LARGE = 32 * 1024 * 1024;
  const GET_LARGE = 'GET /large HTTP/1.1\r\nHost: x\r\n\r\n';
  const part2 = (sendTimeoutMs: number) =>
    createHttpServer(
      (_request, response) =>
        response.sendWhole(200, [['Content-Type', 'application/octet-stream']], Buffer.alloc(LARGE)),
      { sendTimeoutMs },
    );

  it('has part 2 drop the connection when the socket accepts no bytes for sendTimeoutMs', async () => {
    const running = await start(part2(200));
    const socket = await openSocket(running.port);
    socket.pause(); // never reads: the response backs up into the server
    socket.write(GET_LARGE);
    await eventually(() => running.openSockets() === 0, 5_000, 'the server closing the connection');
    socket.destroy();
    await running.close();
  });

  it('has the gateway drop the connection to a client that stopped reading a stream, and close the body', async () => {
    let closed = false;
    const streaming: Application = function* (_environ, startResponse) {
      startResponse('200 OK', TEXT);
      try {
        for (let i = 0; i < 1024; i++) yield Buffer.alloc(64 * 1024);
      } finally {
        closed = true;
      }
    };
    const running = await startGateway(streaming, { sendTimeoutMs: 200 });
    const socket = await openSocket(running.port);
    socket.pause();
    socket.write(GET_LARGE);
    await eventually(() => running.openSockets() === 0 && closed, 5_000, 'the connection closed and the body with it');
    socket.destroy();
    await running.close();
  });

  it('never fires on a slow client that keeps reading, however long the whole response takes', async () => {
    const sendTimeoutMs = 1_000;
    const running = await start(part2(sendTimeoutMs));
    const socket = await openSocket(running.port);
    const started = Date.now();
    // Read a MiB, stop for 100 ms, read the next: 32 pauses, over three times the send timeout in
    // all, but never a pause near it.
    let received = 0;
    let nextPauseAt = 1024 * 1024;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= nextPauseAt) {
        nextPauseAt += 1024 * 1024;
        socket.pause();
        setTimeout(() => socket.resume(), 100);
      }
    });
    socket.write(GET_LARGE);
    await eventually(() => received > LARGE, 12_000, 'the whole response arriving');
    expect(Date.now() - started).toBeGreaterThan(3 * sendTimeoutMs);
    expect(running.openSockets()).toBe(1);
    socket.destroy();
    await running.close();
  });
});
