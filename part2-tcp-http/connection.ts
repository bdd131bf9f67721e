// One TCP connection, served by one loop, `serve`, which reads the way HTTP/1.1 lives:
//
//   for each request on the connection:
//     read the head          idle until the first byte, then the head timeout; bad bytes are
//                            answered here (400, 408, 414, 431, ...), and the connection closes
//     call the handler       it reads the body as it arrives (request.body → readBody) and
//                            answers; if it fails before answering, a 500
//     skip the rest          what the handler left of the body is read and dropped: the next
//                            request starts after it
//     let the answer drain   the next request waits until the client has taken this answer
//     keep alive, or close   HTTP/1.0, Connection: close, an error, the client's FIN, shutdown
//   close our side (FIN), and linger until the client closes its own
//
// The loop awaits what it waits for (bytes, the handler, the client); the socket's events only
// note what happened and wake it. Requests on one connection are answered one at a time, in
// order (RFC 9112 §9.3.2): a pipelined request waits in the parser until the loop comes back.
import type { Socket } from 'node:net';
import { HttpError, sendError, sendServerOptions } from './errors.ts';
import type { RequestHead } from './head.ts';
import { RequestParser, type ParseEvent } from './parser.ts';
import { RequestBody } from './request-body.ts';
import { ResponseWriter } from './response.ts';
import type { Handler, ResolvedOptions, ServerRequest } from './server.ts';
import { now, phaseTimeouts, type Phase } from './timeouts.ts';
import { traceBytes } from './trace.ts';

/** Pipelined bytes we hold while answering an earlier request, before we pause the socket. */
export const MAX_PIPELINED_BYTES = 64 * 1024;

const CLIENT_DISCONNECTED = 'The client disconnected.';

/** The request being answered, as the socket's events must reach it. */
interface InFlight {
  response: ResponseWriter;
  /** Made on the first read of request.signal; aborted if the client leaves first. */
  controller: AbortController | null;
}

/** Where a request's `signal` getter finds its InFlight (see withLazySignal). */
const IN_FLIGHT = Symbol('in flight');

/**
 * The getter of every request's `signal`: the AbortSignal is made the first time someone reads
 * it, since one costs microseconds to make and more to collect, and most handlers never look
 * (bench/README.md, item 2). One getter for all requests, each finding its own InFlight: a
 * getter written in the object literal cost 4 µs a request (item 3). An own, enumerable
 * property, so that `{ ...request }` keeps the signal.
 */
const LAZY_SIGNAL = {
  get(this: { [IN_FLIGHT]: InFlight }): AbortSignal {
    const inFlight = this[IN_FLIGHT];
    inFlight.controller ??= new AbortController();
    const { response } = inFlight;
    if (response.clientGone && !response.finished) {
      inFlight.controller.abort(new Error(CLIENT_DISCONNECTED));
    }
    return inFlight.controller.signal;
  },
  enumerable: true,
  configurable: true, // middleware may put a signal of its own in its place
};

/** `fields` with the `signal` getter above added. */
function withLazySignal<T extends object>(fields: T): T & { readonly signal: AbortSignal } {
  return Object.defineProperty(fields, 'signal', LAZY_SIGNAL) as T & {
    readonly signal: AbortSignal;
  };
}

export class Connection {
  /** Where the connection is in its life (timeouts.ts); each phase has its own deadline. */
  phase: Phase = 'idle';
  private deadline = Infinity;
  /** A deadline passed in this phase: the loop acts on it when it wakes. */
  private expired: Phase | null = null;
  /** The request being answered, or the last one answered; null before the first. */
  private current: InFlight | null = null;
  /** The client sent FIN: no more bytes will come. */
  private clientEnded = false;
  /** Shutdown: finish the request in progress, start no other. */
  private stopping = false;
  /** Resolves the loop's wait (see nextEvent). */
  private wake: (() => void) | null = null;

  private readonly parser: RequestParser;
  private readonly timeouts: Readonly<Record<Phase, number>>;
  private readonly socket: Socket;
  private readonly handler: Handler;
  private readonly options: ResolvedOptions;

  constructor(socket: Socket, handler: Handler, options: ResolvedOptions, onClosed: () => void) {
    this.socket = socket;
    this.handler = handler;
    this.options = options;
    this.parser = new RequestParser(options.limits);
    this.timeouts = phaseTimeouts(options);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', () => {
      // ECONNRESET, EPIPE: the client went away; 'close' follows.
    });
    socket.on('finish', () => this.onOurFinSent());
    socket.on('close', () => {
      this.onClose();
      onClosed();
    });
    this.enter('idle');
    void this.serve();
  }

  // ---- The loop -------------------------------------------------------------------------

  private async serve(): Promise<void> {
    try {
      for (;;) {
        const head = await this.readHead();
        if (head === null) break; // the client closed, idled out, or was answered an error

        const { request, response } = this.startRequest(head);
        await this.callHandler(request, response);

        if (response.keepAlive && !request.body.done && !(await this.skipBody(request))) {
          response.keepAlive = false;
        }

        this.enter('writing');
        // Backpressure on responses: a client that pipelines requests without reading the
        // answers would otherwise have us queue answer after answer, each bought with a few
        // bytes of request.
        if (response.backedUp) await response.drained();

        if (!response.keepAlive || this.stopping || this.socket.destroyed) break;
        if (this.clientEnded && this.parser.bufferedBytes === 0) break; // nothing more can come
      }
    } catch (error) {
      // A bug of ours, not the client's: drop this connection, keep the server.
      this.options.logError('Connection failed:', error);
      this.socket.destroy();
      return;
    }
    this.closeOurSide();
  }

  /** The next request's head; null when none will come (closed, idle, or refused here). */
  private async readHead(): Promise<RequestHead | null> {
    this.enter(this.parser.bufferedBytes === 0 ? 'idle' : 'head');
    for (;;) {
      let event: ParseEvent | null;
      try {
        event = this.parser.next();
      } catch (error) {
        this.refuse(error);
        return null;
      }
      if (event !== null) {
        if (event.kind === 'head') return event.head;
        throw new Error(`A ${event.kind} event where a request head was expected.`);
      }
      if (this.clientEnded || this.stopping || this.socket.destroyed) return null;
      await this.somethingHappens();
      if (this.expired === 'idle') return null;
      if (this.expired === 'head') {
        this.refuse(
          new HttpError(
            408,
            'The request head did not arrive in time; send the whole head at once.',
          ),
        );
        return null;
      }
    }
  }

  /** The request as the handler sees it, and the response it writes. */
  private startRequest(head: RequestHead): { request: ServerRequest; response: ResponseWriter } {
    const response = new ResponseWriter(this.socket, head, this.options);
    // Until the client has its 100 Continue, we cannot know whether its body will come: the
    // connection must not carry another request (sendContinue turns this back).
    if (head.expectContinue || this.stopping) response.keepAlive = false;
    // A request without a body is whole with its head: the parser's 'end' for it comes at once.
    if (head.framing.type === 'none') this.parser.next();
    const current: InFlight = { response, controller: null };
    this.current = current;
    this.noteLastRequest();
    this.enter('handling');
    const socket = this.socket;
    const request = {
      head,
      body: new RequestBody(
        () => this.readBody(),
        () => this.sendContinue(head, response),
        head.framing.type === 'none',
      ),
      // Asked of the socket once per connection (getpeername, getsockname), then remembered.
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      [IN_FLIGHT]: current,
    };
    return { request: withLazySignal(request), response };
  }

  /** Call the handler, and make sure a whole response went out, whatever it did. */
  private async callHandler(request: ServerRequest, response: ResponseWriter): Promise<void> {
    try {
      // RFC 9110 §9.3.7: `OPTIONS *` asks about the server, not a resource, so the server
      // answers it, whatever its handler (which routes on paths; `*` is none).
      if (request.head.target === '*') sendServerOptions(response, this.options.serverMethods);
      else await this.handler(request, response);
      if (response.clientGone) return; // the client left: nobody to finish the answer for
      if (!response.headSent) throw new Error('The handler returned without sending a response.');
      response.end();
    } catch (error) {
      if (response.clientGone) return; // there is nobody left to answer
      this.logFailure(error, request.head);
      if (!response.headSent) {
        const answer =
          error instanceof HttpError
            ? error
            : new HttpError(500, 'The server failed to answer this request.', false);
        sendError(response, answer);
      } else {
        // RFC 9112 §9.6 leaves no way to say "this response is wrong" once its head is out:
        // cutting the connection lets the client see it as incomplete.
        response.abort();
      }
    }
  }

  /** Read and drop what the handler left of the body; false if that fails (then we close). */
  private async skipBody(request: ServerRequest): Promise<boolean> {
    this.enter('body');
    try {
      await request.body.skipRest();
      return true;
    } catch {
      return false;
    }
  }

  /** The loop is over: our FIN goes after the last response's bytes; then we linger. */
  private closeOurSide(): void {
    this.enter('closing');
    if (!this.socket.destroyed) this.socket.end();
  }

  // ---- Called from the handler's side -----------------------------------------------------

  /** The next piece of the current request's body, or null at its end: request.body's source. */
  private async readBody(): Promise<Buffer | null> {
    for (;;) {
      const event = this.parser.next(); // an HttpError (bad framing, 413) goes to the reader
      if (event !== null) {
        if (event.kind === 'head') throw new Error('A request head where a body was expected.');
        return event.kind === 'body' ? event.chunk : null;
      }
      if (this.clientEnded)
        throw new HttpError(400, 'The client closed the connection before sending the whole body.');
      if (this.socket.destroyed) throw new Error(CLIENT_DISCONNECTED);
      const phase = this.phase;
      this.enter('body'); // the body timeout runs while we wait for its bytes
      await this.somethingHappens();
      const expired = this.expired;
      this.enter(phase);
      if (expired === 'body')
        throw new HttpError(408, 'The request body stopped arriving; send it without long pauses.');
    }
  }

  /** RFC 9110 §10.1.1: the client sent only the head and waits for this before the body. */
  private sendContinue(head: RequestHead, response: ResponseWriter): void {
    if (!head.expectContinue || response.headSent) return;
    // Having asked for the body, we will read it to its end: the connection can be reused.
    response.keepAlive = head.keepAlive && !this.stopping;
    const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    if (this.options.trace) traceBytes(this.options.trace, '<', interim);
    this.socket.write(interim);
  }

  // ---- The socket's events: note what happened, wake the loop -----------------------------

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing' || this.phase === 'lingering') return; // read and dropped
    if (this.options.trace) traceBytes(this.options.trace, '>', chunk);
    this.parser.push(chunk);
    // The head timeout runs from the first byte (empty lines too) and is never extended:
    // a client trickling a byte at a time (slowloris) must still finish in time. The body
    // timeout starts again at every read.
    if (this.phase === 'idle') this.enter('head');
    else if (this.phase === 'body') this.enter('body');
    // We keep reading while answering (that is how we notice a client that leaves), unless
    // too much piles up: then the bytes wait in the kernel, and in time TCP stops the client.
    if (this.parser.bufferedBytes > MAX_PIPELINED_BYTES) this.socket.pause();
    this.wakeLoop();
  }

  /** The client sent FIN: what it sent before is still answered; nothing more will come. */
  private onEnd(): void {
    this.clientEnded = true;
    this.noteLastRequest();
    this.wakeLoop();
  }

  /** Our FIN is sent: read (and drop) what the client still sends until it closes, a while. */
  private onOurFinSent(): void {
    this.enter('lingering');
    this.socket.resume();
  }

  private onClose(): void {
    const current = this.current;
    if (current !== null && !current.response.finished) {
      current.controller?.abort(new Error(CLIENT_DISCONNECTED));
    }
    this.wakeLoop();
  }

  /**
   * The client sent FIN and no byte of another request waits: the request being answered is
   * its last, and its answer says that we close (RFC 9112 §9.6).
   */
  private noteLastRequest(): void {
    if (this.clientEnded && this.current !== null && this.parser.bufferedBytes === 0) {
      this.current.response.keepAlive = false;
    }
  }

  // ---- Waiting, phases and deadlines ------------------------------------------------------

  /** Wait until something happens: bytes, the client's FIN, the close, a deadline, shutdown. */
  private somethingHappens(): Promise<void> {
    this.socket.resume(); // we need bytes: let them in (onData pauses when too many pile up)
    return new Promise((resolve) => (this.wake = resolve));
  }

  private wakeLoop(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.expired = null;
    const timeout = this.timeouts[phase];
    this.deadline = timeout === Infinity ? Infinity : now() + timeout;
  }

  /** The server's clock calls this every few moments (timeouts.ts). */
  checkDeadline(time: number): void {
    if (time < this.deadline || this.socket.destroyed) return;
    this.deadline = Infinity;
    if (this.phase === 'lingering') {
      this.socket.destroy();
      return;
    }
    this.expired = this.phase;
    this.wakeLoop();
  }

  /** Shutdown: answer the request in progress, then close; close now if there is none. */
  stop(): void {
    this.stopping = true;
    if (this.current !== null) this.current.response.keepAlive = false;
    this.wakeLoop();
  }

  /** True when no request is in progress: shutdown closes this connection at once. */
  get isIdle(): boolean {
    return this.phase === 'idle';
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- Answers the loop gives itself -------------------------------------------------------

  /** Bytes that are no request (or came too slowly): answer as HTTP/1.1, then close. */
  private refuse(error: unknown): void {
    const answer = error instanceof HttpError ? error : new HttpError(400, 'Malformed request.');
    const unread = { method: 'GET', version: 'HTTP/1.1', keepAlive: false } as const;
    sendError(new ResponseWriter(this.socket, unread, this.options), answer);
  }

  /**
   * A stack trace is for a bug; an HttpError is an answer the handler chose. One line for a 5xx
   * of its own (a 4xx is the client's doing, not worth a line per request).
   */
  private logFailure(error: unknown, head: RequestHead): void {
    if (!(error instanceof HttpError)) this.options.logError('Handler failed:', error);
    else if (error.status >= 500)
      this.options.logError(
        `${head.method} ${head.target}: answered ${error.status}: ${error.message}`,
      );
  }
}
