// Running one application call and turning what it gives back into a response: the server's
// half of the contract (contract.ts), after wsgiref's handlers.py (BaseHandler.run):
//
//   call the app → send its body, chunk by chunk (the head goes with the first non-empty one)
//   → end → on an error: a clean 500 before the head, a cut connection after it → close the
//   body, whatever happened; all of it within the app's deadline
//
// It writes to a ResponseSink: part 2's ResponseWriter on part 3's server; in part 4, a wrapper
// around node:http's ServerResponse, or one that makes a fetch Response. Each frames the body
// as HTTP needs (Content-Length, chunked, or the close), so this file never does.
import { HttpError, sendError } from '../part2-tcp-http/errors.ts';
import type { ResponseHeader } from '../part2-tcp-http/response.ts';
import type { Application, Body, Environ, ErrorStream } from './contract.ts';
import { describe, PendingResponse } from './start-response.ts';

/** What a server must offer to send a response (part 2's ResponseWriter has exactly this). */
export interface ResponseSink {
  /** writeHead() has been called: too late for another status. */
  readonly headSent: boolean;
  /** May the connection carry another request after this response? */
  keepAlive: boolean;
  /** The client is gone: nobody reads what is written. */
  readonly clientGone: boolean;
  writeHead(status: number, headers: ResponseHeader[], knownLength?: number, reason?: string): void;
  /** False when the bytes had to wait: call drained() before writing more. */
  write(chunk: Uint8Array): boolean;
  drained(): Promise<void>;
  end(): void;
  /** Cut the connection: the client sees the response incomplete. */
  abort(): void;
  sendWhole(
    status: number,
    headers: ResponseHeader[],
    body?: string | Uint8Array,
    reason?: string,
  ): void;
}

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

export interface RunOptions {
  /** The per-request deadline: APP_TIMEOUT_MS unless given. */
  appTimeoutMs?: number;
}

/** Call the application for one request and send its response through `sink`. Never throws. */
export async function runApplication(
  app: Application,
  environ: Environ,
  sink: ResponseSink,
  options: RunOptions = {},
): Promise<void> {
  const response = new PendingResponse(sink, environ.REQUEST_METHOD);
  const body = new BodyCloser(environ['gateway.errors']);
  const timeoutMs = options.appTimeoutMs ?? APP_TIMEOUT_MS;
  const run = respond(app, environ, sink, response, body);
  if (!(await settlesWithin(run, timeoutMs))) giveUp(timeoutMs, response, sink, environ, body);
}

/** wsgiref's run(): call the app, send its body, answer its errors, close the body. */
async function respond(
  app: Application,
  environ: Environ,
  sink: ResponseSink,
  response: PendingResponse,
  body: BodyCloser,
): Promise<void> {
  try {
    const result = await app(environ, response.startResponse);
    body.keep(result);
    // An array's length is known before the head goes: it is sent with a Content-Length
    // (wsgiref does the same for a one-chunk list), and one that disagrees with the app's own
    // Content-Length is answered with a clean 500 (checkWholeBody).
    const knownLength = Array.isArray(result) ? totalLength(result) : undefined;
    if (knownLength !== undefined) response.checkWholeBody(knownLength);
    await sendBody(iterate(result), response, sink, knownLength, body);
  } catch (error) {
    handleError(error, response, sink, environ);
  } finally {
    await body.close();
  }
}

/** Pull the body chunk by chunk and send each; the head goes with the first non-empty one. */
async function sendBody(
  iterator: Iterator<Uint8Array> | AsyncIterator<Uint8Array>,
  response: PendingResponse,
  sink: ResponseSink,
  knownLength: number | undefined,
  body: BodyCloser,
): Promise<void> {
  body.iterator = iterator;
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
    // The client left, or the deadline passed: stop pulling; the body is closed after.
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
  if (sink.clientGone || response.timedOut) return; // no one to tell, or answered already
  // An HttpError comes from reading gateway.input (413 body too large, 400 bad chunk): the
  // client's fault, answered with its own status, and not worth a stack trace in the log.
  if (error instanceof HttpError && !sink.headSent) {
    sendError(sink, error);
    return;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const consequence = sink.headSent ? 'connection cut (head already sent)' : 'answered 500';
  log(environ, `${consequence}: ${detail}`);
  if (sink.headSent) sink.abort();
  else sendError(sink, new HttpError(500, APP_FAILED, false));
}

function log(environ: Environ, message: string): void {
  const where = `${environ.REQUEST_METHOD} ${environ.REQUEST_URI}`;
  environ['gateway.errors'].write(`[gateway] ${where}: ${message}\n`);
}

// ---- The body's cleanup -------------------------------------------------------------------

/**
 * The body and its iterator, once the app has returned them, and their cleanup: return() and
 * close(), once each, by whichever comes first, the end of the response or the deadline (a body
 * that arrives after the deadline is still closed when it does). Failures are logged.
 */
class BodyCloser {
  iterator: Iterator<Uint8Array> | AsyncIterator<Uint8Array> | undefined;
  /** close() has begun: the response is over, one way or another. */
  closing = false;
  private body: Body | undefined;
  private readonly errors: ErrorStream;

  constructor(errors: ErrorStream) {
    this.errors = errors;
  }

  keep(body: Body): void {
    this.body = body;
  }

  async close(): Promise<void> {
    this.closing = true;
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

// ---- The deadline ---------------------------------------------------------------------------

/** setTimeout's longest wait, about 24.8 days (longer ones fire at once): beyond, no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * True once `work` settles; false if `ms` pass first (the work goes on, no longer waited for).
 * The timer is armed only for work still running when this turn of the event loop ends: most
 * calls are done by then, and a timer made and cleared per request cost about 1 µs of a few
 * (bench/README.md, item 22).
 */
function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    void work.then(() => {
      settled = true;
      clearTimeout(timer);
      resolve(true);
    });
    if (ms > MAX_TIMER_MS) return;
    setImmediate(() => {
      if (!settled) timer = setTimeout(() => resolve(false), ms);
    });
  });
}

/**
 * The app missed its deadline: answer 503 for it if nothing was sent, else cut the connection so
 * the client sees an incomplete response; close its body as far as it can be; log it. Whatever
 * the app does later goes nowhere (PendingResponse.timedOut).
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
  if (body.closing) {
    consequence = "the response was complete, but the body's return() or close() had not finished";
  } else if (sink.clientGone) {
    consequence = 'the client had gone already';
  } else if (!sink.headSent) {
    sendError(sink, new HttpError(503, APP_TIMED_OUT));
    consequence = 'answered 503';
  } else {
    sink.abort();
    consequence = 'connection cut (head already sent)';
  }
  log(environ, `not finished within ${timeoutMs} ms: ${consequence}`);
  // A hand-written iterator can run return() now; an async generator stuck in an await runs it
  // only once that await ends (if ever). Either way, nobody waits for it any more.
  void body.close();
}

// ---- What a body may be ---------------------------------------------------------------------

/** The body's iterator, async or not; a string or a bare byte array is refused. */
function iterate(body: unknown): Iterator<Uint8Array> | AsyncIterator<Uint8Array> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const message = `The application returned ${describe(body)} as its body: return an iterable of chunks instead, e.g. [bytes].`;
    throw new TypeError(message);
  }
  if (body === undefined) {
    const message =
      'The application returned undefined: is a `return` missing? Return the body, an ' +
      'iterable of Uint8Array chunks, e.g. [bytes].';
    throw new TypeError(message);
  }
  if (typeof body === 'object' && body !== null) {
    if (Symbol.asyncIterator in body)
      return (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    if (Symbol.iterator in body) return (body as Iterable<Uint8Array>)[Symbol.iterator]();
  }
  const message = `The application returned ${describe(body)}: return an iterable of Uint8Array chunks, e.g. a generator or [bytes].`;
  throw new TypeError(message);
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
  const message = `The body yielded ${describe(chunk)}; yield Uint8Array chunks (encode text with new TextEncoder().encode(text)).`;
  return new TypeError(message);
}
