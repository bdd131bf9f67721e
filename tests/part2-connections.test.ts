// Connections: keep-alive and pipelining (with undici, a strict real client, and raw bytes),
// chunked bodies both ways, HTTP/1.0 rules, Connection: close, Expect: 100-continue, clients
// that stall or vanish.
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import {
  exchangeResponses,
  header,
  parseResponses,
  readResponses,
  statuses,
  type RawResponse,
} from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange, openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

interface EchoReport {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string;
  client: string;
}

let server: RunningServer;
const errors: unknown[] = [];
beforeAll(async () => {
  server = await start(
    createSiteServer({
      headTimeoutMs: 300,
      streamIntervalMs: 0,
      logError: (message, error) => errors.push([message, error]),
    }),
  );
});
afterAll(async () => {
  await server.close();
  // No disconnect, stall or bad byte in this file is a server error.
  expect(errors).toEqual([]);
});

async function withClient<T>(
  options: ConstructorParameters<typeof Client>[1],
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client(server.url, options);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Send bytes on a fresh connection; expect these statuses, the last saying Connection: close. */
async function expectAnswersThenClose(bytes: string, expected: number[]): Promise<RawResponse[]> {
  const responses = await exchangeResponses(server.port, bytes);
  expect(statuses(responses)).toEqual(expected);
  expect(header(responses[responses.length - 1], 'connection')).toBe('close');
  return responses;
}

async function echo(client: Client, path = '/echo?format=json'): Promise<EchoReport> {
  const response = await client.request({ method: 'GET', path });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as EchoReport;
}

describe('keep-alive and pipelining', () => {
  it('serves two requests in a row over one kept-alive connection', async () => {
    await withClient({}, async (client) => {
      const first = await echo(client);
      const second = await echo(client);
      expect(second.client).toBe(first.client);
      expect(server.openSockets()).toBe(1);
    });
  });

  it('answers pipelined requests from undici in order, on one connection', async () => {
    await withClient({ pipelining: 3 }, async (client) => {
      const targets = ['/echo?format=json&n=1', '/echo?format=json&n=2', '/echo?format=json&n=3'];
      const reports = await Promise.all(targets.map((target) => echo(client, target)));
      expect(reports.map((report) => report.target)).toEqual(targets);
      expect(new Set(reports.map((report) => report.client)).size).toBe(1);
      expect(server.openSockets()).toBe(1);
    });
  });

  it('answers three requests sent in one write, in order', async () => {
    const socket = await openSocket(server.port);
    const responsesArrive = readResponses(socket, 3);
    socket.write(
      ['Ada', 'Grace', 'Edsger'].map((name) => `GET /hello?name=${name} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''),
    );
    const bodies = (await responsesArrive).map((response) => response.body);
    expect(bodies[0]).toContain('Hello, Ada!');
    expect(bodies[1]).toContain('Hello, Grace!');
    expect(bodies[2]).toContain('Hello, Edsger!');
    socket.destroy();
  });
});

describe('chunked bodies', () => {
  it('reads a chunked request body (undici sends one for a stream of unknown length)', async () => {
    async function* parts(): AsyncGenerator<Buffer> {
      yield Buffer.from('first part, ');
      yield Buffer.from('second part');
    }
    await withClient({}, async (client) => {
      const response = await client.request({
        method: 'POST',
        path: '/echo?format=json',
        body: Readable.from(parts()),
      });
      const report = (await response.body.json()) as EchoReport;
      expect(report.headers).toContainEqual(['transfer-encoding', 'chunked']);
      expect(report.body).toBe('first part, second part');
    });
  });

  it('sends a body of unknown length with Transfer-Encoding: chunked', async () => {
    await withClient({}, async (client) => {
      const response = await client.request({ method: 'GET', path: '/stream' });
      expect(response.headers['transfer-encoding']).toBe('chunked');
      expect(response.headers['content-length']).toBeUndefined();
      expect(await response.body.text()).toBe([1, 2, 3, 4, 5].map((i) => `chunk ${i} of 5\n`).join(''));
    });
  });

  it('frames each chunk on the wire as hex size CRLF data CRLF, ending with 0 CRLF CRLF', async () => {
    const received = await exchange(server.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const body = received.slice(received.indexOf('\r\n\r\n') + 4);
    expect(body.startsWith('d\r\nchunk 1 of 5\n\r\nd\r\nchunk 2 of 5\n\r\n')).toBe(true);
    expect(body.endsWith('d\r\nchunk 5 of 5\n\r\n0\r\n\r\n')).toBe(true);
  });
});

describe('HTTP/1.0 and Connection', () => {
  it('closes an HTTP/1.0 connection after the response when keep-alive was not asked for', async () => {
    await expectAnswersThenClose('GET /hello HTTP/1.0\r\n\r\n', [200]);
  });

  it('keeps an HTTP/1.0 connection open when the client sends Connection: keep-alive', async () => {
    const socket = await openSocket(server.port);
    const first = readResponses(socket, 1);
    socket.write('GET /hello?name=one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [response] = await first;
    expect(header(response, 'connection')).toBe('keep-alive');
    const second = readResponses(socket, 1);
    socket.write('GET /hello?name=two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await second)[0].body).toContain('Hello, two!');
    socket.destroy();
  });

  it('answers HTTP/1.0 with a body of unknown length by closing the connection after it', async () => {
    const [response] = await exchangeResponses(server.port, 'GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(header(response, 'transfer-encoding')).toBeUndefined();
    expect(header(response, 'connection')).toBe('close');
    expect(response.body).toContain('chunk 5 of 5');
  });

  it('answers every request a client sent before closing its sending side, then closes', async () => {
    const socket = await openSocket(server.port);
    const received = readUntilClose(socket);
    // Static files are read asynchronously: the FIN arrives while the first is being answered.
    socket.end('GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /static/data.json HTTP/1.1\r\nHost: x\r\n\r\n');
    const responses = parseResponses((await received).toString('latin1'), { closed: true });
    expect(statuses(responses)).toEqual([200, 200]);
    expect(responses[1].body).toContain('"stage": 2');
    expect(header(responses[1], 'connection')).toBe('close');
  });

  it('honors Connection: close on HTTP/1.1 and leaves a pipelined request after it unanswered', async () => {
    await expectAnswersThenClose(
      'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n',
      [200],
    );
  });
});

describe('Expect: 100-continue', () => {
  it('sends HTTP/1.1 100 Continue before the final response, once the handler reads the body', async () => {
    const socket = await openSocket(server.port);
    const interim = readUntil(socket, (soFar) => soFar.includes('\r\n\r\n'));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    expect((await interim).toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const final = readResponses(socket, 1);
    socket.write('hello');
    const [response] = await final;
    expect(response.status).toBe(200);
    expect(response.body.endsWith('\n\nhello')).toBe(true);
    socket.destroy();
  });

  it('answers a refused upload at once, without 100 Continue, and closes the connection', async () => {
    await expectAnswersThenClose(
      'POST /api/greeting HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
      [415],
    );
  });
});

describe('slow and vanishing clients', () => {
  it('serves other clients while one stalls, then answers the stalled one with 408', async () => {
    const events: string[] = [];
    const stalled = await openSocket(server.port);
    const stalledDone = readUntilClose(stalled).then((bytes) => {
      events.push('stalled client got its answer');
      return bytes.toString('latin1');
    });
    stalled.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await withClient({}, async (client) => {
      await echo(client);
      events.push('other client served');
    });
    expect((await stalledDone).startsWith('HTTP/1.1 408 Request Timeout\r\n')).toBe(true);
    expect(events).toEqual(['other client served', 'stalled client got its answer']);
  });

  it('keeps serving after clients disconnect mid-head, mid-body and mid-response', async () => {
    const cuts = [
      'GET /hello HTTP/1.1\r\nHo',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some',
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
    ];
    for (const bytes of cuts) {
      const socket = await openSocket(server.port);
      socket.write(bytes);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    // Mid-response: reset the connection as soon as the first bytes of a response arrive.
    const socket = await openSocket(server.port);
    const firstBytes = readUntil(socket, (soFar) => soFar.length > 0);
    socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await firstBytes;
    socket.resetAndDestroy();

    await withClient({}, async (client) => {
      expect((await echo(client)).method).toBe('GET');
    });
  });
});
