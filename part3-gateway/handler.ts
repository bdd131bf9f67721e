// Running one application call and turning what it gives back into an HTTP response: the
// server's half of the contract in contract.ts. After wsgiref's handlers.py (BaseHandler.run,
// start_response, finish_response), step for step:
//
//   call the app → for each chunk: (send the head with the first non-empty one) → send it
//   → end → close the body, whatever happened; all of it within the app's deadline
//
// (An array returned at once, the common case, is sent whole, in one write; so is a synchronous
// generator that ends within 64 KiB: runApplication and sendSyncBody.)
//
// It writes to a `ResponseSink`: part 2's ResponseWriter in part 3's server, a wrapper around
// node:http's ServerResponse in part 4's. Both servers share this file, so the rules hold on
// both: deferred head, Content-Length honoured, backpressure, the body always closed.
import { HttpError } from '../part2-tcp-http/errors.ts';
import { sendError } from '../part2-tcp-http/errors.ts';
import { statusForbidsBody, type ResponseWriter } from '../part2-tcp-http/response.ts';
import type {
  Application,
  Body,
  Environ,
  ErrorStream,
  ResponseHeader,
  StartResponse,
} from './contract.ts';

/** What a server must offer to send a response (part 2's ResponseWriter has exactly this). */
export type ResponseSink = Pick<
  ResponseWriter,
  | 'headSent'
  | 'keepAlive'
  | 'clientGone'
  | 'writeHead'
  | 'write'
  | 'drained'
  | 'end'
  | 'abort'
  | 'sendWhole'
>;

/**
 * Headers that describe one connection, not the response; the server alone manages them
 * (RFC 9110 §7.6.1). An app that sets one could break the framing of the whole connection.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Latin-1 text without CR, LF or NUL: what may go into a header line unchanged. */
const SAFE_HEADER_TEXT = /^[^\r\n\0\u0100-\uffff]*$/;
const STATUS = /^([1-5]\d\d) ([^\r\n\0\u0100-\uffff]+)$/;

/** The message a client sees when an app fails: the details go to the error log only. */
const APP_FAILED = 'The application failed while answering; the details are in the server log.';
const APP_TIMED_OUT = 'The application did not answer in time; try again later.';

/**
 * How long one application call may take, from the call until its body is closed, before the
 * server gives up on it: 503 if nothing was sent yet, else a cut connection. → 503
 * Like gunicorn's `timeout`, it counts the whole response, waiting for a slow client included:
 * a long stream (server-sent events, a large download) needs a larger `appTimeoutMs`, or
 * Infinity for none.
 */
export const APP_TIMEOUT_MS = 30_000;

/**
 * How much of a synchronous body (a `function*` generator) the server collects to send it with a
 * Content-Length, in one write (sendSyncBody). A longer one is streamed, chunked, from there on,
 * with backpressure: holding it all would let one response take any amount of memory.
 */
export const SYNC_BODY_HOLD_BYTES = 64 * 1024;

export interface RunOptions {
  /** The per-request deadline: APP_TIMEOUT_MS unless given. */
  appTimeoutMs?: number;
}

/**
 * Call the application for one request and send its response through `sink`. Never throws.
 * Returns a promise only when there is something left to wait for (see the fast path).
 */
export function runApplication(
  app: Application,
  environ: Environ,
  sink: ResponseSink,
  options: RunOptions = {},
): void | Promise<void> {
  const response = new PendingResponse(sink, environ.REQUEST_METHOD);
  let returned: Body | Promise<Body>;
  try {
    returned = app(environ, response.startResponse);
  } catch (error) {
    handleError(error, response, sink, environ);
    return;
  }
  // Fast path: an app that returns an array at once (most small responses do) is answered
  // here, in one write: no promise, no body loop, no deadline timer (nothing is left that could
  // miss it). An array with a close() of its own, or a promise, takes the general path.
  if (isArrayWithoutClose(returned)) {
    try {
      response.sendWhole(returned);
    } catch (error) {
      handleError(error, response, sink, environ);
    }
    return;
  }
  if (isSyncBody(returned)) {
    const rest = sendSyncBody(returned, environ, sink, response);
    if (rest === null) return;
    returned = rest;
  }
  return finishWithin(options.appTimeoutMs ?? APP_TIMEOUT_MS, returned, environ, sink, response);
}

/**
 * Fast path: a synchronous body (a `function*` generator, the form the README teaches) is run
 * here, at once, its chunks held rather than sent. If it ends within SYNC_BODY_HOLD_BYTES, it is
 * answered like an array: a Content-Length instead of chunked coding, head and body in one write,
 * no promise, no deadline timer. Go's net/http does the same for a handler whose output fits its
 * buffer. Waiting costs a synchronous generator nothing: it cannot wait for anything between two
 * chunks, so they would all have gone out in this same turn of the event loop. (An async
 * generator may wait, so it is always streamed: each chunk is sent before it is asked for the
 * next.)
 *
 * The held chunks count as sent: after the first non-empty one the head is committed
 * (startResponse(..., error) rethrows), and write() sends them before its own bytes. Returns
 * null when the body was answered whole; else the body left to stream, the held chunks first:
 * one longer than the limit, one with its own Content-Length (which frames it already), one that
 * write() has started, one that threw (its error comes after the held chunks, as if they had
 * gone out as they came).
 */
function sendSyncBody(
  body: Iterable<Uint8Array>,
  environ: Environ,
  sink: ResponseSink,
  response: PendingResponse,
): Iterable<Uint8Array> | null {
  const held: Uint8Array[] = [];
  response.held = held;
  let heldBytes = 0;
  let iterator: Iterator<Uint8Array> | undefined;
  try {
    iterator = body[Symbol.iterator]();
    for (;;) {
      const step = iterator.next();
      if (step.done === true) break;
      const chunk: unknown = step.value;
      if (!(chunk instanceof Uint8Array)) throw notBytes(chunk);
      if (chunk.length === 0) continue;
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > SYNC_BODY_HOLD_BYTES || sink.headSent)
        return response.streamHeld(iterator, null);
    }
  } catch (error) {
    return response.streamHeld(iterator, { error });
  }
  if (response.declaresLength()) return response.streamHeld(iterator, null);
  response.held = null;
  try {
    response.sendWhole(held);
  } catch (error) {
    handleError(error, response, sink, environ);
  }
  // The contract's promise: return() once, whatever happened (on a finished generator, nothing).
  try {
    iterator.return?.();
  } catch (error) {
    environ['gateway.errors'].write(
      `[gateway] the body iterator's return() failed: ${String(error)}\n`,
    );
  }
  return null;
}

/**
 * The rest of a synchronous body the fast path did not finish: the chunks it held, then (its
 * error, or) the chunks still to come, pulled one at a time with backpressure. Its return() is
 * the body's: the iterator's own return() runs once, however the stream ends.
 */
function* resumeBody(
  held: Uint8Array[],
  iterator: Iterator<Uint8Array> | undefined,
  failure: { error: unknown } | null,
): Generator<Uint8Array, void, undefined> {
  try {
    yield* held;
    if (failure !== null) throw failure.error;
    if (iterator === undefined) return;
    for (let step = iterator.next(); step.done !== true; step = iterator.next()) yield step.value;
  } finally {
    iterator?.return?.();
  }
}

/** The general path: wait for the body and send it, within the app's deadline. */
async function finishWithin(
  timeoutMs: number,
  returned: Body | Promise<Body>,
  environ: Environ,
  sink: ResponseSink,
  response: PendingResponse,
): Promise<void> {
  const body = new BodyCloser(environ['gateway.errors']);
  if (!(await settlesWithin(sendResponse(returned, environ, sink, response, body), timeoutMs)))
    giveUp(timeoutMs, response, sink, environ, body);
}

/** The rest of the exchange with the app: send its body, answer its errors, close the body. */
async function sendResponse(
  returned: Body | Promise<Body>,
  environ: Environ,
  sink: ResponseSink,
  response: PendingResponse,
  body: BodyCloser,
): Promise<void> {
  try {
    const awaited = await returned;
    body.body = awaited;
    body.iterator = iterate(awaited);
    const knownLength = Array.isArray(awaited) ? totalLength(awaited) : undefined;
    if (knownLength !== undefined) response.checkDeclaredLength(knownLength);
    await sendBody(body.iterator, response, sink, knownLength);
  } catch (error) {
    handleError(error, response, sink, environ);
  } finally {
    response.answered = true;
    await body.close();
  }
}

/** setTimeout's longest wait, about 24.8 days (longer ones fire at once): beyond it, no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** True once `work` settles; false if `ms` pass first (the work goes on, no longer waited for). */
async function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  if (ms > MAX_TIMER_MS) return work.then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The app missed its deadline: answer 503 for it if nothing was sent, else cut the connection so
 * the client sees an incomplete response; close its body as far as it can be; log it. Whatever
 * the app does later goes nowhere (see PendingResponse.timedOut).
 */
function giveUp(
  timeoutMs: number,
  response: PendingResponse,
  sink: ResponseSink,
  environ: Environ,
  body: BodyCloser,
): void {
  response.timedOut = true;
  let consequence: string;
  if (response.answered) {
    consequence = "the response was complete, but the body's return() or close() had not finished";
  } else if (environ['gateway.signal'].aborted) {
    consequence = 'the client had gone already';
  } else if (!sink.headSent) {
    sendError(sink, new HttpError(503, APP_TIMED_OUT));
    consequence = 'answered 503';
  } else {
    sink.abort();
    consequence = 'connection cut (head already sent)';
  }
  environ['gateway.errors'].write(
    `[gateway] ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: not finished within ${timeoutMs} ms: ${consequence}\n`,
  );
  // A hand-written iterator can run return() now; an async generator stuck in an await runs it
  // only once that await ends (if ever). Either way, nobody waits for it any more.
  void body.close();
}

async function sendBody(
  iterator: Iterator<Uint8Array> | AsyncIterator<Uint8Array>,
  response: PendingResponse,
  sink: ResponseSink,
  knownLength: number | undefined,
): Promise<void> {
  for (;;) {
    const step = await iterator.next();
    if (step.done === true) break;
    const chunk: unknown = step.value;
    if (!(chunk instanceof Uint8Array)) throw notBytes(chunk);
    if (chunk.length === 0) continue; // nothing to send; the head can still wait
    if (!sink.headSent) response.checkFirstChunk(chunk.length);
    response.sendHead(knownLength);
    // Backpressure: pull the next chunk only once the socket has taken this one.
    if (!sink.write(chunk)) await sink.drained();
    // The client left, or the deadline passed: stop pulling; the finally block closes the body.
    // (sink.clientGone, not gateway.signal: reading that would make the signal; see environ.ts.)
    if (sink.clientGone || response.timedOut) return;
  }
  // Every chunk was empty (or there were none): the head goes now, with Content-Length: 0.
  response.sendHead(knownLength ?? 0);
  sink.end();
}

/** Before the head: a clean error response. After: log, and cut the connection. */
function handleError(
  error: unknown,
  response: PendingResponse,
  sink: ResponseSink,
  environ: Environ,
): void {
  if (environ['gateway.signal'].aborted) return; // the client is gone; there is no one to tell
  if (response.timedOut) return; // giveUp() has answered already
  // An HttpError comes from reading gateway.input (413 body too large, 400 bad chunk): the
  // client's fault, answered with its own status, and not worth a stack trace in the log.
  if (error instanceof HttpError && !sink.headSent) {
    sendError(sink, error);
    return;
  }
  logError(environ, error, sink.headSent);
  if (sink.headSent) sink.abort();
  else sendError(sink, new HttpError(500, APP_FAILED, false));
}

function logError(environ: Environ, error: unknown, headSent: boolean): void {
  const where = `${environ.REQUEST_METHOD} ${environ.REQUEST_URI}`;
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const consequence = headSent ? 'connection cut (head already sent)' : 'answered 500';
  environ['gateway.errors'].write(`[gateway] ${where}: ${consequence}: ${detail}\n`);
}

/**
 * The body and its iterator, once the app has returned them, and their cleanup: return() and
 * close(), once each, by whichever comes first, the end of the response or the deadline (a body
 * that arrives after the deadline is still closed when it does). Failures are logged.
 */
class BodyCloser {
  body: Body | undefined;
  iterator: Iterator<Uint8Array> | AsyncIterator<Uint8Array> | undefined;

  private readonly errors: ErrorStream;

  constructor(errors: ErrorStream) {
    this.errors = errors;
  }

  async close(): Promise<void> {
    const { iterator, body } = this;
    this.iterator = undefined;
    this.body = undefined;
    try {
      await iterator?.return?.();
    } catch (error) {
      this.errors.write(`[gateway] the body iterator's return() failed: ${String(error)}\n`);
    }
    try {
      await body?.close?.();
    } catch (error) {
      this.errors.write(`[gateway] the body's close() failed: ${String(error)}\n`);
    }
  }
}

/** The status and headers given to startResponse, held until the first body bytes. */
class PendingResponse {
  private pending: { status: number; reason: string; headers: ResponseHeader[] } | null = null;
  /** Nothing more will be sent: the body ended, failed, or the client left. */
  answered = false;
  /** The deadline passed and the server answered for the app: nothing of the app's is sent any more. */
  timedOut = false;
  /** Chunks the fast path for a synchronous body holds (sendSyncBody): as good as sent. */
  held: Uint8Array[] | null = null;

  /** The function the app is given. (bind, not an arrow in a class field: tsx names those, at a cost per request.) */
  readonly startResponse: StartResponse;
  private readonly sink: ResponseSink;
  /** The request's method: a HEAD answer's Content-Length is not its (empty) body's. */
  private readonly method: string;

  constructor(sink: ResponseSink, method: string) {
    this.sink = sink;
    this.method = method;
    this.startResponse = this.start.bind(this);
  }

  private start(
    status: string,
    headers: ResponseHeader[],
    error?: unknown,
  ): (chunk: Uint8Array) => void {
    if (error !== undefined && error !== null) {
      // PEP 3333: with an error, a second call may replace the head — if it is not out yet.
      // (Chunks held by the fast path count as sent: the head they would have gone with is out.)
      if (this.sink.headSent || (this.held !== null && this.held.length > 0)) throw error;
    } else if (this.pending !== null) {
      throw new Error(
        'startResponse() was called a second time without an error: call it once, or pass the caught error as the third argument to replace the head.',
      );
    }
    const { code, reason } = parseStatus(status);
    this.pending = { status: code, reason, headers: checkHeaders(headers) };
    return (chunk) => this.write(chunk);
  }

  /**
   * Legacy write(): sends the head now and the chunk right behind it.
   * Simplification: no backpressure (write() cannot wait); the socket buffers whatever an app
   * writes faster than the client reads. Yielding from the body is the way that waits.
   */
  private write(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array))
      throw new TypeError(`write() was given ${describe(chunk)}; pass a Uint8Array.`);
    // The contract's promise: an app pushing data with write() (no backpressure, no signal
    // checks of its own) must learn that nobody is reading any more.
    if (this.sink.clientGone) throw new Error('write(): the client has gone away; stop sending.');
    if (chunk.length === 0) return;
    this.sendHead(undefined);
    // Chunks the body yielded before this write(), held by the fast path, go first.
    if (this.held !== null) for (const earlier of this.held.splice(0)) this.sink.write(earlier);
    this.sink.write(chunk);
  }

  /** The fast path stops holding (sendSyncBody): what it held, and the rest, are streamed. */
  streamHeld(
    iterator: Iterator<Uint8Array> | undefined,
    failure: { error: unknown } | null,
  ): Iterable<Uint8Array> {
    const held = this.held ?? [];
    this.held = null;
    return resumeBody(held, iterator, failure);
  }

  /** The app gave a Content-Length of its own. */
  declaresLength(): boolean {
    return (
      this.pending !== null &&
      this.pending.headers.some(([name]) => name.toLowerCase() === 'content-length')
    );
  }

  /** Send the head if it has not gone yet. After the deadline, refuse: the app's late chunks and write() calls go nowhere. */
  sendHead(knownLength: number | undefined): void {
    if (this.timedOut)
      throw new Error(
        'The application missed its deadline; the server has answered for it already.',
      );
    if (this.sink.headSent) return;
    const { status, reason, headers } = this.started();
    this.sink.writeHead(status, headers, knownLength, reason);
  }

  /**
   * The contract's rule for a body known in full (an array): its length is known before the
   * head goes out, so a Content-Length of the app's that differs from it is the app's bug, and
   * throwing it now gets a clean 500 instead of a head and a cut connection. Not for HEAD or a
   * status without content (RFC 9110 §8.6: Content-Length there gives the length a GET would
   * get), nor once write() has sent the head (then the array is only the rest of the body).
   */
  checkDeclaredLength(length: number): void {
    const declared = this.declaredLength();
    if (declared !== undefined && declared !== length) {
      throw new Error(
        `Content-Length: ${declared} was declared for a body of ${length} bytes: give the exact length, or leave Content-Length out and let the server count.`,
      );
    }
  }

  /**
   * The same rule for a streamed body's first chunk, which goes out with the head: one already
   * longer than the declared length is caught while a clean 500 can still be sent.
   */
  checkFirstChunk(length: number): void {
    const declared = this.declaredLength();
    if (declared !== undefined && length > declared) {
      throw new Error(
        `The body is longer than its Content-Length: its first chunk alone is ${length} bytes, with ${declared} declared. Give the exact length, or leave Content-Length out.`,
      );
    }
  }

  /** The app's Content-Length while the head is not sent, unless it is not the body's length (HEAD, 204, 304). */
  private declaredLength(): number | undefined {
    if (
      this.pending === null ||
      this.sink.headSent ||
      this.method === 'HEAD' ||
      statusForbidsBody(this.pending.status)
    )
      return undefined;
    const declared = this.pending.headers.find(
      ([name]) => name.toLowerCase() === 'content-length',
    )?.[1];
    return declared === undefined ? undefined : Number(declared);
  }

  /** A body known in full, all at once (the fast path of runApplication). */
  sendWhole(chunks: unknown[]): void {
    const length = totalLength(chunks);
    this.checkDeclaredLength(length);
    if (this.sink.headSent) {
      // write() has sent the head already: the array is the rest of the body.
      for (const chunk of chunks as Uint8Array[]) this.sink.write(chunk);
      this.sink.end();
    } else {
      const { status, reason, headers } = this.started();
      this.sink.sendWhole(
        status,
        headers,
        chunks.length === 1
          ? (chunks[0] as Uint8Array)
          : Buffer.concat(chunks as Uint8Array[], length),
        reason,
      );
    }
    this.answered = true;
  }

  private started(): { status: number; reason: string; headers: ResponseHeader[] } {
    if (this.pending === null) {
      throw new Error(
        'The body produced data before startResponse() was called: call startResponse(status, headers) first (in a generator, before the first yield).',
      );
    }
    return this.pending;
  }
}

function parseStatus(status: unknown): { code: number; reason: string } {
  const match = typeof status === 'string' ? STATUS.exec(status) : null;
  if (match === null) {
    throw new TypeError(
      `Bad status ${JSON.stringify(status)}: use a code, a space and a reason phrase, e.g. '200 OK' or '404 Not Found'.`,
    );
  }
  const code = Number(match[1]);
  if (code < 200) {
    // A 1xx head is interim (RFC 9110 §15.2): the client would wait for the real answer after
    // it, and read the next response on the connection as this one's.
    throw new TypeError(
      `${code} is an interim status: the server sends those itself (100 Continue); answer with a final status from 200 to 599.`,
    );
  }
  return { code, reason: match[2] };
}

/** The server's own checks: enough to keep the framing and the header block intact. */
function checkHeaders(headers: unknown): ResponseHeader[] {
  if (!Array.isArray(headers))
    throw new TypeError('startResponse() headers must be an array of [name, value] pairs.');
  const checked: ResponseHeader[] = [];
  for (const header of headers as unknown[]) {
    if (
      !Array.isArray(header) ||
      header.length !== 2 ||
      typeof header[0] !== 'string' ||
      typeof header[1] !== 'string'
    ) {
      throw new TypeError(
        `Bad header ${describe(header)}: each header must be a [name, value] pair of strings.`,
      );
    }
    const [name, value] = header;
    if (!TOKEN.test(name))
      throw new TypeError(
        `Bad header name ${JSON.stringify(name)}: use letters, digits and - only, e.g. 'Content-Type'.`,
      );
    if (!SAFE_HEADER_TEXT.test(value)) {
      throw new TypeError(
        `Bad value for header ${name}: it contains CR, LF, NUL or a character above U+00FF; percent-encode it or use RFC 8187 encoding.`,
      );
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) {
      throw new TypeError(
        `The hop-by-hop header ${name} is the server's to set, not the application's: remove it.`,
      );
    }
    if (
      lower === 'content-length' &&
      checked.some(([other]) => other.toLowerCase() === 'content-length')
    ) {
      // Two lengths, and a client or a proxy may believe either (RFC 9110 §8.6): refuse, like a request's.
      throw new TypeError(
        'Content-Length was given twice: give it once, or leave it out and let the server frame the body.',
      );
    }
    checked.push([name, value]);
  }
  return checked;
}

/** The body's iterator, async or not; a string or a bare byte array is refused. */
function iterate(body: unknown): Iterator<Uint8Array> | AsyncIterator<Uint8Array> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    throw new TypeError(
      `The application returned ${describe(body)} as its body: return an iterable of chunks instead, e.g. [bytes].`,
    );
  }
  if (body === undefined) {
    throw new TypeError(
      'The application returned undefined: is a `return` missing? Return the body, an iterable of Uint8Array chunks, e.g. [bytes].',
    );
  }
  if (isAsyncIterable(body)) return body[Symbol.asyncIterator]();
  if (isIterable(body)) return body[Symbol.iterator]();
  throw new TypeError(
    `The application returned ${describe(body)}: return an iterable of Uint8Array chunks, e.g. a generator or [bytes].`,
  );
}

function isArrayWithoutClose(body: unknown): body is unknown[] {
  return Array.isArray(body) && !('close' in body);
}

/** A synchronous iterable without a close() of its own: a `function*` generator, typically. */
function isSyncBody(body: unknown): body is Iterable<Uint8Array> {
  return (
    typeof body === 'object' &&
    body !== null &&
    Symbol.iterator in body &&
    !(Symbol.asyncIterator in body) &&
    !(body instanceof Uint8Array) &&
    !('close' in body)
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isIterable(value: unknown): value is Iterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value;
}

/** The length of a body known in full; a chunk that is not bytes is refused before anything is sent. */
function totalLength(chunks: unknown[]): number {
  let total = 0;
  for (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) throw notBytes(chunk);
    total += chunk.length;
  }
  return total;
}

function notBytes(chunk: unknown): TypeError {
  return new TypeError(
    `The body yielded ${describe(chunk)}; yield Uint8Array chunks (encode text with new TextEncoder().encode(text)).`,
  );
}

/** A short description of a value for an error message: its type, never its full content. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `a string (${value.length} characters)`;
  if (value instanceof Uint8Array) return `a single Uint8Array (${value.length} bytes)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value}`;
}
