// gateway.input: the request body as the application reads it (the contract in part3-gateway/contract.ts): de-chunked, exact
// sizes, lines, async iteration, an empty array at its end, never a byte of the next request;
// 100 Continue only when the app reads; and a body over the limit refused with 413.
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Application, InputStream } from '../part3-gateway/contract.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { bytes, routes, useGateway } from './helpers/gateway.ts';
import { header, parseResponses, readResponses } from './helpers/http-text.ts';
import { exchange, openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const LIMIT = 64;
let appCalls = 0;

/** Read the input the way `mode` says, and report each piece read, as JSON. */
async function readAs(input: InputStream, mode: string, sizes: number[]): Promise<string[]> {
  const pieces: Uint8Array[] = [];
  if (mode === 'all') {
    pieces.push(await input.read(), await input.read(), await input.read());
  } else if (mode === 'sizes') {
    for (const size of sizes) pieces.push(await input.read(size));
  } else if (mode === 'lines') {
    for (let line = await input.readline(); ; line = await input.readline()) {
      pieces.push(line);
      if (line.length === 0) break;
    }
  } else {
    for await (const chunk of input) pieces.push(chunk);
  }
  return pieces.map((piece) => Buffer.from(piece).toString('latin1'));
}

const json = (value: unknown): Uint8Array[] => [bytes(JSON.stringify(value))];

const apps: Record<string, Application> = {
  '/read': async (environ, startResponse) => {
    appCalls++;
    const query = new URLSearchParams(environ.QUERY_STRING);
    const sizes = (query.get('sizes') ?? '').split(',').filter(Boolean).map(Number);
    const pieces = await readAs(environ['gateway.input'], query.get('mode') ?? 'all', sizes);
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return json(pieces);
  },
  '/ignore-body': (_environ, startResponse) => {
    appCalls++;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes('did not read it\n')];
  },
  '/too-big-for-me': (_environ, startResponse) => {
    // Refuses before reading: a client that sent Expect: 100-continue never uploads.
    startResponse('413 Content Too Large', [['Content-Type', 'text/plain']]);
    return [bytes('no thanks\n')];
  },
};

const gateway = useGateway(routes(apps), { limits: { maxBodyBytes: LIMIT } });
beforeEach(() => {
  appCalls = 0;
});

/** POST `body` with Content-Length through undici; the pieces the app read. */
async function postLength(path: string, body: string): Promise<string[]> {
  const response = await request(`${gateway.url}${path}`, { method: 'POST', body });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as string[];
}

/** POST a chunked body with exactly these chunks over a raw socket; the pieces the app read. */
async function postChunked(path: string, chunks: string[]): Promise<string[]> {
  const framed = chunks.map((chunk) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
  const wire = await exchange(
    gateway.port,
    `POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${framed}0\r\n\r\n`,
  );
  const [response] = parseResponses(wire, { closed: true });
  expect(response.status).toBe(200);
  return JSON.parse(response.body) as string[];
}

describe('reading the body', () => {
  it('read() returns the whole Content-Length body, then an empty array at every later read', async () => {
    expect(await postLength('/read?mode=all', 'hello, body')).toEqual(['hello, body', '', '']);
  });

  it('read() returns the whole chunked body, de-chunked', async () => {
    expect(await postChunked('/read?mode=all', ['hel', 'lo, ', 'body'])).toEqual(['hello, body', '', '']);
  });

  it('read(n) returns exactly n bytes across chunk boundaries, then the shorter rest, then an empty array', async () => {
    expect(await postChunked('/read?mode=sizes&sizes=3,3,0,3,3,3', ['ab', 'cdefg', 'hij'])).toEqual([
      'abc',
      'def',
      '',
      'ghi',
      'j',
      '',
    ]);
  });

  it('read(n) works the same on a Content-Length body', async () => {
    expect(await postLength('/read?mode=sizes&sizes=4,4,4,4', 'abcdefghij')).toEqual(['abcd', 'efgh', 'ij', '']);
  });

  it('readline() returns each line with its newline, the last one without, then an empty array', async () => {
    expect(await postChunked('/read?mode=lines', ['one\ntw', 'o\n', '\nthr', 'ee'])).toEqual([
      'one\n',
      'two\n',
      '\n',
      'three',
      '',
    ]);
  });

  it('async iteration yields the whole de-chunked body and then stops', async () => {
    expect((await postChunked('/read?mode=iterate', ['a', 'bc', 'def'])).join('')).toBe('abcdef');
    expect((await postLength('/read?mode=iterate', 'xyz')).join('')).toBe('xyz');
  });

  it('a request without a body reads as empty at once', async () => {
    const response = await request(`${gateway.url}/read?mode=all`);
    expect(await response.body.json()).toEqual(['', '', '']);
  });

  it('never reads into the next pipelined request, whether the app reads the body or not', async () => {
    const socket = await openSocket(gateway.port);
    socket.write(
      'POST /read?mode=all HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst' +
        'POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond' +
        'POST /read?mode=iterate HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthird\r\n0\r\n\r\n' +
        'GET /read?mode=all HTTP/1.1\r\nHost: t\r\n\r\n',
    );
    const responses = await readResponses(socket, 4);
    socket.destroy();
    expect(responses.map((response) => response.body)).toEqual([
      '["first","",""]',
      'did not read it\n',
      '["third"]',
      '["","",""]',
    ]);
  });

  it('a read rejects when the client closes before sending the whole body, and the client gets a 400', async () => {
    const socket = await openSocket(gateway.port);
    const answer = readUntilClose(socket);
    socket.end('POST /read?mode=all HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\nonly part of it');
    const [response] = parseResponses((await answer).toString('latin1'), { closed: true });
    expect(response.status).toBe(400);
    expect(gateway.log).toEqual([]); // the client's doing, not the app's
  });
});

describe('Expect: 100-continue', () => {
  const head = (path: string, length: number): string =>
    `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;

  it('sends 100 Continue when the app reads the input, then the final response, and keeps the connection', async () => {
    const socket = await openSocket(gateway.port);
    socket.write(head('/read?mode=all', 4));
    await readUntil(socket, (soFar) => soFar.toString('latin1') === 'HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('body');
    const [final] = await readResponses(socket, 1); // each read starts where the last one ended
    expect(final.status).toBe(200);
    expect(final.body).toBe('["body","",""]');
    expect(header(final, 'connection')).toBeUndefined();
    socket.write('GET /read HTTP/1.1\r\nHost: t\r\n\r\n'); // the same connection serves another request
    const [next] = await readResponses(socket, 1);
    expect(next.status).toBe(200);
    socket.destroy();
  });

  it('never sends 100 Continue to a client the app answers without reading, and closes the connection', async () => {
    const socket = await openSocket(gateway.port);
    const wire = readUntilClose(socket);
    socket.write(head('/too-big-for-me', 1_000_000));
    const text = (await wire).toString('latin1');
    expect(text).not.toContain('100 Continue');
    const [response] = parseResponses(text, { closed: true });
    expect(response.status).toBe(413);
    expect(header(response, 'connection')).toBe('close');
  });
});

describe('the body limit', () => {
  it('answers 413 through the input stream when a chunked body grows past the limit while the app reads it', async () => {
    const chunk = 'x'.repeat(40);
    const wire = await exchange(
      gateway.port,
      `POST /read?mode=all HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n${chunk}\r\n28\r\n${chunk}\r\n0\r\n\r\n`,
    );
    const [response] = parseResponses(wire, { closed: true });
    expect(appCalls).toBe(1); // the app ran, and its read() rejected
    expect(response.status).toBe(413);
    expect(response.body).toContain(`at most ${LIMIT} bytes`);
    expect(header(response, 'connection')).toBe('close');
    expect(gateway.log).toEqual([]); // a client's mistake is not logged as an app failure
  });

  it('answers 413 before calling the app when the Content-Length is already over the limit', async () => {
    const wire = await exchange(gateway.port, `POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`);
    const [response] = parseResponses(wire, { closed: true });
    expect(response.status).toBe(413);
    expect(appCalls).toBe(0);
  });
});

describe('GatewayInput on its own', () => {
  /** An input over these chunks, as a server's body would deliver them. */
  const inputOver = (chunks: string[]): GatewayInput => {
    const queue = chunks.map((chunk) => bytes(chunk));
    return new GatewayInput(async () => queue.shift() ?? null);
  };

  it('refuses a negative or fractional size with a message saying what to pass', async () => {
    await expect(inputOver(['abc']).read(-1)).rejects.toThrow('size must be a whole number of bytes or omitted');
    await expect(inputOver(['abc']).read(1.5)).rejects.toThrow(RangeError);
  });

  it('readline(size) stops at size bytes when the line is longer', async () => {
    const input = inputOver(['abcdef\n']);
    expect(Buffer.from(await input.readline(4)).toString()).toBe('abcd');
    expect(Buffer.from(await input.readline()).toString()).toBe('ef\n');
  });

  it('iteration after a partial read starts with the bytes already buffered', async () => {
    const input = inputOver(['abc', 'def']);
    expect(Buffer.from(await input.read(1)).toString()).toBe('a');
    const rest: string[] = [];
    for await (const chunk of input) rest.push(Buffer.from(chunk).toString());
    expect(rest.join('')).toBe('bcdef');
  });
});
