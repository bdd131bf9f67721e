// Part 2's checks: what an HTTP/1.1 server must do, asked over a raw socket. The routes are the
// ones part 2's site answers (and the ones a workshop server builds):
//
//   GET /                 200, any page
//   GET /hello?name=Ada   200, a body containing "Hello, Ada!" (the name percent-decoded)
//   GET|POST /echo        200, the request as parsed: request line, header lines, then the body
//   anything else         404
//
// Core: what the stage teaches. Hardening: the limits, the framing rules, the timeouts, and the
// finer rules of RFC 9112 and 9110 a server can break while passing everything else, each a way
// clients and attackers break naive servers. Challenges: the README's.
//
// A check fails only what an RFC forbids (a MUST, or a SHOULD it names as one), or the course's
// own policy (a limit, a timeout: `policy` says so and names the option that gives the checker
// another value). Where an RFC allows two answers, both pass. REFERENCE.md, "What the hardening
// checks ask", lists which is which; tests/workshop-part2-rules.test.ts proves it.
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

/** A hint whose lesson is in REFERENCE.md (the finer rules the lesson leaves out), not README.md. */
const reference = (concept: string, heading: string, code: string): Hint => ({
  concept,
  readme: `part2-tcp-http/REFERENCE.md, section "${heading}"`,
  reference: `part2-tcp-http/${code}`,
});

/** An HTTP date in IMF-fixdate form (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

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
 * The server closes the connection after its answer, by the rule, not by a timer: a request sent
 * after the answer is not answered (a server that keeps the connection, and closes it only once
 * it is idle, answers it first).
 */
async function expectClosedAfterAnswer(conversation: Conversation, why: string): Promise<void> {
  const marker = `after${randomWord()}`;
  conversation.send(`GET /hello?name=${marker} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await conversation.waitFor(() => conversation.received.includes(`Hello, ${marker}!`));
  expectThat(
    !conversation.received.toString('latin1').includes(`Hello, ${marker}!`),
    'the connection closed after the answer',
    `it stayed open: a request sent on it after the answer was answered too (${why})`,
  );
  await expectClose(conversation, why);
}

/** The hidden request, `GET /hello?name=<marker>`, was not answered on this connection. */
function expectNoAnswerTo(conversation: Conversation, marker: string, advice: string): void {
  expectThat(
    !conversation.received.toString('latin1').includes(`Hello, ${marker}!`),
    'no answer to the hidden request',
    `an answer to "GET /hello?name=${marker}": a request hidden where a proxy sees none ran`,
    advice,
  );
}

/**
 * A request left unfinished is given up within `timeoutMs` (and a little): 408 and a close, or a
 * close alone (RFC 9112 §9.5 lets a server close a connection at any time).
 */
async function expectGivenUp(conversation: Conversation, timeoutMs: number, advice: string): Promise<void> {
  await conversation.waitFor(() => false, timeoutMs + TIMEOUT_SLACK_MS);
  if (conversation.received.length === 0) {
    expectThat(
      conversation.ended !== null,
      'a 408 and a close, or a close',
      `nothing, and the connection still open after ${timeoutMs + TIMEOUT_SLACK_MS} ms`,
      advice,
    );
    return;
  }
  const response = await conversation.readResponse();
  expectStatus(response, 408, advice);
  await expectClose(conversation, 'a 408 ends the connection');
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
  expectNoAnswerTo(conversation, marker, advice);
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
        ? 'Percent-decode the name: %20 is a space, "+" too in a query (Node: URLSearchParams; Python: urllib.parse.parse_qs).'
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
      'connection.ts → Connection.advance',
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
      '"Connection: close" means this is the last request: answer it, then close the connection (Node: socket.end()).',
      'The loop you will build',
      'head.ts → clientKeepsAlive',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/', { headers: [['Connection', 'close']] }));
      expectStatus(await conversation.readResponse(), 200);
      await expectClosedAfterAnswer(conversation, 'the client asked for "Connection: close"');
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
      'RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host field.',
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
      'RFC 9112 §5.1: a server MUST answer 400 to a field line with whitespace between the name and the colon: a proxy may read "Content-Length : 5" as another field than you do.',
      'Why the real one is longer',
      'head.ts → parseFieldLine',
    ),
    run: (context) =>
      // Not on Host: a server that does not know "Host :" answers 400 for a missing Host anyway.
      expectRefused(context, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello', 400, {
        advice:
          'A field name is a token and ends right at the colon: "Content-Length : 5" is neither "Content-Length: 5" nor a field to ignore. Refuse the request.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers 414 to a request line longer than its limit (course policy: 8 KiB)',
    hint: hint(
      'A server bounds what it buffers: a request line over its limit earns 414 URI Too Long (RFC 9112 §3: a server MUST answer 414 to a target longer than it will parse).',
      'Break it',
      'parser.ts → checkIncompleteHead',
    ),
    policy:
      "how long a request line a server reads is its own choice; the course's refuses one over 8 KiB (MAX_REQUEST_LINE_BYTES). Give yours: --line-limit BYTES.",
    run(context) {
      const digits = context.limits.requestLineBytes + 1000;
      context.reproduce(
        `printf 'GET /%0${digits}d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' 0 | nc -N ${context.host} ${context.port}`,
      );
      return expectRefused(context, `GET /${'0'.repeat(digits)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, {
        advice: `Measure the request line while it arrives; past your limit (here ${context.limits.requestLineBytes} bytes), answer 414.`,
      });
    },
  },
  {
    group: 'hardening',
    name: 'answers 431 (or 400) to a header section larger than its limit (course policy: 16 KiB)',
    hint: hint(
      'Header fields are bounded too: RFC 9110 §5.4, a server MUST answer fields larger than it will process with a 4xx; 431 Request Header Fields Too Large says which.',
      'Why the real one is longer',
      'parser.ts → checkIncompleteHead',
    ),
    policy:
      "how large a header section a server reads is its own choice; the course's refuses one over 16 KiB (MAX_HEADER_BYTES). Give yours: --header-limit BYTES.",
    run(context) {
      const lines = Math.ceil((context.limits.headerBytes + 4096) / 1012);
      context.reproduce(
        `(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n'; for i in $(seq ${lines}); do printf 'X-Filler: %01000d\\r\\n' 0; done; printf '\\r\\n') | nc -N ${context.host} ${context.port}`,
      );
      return expectRefused(
        context,
        `GET / HTTP/1.1\r\nHost: x\r\n${`X-Filler: ${'0'.repeat(1000)}\r\n`.repeat(lines)}\r\n`,
        [431, 400],
        {
          advice: `Count the bytes of the header section as it arrives; past your limit (here ${context.limits.headerBytes} bytes), answer 431.`,
        },
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers 413 to a Content-Length over its body limit (course policy: 1 MiB) before reading the body',
    hint: hint(
      'Refuse a body that is too large from its declared length, before any of it arrives: 413 Content Too Large. Then close, or read and drop the body: what follows it is still body, never a request.',
      'Break it',
      'head.ts → decideFraming',
    ),
    policy:
      "how large a body a server takes is its own choice; the course's refuses one over 1 MiB (MAX_BODY_BYTES). Give yours: --body-limit BYTES.",
    async run(context) {
      const declared = Math.max(9_999_999, context.limits.bodyBytes + 1);
      const marker = 'in-the-body';
      const conversation = await open(context);
      // The body begins with bytes that look like a request: they are body all the same.
      conversation.send(
        `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\nGET /hello?name=${marker} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      const response = await readResponseOr(
        conversation,
        `The server is still waiting for ${declared.toLocaleString('en')} bytes of body, which will never come: compare Content-Length with your limit as soon as the head is parsed, and answer 413 at once.`,
      );
      expectStatus(response, 413, 'Check Content-Length against the limit as soon as the head is parsed.');
      await conversation.waitForClose();
      expectNoAnswerTo(conversation, marker, 'the bytes after the head of a refused body are body, not a request');
    },
  },
  {
    group: 'hardening',
    name: 'refuses (400) or reads by Transfer-Encoding a request with both Content-Length and Transfer-Encoding, then closes: no smuggled request runs',
    hint: hint(
      'Two framings in one request is how requests are smuggled past a proxy. RFC 9112 §6.1: refuse it (400), or read it by Transfer-Encoding alone; either way the server MUST close the connection after answering.',
      'Break it',
      'head.ts → decideFraming',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello?name=smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      const response = await conversation.readResponse();
      if (response.status !== 400) {
        expectStatus(
          response,
          [400, 200],
          'Refuse the request (400), or read its body as chunked, ignoring Content-Length.',
        );
        expectThat(
          !response.body.toString('latin1').includes('smuggled'),
          'the body read as chunked (an empty body: its first chunk has size 0), or a 400',
          'a body read by Content-Length (40 bytes, the hidden request among them)',
          'When both are present, Transfer-Encoding wins (RFC 9112 §6.3), or refuse the request.',
        );
      }
      await expectClose(
        conversation,
        'RFC 9112 §6.1: after a request with both Content-Length and Transfer-Encoding, the server MUST close the connection, however it answered',
      );
      expectNoAnswerTo(conversation, 'smuggled', 'a proxy that framed by Content-Length never saw this request');
    },
  },
  {
    group: 'hardening',
    name: 'refuses a Transfer-Encoding that does not end in chunked (400 or 501), then closes',
    hint: hint(
      'When chunked is not the final transfer coding, nothing says where the body ends: RFC 9112 §6.3, the server MUST answer 400 and close. 501 (a coding the server does not implement, §6.1 SHOULD) passes too.',
      'Why the real one is longer',
      'head.ts → decideFraming',
    ),
    async run(context) {
      await expectRefused(context, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', [400, 501], {
        close: true,
        advice: 'Only a Transfer-Encoding ending in "chunked" frames a body; refuse the rest.',
      });
      // "chunked" in the list is not enough: it must be the last coding.
      const conversation = await open(context);
      conversation.send(
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /hello?name=hidden HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      expectStatus(
        await conversation.readResponse(),
        [400, 501],
        'Look at the last coding of the list: "chunked, identity" does not end in chunked, so the body\'s end is unknown. Refuse it.',
      );
      await expectClose(conversation, 'the framing of a refused request is in doubt');
      expectNoAnswerTo(conversation, 'hidden', 'the body of a request with no known length cannot be read');
    },
  },
  {
    group: 'hardening',
    name: 'answers 505 to HTTP/2.0 on this HTTP/1.1 connection',
    hint: hint(
      'The version is the third word of the request line: HTTP/1.0 and HTTP/1.1 are served, 2.0 here earns 505 (RFC 9110 §15.6.6).',
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
      'Chunk data must be followed by \\r\\n exactly; anything else means the sizes are wrong, and nothing after can be trusted (RFC 9112 §7.1).',
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
    name: 'answers 400 to a NUL byte in a header value, or reads it as a space',
    hint: hint(
      'RFC 9110 §5.5: a recipient MUST either refuse a field value holding NUL, CR or LF, or replace each with a space before using it; a NUL has fooled servers written in C.',
      'Why the real one is longer',
      'head.ts → parseFieldLine',
    ),
    async run(context) {
      const { response } = await ask(context, 'GET /echo HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n');
      if (response.status === 400) return;
      expectStatus(response, [400, 200], 'Refuse the request (400), or replace the NUL with a space.');
      const echoed = response.body.toString('latin1');
      expectThat(
        echoed.includes('X-Bad: a b') && !echoed.includes('\x00'),
        'a 400, or the NUL replaced by a space: "X-Bad: a b" in the echo',
        echoed.includes('\x00') ? 'the NUL byte kept in the value' : `an echo without "X-Bad: a b"`,
        'Refuse bytes 0x00-0x1F (except tab) and 0x7F in a value, or replace NUL, CR and LF with a space.',
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers 408 (or closes) when a request head does not complete in time (course policy: 10 s)',
    hint: hint(
      'A client that starts a request and never finishes it holds a connection: bound the head with a deadline, then answer 408 Request Timeout and close (or just close: RFC 9112 §9.5 lets a server close an idle connection).',
      'Break it',
      'connection.ts → Connection.checkDeadline',
    ),
    policy:
      "how long a server waits for a head is its own choice; the course's waits 10 s (HEAD_TIMEOUT_MS). Give yours: --head-timeout MS.",
    async run(context) {
      const conversation = await open(context);
      conversation.send('GET / HTTP/1.1\r\nHost: x\r\n');
      await expectGivenUp(
        conversation,
        context.timeouts.headMs,
        `Start a timer (here ${context.timeouts.headMs} ms) when a request begins; when it fires before the empty line has come, answer 408 and close (Node: a setTimeout per connection, or one interval for all).`,
      );
    },
  },
  {
    group: 'hardening',
    name: 'closes an idle keep-alive connection quietly (course policy: after 5 s)',
    hint: hint(
      'An open connection costs a file descriptor: close it when no request comes for a while (quietly: no request, no answer). RFC 9112 §9.5 lets a server close an idle connection at any time.',
      'Why the real one is longer',
      'connection.ts → Connection.checkDeadline',
    ),
    policy:
      "how long a server keeps an idle connection is its own choice (nginx: 75 s); the course's closes after 5 s (IDLE_TIMEOUT_MS). Give yours: --idle-timeout MS.",
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/'));
      await conversation.readResponse();
      const closed = await conversation.waitForClose(context.timeouts.idleMs + TIMEOUT_SLACK_MS);
      expectThat(
        closed,
        'the server to close the connection',
        `it stayed open with no request for ${context.timeouts.idleMs + TIMEOUT_SLACK_MS} ms`,
        `After each response, start a timer (here ${context.timeouts.idleMs} ms); when no byte of a new request comes before it fires, close the connection (Node: socket.setTimeout, then socket.end()).`,
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
        `node -e 'const s = require("net").connect(${context.port}, "${context.host}", () => { s.write("POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\nonly part of the body"); setTimeout(() => s.resetAndDestroy(), 100) })'; sleep 1; curl -v http://${context.host}:${context.port}/`,
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
        "A reset on one connection must not stop the server: a read or write on it fails (ECONNRESET), and that failure ends that connection only (Node: give every socket an 'error' listener; Python: catch ConnectionResetError in the connection's thread).",
      );
    },
  },

  // ---- hardening: conformance (RFC 9112 details beyond the limits table) ------------------------
  {
    group: 'hardening',
    name: 'answers 400 to a Host value that is not a host name with an optional port',
    hint: hint(
      'RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value: a host name or address, then ":port" at most.',
      'Why the real one is longer',
      'grammar.ts → isValidHost',
    ),
    run: (context) =>
      expectRefused(context, 'GET / HTTP/1.1\r\nHost: 127.0.0.1/evil\r\n\r\n', 400, {
        advice: 'Check the Host value: letters, digits, "-", "." (or [IPv6]), then an optional ":" and port digits.',
      }),
  },
  {
    group: 'hardening',
    name: 'answers HTTP/1.9 as HTTP/1.1 (a higher minor version is served, not refused)',
    hint: hint(
      'RFC 9110 §6.2: a request with a higher minor version SHOULD be processed as the highest 1.x the server speaks (its rules too: Host required), and is answered as HTTP/1.1.',
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
      // Processed as HTTP/1.1, not as 1.0: so a Host is required.
      const { response: hostless } = await ask(context, 'GET /hello?name=nine HTTP/1.9\r\n\r\n');
      expectStatus(
        hostless,
        400,
        'HTTP/1.9 is processed as HTTP/1.1, whose rules hold for it: without Host, 400 (RFC 9112 §3.2). Compare the version as numbers (major 1, minor >= 1), not as the string "HTTP/1.1".',
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers OPTIONS * with 200 and an Allow header (or 501: OPTIONS is optional)',
    hint: hint(
      'RFC 9110 §9.3.7: "OPTIONS *" asks about the server itself, not a resource: 200 with Allow listing its methods (a SHOULD), and Content-Length: 0 if there is no body. A server may leave OPTIONS out (§9.1): 501.',
      'Why the real one is longer',
      'errors.ts → sendServerOptions',
    ),
    async run(context) {
      const { response } = await ask(context, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
      if (response.status === 501) return;
      expectStatus(
        response,
        [200, 501],
        'The target "*" is allowed with OPTIONS only (RFC 9112 §3.2.4): answer it instead of looking for a path.',
      );
      expectHeader(
        response,
        'Allow',
        (value) => value !== undefined && /\bGET\b/.test(value),
        'an Allow header listing the methods, e.g. Allow: GET, HEAD, POST, OPTIONS (RFC 9110 §9.3.7: SHOULD)',
      );
      expectFramed(response);
    },
  },
  {
    group: 'hardening',
    name: 'reads a head mixing CRLF and bare LF as a CRLF-only proxy would, or refuses it (400): no smuggled request runs',
    hint: hint(
      'A proxy that ends lines only at CRLF reads "Dummy: x\\nContent-Length: 23" as one field (so: no body); a server that ends lines at the bare LF too sees a body, and a hidden request after it. Refuse the mix (400, and close), or treat the bare LF as a space (RFC 9110 §5.5), as the proxy does.',
      'Why the real one is longer',
      'head.ts → splitLines',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        'GET /echo HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\nDummy: GET /hello?name=hidden HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      const advice =
        'Look at each line ending: a head is CRLF throughout, or (leniently) bare LF throughout, never both. Refuse a mix, or read a bare LF inside a CRLF line as a space.';
      const first = await conversation.readResponse();
      if (first.status === 400) {
        await expectClose(conversation, 'the framing of a refused request is in doubt');
      } else {
        expectStatus(first, [400, 200], advice);
        expectBodyContains(
          first,
          'Dummy: x Content-Length: 23',
          'Read as a CRLF-only proxy reads it, "Dummy: x\\nContent-Length: 23" is one field whose value holds a bare LF; RFC 9110 §5.5: a recipient MUST refuse the request or replace the LF with a space ("Dummy: x Content-Length: 23"), never keep it.',
        );
        // Read as the proxy reads it, a second request follows: "GET /" with a Dummy field.
        if (conversation.ended === null) await conversation.readResponse().catch(() => undefined);
      }
      expectNoAnswerTo(conversation, 'hidden', advice);
    },
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

  // ---- hardening: what a server must do that the lesson does not show (REFERENCE.md) ----------
  {
    group: 'hardening',
    name: 'refuses an invalid Content-Length, two different values or a digit outside 0-9 (400, then close): no smuggled request runs',
    hint: reference(
      'RFC 9112 §6.3: a Content-Length that is not one decimal number (two different values, a "²") leaves the framing unknown; the server MUST answer 400 and close.',
      'What the hardening checks ask',
      'head.ts → decideFraming',
    ),
    async run(context) {
      await expectSmugglingRefused(
        context,
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nGET /hello?name=smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
        'smuggled',
        'Two Content-Length values that differ: whichever you take, a proxy may take the other. Refuse the request.',
      );
      // "²" is a digit to some languages (Python's str.isdigit, Unicode's \d), but not to HTTP.
      await expectRefused(
        context,
        Buffer.from('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ²\r\n\r\nab', 'utf8'),
        400,
        {
          close: true,
          advice:
            'A Content-Length is ASCII digits 0-9 only: test each byte, not "is it a digit" (Python\'s "²".isdigit() is True, and int() then fails).',
          ifSilent:
            "No answer: did reading this Content-Length fail inside the server (an exception in that connection's thread or handler)? Every request gets an answer: here 400.",
        },
      );
    },
  },
  {
    group: 'hardening',
    name: 'closes the connection after answering HTTP/1.0 without keep-alive, or a request with Connection: keep-alive, close',
    hint: reference(
      'RFC 9112 §9.3: an HTTP/1.0 connection closes after the response unless the request asked "Connection: keep-alive"; §9.6: a server that receives the "close" option MUST close after its response, even beside keep-alive. And no chunked answer to HTTP/1.0 (§6.1).',
      'What the hardening checks ask',
      'head.ts → clientKeepsAlive',
    ),
    async run(context) {
      const requests: Array<[string, string]> = [
        ['GET /hello?name=ten HTTP/1.0\r\nHost: x\r\n\r\n', 'HTTP/1.0 without "Connection: keep-alive"'],
        [
          'GET /hello?name=eleven HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n',
          '"close" among the options',
        ],
        [
          'GET /hello?name=ten HTTP/1.0\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n',
          '"close" among the options',
        ],
      ];
      for (const [bytes, why] of requests) {
        const { conversation, response } = await ask(context, bytes);
        expectStatus(response, 200);
        expectThat(
          !(bytes.includes('HTTP/1.0\r\n') && response.framing === 'chunked'),
          'a body framed by Content-Length (or by the close)',
          'Transfer-Encoding: chunked, which an HTTP/1.0 client cannot read',
          'RFC 9112 §6.1: a server MUST NOT send Transfer-Encoding to an HTTP/1.0 request.',
        );
        await expectClosedAfterAnswer(
          conversation,
          `${why}: the connection ends with this response. Read Connection as a comma-separated list of options, and close when it holds "close", or when the version is 1.0 and it does not hold "keep-alive"`,
        );
      }
    },
  },
  {
    group: 'hardening',
    name: 'sends a Date header with the current time, in HTTP date format',
    hint: reference(
      'RFC 9110 §6.6.1: an origin server with a clock MUST send Date in its 2xx, 3xx and 4xx answers, in IMF-fixdate format (§5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT", in UTC.',
      'What the hardening checks ask',
      'response.ts → ResponseWriter.sendWhole',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        Buffer.concat([requestBytes('GET', '/'), requestBytes('GET', `/no-such-page-${randomWord()}`)]),
      );
      for (const response of [await conversation.readResponse(), await conversation.readResponse()]) {
        const date = header(response, 'Date');
        const advice =
          'Format the current time in UTC: day name, day, month name, year, hh:mm:ss, then "GMT" (Node: new Date().toUTCString(); Python: email.utils.formatdate(usegmt=True)).';
        expectThat(
          date !== undefined && IMF_FIXDATE.test(date),
          `a Date header like "Sun, 06 Nov 1994 08:49:37 GMT" on the ${response.status} answer`,
          date === undefined ? 'no Date header' : `Date: ${date}`,
          advice,
        );
        const skew = Math.abs(Date.parse(date) - Date.now());
        expectThat(
          skew < 15 * 60_000,
          "the current time, in UTC (the checker's clock and your server's are the same machine's)",
          `Date: ${date}, ${Math.round(skew / 60_000)} minutes off`,
          `${advice} A local time labelled GMT is off by the time zone.`,
        );
      }
    },
  },
  {
    group: 'hardening',
    name: 'ignores an empty line before a request line',
    hint: reference(
      'RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before a request line: some clients send one after a POST body.',
      'What the hardening checks ask',
      'parser.ts → readHead',
    ),
    async run(context) {
      const name = randomWord();
      const conversation = await open(context);
      conversation.send(Buffer.concat([Buffer.from('\r\n'), requestBytes('GET', `/hello?name=${name}`)]));
      const response = await conversation.readResponse();
      expectStatus(response, 200, 'Skip empty lines (\\r\\n) where a request line is expected, then read the request.');
      expectBodyContains(response, `Hello, ${name}!`);
    },
  },
  {
    group: 'hardening',
    name: 'answers 408 (or closes) when a request body stops arriving (course policy: 10 s)',
    hint: reference(
      'A body that stops arriving holds a connection as a slow head does: bound the wait between two reads of a body, then answer 408 and close (or just close).',
      'What the hardening checks ask',
      'connection.ts → Connection.checkDeadline',
    ),
    policy:
      "how long a server waits for the rest of a body is its own choice; the course's waits 10 s between two reads (BODY_TIMEOUT_MS). Give yours: --body-timeout MS.",
    async run(context) {
      const conversation = await open(context);
      conversation.send('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of the body');
      await expectGivenUp(
        conversation,
        context.timeouts.bodyMs,
        `While a body is awaited, time each wait for more bytes (here ${context.timeouts.bodyMs} ms); when it runs out, answer 408 and close (Node: the same timer as the head's; Python: socket.settimeout on the connection).`,
      );
    },
  },
  {
    group: 'hardening',
    name: 'refuses many tiny chunks with long chunk extensions (a 4xx): their bytes are bounded (course policy: 16 KiB)',
    hint: reference(
      'RFC 9112 §7.1.1: chunk extensions are ignored, but a server ought to limit their total length and answer 4xx past it; without a bound, a body of 1-byte chunks each with 1 KiB of extensions puts a gigabyte on the wire for a megabyte of body (Node: CVE-2024-22019).',
      'What the hardening checks ask',
      'parser.ts → parseChunkSizeLine',
    ),
    policy:
      "the RFC gives no number; the course's allows 16 KiB of extensions per body (MAX_CHUNK_EXTENSION_BYTES, 413). The check sends more extension bytes than your body limit (--body-limit), so a server that counts them toward it passes too.",
    async run(context) {
      const extension = '0'.repeat(1000);
      const chunks = Math.ceil((context.limits.bodyBytes + 64 * 1024) / 1000);
      context.reproduce(
        `(printf 'POST /echo HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'; for i in $(seq ${chunks}); do printf '1;%01000d\\r\\nX\\r\\n' 0; done; printf '0\\r\\n\\r\\n') | nc -N ${context.host} ${context.port}`,
      );
      const conversation = await open(context);
      conversation.send('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      // 64 chunks (64 KiB) a write, until all are sent or the server has answered.
      const piece = `1;${extension}\r\nX\r\n`.repeat(64);
      for (
        let sent = 0;
        sent < chunks && conversation.received.length === 0 && conversation.ended === null;
        sent += 64
      ) {
        conversation.send(piece);
        await conversation.waitFor(() => !conversation.socket.writableNeedDrain || conversation.received.length > 0);
      }
      if (conversation.received.length === 0 && conversation.ended === null) conversation.send('0\r\n\r\n');
      const response = await conversation.readResponse();
      expectThat(
        response.status >= 400 && response.status < 500,
        'a 4xx (413, or 400) before the extensions pass your limit',
        `status ${response.status} ${response.reason}, after ${(chunks * 1008).toLocaleString('en')} bytes of chunked body for ${chunks.toLocaleString('en')} bytes of data`,
        'Count the bytes of the chunk-size lines (the extensions after ";") of one body, and refuse the request past a limit: 413, then close.',
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers 400 to a "#" in the request target: a target has no fragment',
    hint: reference(
      'RFC 9112 §3.2: a request-target is a path and a query; "#" is in neither (a fragment stays in the browser). An invalid request line SHOULD get 400 (or a 301 to the right target, §3).',
      'What the hardening checks ask',
      'target.ts → checkTarget',
    ),
    run: (context) =>
      expectRefused(context, 'GET /hello?name=a#b HTTP/1.1\r\nHost: x\r\n\r\n', [400, 301], {
        advice:
          'Refuse a target holding "#": it is no part of a request-target, and two servers may cut it in two places (after "a", or not at all).',
      }),
  },
  {
    group: 'hardening',
    name: 'accepts an absolute-form target (GET http://host/path), and answers 400 when its host is not valid',
    hint: reference(
      'RFC 9112 §3.2.2: a server MUST accept the absolute-form "http://host/path" (a proxy\'s form), and takes the host from it; a host that is not valid makes the target invalid: 400.',
      'What the hardening checks ask',
      'target.ts → checkTarget',
    ),
    async run(context) {
      const name = randomWord();
      const { response } = await ask(context, `GET http://localhost/hello?name=${name} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expectStatus(
        response,
        200,
        'A target may be a whole URL: "http://" and a host, then the path. Take the path (and query) from after the host.',
      );
      expectBodyContains(response, `Hello, ${name}!`, 'The path of http://localhost/hello?name=... is /hello?name=...');
      await expectRefused(context, 'GET http://a"<b>x/hello?name=evil HTTP/1.1\r\nHost: x\r\n\r\n', [400, 301], {
        advice:
          'The host of an absolute-form target stands in for Host: check it as you check a Host value (a name or address, an optional port, no "@").',
      });
    },
  },
  {
    group: 'hardening',
    name: 'reads a Content-Length and a chunk size written with leading zeros (0005)',
    hint: reference(
      'RFC 9112 §6.2 and §7.1: a Content-Length is 1*DIGIT and a chunk size 1*HEXDIG, so "0005" is five, and "000" ends a chunked body. Read numbers as numbers.',
      'What the hardening checks ask',
      'grammar.ts → significantDigits',
    ),
    async run(context) {
      const word = randomWord();
      const { response: fixed } = await ask(
        context,
        `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 000${word.length}\r\n\r\n${word}`,
      );
      expectEchoOf(fixed, [word]);
      const size = word.length.toString(16).padStart(6, '0');
      const { response: chunked } = await ask(
        context,
        `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${word}\r\n000\r\n\r\n`,
      );
      expectEchoOf(chunked, [word]);
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
