// Every row of the limits table (part2-tcp-http/README.md, "Limits of this stage") over a real socket: the right status, a short
// plain-text answer that does not echo the input, `Connection: close`, and a server that still
// answers the next client. Plus request smuggling: a request hidden in a body never runs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../part2-tcp-http/server.ts';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { exchangeResponses, header, parseResponses, statuses, type RawResponse } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange, openSocket, readUntilClose } from './helpers/wire.ts';

const GOOD_REQUEST = 'GET /hello?name=again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** Send bytes, read to the close, and return the single response that came back. */
async function answerTo(port: number, bytes: string): Promise<RawResponse> {
  const responses = await exchangeResponses(port, Buffer.from(bytes, 'latin1'));
  expect(responses).toHaveLength(1);
  return responses[0];
}

const post = (extraHeaders: string, body = ''): string =>
  `POST /echo HTTP/1.1\r\nHost: x\r\n${extraHeaders}\r\n${body}`;

interface Row {
  what: string;
  request: string;
  status: number;
}

// Each request ends its head properly unless the point is that it cannot.
const ROWS: Row[] = [
  {
    what: 'a request line longer than 8 KiB',
    request: `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    status: 414,
  },
  { what: 'a request line that goes on past 8 KiB without ending', request: `GET /${'a'.repeat(9000)}`, status: 414 },
  {
    what: 'a header section larger than 16 KiB',
    request: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(17_000)}\r\n\r\n`,
    status: 431,
  },
  {
    what: 'more than 100 header fields',
    request: `GET / HTTP/1.1\r\nHost: x\r\n${'X-Field: 1\r\n'.repeat(101)}\r\n`,
    status: 431,
  },
  { what: 'a Content-Length above 1 MiB', request: post('Content-Length: 2000000\r\n'), status: 413 },
  { what: 'a chunk size above 1 MiB', request: post('Transfer-Encoding: chunked\r\n', '200000\r\n'), status: 413 },
  { what: 'a malformed request line', request: 'GARBAGE<script>alert(1)</script>\r\n\r\n', status: 400 },
  { what: 'a bare CR in the head', request: 'GET / HTTP/1.1\rHost: x\r\n\r\n', status: 400 },
  { what: 'a NUL in a header value', request: 'GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n', status: 400 },
  { what: 'a space before the colon', request: 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', status: 400 },
  { what: 'obsolete line folding', request: 'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n', status: 400 },
  { what: 'an HTTP/1.1 request without Host', request: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', status: 400 },
  { what: 'two Host headers', request: 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', status: 400 },
  {
    what: 'Content-Length with Transfer-Encoding',
    request: post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    status: 400,
  },
  { what: 'a Content-Length that is not a number', request: post('Content-Length: 5abc\r\n', 'hello'), status: 400 },
  { what: 'a negative Content-Length', request: post('Content-Length: -1\r\n'), status: 400 },
  {
    what: 'two Content-Length headers',
    request: post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'),
    status: 400,
  },
  {
    what: 'two identical Content-Length headers',
    request: post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
    status: 400,
  },
  {
    what: 'a chunk size that is not hex',
    request: post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n'),
    status: 400,
  },
  {
    what: 'a chunk size of more than 8 significant hex digits',
    request: post('Transfer-Encoding: chunked\r\n', '1000000000000000a\r\nhello\r\n0\r\n\r\n'),
    status: 413,
  },
  {
    what: 'a Content-Length of 16 significant digits',
    request: post('Content-Length: 1000000000000000\r\n'),
    status: 413,
  },
  {
    what: 'chunk extensions over 16 KiB in one body',
    request: post('Transfer-Encoding: chunked\r\n', `1;${'e'.repeat(1000)}\r\nX\r\n`.repeat(17)),
    status: 413,
  },
  {
    what: 'chunk data not followed by CRLF',
    request: post('Transfer-Encoding: chunked\r\n', '3\r\nhelloXX0\r\n\r\n'),
    status: 400,
  },
  {
    what: 'a transfer coding other than chunked, so no chunked at the end',
    request: post('Transfer-Encoding: gzip\r\n'),
    status: 400,
  },
  {
    what: 'chunked followed by another coding',
    request: post('Transfer-Encoding: chunked, identity\r\n'),
    status: 400,
  },
  {
    what: 'an unknown coding before chunked',
    request: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    status: 501,
  },
  { what: 'a "#fragment" in the target', request: 'GET /hello?name=a#b HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  {
    what: 'an absolute-form target with an invalid host',
    request: 'GET http://a"<b>x:99999/ HTTP/1.1\r\nHost: x\r\n\r\n',
    status: 400,
  },
  {
    what: 'an absolute-form target with userinfo',
    request: 'GET http://admin@evil.example:8443/ HTTP/1.1\r\nHost: x\r\n\r\n',
    status: 400,
  },
  {
    what: 'an absolute-form target without a host',
    request: 'GET http:///hello HTTP/1.1\r\nHost: x\r\n\r\n',
    status: 400,
  },
  { what: 'HTTP/2.0 in the request line', request: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', status: 505 },
  {
    what: 'an Expect other than 100-continue',
    request: post('Expect: the-unexpected\r\nContent-Length: 0\r\n'),
    status: 417,
  },
];

describe('bad input over a real socket', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start(createSiteServer({ logError: () => {} }));
  });
  afterAll(() => server.close());
  // Whatever the last client did, the next one is served normally.
  afterEach(() => expectStillServing(server));

  for (const row of ROWS) {
    it(`answers ${row.status} to ${row.what}, in short plain text, and closes the connection`, async () => {
      const response = await answerTo(server.port, row.request);
      expect(response.status).toBe(row.status);
      expect(header(response, 'content-type')).toBe('text/plain; charset=utf-8');
      expect(header(response, 'connection')).toBe('close');
      expect(response.body.startsWith(`${row.status} `)).toBe(true);
      expect(response.body.length).toBeLessThan(200);
      // Never the raw input back: not the request line, not a header value.
      expect(response.body).not.toContain(row.request.split(/\r?\n|\r/)[0].slice(0, 40));
      expect(response.body).not.toMatch(/<script>|gzip|the-unexpected|aaaa|bbbb/);
    });
  }
});

describe('limits set by option', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const limits = { maxRequestLineBytes: 64, maxHeaderBytes: 128, maxHeaderFields: 3, maxBodyBytes: 10 };
    server = await start(createSiteServer({ limits, logError: () => {} }));
  });
  afterAll(() => server.close());

  it('answers 413 when the chunks of one body add up to more than the body limit', async () => {
    const response = await answerTo(
      server.port,
      post('Transfer-Encoding: chunked\r\n', '8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n'),
    );
    expect(response.status).toBe(413);
  });

  it('applies the request-line, header-size and header-count limits given as options', async () => {
    expect((await answerTo(server.port, `GET /${'a'.repeat(70)} HTTP/1.1\r\nHost: x\r\n\r\n`)).status).toBe(414);
    expect((await answerTo(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(130)}\r\n\r\n`)).status).toBe(
      431,
    );
    expect((await answerTo(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n')).status).toBe(431);
  });
});

/** The server behind `server` still answers a well-formed request. */
async function expectStillServing(server: RunningServer): Promise<void> {
  const [response] = await exchangeResponses(server.port, GOOD_REQUEST);
  expect(response.status).toBe(200);
}

describe('timeouts', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start(
      createSiteServer({ headTimeoutMs: 200, idleTimeoutMs: 200, bodyTimeoutMs: 200, logError: () => {} }),
    );
  });
  afterAll(() => server.close());
  afterEach(() => expectStillServing(server));

  it('answers 408 and closes when a request head stalls halfway', async () => {
    const response = await answerTo(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    expect(response.status).toBe(408);
    expect(header(response, 'connection')).toBe('close');
  });

  it('never fires a timeout early: the server checks its clock often, but only acts once the time has passed', async () => {
    // The clock looks every 50 ms here (a quarter of 200 ms); a deadline compared against it
    // cannot be met before its time, however the checks fall. (Only the lower bound is tested:
    // how late it may fire depends on how busy the machine is.)
    const started = performance.now();
    const response = await answerTo(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    expect(response.status).toBe(408);
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('answers 408 when a request body stops arriving', async () => {
    const response = await answerTo(server.port, post('Content-Length: 10\r\n', 'only5'));
    expect(response.status).toBe(408);
  });

  it('closes an idle connection quietly, without a response', async () => {
    const socket = await openSocket(server.port);
    expect((await readUntilClose(socket, 3_000)).length).toBe(0);
  });

  it('closes a keep-alive connection quietly once it has been idle after a response', async () => {
    const received = await exchange(server.port, 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n', 3_000);
    const responses = parseResponses(received);
    expect(statuses(responses)).toEqual([200]);
    expect(received.endsWith(responses[0].raw)).toBe(true);
  });
});

describe('request smuggling', () => {
  let calls: string[] = [];
  let server: RunningServer;
  beforeAll(async () => {
    // A handler that answers without reading the body: the server alone must skip it.
    const counting: HttpServer = createHttpServer((request, response) => {
      calls.push(`${request.head.method} ${request.head.target}`);
      response.sendWhole(200, [['Content-Type', 'text/plain']], 'ok\n');
    });
    server = await start(counting);
  });
  afterAll(() => server.close());
  afterEach(() => {
    calls = [];
  });

  const hidden = 'GET /secret HTTP/1.1\r\nHost: x\r\n\r\n';

  it('never runs a request hidden after the last chunk when Content-Length is also sent (CL.TE)', async () => {
    const body = `0\r\n\r\n${hidden}`;
    const responses = await exchangeResponses(
      server.port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    );
    expect(statuses(responses)).toEqual([400]);
    expect(calls).toEqual([]);
  });

  it('never runs a request hidden in a chunked body that Content-Length would cut short (TE.CL)', async () => {
    const body = `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
    const responses = await exchangeResponses(
      server.port,
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${body}`,
    );
    expect(statuses(responses)).toEqual([400]);
    expect(calls).toEqual([]);
  });

  it('treats request-shaped bytes inside a Content-Length body as body, even when the handler never reads it', async () => {
    const responses = await exchangeResponses(
      server.port,
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(responses)).toEqual([200, 200]);
    expect(calls).toEqual(['POST /upload', 'GET /next']);
  });
});

describe('handler errors', () => {
  const logged: unknown[] = [];
  let server: RunningServer;
  beforeAll(async () => {
    const failing: HttpServer = createHttpServer(
      async (request, response) => {
        if (request.head.target === '/boom') throw new Error('secret detail: database password is hunter2');
        if (request.head.target === '/boom-later') {
          response.writeHead(200, [['Content-Type', 'text/plain']]);
          response.write(Buffer.from('partial '));
          throw new Error('failed after the head was sent');
        }
        if (request.head.target === '/forgot') return; // a handler that never answers
        response.sendWhole(200, [['Content-Type', 'text/plain']], 'fine\n');
      },
      { logError: (message, error) => logged.push([message, error]) },
    );
    server = await start(failing);
  });
  afterAll(() => server.close());

  it('answers 500 with a generic message when the handler throws, logs the details, and keeps serving', async () => {
    const responses = await exchangeResponses(
      server.port,
      'GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([500, 200]);
    expect(responses[0].body).not.toContain('hunter2');
    expect(String(logged.flat())).toContain('hunter2');
  });

  it('answers 500 for a handler that returns without answering, logs why, and keeps serving', async () => {
    const responses = await exchangeResponses(
      server.port,
      'GET /forgot HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([500, 200]);
    expect(responses[0].body).toContain('The server failed to answer this request.');
    expect(String(logged.flat())).toContain('The handler returned without sending a response.');
  });

  it('cuts the connection when the handler fails after the head went out, so the response is visibly incomplete', async () => {
    const received = await exchange(server.port, 'GET /boom-later HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(received.startsWith('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n')).toBe(
      true,
    );
    // No final zero-size chunk: the client can tell the body was cut short.
    expect(received.endsWith('0\r\n\r\n')).toBe(false);
    expect(parseResponses(received)).toEqual([]);
    expect(String(logged.flat())).toContain('failed after the head was sent');
  });
});
