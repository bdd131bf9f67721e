// One TCP connection and its loop, `advance`, which moves it through the life of HTTP/1.1:
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
// The connection is always in one phase (timeouts.ts). advance() goes from phase to phase as
// far as it can, and returns when it must wait: for bytes, for the handler, for the client to
// take the answer. Whatever ends the wait (onData, the handler's end, 'drain', a deadline)
// calls it again. Requests on one connection are answered one at a time, in order (RFC 9112
// §9.3.2): a pipelined request waits in the parser until the loop comes back for it.
import type { Socket } from 'node:net';
import { HttpError, sendError, sendServerOptions } from './errors.ts';
import type { RequestHead } from './head.ts';
import { RequestParser } from './parser.ts';
import { CLIENT_DISCONNECTED, IncomingRequest } from './request.ts';
import { RequestBody, type BodySource } from './request-body.ts';
import { ResponseWriter } from './response.ts';
import type { Handler, ResolvedOptions } from './server.ts';
import { SocketWriter } from './socket-writer.ts';
import { now, type Phase } from './timeouts.ts';
import { traceBytes } from './trace.ts';

/** Pipelined bytes we hold while answering an earlier request, before we pause the socket. */
export const MAX_PIPELINED_BYTES = 64 * 1024;

export class Connection implements BodySource {
  /** Where the connection is in its life (timeouts.ts); each phase has its own deadline. */
  phase: Phase = 'idle';
  private deadline = Infinity;
  /** The request being answered (from its head to its drained answer), or null. */
  private current: IncomingRequest | null = null;
  /** The client sent FIN: no more bytes will come. */
  private clientEnded = false;
  /** Shutdown: finish the request in progress, start no other. */
  private stopping = false;
  /** A handler waiting in readBody for bytes: woken by bytes, FIN, the close, a deadline. */
  private wakeReader: (() => void) | null = null;
  private bodyExpired = false;

  private readonly parser: RequestParser;
  private readonly timeouts: Readonly<Record<Phase, number>>;
  private readonly socket: Socket;
  /** Every response's bytes go through it: backpressure and the send timeout. */
  private readonly out: SocketWriter;
  private readonly handler: Handler;
  private readonly options: ResolvedOptions;

  constructor(socket: Socket, handler: Handler, options: ResolvedOptions, onClosed: () => void) {
    this.socket = socket;
    this.handler = handler;
    this.options = options;
    this.parser = new RequestParser(options.limits);
    this.out = new SocketWriter(socket, options);
    this.timeouts = options.timeouts;
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
  }

  // ---- The loop -------------------------------------------------------------------------

  private advance(): void {
    for (;;) {
      switch (this.phase) {
        case 'idle':
        case 'head': {
          if (this.stopping || this.socket.destroyed) {
            this.enter('closing');
            continue;
          }
          const head = this.readHead();
          if (head === 'refused') continue; // answered with its error; now closing
          if (head !== 'wait')
            this.callHandler(head); // → 'handling', then 'skipping'
          else if (this.clientEnded)
            this.enter('closing'); // a part of a head never completes
          else return; // wait for bytes
          continue;
        }
        case 'handling':
        case 'reading':
          return; // the handler's end moves the loop on
        case 'skipping':
          if (this.skipBody()) this.enter('writing');
          else if (this.phase === 'skipping') return; // wait for bytes
          continue;
        case 'writing': {
          const { response } = this.currentRequest();
          // Backpressure on responses: a client that pipelines requests without reading the
          // answers would otherwise have us queue answer after answer, each bought with a few
          // bytes of request.
          if (response.backedUp) {
            void response.drained().then(() => this.advance());
            return;
          }
          this.current = null;
          const lastOne = this.clientEnded && this.parser.bufferedBytes === 0;
          this.enter(response.keepAlive && !lastOne ? 'idle' : 'closing');
          continue;
        }
        case 'closing':
          return this.closeOurSide();
        case 'lingering':
          return;
      }
    }
  }

  /** The next request's head; 'wait' until all of it is here; 'refused' if it is no request. */
  private readHead(): RequestHead | 'wait' | 'refused' {
    try {
      const event = this.parser.next();
      if (event === null) return 'wait';
      if (event.kind !== 'head') throw new Error(`A ${event.kind} event where a head should be.`);
      return event.head;
    } catch (error) {
      this.refuse(error);
      return 'refused';
    }
  }

  /** Call the handler; the loop moves on when it is done, now or when its promise settles. */
  private callHandler(head: RequestHead): void {
    const request = this.startRequest(head);
    const { response } = request;
    let result: void | Promise<void>;
    try {
      // RFC 9110 §9.3.7: `OPTIONS *` asks about the server, not a resource, so the server
      // answers it, whatever its handler (which routes on paths; `*` is none).
      if (head.target === '*') result = sendServerOptions(response, this.options.serverMethods);
      else result = this.handler(request, response);
    } catch (error) {
      this.handlerDone(request, error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.handlerDone(request, null);
      return;
    }
    // Its end, later, moves the loop on.
    void result
      .then(
        () => this.handlerDone(request, null),
        (error: unknown) => this.handlerDone(request, error),
      )
      .then(() => this.advance());
  }

  /** The request as the handler sees it, with the response it writes. */
  private startRequest(head: RequestHead): IncomingRequest {
    const response = new ResponseWriter(this.out, head, this.options);
    // Until the client has its 100 Continue, we cannot know whether its body will come: the
    // connection must not carry another request (bodyWanted turns this back).
    if (head.expectContinue || this.stopping) response.keepAlive = false;
    // A request without a body is whole with its head: the parser's 'end' for it comes at once.
    if (head.framing.type === 'none') this.parser.next();
    const body = new RequestBody(this, head.framing.type === 'none');
    const request = new IncomingRequest(head, body, response, this.socket);
    this.current = request;
    this.noteLastRequest();
    this.enter('handling');
    return request;
  }

  /** The handler is done: make sure a whole response went out, whatever it did. */
  private handlerDone(request: IncomingRequest, error: unknown): void {
    const { response } = request;
    request.body.close(); // what is left of the body is the server's to skip now
    if (response.clientGone) {
      // The client left before the answer was complete: the request's signal fires now.
      request.clientLeft();
    } else {
      this.finishResponse(request.head, response, error);
    }
    this.enter(response.keepAlive && !request.body.done ? 'skipping' : 'writing');
  }

  private finishResponse(head: RequestHead, response: ResponseWriter, error: unknown): void {
    try {
      if (error !== null) throw error;
      if (!response.headSent) throw new Error('The handler returned without sending a response.');
      response.end();
    } catch (failure) {
      this.logFailure(failure, head);
      if (!response.headSent) {
        const server = new HttpError(500, 'The server failed to answer this request.', false);
        sendError(response, failure instanceof HttpError ? failure : server);
      } else {
        // RFC 9112 §9.6 leaves no way to say "this response is wrong" once its head is out:
        // cutting the connection lets the client see it as incomplete.
        response.abort();
      }
    }
  }

  /**
   * Read and drop what the handler left of the body, to find where the next request begins.
   * True when it is all read; false to wait for more bytes (or, if the body is bad or cut
   * off, after moving to closing: there is no telling where the next request would begin).
   */
  private skipBody(): boolean {
    for (;;) {
      let kind: string | null;
      try {
        kind = this.parser.next()?.kind ?? null;
      } catch {
        this.enter('closing');
        return false;
      }
      if (kind === 'end') return true;
      if (kind !== null) continue; // a piece of body, dropped
      if (this.clientEnded || this.socket.destroyed) this.enter('closing');
      else this.socket.resume(); // we need bytes (onData pauses when too many pile up)
      return false;
    }
  }

  /** Our FIN goes after the last response's bytes; then we linger (onOurFinSent). */
  private closeOurSide(): void {
    this.enter('closing');
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  // ---- request.body's source: the handler pulls the body through these -------------------

  /** The next piece of the current request's body, or null at its end. */
  async readBody(): Promise<Buffer | null> {
    for (;;) {
      const event = this.parser.next(); // an HttpError (bad framing, 413) goes to the reader
      if (event !== null) {
        if (event.kind === 'head') throw new Error('A request head where a body was expected.');
        return event.kind === 'body' ? event.chunk : null;
      }
      if (this.clientEnded) {
        throw new HttpError(400, 'The client closed the connection before sending the whole body.');
      }
      if (this.socket.destroyed) throw new Error(CLIENT_DISCONNECTED);
      // The body timeout runs while the handler waits for bytes.
      this.enter('reading');
      this.socket.resume();
      this.bodyExpired = false;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
      if (this.phase === 'reading') this.enter('handling');
      if (this.bodyExpired) {
        throw new HttpError(408, 'The request body stopped arriving; send it without long pauses.');
      }
    }
  }

  /** RFC 9110 §10.1.1: the client sent only the head and waits for `100 Continue` first. */
  bodyWanted(): void {
    const current = this.current;
    if (current === null || !current.head.expectContinue || current.response.headSent) return;
    // Having asked for the body, we will read it to its end: the connection can be reused.
    current.response.keepAlive = current.head.keepAlive && !this.stopping;
    const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    if (this.options.trace) traceBytes(this.options.trace, '<', interim);
    this.socket.write(interim);
  }

  // ---- The socket's events: note what happened, move the loop on --------------------------

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing' || this.phase === 'lingering') return; // read and dropped
    if (this.options.trace) traceBytes(this.options.trace, '>', chunk);
    this.parser.push(chunk);
    // We keep reading while answering (that is how we notice a client that leaves), unless
    // too much piles up: then the bytes wait in the kernel, and in time TCP stops the client.
    if (this.parser.bufferedBytes > MAX_PIPELINED_BYTES) this.socket.pause();
    // The head timeout runs from the first byte (empty lines too) and is never extended: a
    // client trickling a byte at a time (slowloris) must still finish in time. The body
    // timeout starts again at every read.
    if (this.phase === 'idle') this.enter('head');
    else if (this.phase === 'reading' || this.phase === 'skipping') this.enter(this.phase);
    this.wake();
  }

  /** The client sent FIN: what it sent before is still answered; nothing more will come. */
  private onEnd(): void {
    this.clientEnded = true;
    this.noteLastRequest();
    this.wake();
  }

  /** Our FIN is sent: read (and drop) what the client still sends until it closes, a while. */
  private onOurFinSent(): void {
    this.enter('lingering');
    this.socket.resume();
  }

  private onClose(): void {
    this.current?.clientLeft();
    this.wake();
  }

  /**
   * Something happened: a handler waiting for body bytes reads on; a loop waiting for bytes
   * goes on. (The handler's end and 'drain' move the loop on themselves.)
   */
  private wake(): void {
    const wakeReader = this.wakeReader;
    this.wakeReader = null;
    if (wakeReader !== null) wakeReader();
    else if (this.phase === 'idle' || this.phase === 'head' || this.phase === 'skipping') {
      this.advance();
    }
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

  // ---- Phases and deadlines ---------------------------------------------------------------

  private enter(phase: Phase): void {
    this.phase = phase;
    const timeout = this.timeouts[phase];
    this.deadline = timeout === Infinity ? Infinity : now() + timeout;
  }

  /** The server's clock calls this every few moments (timeouts.ts). */
  checkDeadline(time: number): void {
    if (time < this.deadline || this.socket.destroyed) return;
    this.deadline = Infinity;
    switch (this.phase) {
      case 'idle':
        return this.closeOurSide(); // quietly: nothing was asked
      case 'head':
        return this.refuse(
          new HttpError(
            408,
            'The request head did not arrive in time; send the whole head at once.',
          ),
        );
      case 'reading':
        this.bodyExpired = true;
        return this.wake();
      case 'skipping':
        return this.closeOurSide(); // the rest of the body stopped coming: nothing to answer
      case 'lingering':
        this.socket.destroy();
        return;
    }
  }

  /** Shutdown: answer the request in progress, then close; close now if there is none. */
  stop(): void {
    this.stopping = true;
    if (this.current !== null) this.current.response.keepAlive = false;
    if (this.phase === 'idle' || this.phase === 'head') this.advance();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- Answers the loop gives itself -------------------------------------------------------

  private currentRequest(): IncomingRequest {
    if (this.current === null) throw new Error('No request is being answered.');
    return this.current;
  }

  /** Bytes that are no request (or came too slowly): answer as HTTP/1.1, then close. */
  private refuse(error: unknown): void {
    const answer = error instanceof HttpError ? error : new HttpError(400, 'Malformed request.');
    const unread = { method: 'GET', version: 'HTTP/1.1', keepAlive: false } as const;
    sendError(new ResponseWriter(this.out, unread, this.options), answer);
    this.closeOurSide();
  }

  /**
   * A stack trace is for a bug; an HttpError is an answer the handler chose. One line for a 5xx
   * of its own (a 4xx is the client's doing, not worth a line per request).
   */
  private logFailure(error: unknown, head: RequestHead): void {
    if (!(error instanceof HttpError)) this.options.logError('Handler failed:', error);
    else if (error.status >= 500) {
      this.options.logError(
        `${head.method} ${head.target}: answered ${error.status}: ${error.message}`,
      );
    }
  }
}
