// Part 2's checks: what an HTTP/1.1 server must do, asked over a raw socket. The routes are the
// ones part 2's site answers (and the ones a workshop server builds):
//
//   GET /                 200, any page
//   GET /hello?name=Ada   200, a body containing "Hello, Ada!" (the name percent-decoded)
//   GET|POST /echo        200, the request as parsed: request line, header lines, then the body
//   anything else         404
//
// Core: what the stage teaches. Hardening: the rows of the limits table (README, "Limits of this
// stage"), each a way clients and attackers break naive servers. Challenges: the README's.
import { CheckFailure, expectThat, type Check, type Hint } from './check.ts';
import {
  ask,
  expectBodyContains,
  expectClose,
  expectFramed,
  expectHeader,
  expectOpen,
  expectStatus,
  open,
  randomWord,
  requestBytes,
  sleep,
} from './http.ts';
import { header, type Conversation, type HttpResponse } from './wire.ts';
import { gunzipSync } from 'node:zlib';

const README = 'part2-tcp-http/README.md';
const section = (name: string): string => `${README}, section "${name}"`;
const hint = (concept: string, readme: string, reference: string): Hint => ({
  concept,
  readme: section(readme),
  reference: `part2-tcp-http/${reference}`,
});

/** How much later than the server's own timeout a check still accepts its answer. */
const TIMEOUT_SLACK_MS = 2_000;

/** An echo must show the request: each of these must appear in its body. */
function expectEchoOf(response: HttpResponse, parts: string[]): void {
  expectStatus(response, 200, 'GET and POST /echo answer 200 with the request as the server parsed it.');
  for (const part of parts)
    expectBodyContains(
      response,
      part,
      'The /echo body shows the request line, each header line as "Name: value", and then the body.',
    );
}

/**
 * Read the next response. When nothing at all came back and the connection is still open, fail
 * with `advice`, what this check is about, instead of the reader's general advice.
 */
async function readResponseOr(
  conversation: Conversation,
  advice: string,
  options: { waitMs?: number } = {},
): Promise<HttpResponse> {
  try {
    return await conversation.readResponse(options);
  } catch (error) {
    if (!(error instanceof CheckFailure) || conversation.unread.length > 0 || conversation.ended !== null) throw error;
    throw new CheckFailure({ expected: error.expected, seen: error.seen, advice });
  }
}

/** A request answered with `status`, and (for framing errors) the connection closed after it. */
async function expectRefused(
  context: Parameters<Check['run']>[0],
  bytes: string | Buffer,
  status: number | number[],
  options: { close?: boolean; advice: string; ifSilent?: string },
): Promise<void> {
  const conversation = await open(context);
  conversation.send(bytes);
  const response =
    options.ifSilent === undefined
      ? await conversation.readResponse()
      : await readResponseOr(conversation, options.ifSilent);
  expectStatus(response, status, options.advice);
  if (options.close === true)
    await expectClose(
      conversation,
      'after an error that leaves the request framing in doubt, the only safe move is to hang up',
    );
}

/**
 * A request that hides a second one (request smuggling): answered 400, the connection closed,
 * and the hidden request, `GET /hello?name=<marker>`, never run.
 */
async function expectSmugglingRefused(
  context: Parameters<Check['run']>[0],
  bytes: string,
  marker: string,
  advice: string,
): Promise<void> {
  const conversation = await open(context);
  conversation.send(bytes);
  expectStatus(await conversation.readResponse(), 400, advice);
  await expectClose(conversation, 'the framing of a refused request is in doubt');
  expectThat(
    !conversation.unread.toString('latin1').includes(marker),
    'no answer to the hidden request',
    `an answer to "GET /hello?name=${marker}"`,
  );
}

export const part2Checks: Check[] = [
  // ---- core ------------------------------------------------------------------------------
  {
    group: 'core',
    name: 'answers GET / with 200 and a Content-Length that matches the body',
    hint: hint(
      'A response is a status line, header lines, an empty line, then exactly Content-Length bytes of body.',
      'The bytes on the wire',
      'response.ts → ResponseWriter.sendWhole',
    ),
    async run(context) {
      context.reproduce(`curl -v http://${context.host}:${context.port}/`);
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/'));
      const response = await readResponseOr(
        conversation,
        'Nothing came back. Once the head has arrived (it ends with an empty line, \\r\\n\\r\\n), write a response to the socket, e.g. "HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nHello\\n".',
      );
      expectStatus(response, 200);
      expectFramed(response);
    },
  },
  {
    group: 'core',
    name: 'answers 404 for a path it does not know',
    hint: hint(
      'The path is the second word of the request line; a server answers 404 Not Found for one it has no page for.',
      'The bytes on the wire',
      'site.ts → createSiteHandler',
    ),
    async run(context) {
      const path = `/no-such-page-${randomWord()}`;
      context.reproduce(`curl -v http://${context.host}:${context.port}${path}`);
      const { response } = await ask(context, requestBytes('GET', path));
      expectStatus(response, 404);
      expectFramed(response);
    },
  },
  {
    group: 'core',
    name: 'reads the query string: /hello?name=Ada%20Lovelace answers "Hello, Ada Lovelace!"',
    hint: hint(
      'Split the target at "?": the path before, the query after; decode %XX (and "+" as a space) in the values.',
      'The bytes on the wire',
      'site.ts → parseTarget',
    ),
    async run(context) {
      const name = randomWord();
      context.reproduce(`curl -v 'http://${context.host}:${context.port}/hello?name=Ada%20${name}'`);
      const { response } = await ask(context, requestBytes('GET', `/hello?name=Ada%20${name}`));
      expectStatus(response, 200);
      const body = response.body.toString('latin1');
      const advice = body.includes('%20')
        ? 'Percent-decode the name: %20 is a space (decodeURIComponent, or URLSearchParams).'
        : body.includes(`Hello, Ada ${name}`)
          ? 'Almost: the greeting is "Hello, " + the name + "!", exclamation mark included.'
          : 'Take the name from the query string (after "?", name=...), decode it, and answer "Hello, <name>!".';
      expectBodyContains(response, `Hello, Ada ${name}!`, advice);
    },
  },
  {
    group: 'core',
    name: 'echoes the request line and every header line at /echo',
    hint: hint(
      'The head is the request line, then one "Name: value" line per header field, up to the empty line.',
      'The bytes on the wire',
      'head.ts → parseHead',
    ),
    async run(context) {
      const word = randomWord();
      context.reproduce(`curl -v -H 'X-Check: ${word}' 'http://${context.host}:${context.port}/echo?${word}'`);
      const { response } = await ask(
        context,
        requestBytes('GET', `/echo?${word}`, {
          headers: [
            ['X-Check', word],
            ['Accept', '*/*'],
          ],
        }),
      );
      expectEchoOf(response, [`GET /echo?${word} HTTP/1.1`, `X-Check: ${word}`, 'Accept: */*']);
    },
  },
  {
    group: 'core',
    name: 'reads a POST body by its Content-Length, even when it arrives in three pieces',
    hint: hint(
      'TCP delivers bytes, not messages: keep reading until Content-Length bytes of body have arrived.',
      'Three ways a body ends',
      'parser.ts → readFixedBody',
    ),
    async run(context) {
      const body = `name=${randomWord()}&message=hello+there`;
      const conversation = await open(context);
      conversation.send(
        requestBytes('POST', '/echo', {
          headers: [
            ['Content-Type', 'application/x-www-form-urlencoded'],
            ['Content-Length', String(body.length)],
          ],
        }),
      );
      await sleep(100);
      conversation.send(body.slice(0, 10));
      await sleep(100);
      conversation.send(body.slice(10));
      expectEchoOf(await conversation.readResponse(), [body]);
    },
  },
  {
    group: 'core',
    name: 'waits for the whole head, even when it arrives in two pieces',
    hint: hint(
      'The head ends at the empty line (\\r\\n\\r\\n), not at the end of a read: buffer what has arrived until it does.',
      'The loop you will build',
      'parser.ts → readHead',
    ),
    async run(context) {
      const word = randomWord();
      const conversation = await open(context);
      conversation.send(`GET /echo HTTP/1.1\r\nHost: localhost\r\nX-First: ${word}\r\n`);
      await sleep(300);
      expectThat(
        conversation.received.length === 0,
        'no answer before the head is complete',
        () => `${conversation.received.length} bytes of answer after only the first piece of the head`,
        'Answer only once the empty line has arrived: until then more header lines may come.',
      );
      conversation.send(`X-Second: ${word}\r\n\r\n`);
      const response = await conversation.readResponse();
      if (response.status === 400) {
        throw new CheckFailure({
          expected: 'the two pieces read as one request',
          seen: `status 400: the second piece ("X-Second: ...") was read as a request of its own`,
          advice:
            'Keep the bytes of each read in a buffer, and parse only once it holds the empty line that ends the head (\\r\\n\\r\\n).',
        });
      }
      expectEchoOf(response, [`X-First: ${word}`, `X-Second: ${word}`]);
    },
  },
  {
    group: 'core',
    name: 'keeps the connection open and answers a second request on it (keep-alive)',
    hint: hint(
      'HTTP/1.1 connections stay open after a response: loop back and read the next request.',
      'The loop you will build',
      'connection.ts → Connection.serve',
    ),
    async run(context) {
      // By hand: two requests a second apart on one connection; both must be answered.
      const get = (name: string): string =>
        `printf 'GET /hello?name=${name} HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n'`;
      context.reproduce(
        `(${get('first')}; sleep 1; ${get('second')}; sleep 1) | nc -N ${context.host} ${context.port}`,
      );
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/hello?name=first'));
      expectBodyContains(await conversation.readResponse(), 'Hello, first!');
      await sleep(50);
      expectOpen(conversation, 'the first response');
      conversation.send(requestBytes('GET', '/hello?name=second'));
      expectBodyContains(await conversation.readResponse(), 'Hello, second!');
    },
  },
  {
    group: 'core',
    name: 'answers two requests sent in one write (pipelining), in order',
    hint: hint(
      'One read may hold more than one request: keep the bytes after the first request and parse them next.',
      'The loop you will build',
      'parser.ts → RequestParser.push',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        Buffer.concat([requestBytes('GET', '/hello?name=one'), requestBytes('GET', '/hello?name=two')]),
      );
      expectBodyContains(
        await conversation.readResponse(),
        'Hello, one!',
        'The first response answers the first request.',
      );
      expectBodyContains(
        await conversation.readResponse(),
        'Hello, two!',
        'The bytes after the first request are the second request: parse them too.',
      );
    },
  },
  {
    group: 'core',
    name: 'closes the connection after answering a request with Connection: close',
    hint: hint(
      '"Connection: close" means this is the last request: answer it, then close the socket (socket.end()).',
      'The loop you will build',
      'head.ts → clientKeepsAlive',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/', { headers: [['Connection', 'close']] }));
      expectStatus(await conversation.readResponse(), 200);
      await expectClose(conversation, 'the client asked for "Connection: close"');
    },
  },
  {
    group: 'core',
    name: 'reads a chunked request body (Transfer-Encoding: chunked)',
    hint: hint(
      'A chunked body is pieces "size-in-hex\\r\\ndata\\r\\n", ended by "0\\r\\n\\r\\n"; the body is the data joined.',
      'Three ways a body ends',
      'parser.ts → readChunkSize',
    ),
    async run(context) {
      const word = randomWord();
      const pieces = ['hello ', 'chunked ', word];
      const chunked = `${pieces.map((piece) => `${piece.length.toString(16)}\r\n${piece}\r\n`).join('')}0\r\n\r\n`;
      const { response } = await ask(
        context,
        requestBytes('POST', '/echo', {
          headers: [
            ['Transfer-Encoding', 'chunked'],
            ['Content-Type', 'text/plain'],
          ],
          body: chunked,
        }),
      );
      expectEchoOf(response, [`hello chunked ${word}`]);
    },
  },
  {
    group: 'core',
    name: "answers HEAD with GET's status and headers and no body",
    hint: hint(
      'HEAD is GET without the body: the same Content-Length, then nothing, so the next response starts right after the empty line.',
      'The bytes on the wire',
      'response.ts → ResponseWriter.sendWhole',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        Buffer.concat([requestBytes('HEAD', '/hello?name=Ada'), requestBytes('GET', '/hello?name=Ada')]),
      );
      const head = await conversation.readResponse({ method: 'HEAD' });
      expectStatus(head, 200);
      const extra = conversation.unread.toString('latin1');
      const bodyBytes = extra.startsWith('HTTP/1.1 ') ? 0 : extra.indexOf('HTTP/1.1 ');
      if (bodyBytes > 0) {
        throw new CheckFailure({
          expected: 'no body after the HEAD response',
          seen: `${bodyBytes} bytes of body after its head`,
          advice: 'HEAD is answered with the head GET would get, and nothing after the empty line.',
          caretAt: head.end,
        });
      }
      const get = await conversation.readResponse();
      expectStatus(
        get,
        200,
        'Bytes after the HEAD response were read as the start of the next response: send no body for HEAD.',
      );
      expectHeader(
        head,
        'Content-Length',
        (value) => value === undefined || value === String(get.body.length),
        `no Content-Length, or ${get.body.length}: what GET sends (RFC 9110 §9.3.2 lets a server leave it out of a HEAD answer, not send another)`,
      );
    },
  },
  {
    group: 'core',
    name: 'answers 400 to a request line that is not HTTP, and keeps running',
    hint: hint(
      'A request line is METHOD SP target SP HTTP/1.1; anything else earns 400 Bad Request, and the server goes on serving.',
      'Break it',
      'head.ts → parseRequestLine',
    ),
    async run(context) {
      await expectRefused(context, 'GARBAGE\r\n\r\n', 400, {
        advice: 'Check the request line has three parts separated by single spaces and a version like HTTP/1.1.',
      });
      const { response } = await ask(context, requestBytes('GET', '/'));
      expectStatus(response, 200, 'After a bad request on one connection, the server must still answer others.');
    },
  },
  {
    group: 'core',
    name: 'reads a 256 KiB body in full',
    hint: hint(
      'A large body arrives in many reads (64 KiB each, or less): count bytes until Content-Length, whatever the reads.',
      'Three ways a body ends',
      'parser.ts → readFixedBody',
    ),
    async run(context) {
      const body = `${randomWord()}-`.repeat(256 * 1024).slice(0, 256 * 1024 - 3) + 'END';
      context.reproduce(
        `head -c 262144 /dev/zero | tr '\\0' x | curl -s --data-binary @- -H 'Content-Type: text/plain' http://${context.host}:${context.port}/echo | tail -c 40`,
      );
      const { response } = await ask(
        context,
        requestBytes('POST', '/echo', { headers: [['Content-Type', 'text/plain']], body }),
      );
      expectStatus(response, 200);
      const echoed = response.body.toString('latin1');
      expectThat(
        echoed.includes(body),
        'the whole 262,144-byte body in the echo',
        () =>
          `an echo of ${echoed.length} bytes that does not contain it all${echoed.endsWith('END') ? '' : ' (its end, "END", is missing)'}`,
        'Keep reading until Content-Length bytes have arrived; do not stop at the first read, nor at a fixed buffer size.',
      );
    },
  },

  // ---- hardening: the limits table -----------------------------------------------------------
  {
    group: 'hardening',
    name: 'answers 400 to an HTTP/1.1 request without Host',
    hint: hint(
      'RFC 9112 §3.2: an HTTP/1.1 request must carry exactly one Host field; answer 400 otherwise.',
      'Break it',
      'head.ts → parseHead',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/1.1\r\n\r\n', 400, {
        advice: 'Count the Host fields: exactly one for HTTP/1.1.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers 400 to a header line with whitespace before the colon',
    hint: hint(
      'RFC 9112 §5.1: "Host : x" must be refused with 400; a proxy could read it differently.',
      'Why the real one is longer',
      'head.ts → parseFieldLine',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400, {
        advice: 'A field name is a token and ends right at the colon.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers 414 to a request line longer than 8 KiB',
    hint: hint(
      'A server bounds what it buffers: a request line over the limit (8 KiB) earns 414 URI Too Long.',
      'Break it',
      'parser.ts → checkIncompleteHead',
    ),
    run(context) {
      // Too long to spell out: printf pads a 0 to 9,000 digits instead of the check's 9,000 "a"s.
      context.reproduce(
        `printf 'GET /%09000d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' 0 | nc -N ${context.host} ${context.port}`,
      );
      return expectRefused(context, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, {
        advice: 'Measure the request line while it arrives; stop at 8 KiB.',
      });
    },
  },
  {
    group: 'hardening',
    name: 'answers 431 to a header section larger than 16 KiB',
    hint: hint(
      'Header fields are bounded too (16 KiB in all): 431 Request Header Fields Too Large.',
      'Why the real one is longer',
      'parser.ts → checkIncompleteHead',
    ),
    run(context) {
      context.reproduce(
        `(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n'; for i in $(seq 20); do printf 'X-Filler: %01000d\\r\\n' 0; done; printf '\\r\\n') | nc -N ${context.host} ${context.port}`,
      );
      return expectRefused(
        context,
        `GET / HTTP/1.1\r\nHost: x\r\n${`X-Filler: ${'b'.repeat(1000)}\r\n`.repeat(20)}\r\n`,
        431,
        { advice: 'Count the bytes of the header section as it arrives.' },
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers 413 to a Content-Length over 1 MiB before reading the body',
    hint: hint(
      'Refuse a body that is too large from its declared length, before any of it arrives: 413 Content Too Large.',
      'Break it',
      'head.ts → decideFraming',
    ),
    run: (context) =>
      expectRefused(context, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n', 413, {
        close: true,
        advice: 'Check Content-Length against the limit as soon as the head is parsed.',
        ifSilent:
          'The server is still waiting for 9,999,999 bytes of body, which will never come: compare Content-Length with the limit as soon as the head is parsed, and answer 413 at once.',
      }),
  },
  {
    group: 'hardening',
    name: 'refuses a request with both Content-Length and Transfer-Encoding (400, then close): no smuggled request runs',
    hint: hint(
      'Two framings in one request is how requests are smuggled past a proxy: answer 400 and close, never run what follows.',
      'Break it',
      'head.ts → decideFraming',
    ),
    run: (context) =>
      expectSmugglingRefused(
        context,
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello?name=smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
        'smuggled',
        'Refuse the request when both framing headers are present.',
      ),
  },
  {
    group: 'hardening',
    name: 'refuses a Transfer-Encoding that does not end in chunked (400 or 501), then closes',
    hint: hint(
      'When chunked is not the final transfer coding, nothing says where the body ends: answer 400 and close (RFC 9112 §6.3); 501 (a coding this server does not decode, §6.1) is accepted too.',
      'Why the real one is longer',
      'head.ts → decideFraming',
    ),
    run: (context) =>
      expectRefused(context, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', [400, 501], {
        close: true,
        advice: 'Only a Transfer-Encoding ending in "chunked" frames a body; refuse the rest.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers 505 to HTTP/2.0 on this HTTP/1.1 connection',
    hint: hint(
      'The version is the third word of the request line: HTTP/1.0 and HTTP/1.1 are served, 2.0 here earns 505.',
      'Break it',
      'head.ts → parseRequestLine',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505, {
        advice: 'Check the version before anything else in the request.',
      }),
  },
  {
    group: 'hardening',
    name: 'refuses bad chunk framing (400, then close)',
    hint: hint(
      'Chunk data must be followed by \\r\\n exactly; anything else means the sizes are wrong, and nothing after can be trusted.',
      'Why the real one is longer',
      'parser.ts → readChunkDataEnd',
    ),
    run: (context) =>
      expectRefused(
        context,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!!\r\n0\r\n\r\n',
        400,
        { close: true, advice: 'After "size" bytes of data, expect exactly \\r\\n.' },
      ),
  },
  {
    group: 'hardening',
    name: 'answers 400 to a NUL byte in a header value',
    hint: hint(
      'Field values may not hold control characters (RFC 9110 §5.5); a NUL has fooled servers written in C.',
      'Why the real one is longer',
      'head.ts → parseFieldLine',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n', 400, {
        advice: 'Refuse bytes 0x00-0x1F (except tab) and 0x7F in a value.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers 408 and closes when a request head does not complete in time',
    hint: hint(
      'A client that starts a request and never finishes it holds a connection: bound the head with a deadline (408 Request Timeout).',
      'Break it',
      'connection.ts → Connection.checkDeadline',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send('GET / HTTP/1.1\r\nHost: x\r\n');
      const advice = `Start a timer (here ${context.timeouts.headMs} ms) when a request begins; on expiry answer 408 and close.`;
      const response = await readResponseOr(
        conversation,
        `The server is still waiting for the rest of the head. ${advice}`,
        { waitMs: context.timeouts.headMs + TIMEOUT_SLACK_MS },
      );
      expectStatus(response, 408, advice);
      await expectClose(conversation, 'a 408 ends the connection');
    },
  },
  {
    group: 'hardening',
    name: 'closes an idle keep-alive connection after the idle timeout, sending nothing',
    hint: hint(
      'An open connection costs a file descriptor: close it when no request comes for a while (quietly: no request, no answer).',
      'Why the real one is longer',
      'connection.ts → Connection.checkDeadline',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/'));
      await conversation.readResponse();
      const closed = await conversation.waitForClose(context.timeouts.idleMs + TIMEOUT_SLACK_MS);
      expectThat(
        closed,
        'the server to close the connection',
        `it stayed open with no request for ${context.timeouts.idleMs + TIMEOUT_SLACK_MS} ms`,
        `After each response, start a timer (here ${context.timeouts.idleMs} ms; socket.setTimeout does it); when no byte of a new request comes before it fires, end the socket.`,
      );
      expectThat(
        conversation.unread.length === 0,
        'no bytes when closing an idle connection',
        () => `${conversation.unread.length} bytes`,
        'Close an idle connection quietly: the client sent no request, so no response is due (a 408 is for a request that started).',
      );
    },
  },
  {
    group: 'hardening',
    name: 'keeps serving others after a client vanishes in the middle of a body',
    hint: hint(
      'A client may go away at any moment (reset): the server cleans up that connection and serves the rest.',
      'Why the real one is longer',
      'connection.ts → Connection.onClose',
    ),
    async run(context) {
      context.reproduce(
        `node -e 'const s = require("net").connect(${context.port}, "${context.host}", () => { s.write("POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\nonly part"); setTimeout(() => s.resetAndDestroy(), 100) })'; sleep 1; curl -v http://${context.host}:${context.port}/`,
      );
      const rude = await open(context, 'the vanishing client');
      rude.send('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of the body');
      await sleep(50);
      rude.reset();
      await sleep(50);
      const { response } = await ask(context, requestBytes('GET', '/'));
      expectStatus(
        response,
        200,
        'A reset on one connection must not stop the server (catch the socket\'s "error" event).',
      );
    },
  },

  // ---- hardening: conformance (RFC 9112 details beyond the limits table) ------------------------
  {
    group: 'hardening',
    name: 'answers 400 to a Host value that is not a host name with an optional port',
    hint: hint(
      'RFC 9112 §3.2: a server must answer 400 to a Host field with an invalid value: a host name or address, then ":port" at most.',
      'Why the real one is longer',
      'grammar.ts → isValidHost',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/1.1\r\nHost: 127.0.0.1/evil\r\n\r\n', 400, {
        close: true,
        advice: 'Check the Host value: letters, digits, "-", "." (or [IPv6]), then an optional ":" and port digits.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers HTTP/1.9 as HTTP/1.1 (a higher minor version is served, not refused)',
    hint: hint(
      'RFC 9110 §6.2: a request with a higher minor version is processed as the highest 1.x the server speaks, and answered as HTTP/1.1.',
      'Why the real one is longer',
      'head.ts → parseVersion',
    ),
    async run(context) {
      const { response } = await ask(context, 'GET /hello?name=nine HTTP/1.9\r\nHost: x\r\n\r\n');
      expectStatus(response, 200, 'Only the major version must be 1: answer HTTP/1.9 as you would HTTP/1.1.');
      expectThat(
        response.version === 'HTTP/1.1',
        'a status line starting "HTTP/1.1"',
        `"${response.version}"`,
        "A server answers in its own version, not the client's.",
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers OPTIONS * with 200, an Allow header and no body',
    hint: hint(
      'RFC 9110 §9.3.7: "OPTIONS *" asks about the server itself, not a resource: 200 with Allow listing its methods, and Content-Length: 0.',
      'Why the real one is longer',
      'errors.ts → sendServerOptions',
    ),
    async run(context) {
      const { response } = await ask(context, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
      expectStatus(
        response,
        200,
        'The target "*" is allowed with OPTIONS only (RFC 9112 §3.2.4): answer it instead of looking for a path.',
      );
      expectHeader(
        response,
        'Allow',
        (value) => value !== undefined && /\bGET\b/.test(value),
        'an Allow header listing the methods, e.g. Allow: GET, HEAD, POST, OPTIONS',
      );
      expectThat(response.body.length === 0, 'no body', `${response.body.length} bytes of body`);
    },
  },
  {
    group: 'hardening',
    name: 'refuses a head mixing CRLF and bare LF line endings (400, then close): no smuggled request runs',
    hint: hint(
      'A proxy that ends lines only at CRLF reads such a head differently (it sees no Content-Length here): refuse the mix, or a hidden request runs.',
      'Why the real one is longer',
      'head.ts → splitLines',
    ),
    run: (context) =>
      expectSmugglingRefused(
        context,
        'GET / HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\nDummy: GET /hello?name=hidden HTTP/1.1\r\nHost: x\r\n\r\n',
        'hidden',
        'Look at each line ending: a head is CRLF throughout, or (leniently) bare LF throughout, never both.',
      ),
  },
  {
    group: 'hardening',
    name: 'answers CONNECT with 405 or 501: this server does not tunnel',
    hint: hint(
      'CONNECT host:port (authority-form, RFC 9112 §3.2.3) asks a proxy for a tunnel; a server that is not one refuses it with 501 (or 405), not 400: the request is well-formed.',
      'Why the real one is longer',
      'head.ts → parseRequestLine',
    ),
    async run(context) {
      const { response } = await ask(context, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      expectThat(
        response.status === 501 || response.status === 405,
        'status 501 or 405',
        `status ${response.status} ${response.reason}`,
        'Accept the authority-form target "host:port" with CONNECT, and say the server does not tunnel.',
      );
    },
  },

  // ---- challenges (README, "Challenges"; solved in part2-tcp-http/solutions/) ----------------
  {
    group: 'challenge 1',
    name: 'GET /static/ serves public/index.html',
    hint: hint(
      'A request for a folder serves its index.html, as most static servers do; the path checks still apply to it.',
      'Challenges',
      'solutions/challenge-1.ts → withFolderIndex',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(Buffer.concat([requestBytes('GET', '/static/'), requestBytes('GET', '/static/index.html')]));
      const folder = await conversation.readResponse();
      const file = await conversation.readResponse();
      expectStatus(file, 200, 'Add public/index.html first.');
      expectStatus(folder, 200, 'A path ending in "/" names a folder: serve the index.html inside it.');
      expectHeader(
        folder,
        'Content-Type',
        (value) => value?.startsWith('text/html') === true,
        'Content-Type: text/html',
      );
      expectThat(
        folder.body.equals(file.body),
        'the same bytes as /static/index.html',
        `${folder.body.length} bytes that differ from /static/index.html's ${file.body.length}`,
      );
    },
  },
  {
    group: 'challenge 2',
    name: 'static files carry Last-Modified, and If-Modified-Since answers 304 with no body',
    hint: hint(
      "RFC 9110 §13.1.3: send Last-Modified (the file's time, an HTTP date); when If-Modified-Since is not older, answer 304 Not Modified.",
      'Challenges',
      'solutions/challenge-2.ts → withLastModified',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/static/hello.txt'));
      const first = await conversation.readResponse();
      expectStatus(first, 200);
      const lastModified = header(first, 'Last-Modified');
      expectThat(
        lastModified !== undefined && !Number.isNaN(Date.parse(lastModified)),
        'a Last-Modified header with an HTTP date',
        lastModified === undefined ? 'no Last-Modified header' : `Last-Modified: ${lastModified}`,
        'new Date(mtime).toUTCString() gives the format.',
      );
      conversation.send(requestBytes('GET', '/static/hello.txt', { headers: [['If-Modified-Since', lastModified]] }));
      const again = await conversation.readResponse({ method: 'GET' });
      expectStatus(again, 304, 'When the file has not changed since If-Modified-Since, answer 304.');
      expectThat(again.body.length === 0, 'no body with 304', `${again.body.length} bytes`);
      conversation.send(
        requestBytes('GET', '/static/hello.txt', { headers: [['If-Modified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT']] }),
      );
      expectStatus(
        await conversation.readResponse(),
        200,
        'A file changed after If-Modified-Since is sent whole (200).',
      );
    },
  },
  {
    group: 'challenge 3',
    name: 'compresses /hello with gzip when the client accepts it, and only then',
    hint: hint(
      'RFC 9110 §8.4, §12.5.3: with "Accept-Encoding: gzip", send the gzipped body, Content-Encoding: gzip, Vary: Accept-Encoding, and the compressed length.',
      'Challenges',
      'solutions/challenge-3.ts → withGzipHello',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        Buffer.concat([
          requestBytes('GET', '/hello?name=Zip'),
          requestBytes('GET', '/hello?name=Zip', { headers: [['Accept-Encoding', 'gzip']] }),
        ]),
      );
      const plain = await conversation.readResponse();
      const zipped = await conversation.readResponse();
      expectHeader(
        plain,
        'Content-Encoding',
        (value) => value === undefined,
        'no Content-Encoding without Accept-Encoding',
      );
      expectHeader(zipped, 'Content-Encoding', (value) => value?.toLowerCase() === 'gzip', 'Content-Encoding: gzip');
      expectHeader(
        zipped,
        'Vary',
        (value) => value?.toLowerCase().includes('accept-encoding') === true,
        'Vary: Accept-Encoding (caches must keep both forms apart)',
      );
      let unzipped: Buffer;
      try {
        unzipped = gunzipSync(zipped.body);
      } catch {
        throw new CheckFailure({
          expected: 'a gzip body',
          seen: `${zipped.body.length} bytes that do not gunzip`,
          advice: "zlib's gzipSync(body) makes one; Content-Length is the compressed length.",
        });
      }
      expectThat(unzipped.equals(plain.body), 'the gunzipped body to equal the plain one', 'a different body');
    },
  },
];
