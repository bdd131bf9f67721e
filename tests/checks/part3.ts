// Part 3's checks: what a gateway must do for the applications it serves, asked over a raw
// socket. The checker starts your gateway with its own app, the probe (probe-app.ts), whose
// paths report what the app received (/environ, /input, /report) or break one rule of the
// contract on purpose (/fail-before, /fail-mid-stream, /hop-by-hop).
//
// Core: the contract's everyday half (environ, startResponse, bodies in, bodies out, HEAD, a
// crash before anything was sent). Hardening: its harder rules (the deferred head, a failure
// mid-stream, the body closed, hop-by-hop headers, a client that leaves, a client that reads
// slowly, what read(size) and readline() give). Challenges: the README's.
import { CheckFailure, expectThat, type Check, type CheckContext, type Hint } from './check.ts';
import {
  ask,
  expectBodyContains,
  expectFramed,
  expectHeader,
  expectStatus,
  open,
  randomWord,
  requestBytes,
  sleep,
} from './http.ts';
import { BIG_CHUNKS, PROBE_MARKER } from './probe-app.ts';
import { printfEscape } from './report.ts';
import { header, headerValues, parseResponse, type Conversation, type HttpResponse } from './wire.ts';

const README = 'part3-gateway/README.md';
/** What makes the probe throw when it reads the body. */
const INPUT_FAILED =
  "The probe app reads environ['gateway.input'] with read(4096): is it there, with an async read(size) that resolves to bytes, and an empty Uint8Array at the end?";
const hint = (concept: string, readme: string, reference: string): Hint => ({
  concept,
  readme: `${README}, section "${readme}"`,
  reference: `part3-gateway/${reference}`,
});

/** A hint whose lesson is in REFERENCE.md (the contract's rules for a failing app), not README.md. */
const reference = (concept: string, heading: string, code: string): Hint => ({
  concept,
  readme: `part3-gateway/REFERENCE.md, section "${heading}"`,
  reference: `part3-gateway/${code}`,
});

/** Where to look when the probe app threw: the server's log. */
const APP_FAILED =
  'A 500 here means the probe app threw (or your gateway did): the error is in your server\'s log, the lines starting with "[your server]" above (with --port, the terminal where the gateway runs).';

/** The body of a response as JSON (the probe's /environ, /input and /report answer JSON). `onFailure`: what may have made the probe throw. */
function json(response: HttpResponse, onFailure = ''): Record<string, unknown> {
  if (response.status === 500)
    throw new CheckFailure({
      expected: 'status 200',
      seen: `status 500 ${response.reason}`,
      caretAt: response.start + 9,
      advice: `${APP_FAILED}${onFailure === '' ? '' : ` ${onFailure}`}`,
    });
  expectStatus(
    response,
    200,
    'The probe app answered 200 here; the gateway must send the status it gave startResponse.',
  );
  try {
    return JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new CheckFailure({
      expected: "the probe app's JSON body, unchanged",
      seen: `a body that is not JSON: ${JSON.stringify(response.body.toString('latin1').slice(0, 200))}`,
      advice: 'Send the chunks the app returns, every byte, in order, and nothing else.',
    });
  }
}

/** One environ key the probe reported must have this value. */
function expectKey(environ: Record<string, unknown>, key: string, expected: unknown, advice: string): void {
  const seen = environ[key];
  expectThat(
    JSON.stringify(seen) === JSON.stringify(expected),
    `environ['${key}'] to be ${JSON.stringify(expected)}`,
    seen === undefined ? `no ${key} key in the environ` : `environ['${key}'] = ${JSON.stringify(seen)}`,
    advice,
  );
}

/** One field of the probe's own answer (not the environ: what it read, how, in what pieces). */
function expectAnswer(answer: Record<string, unknown>, field: string, expected: unknown, advice: string): void {
  const seen = answer[field];
  expectThat(
    JSON.stringify(seen) === JSON.stringify(expected),
    `the probe app's "${field}" to be ${JSON.stringify(expected)}`,
    seen === undefined ? `no "${field}" in the probe app's answer` : `"${field}": ${JSON.stringify(seen)}`,
    advice,
  );
}

function expectNoKey(environ: Record<string, unknown>, key: string, advice: string): void {
  const keys = Array.isArray(environ.keys) ? (environ.keys as unknown[]) : Object.keys(environ);
  expectThat(
    !keys.includes(key),
    `no ${key} key in the environ`,
    `environ['${key}'] = ${JSON.stringify(environ[key])}`,
    advice,
  );
}

/** GET a probe path on a new connection and read its JSON answer. */
async function probe(
  context: CheckContext,
  target: string,
  options: Parameters<typeof requestBytes>[2] = {},
  method = 'GET',
): Promise<Record<string, unknown>> {
  const { response } = await ask(context, requestBytes(method, target, options));
  return json(response);
}

/** Ask /report?id= until `done` says what it reports is final, or `ms` pass: the probe's counts, as they then are. */
async function reportUntil(
  context: CheckContext,
  id: string,
  done: (report: Record<string, unknown>) => boolean,
  ms = 2_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const report = await probe(context, `/report?id=${id}`);
    if (done(report) || Date.now() > deadline) return report;
    // Only the last of these look-ups is worth showing in a report: forget the others.
    context.transcripts.pop()?.close?.();
    await sleep(50);
  }
}

/** Wait for the first line of an answer: the status line, even if the rest never comes. */
async function statusLine(conversation: Conversation): Promise<string> {
  await conversation.waitFor(() => conversation.received.includes('\r\n'));
  const text = conversation.received.toString('latin1');
  return text.slice(0, Math.max(0, text.indexOf('\r\n')));
}

/**
 * Send `bytes` on a new connection and read the answer; when none can be read, fail with the
 * check's own advice (what the gateway should have done), not the reader's general one.
 */
async function askOr(context: CheckContext, bytes: Buffer, advice: string): Promise<HttpResponse> {
  const conversation = await open(context);
  conversation.send(bytes);
  try {
    return await conversation.readResponse();
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    throw new CheckFailure({ expected: 'status 500', seen: error.seen, caretAt: error.caretAt, advice });
  }
}

/** A second request, on a new connection, is answered: one app's failure did not stop the gateway. */
async function expectStillServing(context: CheckContext, after: string): Promise<void> {
  const name = randomWord();
  const { response } = await ask(context, requestBytes('GET', `/hello?name=${name}`));
  expectStatus(
    response,
    200,
    `After ${after}, the gateway must go on serving: catch the app's errors per request, never let them stop the process.`,
  );
  expectBodyContains(response, `Hello, ${name}!`);
}

/** A curl command for a request to the probe, then its report: what to run by hand to see the counts. */
function reproduceWithReport(context: CheckContext, curlOptions: string, path: string, tag: string): void {
  const base = `http://${context.host}:${context.port}`;
  context.reproduce(`curl ${curlOptions} '${base}${path}'; curl -s '${base}/report?id=${tag}'`);
}

/**
 * The answer to /hello came from another app than the probe (no marker header, not its text, and
 * not the gateway's own 5xx): the gateway was started with some other app. Say so first, or
 * every check after would fail with advice about a gateway that may well be right.
 */
function expectProbeApp(context: CheckContext, response: HttpResponse, name: string): void {
  const [markerName, markerValue] = PROBE_MARKER;
  if (
    header(response, markerName) === markerValue ||
    response.body.toString('latin1').includes(`Hello, ${name}!`) ||
    response.status >= 500
  )
    return;
  throw new CheckFailure({
    expected: `the probe app's answer ("Hello, ${name}!", with ${markerName}: ${markerValue})`,
    seen: `status ${response.status} ${response.reason}, without ${markerName}: another app answers on this port`,
    advice: `Start the gateway with the checker's app, the probe: npx tsx your-gateway.ts tests/checks/probe-app.ts --port ${context.port} (the course's: npm run part3 -- tests/checks/probe-app.ts --port ${context.port}); a gateway file given to the checker must load the app file named on its command line.`,
  });
}

const id = (): string => `${randomWord()}-${Date.now().toString(36)}`;

export const part3Checks: Check[] = [
  // ---- core ------------------------------------------------------------------------------
  {
    group: 'core',
    name: 'calls the app for a request and sends what it answers (GET /hello?name=...)',
    hint: hint(
      'For each request the gateway calls application(environ, startResponse), then sends the status and headers given to startResponse and the chunks the app returned.',
      'One request through the gateway',
      'server.ts → createGatewayHandler',
    ),
    async run(context) {
      const name = randomWord();
      context.reproduce(`curl -v 'http://${context.host}:${context.port}/hello?name=${name}'`);
      const { response } = await ask(context, requestBytes('GET', `/hello?name=${name}`));
      expectProbeApp(context, response, name);
      expectStatus(
        response,
        200,
        'The probe app calls startResponse("200 OK", ...) and returns [bytes]: build an environ, call the app, send its answer.',
      );
      expectBodyContains(
        response,
        `Hello, ${name}!`,
        'The body is the chunks the app returned; the app read the name from environ.QUERY_STRING.',
      );
      expectFramed(response);
    },
  },
  {
    group: 'core',
    name: 'builds the CGI keys from the request: REQUEST_METHOD, SCRIPT_NAME, PATH_INFO decoded, QUERY_STRING raw, SERVER_*',
    hint: hint(
      'PATH_INFO is the path percent-decoded as UTF-8; QUERY_STRING is what follows "?", raw; SERVER_NAME and SERVER_PORT come from Host.',
      'The environ, beside the bytes it came from',
      'environ.ts → buildEnviron',
    ),
    async run(context) {
      const word = randomWord();
      context.reproduce(
        `curl -s -H 'Host: probe.example:8123' 'http://${context.host}:${context.port}/environ/caf%C3%A9/${word}%20x?b=x%20y&a=${word}'`,
      );
      const environ = await probe(context, `/environ/caf%C3%A9/${word}%20x?b=x%20y&a=${word}`, {
        host: 'probe.example:8123',
      });
      expectKey(environ, 'REQUEST_METHOD', 'GET', 'The method, exactly as in the request line.');
      expectKey(
        environ,
        'SCRIPT_NAME',
        '',
        "An app served at the root has SCRIPT_NAME '' (the mount point; empty here).",
      );
      expectKey(
        environ,
        'PATH_INFO',
        `/environ/café/${word} x`,
        'The path without the query, percent-decoded as UTF-8 (decodeURIComponent): %C3%A9 is é, %20 a space.',
      );
      expectKey(
        environ,
        'QUERY_STRING',
        `b=x%20y&a=${word}`,
        'What follows the "?", exactly as sent: the app decodes it, not the gateway.',
      );
      expectKey(environ, 'SERVER_PROTOCOL', 'HTTP/1.1', 'The version from the request line.');
      expectKey(environ, 'SERVER_NAME', 'probe.example', 'The host name from the Host header, without its port.');
      expectKey(environ, 'SERVER_PORT', '8123', 'The port from the Host header, as a string.');
    },
  },
  {
    group: 'core',
    name: 'turns each request header into an HTTP_* key, and Content-Type/Length into CONTENT_TYPE/LENGTH only when sent',
    hint: hint(
      'User-Agent becomes HTTP_USER_AGENT (upper case, "-" as "_"); Content-Type and Content-Length have keys without HTTP_, present only when the request has them.',
      'The environ, beside the bytes it came from',
      'environ.ts → buildEnviron',
    ),
    async run(context) {
      const word = randomWord();
      const get = await probe(context, '/environ', {
        headers: [
          ['X-Probe-Word', word],
          ['User-Agent', 'probe/1.0'],
          ['Accept-Language', 'fr'],
        ],
      });
      expectKey(
        get,
        'HTTP_X_PROBE_WORD',
        word,
        'X-Probe-Word → HTTP_X_PROBE_WORD: "HTTP_" + the name in upper case with "-" as "_".',
      );
      expectKey(get, 'HTTP_USER_AGENT', 'probe/1.0', 'Every request header gets its HTTP_* key.');
      expectKey(get, 'HTTP_ACCEPT_LANGUAGE', 'fr', 'Every request header gets its HTTP_* key.');
      expectKey(get, 'HTTP_HOST', 'localhost', 'Host too: HTTP_HOST.');
      expectNoKey(
        get,
        'CONTENT_TYPE',
        'A GET without a body has no Content-Type: leave the key out (not "", not undefined).',
      );
      expectNoKey(get, 'CONTENT_LENGTH', 'A GET without a body has no Content-Length: leave the key out.');
      const post = await probe(
        context,
        '/environ',
        { headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `word=${word}` },
        'POST',
      );
      expectKey(
        post,
        'CONTENT_TYPE',
        'application/x-www-form-urlencoded',
        'The Content-Type header goes to CONTENT_TYPE (CGI, RFC 3875 §4.1.3).',
      );
      expectKey(
        post,
        'CONTENT_LENGTH',
        String(`word=${word}`.length),
        'The Content-Length header goes to CONTENT_LENGTH, as a string.',
      );
      expectNoKey(post, 'HTTP_CONTENT_TYPE', 'Content-Type appears only as CONTENT_TYPE, never as HTTP_CONTENT_TYPE.');
      expectNoKey(
        post,
        'HTTP_CONTENT_LENGTH',
        'Content-Length appears only as CONTENT_LENGTH, never as HTTP_CONTENT_LENGTH.',
      );
    },
  },
  {
    group: 'core',
    name: "gives the app the gateway's own keys: gateway.version, gateway.url_scheme, gateway.input, gateway.errors",
    hint: hint(
      "Besides the CGI keys the environ holds the server's: the contract version [1, 0], the scheme, the body stream (read) and the error log (write).",
      'The environ, beside the bytes it came from',
      'environ.ts → buildEnviron',
    ),
    async run(context) {
      const environ = await probe(context, '/environ');
      expectKey(environ, 'gateway.version', [1, 0], "environ['gateway.version'] is the contract's version, [1, 0].");
      expectKey(environ, 'gateway.url_scheme', 'http', "environ['gateway.url_scheme'] is 'http' (no TLS here).");
      expectKey(
        environ,
        'typeof gateway.input.read',
        'function',
        "environ['gateway.input'] is the request body: an object with read(size?) and readline(size?).",
      );
      expectKey(
        environ,
        'typeof gateway.errors.write',
        'function',
        "environ['gateway.errors'] is the error log: an object with write(text) and flush().",
      );
    },
  },
  {
    group: 'core',
    name: 'sends the status the app gave startResponse, its reason phrase included',
    hint: hint(
      'startResponse("422 Unprocessable Probe", headers): the status line is HTTP/1.1, the code, and the app\'s reason phrase.',
      'Write your own app',
      'start-response.ts → PendingResponse.sendHead',
    ),
    async run(context) {
      const reason = `Unprocessable ${randomWord()}`;
      const { response } = await ask(
        context,
        requestBytes('GET', `/status?code=422&reason=${encodeURIComponent(reason)}`),
      );
      expectStatus(response, 422, 'Send the code the app gave startResponse.');
      expectThat(
        response.reason === reason,
        `the reason phrase "${reason}"`,
        `"${response.reason}"`,
        "Send the app's own reason phrase: everything after the code and its space.",
      );
    },
  },
  {
    group: 'core',
    name: "sends the app's headers in its order, a repeated Set-Cookie kept as two lines",
    hint: hint(
      'Headers are [name, value] pairs, in order, and a name may repeat: Set-Cookie must never be joined into one line (RFC 6265 §3).',
      'Write your own app',
      'start-response.ts → PendingResponse.sendHead',
    ),
    async run(context) {
      const { response } = await ask(context, requestBytes('GET', '/headers'));
      expectStatus(response, 200);
      const names = response.headers
        .map(([name]) => name.toLowerCase())
        .filter((name) => name.startsWith('x-probe') || name === 'set-cookie' || name === 'content-type');
      const expected = ['x-probe-first', 'set-cookie', 'content-type', 'set-cookie', 'x-probe-last'];
      expectThat(
        names.join(',') === expected.join(','),
        `the app's headers in its order: ${expected.join(', ')}`,
        `${names.join(', ') || 'none of them'}`,
        'Write the pairs as a list, in order; an object or a Map keyed by name loses a repeated Set-Cookie.',
      );
      expectThat(
        headerValues(response, 'Set-Cookie').join('|') === 'a=1|b=2',
        'Set-Cookie: a=1 and Set-Cookie: b=2 on two lines',
        `Set-Cookie: ${headerValues(response, 'Set-Cookie').join(' / ')}`,
      );
    },
  },
  {
    group: 'core',
    name: 'sends an array body with a Content-Length it computed',
    hint: hint(
      'An array is a body whose length is known before anything is sent: add up the chunks and send Content-Length, not chunked.',
      'Write your own app',
      'start-response.ts → PendingResponse.checkWholeBody',
    ),
    async run(context) {
      const { response } = await ask(context, requestBytes('GET', '/chunks'));
      expectStatus(response, 200);
      const headSentEarly = header(response, 'Content-Length') === undefined && response.framing !== 'length';
      const advice = headSentEarly
        ? `The head went out ${response.framing === 'chunked' ? 'chunked' : 'with no length'}. If your gateway sends it when the app calls startResponse, it cannot know the body yet: hold the head until the first body bytes (or the end of the body), as hardening check 14 also asks; by then the app has returned its array, and the head can carry its length (4 + 4 + 6 bytes).`
        : 'The probe app returned [one , two , three\\n]: 4 + 4 + 6 bytes. Compute the length when the body is an array.';
      expectHeader(
        response,
        'Content-Length',
        (value) => value === '14',
        'Content-Length: 14 (the three chunks added up)',
        advice,
      );
      expectThat(
        response.body.toString('latin1') === 'one two three\n',
        'the body "one two three\\n"',
        JSON.stringify(response.body.toString('latin1')),
      );
    },
  },
  {
    group: 'core',
    name: 'lets the app read a request body through gateway.input (Content-Length, sent in two pieces)',
    hint: hint(
      "environ['gateway.input'].read(size) gives up to size bytes of the body, and an empty array at its end; it waits for bytes that have not arrived yet.",
      'Write your own app',
      'input.ts → GatewayInput.read',
    ),
    async run(context) {
      const body = `${randomWord()} `.repeat(2000);
      context.reproduce(
        `head -c ${body.length} /dev/zero | tr '\\0' x | curl -s --data-binary @- -H 'Content-Type: text/plain' http://${context.host}:${context.port}/input | head -c 100`,
      );
      const conversation = await open(context);
      conversation.send(
        requestBytes('POST', '/input', {
          headers: [
            ['Content-Type', 'text/plain'],
            ['Content-Length', String(body.length)],
          ],
        }),
      );
      await sleep(50);
      conversation.send(body.slice(0, 1000));
      await sleep(50);
      conversation.send(body.slice(1000));
      const received = json(await conversation.readResponse(), INPUT_FAILED);
      expectAnswer(
        received,
        'length',
        body.length,
        'The app reads with read(4096) until it gets an empty array: give it every byte of the body, then an empty one.',
      );
      expectAnswer(received, 'text', body, 'The bytes the app read must be the body, in order.');
    },
  },
  {
    group: 'core',
    name: 'lets the app read a chunked request body through gateway.input, de-chunked',
    hint: hint(
      'gateway.input gives the body without its chunk framing: the app never sees chunk sizes.',
      'Run it',
      'input.ts → GatewayInput.read',
    ),
    async run(context) {
      const pieces = ['hello ', 'chunked ', randomWord()];
      const chunked = `${pieces.map((piece) => `${piece.length.toString(16)}\r\n${piece}\r\n`).join('')}0\r\n\r\n`;
      const { response } = await ask(
        context,
        requestBytes('POST', '/input', { headers: [['Transfer-Encoding', 'chunked']], body: chunked }),
      );
      const received = json(response, INPUT_FAILED);
      expectAnswer(
        received,
        'text',
        pieces.join(''),
        "Give the app the de-chunked body (part 2's request body does the de-chunking), then an empty array at its end.",
      );
    },
  },
  {
    group: 'core',
    name: "streams a generator's chunks as the app makes them (chunked), not once the body ends",
    hint: hint(
      'A body of unknown length goes out chunk by chunk with Transfer-Encoding: chunked (HTTP/1.1), each chunk sent as soon as the app yields it.',
      'One request through the gateway',
      'handler.ts → AppCall.respond',
    ),
    async run(context) {
      const tag = id();
      // The probe holds its second piece until /release: the command releases it a second later.
      context.reproduce(
        `printf '${printfEscape(requestBytes('GET', `/stream?id=${tag}`))}' | nc -N ${context.host} ${context.port} & sleep 1; curl -s 'http://${context.host}:${context.port}/release?id=${tag}'; wait`,
      );
      const conversation = await open(context, 'the stream');
      conversation.send(requestBytes('GET', `/stream?id=${tag}`));
      await conversation.waitFor(() => conversation.received.includes('first piece'));
      expectThat(
        conversation.received.includes('first piece'),
        'the first piece, sent while the app waits before the second',
        () => `${conversation.received.length} bytes, without "first piece"`,
        'Send each chunk as the body yields it: do not collect the whole body first. (The probe makes its second piece only when the checker tells it to.)',
      );
      await probe(context, `/release?id=${tag}`);
      const response = await conversation.readResponse();
      expectStatus(response, 200);
      expectThat(
        response.framing === 'chunked',
        'Transfer-Encoding: chunked (the length was unknown when the first piece went)',
        response.framing === 'length'
          ? `Content-Length: ${header(response, 'Content-Length')}`
          : 'a body ended by closing the connection',
        'Only an array has a length known in advance; frame any other body with chunked encoding.',
      );
      expectThat(
        response.body.toString('latin1') === 'first piece\nsecond piece\nlast piece\n',
        'the three pieces in order',
        JSON.stringify(response.body.toString('latin1')),
      );
    },
  },
  {
    group: 'core',
    name: 'sends what the legacy write() was given, then the body the app returned',
    hint: hint(
      'startResponse returns write(chunk), the legacy way (PEP 3333) to send bytes at once: it sends the head if it has not gone, then the chunk; the returned body follows.',
      'Write your own app',
      'start-response.ts → PendingResponse.sendHead',
    ),
    async run(context) {
      const { response } = await ask(context, requestBytes('GET', '/write'));
      expectStatus(response, 200);
      expectThat(
        response.body.toString('latin1') === 'written, then returned\n',
        'the body "written, then returned\\n"',
        JSON.stringify(response.body.toString('latin1')),
        'Return a write function from startResponse that sends the chunk (and the head first); then send the body the app returned.',
      );
    },
  },
  {
    group: 'core',
    name: 'answers 500 when the app throws before startResponse, and keeps serving',
    hint: hint(
      'Nothing was sent yet, so the gateway can still answer properly: a 500 with a short message, the details in the error log.',
      'Break it',
      'handler.ts → AppCall.fail',
    ),
    async run(context) {
      const { response } = await ask(context, requestBytes('GET', '/fail-before'));
      expectStatus(
        response,
        500,
        'Catch what the app throws (calling it, and iterating its body); with nothing sent yet, answer 500 Internal Server Error.',
      );
      expectFramed(response);
      await expectStillServing(context, 'an app that threw');
    },
  },
  {
    group: 'core',
    name: "answers HEAD with the app's status and headers and no body",
    hint: hint(
      'HEAD is GET without the body: the app answers as for GET, and the gateway sends the head only (RFC 9110 §9.3.2).',
      'One request through the gateway',
      'handler.ts → runApplication',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(
        Buffer.concat([requestBytes('HEAD', '/chunks'), requestBytes('GET', '/hello?name=after-head')]),
      );
      expectStatus(await conversation.readResponse({ method: 'HEAD' }), 200);
      const next = await conversation.readResponse();
      expectStatus(
        next,
        200,
        'Bytes after the HEAD response were read as the start of the next response: send no body for HEAD.',
      );
      expectBodyContains(next, 'Hello, after-head!');
    },
  },

  // ---- hardening: the contract's harder rules ----------------------------------------------------
  {
    group: 'hardening',
    name: 'defers the head: an app that fails after startResponse, before its first chunk, gets a 500, not its 200',
    hint: hint(
      'startResponse only stores the status and headers; the head goes out with the first non-empty chunk. Until then a crash can still become a clean 500 (PEP 3333).',
      'One request through the gateway',
      'start-response.ts → PendingResponse.sendHead',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/fail-after-start'));
      const line = await statusLine(conversation);
      if (line.startsWith('HTTP/1.1 200') || line.startsWith('HTTP/1.0 200')) {
        throw new CheckFailure({
          expected: 'status 500',
          seen: `the app's "${line}", sent before the app had produced any body`,
          caretAt: 9,
          advice:
            'Do not send anything in startResponse: keep the status and headers, and send them with the first chunk. Then a failure before it can still become a 500.',
        });
      }
      expectStatus(await conversation.readResponse(), 500, 'The app failed before its first chunk: answer 500.');
    },
  },
  {
    group: 'hardening',
    name: 'cuts the connection when the app fails mid-stream (no complete response), and keeps serving',
    hint: hint(
      'Once the head is out it is too late for a 500: close the connection without the last chunk, so the client knows the body is incomplete.',
      'Break it',
      'handler.ts → AppCall.fail',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send(requestBytes('GET', '/fail-mid-stream'));
      const closed = await conversation.waitForClose();
      const parsed = parseResponse(conversation.received, 0, 'GET', false);
      if (parsed.kind === 'ok') {
        const { response } = parsed;
        const held = response.status === 500;
        throw new CheckFailure({
          expected: 'an incomplete response (the app failed after its first chunk)',
          seen: held
            ? `a complete ${response.status} ${response.reason}: the first chunk was never sent`
            : `a complete ${response.status} response (${response.framing === 'chunked' ? 'ended by 0\\r\\n\\r\\n' : 'every byte its length promised'}): the client cannot tell it lost part of the body`,
          advice: held
            ? "A non-empty chunk the app yielded before failing counts as sent: with it the head is committed (contract.ts says so), and a 500 can no longer replace it. Send it, then cut the connection: response.abort() (or rethrow from your handler: part 2's server aborts a response whose head is out)."
            : "Do not end the body normally after a failure (no response.end(), no 0\\r\\n\\r\\n): cut the connection instead, with response.abort() (or rethrow from your handler: part 2's server aborts a response whose head is out).",
        });
      }
      expectThat(
        closed,
        'the connection closed after the failure',
        'it stayed open, with a response that never ends',
        'A response that cannot be completed leaves the connection unusable: close it (response.abort()).',
      );
      await expectStillServing(context, 'an app that failed mid-stream');
    },
  },
  {
    group: 'hardening',
    name: "calls the body's return() and close() once each when the response is done",
    hint: hint(
      "The contract's last step: whatever happened, the gateway calls the iterator's return() and the body's close() (if it has them), exactly once, so the app can free what it holds.",
      'One request through the gateway',
      'handler.ts → AppCall.close',
    ),
    async run(context) {
      const tag = id();
      reproduceWithReport(context, '-s', `/close-tracking?id=${tag}`, tag);
      const { response } = await ask(context, requestBytes('GET', `/close-tracking?id=${tag}`));
      expectStatus(response, 200);
      expectThat(
        response.body.toString('latin1') === 'tracked body\n',
        'the body "tracked body\\n"',
        JSON.stringify(response.body.toString('latin1')),
      );
      const report = await reportUntil(context, tag, (counts) => counts.closed !== 0 && counts.returned !== 0);
      expectThat(
        report.closed === 1,
        'body.close() called once',
        `called ${String(report.closed)} times`,
        'After the last chunk (or a failure, or a client gone), call body.close?.() in a finally block.',
      );
      expectThat(
        report.returned === 1,
        "the iterator's return() called once",
        `called ${String(report.returned)} times`,
        'A for...of loop that runs to the end does not call return(): call iterator.return?.() yourself, once, when done.',
      );
    },
  },
  {
    group: 'hardening',
    name: 'refuses a hop-by-hop header from the app (Connection: close) with a 500',
    hint: hint(
      'Connection, Transfer-Encoding, Keep-Alive and the like describe one connection: the server sets them, and an app that does could break the framing (RFC 9110 §7.6.1).',
      'Break it',
      'start-response.ts → checkHeaders',
    ),
    async run(context) {
      const { response } = await ask(context, requestBytes('GET', '/hop-by-hop'));
      expectStatus(
        response,
        500,
        'The probe app set "Connection: close" itself: refuse it in startResponse (throw), which becomes a 500.',
      );
    },
  },
  {
    group: 'hardening',
    name: 'stops pulling a generator when its client leaves mid-stream',
    hint: hint(
      'A client that leaves will read nothing more: stop iterating the body and close it, so an endless stream does not run on for nobody.',
      'One request through the gateway',
      'handler.ts → AppCall.respond',
    ),
    async run(context) {
      const tag = id();
      reproduceWithReport(context, '-s --max-time 0.5 -o /dev/null', `/endless?id=${tag}`, tag);
      const leaving = await open(context, 'the client that leaves');
      leaving.send(requestBytes('GET', `/endless?id=${tag}`));
      await leaving.waitForBytes(2_000);
      expectThat(
        leaving.received.length >= 2_000,
        'the endless stream to begin',
        () => `${leaving.received.length} bytes`,
      );
      leaving.reset();
      const report = await reportUntil(context, tag, (counts) => counts.stopped === true);
      expectThat(
        report.stopped === true,
        'the generator stopped (its finally block ran) soon after the client left',
        'not stopped 2 s after the client left: the probe\'s report says "stopped":false (its finally block has not run)',
        "response.write() does not fail once the client is gone: it returns true and drops the bytes. Before pulling the next chunk, look at response.clientGone (or request.signal.aborted); when the client is gone, stop the loop and call the iterator's return(): that runs the generator's finally.",
      );
    },
  },
  {
    group: 'hardening',
    name: 'waits for a client that does not read (backpressure): stops pulling the body once the socket is full',
    hint: hint(
      "response.write() returns false when the socket's buffer is full: await response.drained() before pulling the next chunk, so a slow client slows the app instead of filling memory.",
      'Break it',
      'handler.ts → AppCall.respond',
    ),
    async run(context) {
      const tag = id();
      context.reproduce(
        `(printf '${printfEscape(requestBytes('GET', `/big?id=${tag}`))}'; sleep 3) | nc ${context.host} ${context.port} | sleep 3 & sleep 1; curl -s 'http://${context.host}:${context.port}/report?id=${tag}'`,
      );
      const reader = await open(context, 'the client that does not read');
      reader.send(requestBytes('GET', `/big?id=${tag}`));
      reader.socket.pause();
      // Until the count stops growing (the socket is full and the gateway waits) or all is pulled.
      let last = -1;
      let still = 0;
      const report = await reportUntil(
        context,
        tag,
        (counts) => {
          const pulled = Number(counts.pulled);
          still = pulled === last && pulled > 0 ? still + 1 : 0;
          last = pulled;
          return pulled >= BIG_CHUNKS || still >= 6;
        },
        10_000,
      );
      expectThat(
        Number(report.pulled) < BIG_CHUNKS,
        `the gateway to stop pulling while the client reads nothing (the body is ${BIG_CHUNKS} chunks of 64 KiB)`,
        `all ${String(report.pulled)} chunks pulled: 32 MiB held in memory for a client that reads nothing`,
        'When response.write(chunk) returns false, await response.drained() before the next iterator.next().',
      );
    },
  },

  {
    group: 'hardening',
    name: 'gateway.input.read(size) never gives more than size bytes, even when more have arrived',
    hint: hint(
      'read(size) is "up to size bytes": an app that reads a header of 4 bytes, then the rest, must get 4. Keep what is left of a piece of the body for the next read.',
      'Write your own app',
      'input.ts → GatewayInput.read',
    ),
    async run(context) {
      const body = `${randomWord()} `.repeat(20);
      context.reproduce(`curl -s --data-binary '${body}' http://${context.host}:${context.port}/read-sizes?size=7`);
      const received = await probe(
        context,
        '/read-sizes?size=7',
        { headers: [['Content-Type', 'text/plain']], body },
        'POST',
      );
      const sizes = Array.isArray(received.sizes) ? (received.sizes as number[]) : [];
      const over = sizes.filter((size) => size > 7);
      expectThat(
        over.length === 0,
        'every read(7) to give at most 7 bytes',
        `reads of ${sizes.join(', ')} bytes`,
        'The body arrives in pieces of any size (here one piece): read(size) takes at most size bytes of it and keeps the rest for the next read.',
      );
      expectAnswer(received, 'text', body, 'The reads, put together, must be the body, in order, every byte once.');
    },
  },
  {
    group: 'hardening',
    name: 'gateway.input.readline() gives one line at a time, its "\\n" included, and an empty array at the end',
    hint: hint(
      'readline() returns the bytes up to and including the next "\\n" (the last line may have none), waiting for more if no "\\n" has arrived yet; only the end of the body gives an empty array. An empty line is "\\n", not the end.',
      'Write your own app',
      'input.ts → GatewayInput.readline',
    ),
    async run(context) {
      const word = randomWord();
      const lines = [`one ${word}\n`, 'two\n', '\n', 'last, without a newline'];
      const body = lines.join('');
      const split = lines[0].length + 2; // in the middle of the second line
      context.reproduce(
        `printf '${lines.join('').replace(/\n/g, '\\n')}' | curl -s --data-binary @- http://${context.host}:${context.port}/readlines`,
      );
      const conversation = await open(context);
      conversation.send(
        requestBytes('POST', '/readlines', {
          headers: [
            ['Content-Type', 'text/plain'],
            ['Content-Length', String(body.length)],
          ],
        }),
      );
      conversation.send(body.slice(0, split));
      await sleep(50);
      conversation.send(body.slice(split));
      const received = json(
        await conversation.readResponse(),
        "The probe app reads environ['gateway.input'] with readline(): is there one, async, resolving to bytes?",
      );
      expectAnswer(
        received,
        'lines',
        lines,
        'Give each line with its "\\n": look for the newline in what has arrived, read more while there is none, keep the bytes after it for the next call.',
      );
      expectAnswer(
        received,
        'ended',
        true,
        'At the end of the body, readline() resolves to an empty Uint8Array (and only there).',
      );
    },
  },

  // ---- hardening: the contract's rules for an app that breaks it (REFERENCE.md) -----------------
  {
    group: 'hardening',
    name: "answers 500, sending nothing of the app's head, when an array body disagrees with its Content-Length",
    hint: reference(
      "contract.ts (StartResponse): an array's length is known before the head goes out, so a Content-Length the app got wrong, more bytes or fewer, is answered with a clean 500 and logged; nothing of the app's response is sent.",
      'What the hardening checks ask',
      'start-response.ts → PendingResponse.checkWholeBody',
    ),
    async run(context) {
      // The probe declares 99 bytes, then 3, for a body of 11.
      for (const declared of [99, 3]) {
        const advice = `The app declared Content-Length: ${declared} and returned an array of 11 bytes. Add up an array's chunks before sending the head; when the app's Content-Length differs, answer 500 instead (the head has not gone out).`;
        const response = await askOr(context, requestBytes('GET', `/wrong-length?declared=${declared}`), advice);
        expectStatus(response, 500, advice);
        expectHeader(
          response,
          'X-Probe-Head',
          (value) => value === undefined,
          "a 500 of the gateway's own, with none of the app's headers",
          "Nothing of the app's response goes out when it is refused: build the 500 afresh, not from the app's status and headers.",
        );
        expectFramed(response);
      }
      await expectStillServing(context, 'an app that declared a wrong Content-Length');
    },
  },
  {
    group: 'hardening',
    name: 'answers 500 when the app returns a body without ever calling startResponse',
    hint: reference(
      'contract.ts (Application): startResponse must have been called by the time the first chunk is produced. An app that never calls it has given no status: its error, found before anything was sent, so a 500.',
      'What the hardening checks ask',
      'start-response.ts → PendingResponse.sendHead',
    ),
    async run(context) {
      const advice =
        'The app returned a body and never called startResponse, so there is no status to send: treat it as an error in the app (before the head went out: a 500), not as a status of 0 or a default 200.';
      const response = await askOr(context, requestBytes('GET', '/no-start-response'), advice);
      expectStatus(response, 500, advice);
      await expectStillServing(context, 'an app that never called startResponse');
    },
  },
  {
    group: 'hardening',
    name: 'answers 500 when the body yields a string instead of bytes',
    hint: reference(
      'contract.ts (Body): chunks are bytes, never strings, since only the app knows the charset it declared. A string as the first chunk is found before the head goes out: a 500.',
      'What the hardening checks ask',
      'handler.ts → notBytes',
    ),
    async run(context) {
      const advice =
        "Check that each chunk is a Uint8Array before sending it (ArrayBuffer.isView, or instanceof Uint8Array): the probe's generator yields a string. Do not encode it for the app; refuse it, as an error in the app.";
      const response = await askOr(context, requestBytes('GET', '/string-body'), advice);
      expectStatus(response, 500, advice);
      expectHeader(
        response,
        'X-Probe-Head',
        (value) => value === undefined,
        "a 500 of the gateway's own, with none of the app's headers",
      );
    },
  },
  {
    group: 'hardening',
    name: 'decodes the escapes of PATH_INFO that decode and keeps the others as sent (/a%zz/caf%C3%A9 → /a%zz/café)',
    hint: reference(
      'contract.ts (Environ.PATH_INFO): the path percent-decoded as UTF-8; undecodable escapes (%zz, bytes that are not UTF-8) are left as sent, and the rest is still decoded.',
      'What the hardening checks ask',
      'environ.ts → buildEnviron',
    ),
    async run(context) {
      const environ = await probe(context, '/environ/a%zz/caf%C3%A9/%FF');
      expectKey(
        environ,
        'PATH_INFO',
        '/environ/a%zz/café/%FF',
        'Decode each run of escapes on its own (%C3%A9 is é), and keep a run that does not decode as it was (%zz, a lone %FF). One decodeURIComponent over the whole path throws at %zz: catch it per run, not for the whole path.',
      );
    },
  },

  // ---- challenges (README, "Challenges") ---------------------------------------------------------
  {
    group: 'challenge 1',
    name: "joins repeated Cookie lines with '; ' in HTTP_COOKIE; other repeated headers still with ', '",
    hint: hint(
      'RFC 6265 §5.4: cookies are separated by "; ", so two Cookie lines become one value joined with "; " (RFC 9110 §5.3\'s ", " is for the other fields).',
      'Challenges',
      'environ.ts → buildEnviron',
    ),
    async run(context) {
      const word = randomWord();
      const environ = await probe(context, '/environ', {
        headers: [
          ['Cookie', `a=${word}`],
          ['X-Tag', 'a'],
          ['Cookie', 'b=2'],
          ['X-Tag', 'b'],
        ],
      });
      expectKey(environ, 'HTTP_COOKIE', `a=${word}; b=2`, 'Join the values of repeated Cookie lines with "; ".');
      expectKey(environ, 'HTTP_X_TAG', 'a, b', 'Other repeated headers are still joined with ", ".');
    },
  },
  {
    group: 'challenge 2',
    name: 'fires gateway.signal when the client sends FIN while a response is in flight',
    hint: hint(
      "A client that closes its side (FIN) while the app works will, in practice, never read the answer: abort the signal then, as Go's server cancels its context.",
      'Challenges',
      'server.ts → createGatewayHandler',
    ),
    async run(context) {
      const tag = id();
      context.reproduce(
        `printf '${printfEscape(requestBytes('GET', `/wait-signal?id=${tag}`))}' | nc -N ${context.host} ${context.port} & sleep 1; curl -s 'http://${context.host}:${context.port}/report?id=${tag}'`,
      );
      const leaving = await open(context, 'the client that sends FIN');
      leaving.sendAndEnd(requestBytes('GET', `/wait-signal?id=${tag}`));
      const report = await reportUntil(context, tag, (counts) => counts.signalled !== null);
      expectThat(
        typeof report.signalled === 'string' && report.signalled !== 'not aborted',
        "environ['gateway.signal'] aborted soon after the client's FIN",
        report.signalled === null
          ? 'not aborted 2 s after the FIN (the app waits for it and never writes)'
          : `the app's report: ${String(report.signalled)}`,
        "HttpRequest does not show the FIN: request.signal fires only when the connection closes. createHttpServer returns a net.Server: its 'connection' event gives you each socket; find a request's socket by request.remoteAddress and request.remotePort, and on that socket's 'end' event abort an AbortController of your own, whose signal is the environ's gateway.signal (AbortSignal.any([request.signal, yours])).",
      );
    },
  },
  {
    group: 'challenge 3',
    name: "mounts part3-gateway/apps/hello.ts at /hello: GET /hello/x answers 'You asked for /x'",
    hint: hint(
      'shiftPathInfo moves the first segment of PATH_INFO to SCRIPT_NAME: a dispatcher app picks the app mounted there and calls it with the shifted environ.',
      'Challenges',
      'util.ts → shiftPathInfo',
    ),
    async run(context) {
      const word = randomWord();
      context.reproduce(`curl -v http://${context.host}:${context.port}/hello/${word}`);
      const { response } = await ask(context, requestBytes('GET', `/hello/${word}`));
      expectStatus(response, 200);
      expectBodyContains(
        response,
        `You asked for /${word}`,
        'hello.ts answers "You asked for " + PATH_INFO: after the shift, PATH_INFO is the rest of the path.',
      );
    },
  },
  {
    group: 'challenge 3',
    name: "mounts the probe app at /probe (SCRIPT_NAME '/probe') and part3-gateway/apps/upload.ts at /upload",
    hint: hint(
      'A mounted app sees its mount point in SCRIPT_NAME and only the rest of the path in PATH_INFO, so it never needs to know where it was mounted.',
      'Challenges',
      'util.ts → shiftPathInfo',
    ),
    async run(context) {
      const environ = await probe(context, '/probe/environ/a%20b');
      expectKey(
        environ,
        'SCRIPT_NAME',
        '/probe',
        'The app given on the command line is mounted at /probe: shiftPathInfo moves "probe" into SCRIPT_NAME.',
      );
      expectKey(environ, 'PATH_INFO', '/environ/a b', 'What is left of the path after the mount point.');
      const upload = await probe(
        context,
        '/upload',
        { headers: [['Content-Type', 'text/plain']], body: 'one\ntwo\n' },
        'POST',
      );
      expectAnswer(upload, 'bytes', 8, 'POST /upload goes to upload.ts, which counts the bytes of the body.');
      expectAnswer(upload, 'lines', 2, 'upload.ts counts the lines of the body.');
      const { response } = await ask(context, requestBytes('GET', `/nowhere-${randomWord()}`));
      expectStatus(response, 404, 'A path under no mount point is answered 404.');
    },
  },
];
