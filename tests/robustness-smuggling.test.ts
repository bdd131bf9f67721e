// No request smuggling (RFC 9112 §11.2), on part 2's server and on part 3's gateway: every
// ambiguous way to frame a body is refused with 400 (501 for a coding we do not know) and a
// closed connection, and the request hidden behind it never reaches the handler or the app.
// (part2-bad-input.test.ts checks each limits-table row on the small site; this file is the
// attacker's catalogue, on both servers, with the handler counting what it was asked to run.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../part2-tcp-http/server.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { bytes, startGateway } from './helpers/gateway.ts';
import { exchangeResponses, header, statuses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';

/** The request an attacker wants a second server (or ours, misreading) to run. */
const HIDDEN = 'GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n';
const CHUNKED_HIDDEN = `${HIDDEN.length.toString(16)}\r\n${HIDDEN}\r\n0\r\n\r\n`;

const post = (fields: string, body: string, version = 'HTTP/1.1'): string =>
  `POST /upload ${version}\r\nHost: x\r\n${fields}\r\n${body}`;

interface Attack {
  what: string;
  bytes: string;
  status: 400 | 413 | 501;
}

// Each attack is followed on the wire by HIDDEN as well, wherever else it hides.
const ATTACKS: Attack[] = [
  {
    what: 'Content-Length then Transfer-Encoding (CL.TE)',
    bytes: post(`Content-Length: ${5 + HIDDEN.length}\r\nTransfer-Encoding: chunked\r\n`, `0\r\n\r\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'Transfer-Encoding then Content-Length (TE.CL)',
    bytes: post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'two different Content-Length values',
    bytes: post(`Content-Length: 0\r\nContent-Length: ${HIDDEN.length}\r\n`, HIDDEN),
    status: 400,
  },
  {
    what: 'the same Content-Length twice',
    bytes: post(`Content-Length: ${HIDDEN.length}\r\nContent-Length: ${HIDDEN.length}\r\n`, HIDDEN),
    status: 400,
  },
  { what: 'a Content-Length list "5, 5"', bytes: post('Content-Length: 5, 5\r\n', 'hello'), status: 400 },
  { what: 'a signed Content-Length "+5"', bytes: post('Content-Length: +5\r\n', 'hello'), status: 400 },
  { what: 'a hexadecimal Content-Length "0x5"', bytes: post('Content-Length: 0x5\r\n', 'hello'), status: 400 },
  {
    what: 'whitespace before the colon of Content-Length',
    bytes: post(`Content-Length : ${HIDDEN.length}\r\n`, HIDDEN),
    status: 400,
  },
  {
    what: 'whitespace before the colon of Transfer-Encoding',
    bytes: post('Transfer-Encoding : chunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'Transfer-Encoding: chunked, chunked',
    bytes: post('Transfer-Encoding: chunked, chunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'Transfer-Encoding sent twice as chunked',
    bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  { what: 'Transfer-Encoding: xchunked', bytes: post('Transfer-Encoding: xchunked\r\n', CHUNKED_HIDDEN), status: 400 },
  {
    what: 'Transfer-Encoding: chunked followed by identity',
    bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'Transfer-Encoding: chunked, identity',
    bytes: post('Transfer-Encoding: chunked, identity\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  { what: 'Transfer-Encoding: identity', bytes: post('Transfer-Encoding: identity\r\n', CHUNKED_HIDDEN), status: 400 },
  {
    what: 'Transfer-Encoding: gzip, chunked (a coding we do not decode)',
    bytes: post('Transfer-Encoding: gzip, chunked\r\n', CHUNKED_HIDDEN),
    status: 501,
  },
  {
    what: 'Transfer-Encoding folded onto the previous line (obs-fold)',
    bytes: post('X-Padding: a\r\n Transfer-Encoding: chunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'a vertical tab before chunked',
    bytes: post('Transfer-Encoding:\x0bchunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'a bare CR hiding Transfer-Encoding inside another header',
    bytes: post('X-Padding: a\rTransfer-Encoding: chunked\r\n', CHUNKED_HIDDEN),
    status: 400,
  },
  {
    what: 'Transfer-Encoding in an HTTP/1.0 request',
    bytes: post('Transfer-Encoding: chunked\r\n', CHUNKED_HIDDEN, 'HTTP/1.0'),
    status: 400,
  },
  {
    what: 'a chunk size that overflows 64 bits (ffffffffffffffff)',
    bytes: post('Transfer-Encoding: chunked\r\n', `ffffffffffffffff\r\n${HIDDEN}\r\n0\r\n\r\n`),
    status: 413,
  },
  {
    what: 'a "#fragment" in the target',
    bytes: `POST /upload#/../admin HTTP/1.1\r\nHost: x\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
    status: 400,
  },
  {
    what: 'an absolute-form target whose authority has userinfo',
    bytes: `POST http://admin@evil.example:8443/upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
    status: 400,
  },
  {
    what: 'a chunk size with a 0x prefix',
    bytes: post('Transfer-Encoding: chunked\r\n', `0x${HIDDEN.length.toString(16)}\r\n${HIDDEN}\r\n0\r\n\r\n`),
    status: 400,
  },
  {
    what: 'a negative chunk size',
    bytes: post('Transfer-Encoding: chunked\r\n', `-1\r\n${HIDDEN}\r\n0\r\n\r\n`),
    status: 400,
  },
  {
    what: 'a chunk-size line ended by a bare LF',
    bytes: post('Transfer-Encoding: chunked\r\n', `5\nhello\r\n0\r\n\r\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'chunk data ended by a bare LF',
    bytes: post('Transfer-Encoding: chunked\r\n', `5\r\nhello\n0\r\n\r\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'a bare CR inside the chunk-size line',
    bytes: post('Transfer-Encoding: chunked\r\n', `5\r0\r\nhello\r\n0\r\n\r\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'a bare CR in a chunk extension',
    bytes: post('Transfer-Encoding: chunked\r\n', `5;a\rb\r\nhello\r\n0\r\n\r\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'a last chunk ended by bare LFs',
    bytes: post('Transfer-Encoding: chunked\r\n', `0\n\n${HIDDEN}`),
    status: 400,
  },
  {
    what: 'a trailer line ended by a bare LF',
    bytes: post('Transfer-Encoding: chunked\r\n', `0\r\nX-Trailer: y\n\r\n${HIDDEN}`),
    status: 400,
  },
];

/** Both servers, each with a handler that reads the whole body (as real ones do) and counts calls. */
const calls: string[] = [];
const servers: Array<{ name: string; server: RunningServer }> = [];

beforeAll(async () => {
  const part2 = createHttpServer(async (request, response) => {
    calls.push(request.head.target);
    const body = await request.body.readAll();
    response.sendWhole(200, [['Content-Type', 'text/plain']], `read ${body.length} bytes\n`);
  });
  const app: Application = async (environ, startResponse) => {
    calls.push(environ.REQUEST_URI);
    const body = await environ['gateway.input'].read();
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes(`read ${body.length} bytes\n`)];
  };
  servers.push({ name: 'part 2 server', server: await start(part2) });
  servers.push({ name: 'part 3 gateway', server: await startGateway(app) });
});
afterAll(() => Promise.all(servers.map(({ server }) => server.close())));
beforeEach(() => {
  calls.length = 0;
});

describe.each(['part 2 server', 'part 3 gateway'])('request smuggling on the %s', (name) => {
  const server = (): RunningServer => servers.find((entry) => entry.name === name)?.server ?? expect.fail(`no ${name}`);

  for (const { what, bytes: attackBytes, status } of ATTACKS) {
    it(`answers ${status} to ${what}, closes the connection, and never runs the hidden request`, async () => {
      const responses = await exchangeResponses(server().port, Buffer.from(attackBytes + HIDDEN, 'latin1'));
      expect(statuses(responses)).toEqual([status]);
      expect(header(responses[0], 'connection')).toBe('close');
      expect(calls).not.toContain('/hidden');
    });
  }

  it('still runs a request pipelined behind a well-framed chunked body (the catalogue is not just refusing everything)', async () => {
    const responses = await exchangeResponses(
      server().port,
      `${post('Transfer-Encoding: chunked\r\n', CHUNKED_HIDDEN)}GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(responses)).toEqual([200, 200]);
    expect(responses[0].body).toBe(`read ${HIDDEN.length} bytes\n`);
    expect(calls).toEqual(['/upload', '/next']);
  });
});

describe('an app that answers without reading the body', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startGateway((environ, startResponse) => {
      calls.push(environ.REQUEST_URI);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('not reading\n')];
    });
  });
  afterAll(() => server.close());

  it('still never lets a request hidden behind bad chunk framing run: the server reads the framing itself, and closes', async () => {
    for (const { bytes: attackBytes } of ATTACKS.filter(({ what }) => what.includes('chunk'))) {
      // The app answers before anyone has read the body; reading the rest to find the next
      // request, the server finds the framing bad and closes (exchangeResponses waits for that).
      const responses = await exchangeResponses(server.port, Buffer.from(attackBytes + HIDDEN, 'latin1'));
      expect(responses).toHaveLength(1);
    }
    expect(calls).not.toContain('/hidden');
  });
});
