// Small helpers shared by the HTTP stages' checks (parts 2 to 4): build request bytes, open a
// recorded connection, ask one thing of a response and fail with a clear message if it is not so.
import { CheckFailure, type CheckContext } from './check.ts';
import { Conversation, header, type HttpResponse } from './wire.ts';

/** `GET /path HTTP/1.1` with a Host field first, the given fields, and the body (Content-Length added for a body). */
export function requestBytes(
  method: string,
  target: string,
  options: { host?: string; headers?: Array<[string, string]>; body?: string | Buffer; version?: string } = {},
): Buffer {
  const lines = [`${method} ${target} ${options.version ?? 'HTTP/1.1'}`];
  if (options.host !== '') lines.push(`Host: ${options.host ?? 'localhost'}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const declaresFraming = (options.headers ?? []).some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  if (options.body !== undefined && !declaresFraming) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

export function open(context: CheckContext, label?: string): Promise<Conversation> {
  return Conversation.open(context.host, context.port, context.transcripts, label);
}

/** Send one request on a new connection and read its response. */
export async function ask(
  context: CheckContext,
  bytes: string | Buffer,
  method = 'GET',
): Promise<{ conversation: Conversation; response: HttpResponse }> {
  const conversation = await open(context);
  conversation.send(bytes);
  return { conversation, response: await conversation.readResponse({ method }) };
}

/**
 * What an unexpected 500 means: the server under test failed, and said why in its log. Put
 * before a check's own advice, which is about the status it expected.
 */
export const SERVER_ERROR_ADVICE =
  'A 500 is your server failing, and its log says why: look at the lines starting with "[your server]" above (or, with --port, at the terminal where it runs).';

/** `advice`, led by what a 500 means when the status seen is 500 (and 500 was not expected). */
export function statusAdvice(response: HttpResponse, expected: number[], advice?: string): string | undefined {
  if (response.status !== 500 || expected.includes(500)) return advice;
  return advice === undefined ? SERVER_ERROR_ADVICE : `${SERVER_ERROR_ADVICE} What the check asks: ${advice}`;
}

/** The response's status must be `status`, or one of them where the RFC allows either. */
export function expectStatus(response: HttpResponse, status: number | number[], advice?: string): void {
  const allowed = Array.isArray(status) ? status : [status];
  if (!allowed.includes(response.status)) {
    const expected = `status ${allowed.join(' or ')}`;
    throw new CheckFailure({
      expected,
      seen: `status ${response.status} ${response.reason}`,
      advice: statusAdvice(response, allowed, advice),
      caretAt: response.start + 9,
    });
  }
}

export function expectBodyContains(response: HttpResponse, text: string, advice?: string): void {
  const body = response.body.toString('latin1');
  if (!body.includes(text)) {
    const shown = body.length > 200 ? `${body.slice(0, 200)}... (${body.length} bytes in all)` : body;
    throw new CheckFailure({
      expected: `a body containing ${JSON.stringify(text)}`,
      seen: `a body of ${JSON.stringify(shown)}`,
      advice,
    });
  }
}

/** The response must say where its body ends (Content-Length or chunked), not leave it to the close. */
export function expectFramed(response: HttpResponse): void {
  if (response.framing === 'close') {
    throw new CheckFailure({
      expected: 'a Content-Length header (or Transfer-Encoding: chunked)',
      seen: 'neither: the body ended only when the connection closed',
      advice:
        "Without a length the client cannot tell where the body ends, and the connection cannot be reused. Send Content-Length: <the body's length in bytes>.",
    });
  }
}

/** The server must close the connection (after an error that leaves the framing in doubt). */
export async function expectClose(conversation: Conversation, why: string, ms?: number): Promise<void> {
  const closed = await conversation.waitForClose(ms);
  if (!closed)
    throw new CheckFailure({ expected: 'the server to close the connection', seen: `it stayed open (${why})` });
}

/** The server must keep the connection open: a second request on it is answered. */
export function expectOpen(conversation: Conversation, after: string): void {
  if (conversation.ended !== null) {
    throw new CheckFailure({
      expected: 'the connection to stay open (HTTP/1.1 keeps it by default)',
      seen: `it was ${conversation.ended === 'reset' ? 'reset' : 'closed'} after ${after}`,
      advice:
        'Keep reading from the socket after a response: the next request may follow. Close only on "Connection: close", an error, or a timeout.',
    });
  }
}

export function expectHeader(
  response: HttpResponse,
  name: string,
  test: (value: string | undefined) => boolean,
  expected: string,
  advice?: string,
): void {
  const value = header(response, name);
  if (!test(value))
    throw new CheckFailure({ expected, seen: value === undefined ? `no ${name} header` : `${name}: ${value}`, advice });
}

let wordsMade = 0;

/**
 * A short random word, so a server cannot pass by answering a fixed text; never the same twice in
 * one run (a count), and seldom across runs against the same server (six random digits). Checks
 * look for their word among entries that earlier checks stored: with a word from a few thousand
 * (a name and 3 digits), two checks of one run drew the same one about once in 50 runs.
 */
export function randomWord(): string {
  const words = [
    'apple',
    'banana',
    'cherry',
    'damson',
    'elder',
    'fig',
    'grape',
    'guava',
    'lemon',
    'mango',
    'olive',
    'peach',
  ];
  wordsMade++;
  return `${words[Math.floor(Math.random() * words.length)]}${wordsMade}x${Math.floor(Math.random() * 1_000_000)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
