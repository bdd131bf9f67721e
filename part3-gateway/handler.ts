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
import type { Application, Body, Environ } from './contract.ts';
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

/**
 * Call the application for one request and send its response through `sink`. Never throws.
 * Returns a promise only when something had to be waited for.
 */
export function runApplication(
  app: Application,
  environ: Environ,
  sink: ResponseSink,
  options: RunOptions = {},
): void | Promise<void> {
  const call = new AppCall(environ, sink);
  let returned: Body | Promise<Body>;
  try {
    returned = app(environ, call.response.startResponse);
    // Fast path (bench/README.md, item 23): a body that is all there, an array or a function*,
    // goes out in this call, while the socket takes it; the rest, if any, goes on below.
    const sentAll = !(returned instanceof Promise) && call.sendAtOnce(returned);
    if (sentAll) return call.close();
  } catch (error) {
    call.fail(error);
    return call.close();
  }
  // What must be waited for (the app's promise, an async body, a full socket), within the
  // app's deadline.
  const timeoutMs = options.appTimeoutMs ?? APP_TIMEOUT_MS;
  return settlesWithin(call.respond(returned), timeoutMs).then((done) => {
    if (!done) call.giveUp(timeoutMs);
  });
}

/**
 * One application call, after wsgiref's handlers.py (BaseHandler.run, finish_response):
 *
 *   call the app → start: the body's iterator (an array: its length, checked) →
 *   send each chunk (the head with the first non-empty one) → end the body →
 *   on an error: fail (a clean 500 before the head, a cut connection after it) →
 *   however it ended: close the body (return(), close()), once
 */
class AppCall {
  readonly response: PendingResponse;
  private iterator: Iterator<Uint8Array> | AsyncIterator<Uint8Array> | undefined;
  private body: Body | undefined;
  /** An array's length, known before the head goes. */
  private knownLength: number | undefined;
  /** close() has begun: the response is over, one way or another. */
  private closing = false;
  /** sendAtOnce stopped at a full socket: respond() waits for it to drain first. */
  private socketFull = false;
  private readonly sink: ResponseSink;
  private readonly environ: Environ;

  constructor(environ: Environ, sink: ResponseSink) {
    this.environ = environ;
    this.sink = sink;
    this.response = new PendingResponse(sink, environ.REQUEST_METHOD);
  }

  /** Send what can be sent now. True when the body is done; false: respond() goes on. */
  sendAtOnce(body: Body): boolean {
    const iterator = this.start(body);
    if (iterator === null) return false; // its chunks come later: respond() waits for them
    for (let step = iterator.next(); step.done !== true; step = iterator.next()) {
      if (!this.send(step.value)) {
        this.socketFull = true; // the rest waits for the socket: respond()
        return false;
      }
      if (this.sink.clientGone) return true;
    }
    this.end();
    return true;
  }

  /** wsgiref's run(), for a call that waits: the app's body, its chunks, the socket. */
  async respond(returned: Body | Promise<Body>): Promise<void> {
    try {
      if (this.iterator === undefined) this.start(await returned);
      const iterator = this.iterator;
      if (iterator === undefined) return; // closed already: the deadline came first
      if (this.socketFull) await this.sink.drained();
      for (;;) {
        // The client left, or the deadline passed: stop pulling; the body is closed after.
        if (this.sink.clientGone || this.response.timedOut) return;
        const step = await iterator.next();
        if (step.done === true) break;
        // Backpressure: pull the next chunk only once the socket has taken this one.
        if (!this.send(step.value)) await this.sink.drained();
      }
      this.end();
    } catch (error) {
      this.fail(error);
    } finally {
      await this.close();
    }
  }

  /**
   * Keep the body and its iterator (respond and close use them). An array's length is known
   * before the head goes: checked here. Returns the iterator if its chunks are there at once
   * (a synchronous one), else null.
   */
  private start(body: Body): Iterator<Uint8Array> | null {
    this.body = body;
    // wsgiref sends a one-chunk list with a Content-Length; an array of any length gets one
    // here, and one that disagrees with the app's own is a clean 500 (checkWholeBody).
    if (Array.isArray(body)) {
      this.knownLength = totalLength(body);
      this.response.checkWholeBody(this.knownLength);
    }
    const iterator = iterate(body);
    this.iterator = 'sync' in iterator ? iterator.sync : iterator.async;
    return 'sync' in iterator ? iterator.sync : null;
  }

  /** Send one chunk (the head goes with the first non-empty one); false when the socket is full. */
  private send(chunk: unknown): boolean {
    if (!(chunk instanceof Uint8Array)) throw notBytes(chunk);
    if (chunk.length === 0) return true; // nothing to send; the head can still wait
    if (!this.sink.headSent) this.response.checkFirstChunk(chunk.length);
    this.response.sendHead(this.knownLength);
    return this.sink.write(chunk);
  }

  /** The body has ended; if every chunk was empty, the head goes now (Content-Length: 0). */
  private end(): void {
    this.response.sendHead(this.knownLength ?? 0);
    this.sink.end();
  }

  /** Before the head: a clean error response. After: log, and cut the connection. */
  fail(error: unknown): void {
    const { sink, response } = this;
    if (sink.clientGone || response.timedOut) return; // no one to tell, or answered already
    // An HttpError comes from reading gateway.input (413 body too large, 400 bad chunk): the
    // client's fault, answered with its own status, and not worth a stack trace in the log.
    if (error instanceof HttpError && !sink.headSent) {
      sendError(sink, error);
      return;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const consequence = sink.headSent ? 'connection cut (head already sent)' : 'answered 500';
    this.log(`${consequence}: ${detail}`);
    if (sink.headSent) sink.abort();
    else sendError(sink, new HttpError(500, APP_FAILED, false));
  }

  /**
   * The body's return() and close(), once each, by whichever comes first, the end of the
   * response or the deadline (a body that arrives after the deadline is still closed when it
   * does). Failures are logged. A promise only if one of them returned one.
   */
  close(): void | Promise<void> {
    this.closing = true;
    const { iterator, body } = this;
    this.iterator = undefined;
    this.body = undefined;
    let returned: unknown;
    try {
      returned = iterator?.return?.();
    } catch (error) {
      this.cleanupFailed("the body iterator's return()", error);
    }
    if (!(returned instanceof Promise)) return this.closeBody(body);
    return returned.then(
      () => this.closeBody(body),
      (error: unknown) => {
        this.cleanupFailed("the body iterator's return()", error);
        return this.closeBody(body);
      },
    );
  }

  private closeBody(body: Body | undefined): void | Promise<void> {
    let closed: unknown;
    try {
      closed = body?.close?.();
    } catch (error) {
      this.cleanupFailed("the body's close()", error);
    }
    if (closed instanceof Promise) {
      return closed.then(undefined, (error: unknown) =>
        this.cleanupFailed("the body's close()", error),
      );
    }
  }

  private cleanupFailed(what: string, error: unknown): void {
    this.log(`${what} failed: ${String(error)}`);
  }

  /**
   * The app missed its deadline: answer 503 for it if nothing was sent, else cut the connection
   * so the client sees an incomplete response; close its body as far as it can be; log it.
   * Whatever the app does later goes nowhere (PendingResponse.timedOut).
   */
  giveUp(timeoutMs: number): void {
    const { sink } = this;
    this.response.timedOut = true;
    let consequence: string;
    if (this.closing) {
      consequence =
        "the response was complete, but the body's return() or close() had not finished";
    } else if (sink.clientGone) {
      consequence = 'the client had gone already';
    } else if (!sink.headSent) {
      sendError(sink, new HttpError(503, APP_TIMED_OUT));
      consequence = 'answered 503';
    } else {
      sink.abort();
      consequence = 'connection cut (head already sent)';
    }
    this.log(`not finished within ${timeoutMs} ms: ${consequence}`);
    // A hand-written iterator can run return() now; an async generator stuck in an await runs
    // it only once that await ends (if ever). Either way, nobody waits for it any more.
    void this.close();
  }

  private log(message: string): void {
    const where = `${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}`;
    this.environ['gateway.errors'].write(`[gateway] ${where}: ${message}\n`);
  }
}

// ---- The deadline ---------------------------------------------------------------------------

/** setTimeout's longest wait, about 24.8 days (longer ones fire at once): beyond, no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** True once `work` settles; false if `ms` pass first (the work goes on, no longer waited for). */
function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  if (ms > MAX_TIMER_MS) return work.then(() => true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---- What a body may be ---------------------------------------------------------------------

/** The body's iterator, synchronous or async; a string or a bare byte array is refused. */
function iterate(
  body: unknown,
): { sync: Iterator<Uint8Array> } | { async: AsyncIterator<Uint8Array> } {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const message =
      `The application returned ${describe(body)} as its body: return an iterable of ` +
      'chunks instead, e.g. [bytes].';
    throw new TypeError(message);
  }
  if (body === undefined) {
    const message =
      'The application returned undefined: is a `return` missing? Return the body, an ' +
      'iterable of Uint8Array chunks, e.g. [bytes].';
    throw new TypeError(message);
  }
  if (isAsyncIterable(body)) return { async: body[Symbol.asyncIterator]() };
  if (isIterable(body)) return { sync: body[Symbol.iterator]() };
  const message =
    `The application returned ${describe(body)}: return an iterable of Uint8Array chunks, ` +
    'e.g. a generator or [bytes].';
  throw new TypeError(message);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isIterable(value: unknown): value is Iterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value;
}

/**
 * The length of a body known in full; a chunk that is not bytes is refused before anything goes.
 */
function totalLength(chunks: unknown[]): number {
  let total = 0;
  for (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) throw notBytes(chunk);
    total += chunk.length;
  }
  return total;
}

function notBytes(chunk: unknown): TypeError {
  const message =
    `The body yielded ${describe(chunk)}; yield Uint8Array chunks (encode text with ` +
    'new TextEncoder().encode(text)).';
  return new TypeError(message);
}
