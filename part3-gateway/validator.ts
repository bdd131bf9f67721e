// validator(app): middleware that checks both sides of the gateway contract (contract.ts) on
// every request, after Python's wsgiref.validate and Ruby's Rack::Lint. Put it between any
// server and any app:
//
//   createGatewayServer(validator(app))                      every request checked
//   validator(app, { onViolation: (e) => found.push(e) })   a test collecting what broke
//
// It checks the server's side (the environ; how the body is iterated and closed) and the
// app's side (startResponse's status and headers, the body and each chunk, write(),
// gateway.input and gateway.errors used as documented). To see the calls, it hands each side
// a watching wrapper (of startResponse, the body, the two streams); bytes, headers and errors
// pass through unchanged, so when both sides keep the contract the response is the same.
// The rules and their messages are in validator-rules.ts, the stream wrappers in
// validator-streams.ts; this file applies the rules at the right moment of a request.
//
// How a broken rule shows up, by when it is found:
// - While the server still waits on the app (the app call, startResponse, write(), a read of
//   gateway.input, the body's next()): a ContractError is thrown right there. Thrown into the
//   body's iteration, it takes the server's error path: before the head is sent, a clean 500
//   with the message in the error log; after it (say the body turns out shorter than its
//   Content-Length), a cut connection and the message in the log. Either way the client never
//   receives a response that looks complete but breaks the contract.
// - After the server is done with the body (it forgot return() or close()): there is no call
//   left to throw from, so the ContractError is written to the server's gateway.errors, as
//   wsgiref.validate prints to stderr.
// Every ContractError, thrown or written, is also passed to `onViolation`, so a test can fail
// on violations a server swallowed.
//
// Was the body closed? Detected when the request ends, not at garbage collection as in
// wsgiref. The server owes, on every exit (body done, app error, client gone), the iterator's
// return() and then the body's close(), once each; the wrapper sees those calls. close()
// checks that return() came first (unless the iterator had already finished). And once the
// server has stopped using the body (the iterator finished or threw, a check threw into it,
// return() came back, or gateway.signal aborted) a timer gives it `closeGraceMs`
// (CLOSE_GRACE_MS by default) to call close(); if it does not, the missing return() and
// close() are reported. The clock never runs while a next() or return() is pending: a slow
// app is not the server's fault.
//
// Not checked: that the bytes are what the app meant (that is for tests); a server that never
// touches the body while the client stays connected (no event marks the end of that request).
import { statusForbidsBody } from '../part2-tcp-http/response.ts';
import type {
  Application,
  Body,
  Environ,
  ErrorStream,
  StartResponse,
  WriteFunction,
} from './contract.ts';
import {
  checkBodyValue,
  checkChunk,
  checkEnviron,
  checkHeaders,
  checkStatus,
  ContractError,
  fail,
} from './validator-rules.ts';
import { watchErrors, watchInput, type Enforce } from './validator-streams.ts';

export { ContractError } from './validator-rules.ts';

/** How long a server may take to call the body's close() once it has stopped using the body. */
export const CLOSE_GRACE_MS = 1_000;

export interface ValidatorOptions {
  /** Called with every violation found, whether it was thrown or only written to the log. */
  onViolation?: (error: ContractError) => void;
  /** Milliseconds between the server's last use of the body and the "never closed" report. */
  closeGraceMs?: number;
}

export function validator(app: Application, options: ValidatorOptions = {}): Application {
  return function validatedApp(environ, startResponse) {
    notifyViolations(options, () => checkEnviron(environ));
    const watch = new RequestWatch(environ, options);
    const enforce: Enforce = (check) => notifyViolations(options, check);
    environ['gateway.input'] = watchInput(environ['gateway.input'], enforce);
    environ['gateway.errors'] = watchErrors(environ['gateway.errors'], enforce);
    const result = app(environ, watch.watchStartResponse(startResponse));
    return result instanceof Promise
      ? result.then((body) => watch.watchBody(body))
      : watch.watchBody(result);
  };
}

/** Run `check`; a ContractError it throws goes to onViolation, then on to the caller. */
function notifyViolations<T>(options: ValidatorOptions, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ContractError) options.onViolation?.(error);
    throw error;
  }
}

/** One request, watched from the app call to the body's close(). */
class RequestWatch {
  private readonly serverErrors: ErrorStream;
  private readonly signal: AbortSignal;
  private readonly isHead: boolean;
  private readonly where: string;
  private readonly closeGraceMs: number;

  /** What the app last gave startResponse (null until it called it). */
  private head: { code: number; contentLength: number | undefined } | null = null;
  /** Body bytes so far, from the body and from write(). */
  private bytes = 0;

  private iterating = false;
  private nextPending = false;
  private returnPending = false;
  /** The body has nothing more to give: its iterator finished or threw. */
  private finished = false;
  /** A check threw into the iteration: the server will stop there (and owes return()). */
  private broken = false;
  private returned = false;
  private closed = false;
  private cleanupReported = false;
  private deadline: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.armCleanupDeadline();

  private readonly options: ValidatorOptions;

  constructor(environ: Environ, options: ValidatorOptions) {
    this.options = options;
    this.serverErrors = environ['gateway.errors'];
    this.signal = environ['gateway.signal'];
    // RFC 9110 §9.3.2: the server drops a HEAD response's body, so an app may produce one.
    this.isHead = environ.REQUEST_METHOD === 'HEAD';
    this.where = `${environ.REQUEST_METHOD} ${environ.REQUEST_URI}`;
    this.closeGraceMs = options.closeGraceMs ?? CLOSE_GRACE_MS;
  }

  // --- The app's side ---------------------------------------------------------------------

  watchStartResponse(serverStartResponse: StartResponse): StartResponse {
    return (status, headers, error) => {
      const hasError = error !== undefined && error !== null;
      const head = this.enforce(() => {
        if (this.finished || this.closed) {
          fail(
            'start-response-late',
            'startResponse was called after the body had ended: ' +
              'call it before returning the body (in a generator, before the first yield).',
          );
        }
        if (this.head !== null && !hasError) {
          fail(
            'start-response-twice',
            'startResponse was called a second time without an error: call it once; ' +
              'to replace the head after a failure, pass the caught error as the third argument.',
          );
        }
        const code = checkStatus(status);
        return { code, ...checkHeaders(headers, code) };
      });
      // The server decides whether a replacement is still possible (it rethrows `error` once
      // the head is out), so the new head counts only if it accepted it.
      const serverWrite = serverStartResponse(status, headers, error);
      this.head = head;
      return (chunk) => this.write(serverWrite, chunk);
    };
  }

  private write(serverWrite: WriteFunction, chunk: unknown): void {
    const bytes = this.enforce(() => {
      if (this.finished || this.closed) {
        fail(
          'write-late',
          'write() was called after the body had ended: the response is complete by then; ' +
            'produce every byte before the body ends.',
        );
      }
      return this.count(checkChunk(chunk, 'write()'));
    });
    serverWrite(bytes);
  }

  /** Add a chunk to the byte count, checking it against the status and the Content-Length. */
  private count(chunk: Uint8Array): Uint8Array {
    const head = this.head;
    if (head === null) {
      fail(
        'start-response-missing',
        'The body produced a chunk before startResponse was called: ' +
          'call startResponse(status, headers) first ' +
          '(before returning the body; in a generator, before the first yield).',
      );
    }
    this.bytes += chunk.byteLength;
    if (this.isHead) return chunk;
    if (chunk.byteLength > 0 && statusForbidsBody(head.code)) {
      fail(
        'body-forbidden',
        `A ${head.code} response has no body, ` +
          `but the app produced ${chunk.byteLength} bytes for it: return an empty body ([]).`,
      );
    }
    if (head.contentLength !== undefined && this.bytes > head.contentLength) {
      fail(
        'content-length-exceeded',
        `Content-Length says ${head.contentLength} bytes, ` +
          `but the body has produced ${this.bytes} already: ` +
          'fix the header, or leave it out and let the server frame the body.',
      );
    }
    return chunk;
  }

  /** The checks for a body that has ended normally. */
  private checkEnd(): void {
    const head = this.head;
    if (head === null) {
      fail(
        'start-response-missing',
        'The body ended and startResponse was never called: ' +
          'call startResponse(status, headers) before returning the body.',
      );
    }
    if (this.isHead || statusForbidsBody(head.code) || head.contentLength === undefined) return;
    if (this.bytes !== head.contentLength) {
      fail(
        'content-length-mismatch',
        `Content-Length says ${head.contentLength} bytes, but the body had ${this.bytes}: ` +
          'make them agree, or leave Content-Length out and let the server count.',
      );
    }
  }

  // --- The body, between app and server ----------------------------------------------------

  /** The body as the server will see it: the same chunks, in a wrapper that watches. */
  watchBody(body: Body): Body {
    const value: unknown = body;
    this.enforce(() => checkBodyValue(value));
    const close = (): void | Promise<void> => this.close(body);
    if (Array.isArray(value)) return this.watchArray(value, close);
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    if (Symbol.asyncIterator in body)
      return { [Symbol.asyncIterator]: () => this.asyncIterator(body), close };
    return { [Symbol.iterator]: () => this.syncIterator(body), close };
  }

  /**
   * An array is checked whole, now: its chunks are all known and the app has returned, so
   * startResponse must have been called. The server gets an array again (a copy), so that it
   * can still compute Content-Length from it, and may walk it more than once.
   */
  private watchArray(array: readonly unknown[], close: () => void | Promise<void>): Body {
    const chunks = this.enforce(() => {
      const checked = array.map((chunk) => checkChunk(chunk, 'the body'));
      for (const chunk of checked) this.count(chunk);
      this.checkEnd();
      return checked;
    });
    this.finished = true;
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    const copy: Uint8Array[] & { close?: () => void | Promise<void> } = [...chunks];
    Object.defineProperty(copy, Symbol.iterator, { value: () => this.arrayIterator(chunks) });
    copy.close = close;
    return copy;
  }

  private arrayIterator(chunks: Uint8Array[]): Iterator<Uint8Array> {
    const inner = chunks[Symbol.iterator]();
    return {
      next: () => {
        this.enforce(() => this.checkServerMayPull());
        clearTimeout(this.deadline);
        const step = inner.next();
        if (step.done === true) this.armCleanupDeadline();
        return step;
      },
      return: () => {
        this.armCleanupDeadline();
        return { done: true, value: undefined };
      },
    };
  }

  private syncIterator(body: Iterable<Uint8Array>): Iterator<Uint8Array> {
    const inner = this.startIteration(() => body[Symbol.iterator]());
    return {
      next: () => {
        this.beforeNext();
        let step: IteratorResult<unknown>;
        try {
          step = inner.next();
        } catch (error) {
          this.afterFailure();
          throw error;
        }
        return this.afterStep(step);
      },
      return: () => {
        this.beforeReturn();
        try {
          inner.return?.();
        } finally {
          this.afterReturn();
        }
        return { done: true, value: undefined };
      },
    };
  }

  private asyncIterator(body: AsyncIterable<Uint8Array>): AsyncIterator<Uint8Array> {
    const inner = this.startIteration(() => body[Symbol.asyncIterator]());
    return {
      next: async () => {
        this.beforeNext();
        let step: IteratorResult<unknown>;
        try {
          step = await inner.next();
        } catch (error) {
          this.afterFailure();
          throw error;
        }
        return this.afterStep(step);
      },
      return: async () => {
        this.beforeReturn();
        try {
          await inner.return?.();
        } finally {
          this.afterReturn();
        }
        return { done: true, value: undefined };
      },
    };
  }

  private startIteration<I>(iterate: () => I): I {
    this.enforce(() => {
      if (this.iterating)
        fail(
          'server-iterate-twice',
          "The server asked for the body's iterator twice: " +
            'iterate a body once (a generator cannot start over).',
        );
    });
    this.iterating = true;
    return iterate();
  }

  private checkServerMayPull(): void {
    if (this.closed)
      fail(
        'server-next-after-close',
        "The server asked for a chunk after calling the body's close(): " +
          'stop iterating before closing.',
      );
  }

  private beforeNext(): void {
    this.enforce(() => {
      this.checkServerMayPull();
      if (this.returned)
        fail(
          'server-next-after-return',
          "The server asked for a chunk after calling the iterator's return(): " +
            'a returned iterator is finished.',
        );
      if (this.nextPending) {
        fail(
          'server-next-concurrent',
          'The server asked for a chunk while the previous one was still pending: ' +
            'await each next() (and the socket) before asking for more.',
        );
      }
    });
    this.nextPending = true;
    clearTimeout(this.deadline); // the server is still using the body
  }

  private afterStep(step: IteratorResult<unknown>): IteratorResult<Uint8Array> {
    this.nextPending = false;
    try {
      if (step.done !== true)
        return {
          done: false,
          value: this.enforce(() => this.count(checkChunk(step.value, 'the body'))),
        };
      const firstEnd = !this.finished;
      this.finished = true;
      if (firstEnd) this.enforce(() => this.checkEnd());
      return { done: true, value: undefined };
    } catch (error) {
      this.broken = true;
      throw error;
    } finally {
      this.armCleanupDeadline();
    }
  }

  private afterFailure(): void {
    this.nextPending = false;
    this.finished = true; // an iterator that threw is done
    this.armCleanupDeadline();
  }

  /** The clock stops while return() runs: the app's finally blocks may take their time. */
  private beforeReturn(): void {
    this.returned = true;
    this.returnPending = true;
    clearTimeout(this.deadline);
  }

  private afterReturn(): void {
    this.returnPending = false;
    this.armCleanupDeadline();
  }

  // --- The end: was everything closed? -------------------------------------------------------

  private close(body: Body): void | Promise<void> {
    if (this.closed) {
      this.report(
        new ContractError(
          'server-close-twice',
          "The server called the body's close() twice: " +
            'call it exactly once, however the response ended.',
        ),
      );
      return;
    }
    this.closed = true;
    clearTimeout(this.deadline);
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.iterating && !this.finished && !this.returned) {
      this.report(
        new ContractError(
          'server-no-return',
          "The server closed the body without calling its iterator's return(): " +
            "call iterator.return() first, so the app's finally blocks run.",
        ),
      );
    }
    return body.close?.();
  }

  /** Start (or restart) the clock on close(), if the server has stopped using the body. */
  private armCleanupDeadline(): void {
    clearTimeout(this.deadline);
    // While a next() or return() is pending the server is still waiting on the app: no clock.
    const stopped = this.finished || this.broken || this.returned || this.signal.aborted;
    if (this.closed || this.cleanupReported || this.nextPending || this.returnPending || !stopped)
      return;
    this.deadline = setTimeout(() => this.reportUnclosed(), this.closeGraceMs);
    this.deadline.unref(); // a forgotten close() must not keep the process alive
  }

  private reportUnclosed(): void {
    this.cleanupReported = true;
    this.signal.removeEventListener('abort', this.onAbort);
    const after = `within ${this.closeGraceMs} ms of its last use`;
    if (this.iterating && !this.finished && !this.returned) {
      this.report(
        new ContractError(
          'server-no-return',
          `The server did not call the body iterator's return() ${after}: ` +
            'call it on every exit (done, app error, client gone), ' +
            "so the app's finally blocks run.",
        ),
      );
    }
    this.report(
      new ContractError(
        'server-no-close',
        `The server did not call the body's close() ${after}: ` +
          'call it once on every exit (done, app error, client gone), after iterator.return().',
      ),
    );
  }

  // --- Reporting ---------------------------------------------------------------------------

  private enforce<T>(check: () => T): T {
    return notifyViolations(this.options, check);
  }

  /** For violations found when nobody is waiting on a call: log them (as wsgiref prints them). */
  private report(error: ContractError): void {
    this.options.onViolation?.(error);
    this.serverErrors.write(`[validator] ${this.where}: ${error.message}\n`);
  }
}
