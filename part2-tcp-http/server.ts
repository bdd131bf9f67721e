// An HTTP/1.1 server on `node:net`: one Connection object per TCP connection runs the loop
//
//   read bytes → parse a request → call the handler → write its response → next request
//
// with keep-alive, pipelining (requests answered in order), Expect: 100-continue, timeouts, and
// an answer for every kind of bad input. What a request *means* is up to the handler: part 2's
// small site (site.ts), or part 3's gateway, which reuses this whole file.
//
// Not here: TLS, HTTP/2, Upgrade/WebSocket, request-body backpressure (a body is buffered, and
// the body limit bounds it).
import { Server, type Socket } from 'node:net';
import { HttpError, RequestParser, type ParserLimits, type RequestHead } from './parser.ts';
import { ResponseWriter, sendError, sendServerOptions } from './response.ts';
import { RequestBody } from './request-body.ts';
import { traceBytes, type TraceSink } from './trace.ts';

/** A connection with a partial request head must complete it within this time. → 408 */
export const HEAD_TIMEOUT_MS = 10_000;
/** A keep-alive connection with no request in progress is closed after this long, quietly. */
export const IDLE_TIMEOUT_MS = 5_000;
/** While a request body is arriving, the longest silence between two reads. → 408 */
export const BODY_TIMEOUT_MS = 10_000;
/**
 * Once we have sent our last byte and closed our side (FIN), how long the client has to close
 * its side before we drop the connection. Closing at once could turn bytes still in flight into
 * a reset that destroys the response (RFC 9112 §9.6); waiting for ever lets a client that never
 * closes hold the socket.
 */
export const LINGER_TIMEOUT_MS = 2_000;
/**
 * While a response waits for the client, the longest it may go without the socket taking any of
 * it: then the client has stopped reading, and the connection is dropped (nginx's send_timeout).
 * A slow client that keeps reading is never cut.
 */
export const SEND_TIMEOUT_MS = 60_000;
/** Pipelined bytes we hold while answering an earlier request, before we pause the socket. */
export const MAX_PIPELINED_BYTES = 64 * 1024;
/** On shutdown, how long in-flight responses may take before their connections are cut. */
export const SHUTDOWN_DEADLINE_MS = 10_000;
/**
 * What `OPTIONS *` lists in Allow. Simplification: the server cannot know which methods its
 * handler's resources take, so it says what the course's sites and apps serve; a server whose
 * handler takes more (PUT, DELETE) lists them with the `serverMethods` option.
 */
export const SERVER_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'OPTIONS'];

export interface HttpRequest {
  head: RequestHead;
  body: RequestBody;
  /**
   * The client's address and port, and ours. Asked of the socket on first read, as node:http
   * does: read them before the client can be gone (after that they are '' and 0).
   */
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Aborted when the client disconnects before the response is complete (made on first read: see ExchangeRequest). */
  signal: AbortSignal;
}

/** Answers one request. Throw an HttpError to answer with its status; any other error is a 500. */
export type Handler = (request: HttpRequest, response: ResponseWriter) => void | Promise<void>;

export interface HttpServerOptions {
  limits?: Partial<ParserLimits>;
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  bodyTimeoutMs?: number;
  lingerTimeoutMs?: number;
  sendTimeoutMs?: number;
  /** Print every byte received and sent (see trace.ts). */
  trace?: TraceSink;
  /** The Server header value; '' sends none. */
  serverName?: string;
  /** Where errors are reported (the client only ever sees a generic message). */
  logError?: (message: string, error?: unknown) => void;
  /** The methods `OPTIONS *` lists in Allow (SERVER_METHODS unless given). */
  serverMethods?: readonly string[];
}

/**
 * The request now being answered on a connection.
 *
 * A class, not an object literal, though it has no methods: V8 may decide that the objects an
 * object literal makes tend to survive, and make them in the old generation from then on
 * (allocation-site pretenuring). An exchange made old kept the request's head, body and
 * response alive until a full collection, however soon the connection closed: with a
 * connection per request, that was 4 µs of garbage collection a request (bench/README.md,
 * item 21). V8 does not do that to the instances of a class.
 */
class Exchange {
  readonly head: RequestHead;
  readonly body = new RequestBody();
  readonly response: ResponseWriter;
  /** Made on first use of `request.signal` (see ExchangeRequest). */
  abort: AbortController | null = null;
  /** The handler has been called: once what had arrived of the request was parsed (pump). */
  handlerCalled = false;
  /** The connection closed before the response was complete. */
  disconnected = false;
  /** Every byte of the request has been parsed. */
  messageComplete = false;
  /** The handler has finished and the response is complete. */
  responseDone = false;
  continueSent = false;

  constructor(head: RequestHead, response: ResponseWriter) {
    this.head = head;
    this.response = response;
  }
}

const CLIENT_DISCONNECTED = 'The client disconnected.';

/** The HttpRequest a handler is given: the exchange's request, seen from the handler's side. */
class ExchangeRequest implements HttpRequest {
  readonly head: RequestHead;
  readonly body: RequestBody;
  readonly #exchange: Exchange;
  readonly #socket: Socket;

  constructor(exchange: Exchange, socket: Socket) {
    this.head = exchange.head;
    this.body = exchange.body;
    this.#exchange = exchange;
    this.#socket = socket;
  }

  // The addresses are asked of the socket when a handler reads them: the first read is a system
  // call (getpeername, getsockname), which Node then remembers for the socket. A handler that
  // never looks at them costs nothing; one connection per request made it two calls a request.
  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }

  get localAddress(): string {
    return this.#socket.localAddress ?? '';
  }

  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  /**
   * Fast path: the AbortSignal is made the first time a handler reads it. Node's AbortSignal is
   * costly to make and, worse, to collect (each gets a hidden class of its own, which only a
   * full collection frees): with one per request, garbage collection became the largest cost of
   * a small response (bench/README.md), and most handlers never look at it. A signal asked for
   * after the client left is aborted at once. (A getter of a class, not of an object literal:
   * V8 makes an object literal with a getter the slow way, about a microsecond each.)
   */
  get signal(): AbortSignal {
    const exchange = this.#exchange;
    if (exchange.abort === null) {
      exchange.abort = new AbortController();
      if (exchange.disconnected) exchange.abort.abort(new Error(CLIENT_DISCONNECTED));
    }
    return exchange.abort.signal;
  }
}

type TimerKind = 'idle' | 'head' | 'body';

/** Milliseconds on a clock that only moves forward (the wall clock can be set back). */
const now = (): number => performance.now();

class Connection {
  private readonly parser: RequestParser;
  private current: Exchange | null = null;
  /** Which timeout runs now (none while a handler works), and when it expires. */
  private timerKind: TimerKind | null = null;
  private timerDue = 0;
  /** After our FIN: when we stop waiting for the client's (see LINGER_TIMEOUT_MS). */
  private lingerUntil = Infinity;
  /** No more requests will be read: the connection is ending. */
  private closing = false;
  /** The request was malformed or too slow: nothing more on this connection is read. */
  private parseFailed = false;
  /** The client has closed its sending side (FIN): finish what it sent, then close. */
  private clientEnded = false;
  /**
   * Bytes have arrived since the last request began: the next one has started, even if all we
   * have of it are empty lines (which the parser skips without a trace). Its head timer runs.
   */
  private headStarted = false;
  /** pump() is running: see maybeNextRequest. */
  private pumping = false;

  private readonly socket: Socket;
  private readonly handler: Handler;
  private readonly options: HttpServerOptions;
  private readonly onClosed: (connection: Connection) => void;

  constructor(
    socket: Socket,
    handler: Handler,
    options: HttpServerOptions,
    onClosed: (connection: Connection) => void,
  ) {
    this.socket = socket;
    this.handler = handler;
    this.options = options;
    this.onClosed = onClosed;
    this.parser = new RequestParser(options.limits);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The client closed its sending side: no more requests will come, but we still answer the
    // ones we have (allowHalfOpen keeps our side open for that).
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => {
      // ECONNRESET, EPIPE: the client went away; 'close' follows and does the cleanup.
    });
    socket.on('close', () => this.onClose());
    // Our side is closed and flushed: keep reading (and dropping) what the client still sends,
    // so it sees our response and our FIN, and give it a little while to close its side.
    socket.on('finish', () => {
      socket.resume();
      this.lingerUntil = now() + (this.options.lingerTimeoutMs ?? LINGER_TIMEOUT_MS);
    });
    this.updateTimer();
  }

  /** The server's clock calls this every few moments: act on a timeout whose time has come. */
  checkTimeouts(time: number): void {
    if (this.socket.destroyed) return; // 'close' is on its way, and takes it off the clock
    if (time >= this.lingerUntil) this.socket.destroy();
    else if (this.timerKind !== null && time >= this.timerDue) this.onTimeout();
  }

  /** True when no request is in progress: shutdown may close this connection at once. */
  get isIdle(): boolean {
    return this.current === null && this.parser.isIdle;
  }

  /** Stop after the response in progress (used by shutdown); close now if there is none. */
  closeWhenIdle(): void {
    this.closing = true;
    if (this.current === null) this.endOurSide();
    else if (!this.current.response.headSent) this.current.response.keepAlive = false;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Send our FIN, once. (A second socket.end() after the first has finished is harmless but not
   * free: Node builds an ERR_STREAM_ALREADY_FINISHED error, stack trace and all, for nobody.)
   */
  private endOurSide(): void {
    if (!this.socket.writableEnded) this.socket.end();
  }

  /**
   * A request whose body is still arriving and whose handler is still at work: closing (on
   * shutdown) stops the next request, not this one's body, or the upload would hang until the
   * deadline cut it.
   */
  private get readingLastBody(): boolean {
    return (
      this.current !== null &&
      !this.current.messageComplete &&
      !this.current.responseDone &&
      !this.parseFailed
    );
  }

  private onData(chunk: Buffer): void {
    if (this.closing && !this.readingLastBody) return;
    if (this.options.trace) traceBytes(this.options.trace, '>', chunk);
    this.headStarted = true;
    this.parser.push(chunk);
    this.pump();
    this.updateTimer();
  }

  /**
   * Parse what has arrived, then answer the request it began or completed, unless that one is
   * being answered already. A handler that finishes at once (see callHandler) leaves no request
   * in progress: the loop goes on to the next pipelined one.
   */
  private pump(): void {
    this.pumping = true;
    try {
      for (;;) {
        this.parseArrived();
        const exchange = this.current;
        if (exchange === null || exchange.handlerCalled) break;
        this.callHandler(exchange);
      }
    } finally {
      this.pumping = false;
    }
    if (this.parser.bufferedBytes > MAX_PIPELINED_BYTES) this.socket.pause();
  }

  /** Pull parse events and act on them, until the parser needs more bytes or we must wait. */
  private parseArrived(): void {
    // HTTP/1.1 answers requests in order (RFC 9112 §9.3.2): while one is being answered, a
    // pipelined request waits in the parser's buffer. We keep reading (that is how we notice a
    // client that leaves) unless too much piles up: then pump() pauses the socket and the bytes
    // wait in the kernel, which in time stops the client sending (TCP flow control).
    while (
      (!this.closing || this.readingLastBody) &&
      !(this.current !== null && this.current.messageComplete)
    ) {
      let event;
      try {
        event = this.parser.next();
      } catch (error) {
        this.onBadRequest(
          error instanceof HttpError ? error : new HttpError(400, 'Malformed request.'),
        );
        return;
      }
      if (event === null) return;
      if (event.kind === 'head') this.startExchange(event.head);
      else if (event.kind === 'body') this.current?.body.push(event.chunk);
      else this.completeMessage();
    }
  }

  private startExchange(head: RequestHead): void {
    this.headStarted = false;
    const response = new ResponseWriter(this.socket, head, this.options);
    const exchange = new Exchange(head, response);
    exchange.body.onFirstRead = () => this.sendContinue(exchange);
    this.current = exchange;
    // The idle or head timer stops here; updateTimer() starts one when pump() is done. (A
    // handler that answers at once leaves the connection idle again by then: the idle timer
    // must start anew, not run on from before this request.)
    this.clearTimer();
    // Decided before the handler may write a head: if the client is waiting for
    // "100 Continue" and the handler answers without reading the body, we cannot know
    // whether the body will still come, so this connection must not carry another request.
    if (head.expectContinue) response.keepAlive = false;
    if (this.closing) response.keepAlive = false;
  }

  /**
   * Fast path: a handler that answers at once (returns no promise) is finished here, in this
   * call, with no promise and no trip through the microtask queue; most small responses are
   * like that. An async handler is finished when its promise settles.
   */
  private callHandler(exchange: Exchange): void {
    exchange.handlerCalled = true;
    let result: void | Promise<void>;
    try {
      // RFC 9110 §9.3.7: `OPTIONS *` asks about the server, not about a resource, so the server
      // answers it, whatever its handler: a handler routes on paths, and `*` is none (a gateway
      // app would see an empty PATH_INFO and answer 404 or 405). The parser allows `*` with
      // OPTIONS only.
      if (exchange.head.target === '*')
        result = sendServerOptions(exchange.response, this.options.serverMethods ?? SERVER_METHODS);
      else result = this.handler(new ExchangeRequest(exchange, this.socket), exchange.response);
    } catch (error) {
      this.finishResponse(exchange, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.finishResponse(exchange, null),
        (error: unknown) => this.finishResponse(exchange, error),
      );
    } else {
      this.finishResponse(exchange, null);
    }
  }

  /** RFC 9110 §10.1.1: the client sent only the head and waits for this before the body. */
  private sendContinue(exchange: Exchange): void {
    if (!exchange.head.expectContinue || exchange.continueSent || exchange.response.headSent)
      return;
    exchange.continueSent = true;
    // Having asked for the body, we will read it to its end: the connection can be reused.
    exchange.response.keepAlive = exchange.head.keepAlive && !this.closing;
    const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    if (this.options.trace) traceBytes(this.options.trace, '<', interim);
    this.socket.write(interim);
  }

  private completeMessage(): void {
    const exchange = this.current;
    if (exchange === null) return;
    exchange.messageComplete = true;
    exchange.body.finish();
    this.maybeNextRequest();
  }

  /** The handler is done: make sure a complete response went out, whatever it did. */
  private finishResponse(exchange: Exchange, error: unknown): void {
    const { response } = exchange;
    if (this.socket.destroyed) return;
    try {
      if (error !== null) {
        // A stack trace is for a bug; an HttpError is an answer the handler chose. One line
        // for a 5xx of its own (a 4xx is the client's doing, not worth a line per request).
        if (!(error instanceof HttpError)) this.options.logError?.('Handler failed:', error);
        else if (error.status >= 500)
          this.options.logError?.(
            `${exchange.head.method} ${exchange.head.target}: answered ${error.status}: ${error.message}`,
          );
        if (response.headSent) throw error; // too late for an error page: cut the connection below
        sendError(
          response,
          error instanceof HttpError
            ? error
            : new HttpError(500, 'The server failed to answer this request.', false),
        );
      } else if (!response.headSent) {
        throw new Error('The handler returned without sending a response.');
      } else {
        response.end();
      }
    } catch (failure) {
      if (failure !== error) this.options.logError?.('Response failed:', failure);
      if (!response.headSent) {
        sendError(response, new HttpError(500, 'The server failed to answer this request.', false));
      } else {
        // RFC 9112 §9.6 leaves no way to say "this response is wrong" once its head is out:
        // closing the connection early lets the client see it as incomplete. abort() first
        // sends what the response still holds (its head may be waiting for body bytes).
        response.abort();
        return;
      }
    }
    if (!response.keepAlive) this.closing = true;
    // Backpressure on responses: move on only once the client has taken this response. A client
    // that pipelines requests without reading the answers would otherwise have us queue answer
    // after answer in memory, each bought with a few bytes of request.
    if (response.backedUp) void response.drained().then(() => this.completeResponse(exchange));
    else this.completeResponse(exchange);
  }

  private completeResponse(exchange: Exchange): void {
    if (this.socket.destroyed) return;
    exchange.responseDone = true;
    // The answer is out; what is left of the request body is read only to find where the next
    // request begins. Nobody will read it: drop it as it comes.
    exchange.body.discard();
    this.maybeNextRequest();
  }

  /** When both the request and its response are complete, move on to the next request. */
  private maybeNextRequest(): void {
    const exchange = this.current;
    if (
      exchange !== null &&
      exchange.responseDone &&
      !exchange.messageComplete &&
      this.clientEnded
    ) {
      // The client sent FIN partway through the body: the rest can never come, and our answer
      // is out. Nothing is left to wait for: close now, not when the body timeout fires.
      this.current = null;
      this.endOurSide();
      return;
    }
    if (exchange === null || !exchange.messageComplete || !exchange.responseDone) {
      if (!this.pumping) this.updateTimer(); // else onData() does, once pump() is done
      return;
    }
    this.current = null;
    if (this.closing) {
      this.endOurSide();
      return;
    }
    // Answered within pump() (a handler that finished at once): its loop goes on to the next
    // request. Calling pump() from here would nest one call per pipelined request.
    if (this.pumping) return;
    this.socket.resume();
    this.pump();
    if (this.clientEnded) this.onClientEnd();
    this.updateTimer();
  }

  private onBadRequest(error: HttpError): void {
    this.closing = true;
    this.parseFailed = true;
    const exchange = this.current;
    if (exchange !== null) {
      // Bad bytes inside a body: the handler reading it gets the error (and answers with its
      // status); one that already answered just sees the connection close.
      exchange.response.keepAlive = false;
      exchange.body.fail(error);
      if (exchange.response.finished) this.endOurSide();
      return;
    }
    // We never got a usable head, so answer as HTTP/1.1 and close: we cannot tell where the
    // next request would start.
    sendError(
      new ResponseWriter(
        this.socket,
        { method: 'GET', version: 'HTTP/1.1', keepAlive: false },
        this.options,
      ),
      error,
    );
    this.clearTimer();
  }

  /**
   * The client sent FIN: no more bytes will come. Requests it sent complete before that (a
   * pipelined batch from `printf ... | nc -N`) are still answered, one by one: maybeNextRequest
   * comes back here after each. Then we close our side too.
   */
  private onClientEnd(): void {
    this.clientEnded = true;
    const exchange = this.current;
    if (exchange === null) {
      // The parser holds no complete head (pump would have started it): at most part of one,
      // which can never be completed now. Nothing to answer.
      this.closing = true;
      this.endOurSide();
    } else if (!exchange.messageComplete) {
      this.closing = true;
      exchange.response.keepAlive = false;
      // An HttpError, not a plain Error: a cut-off body is the client's doing, answered with
      // 400 (it may still be reading), not logged as a failure of the handler.
      exchange.body.fail(
        new HttpError(400, 'The client closed the connection before sending the whole body.'),
      );
      // If the handler answered early, without waiting for the body, we are done here.
      this.maybeNextRequest();
    } else if (this.parser.bufferedBytes === 0 && !exchange.response.headSent) {
      // The last request it will send: say in its response that we close (RFC 9112 §9.6).
      exchange.response.keepAlive = false;
    }
  }

  private onClose(): void {
    this.clearTimer();
    const exchange = this.current;
    if (exchange !== null && !exchange.responseDone) {
      exchange.disconnected = true;
      exchange.abort?.abort(new Error(CLIENT_DISCONNECTED));
      exchange.body.fail(new Error(CLIENT_DISCONNECTED));
    }
    this.onClosed(this);
  }

  // -- Timeouts: which one applies depends on where the connection is in its life -----------
  //
  // A timeout here is a deadline, a number, not a timer of Node's: the server's clock (Clock,
  // below) looks at every connection a few times a second and calls checkTimeouts. Setting one
  // is writing a number, and a request or a connection costs no timer at all.

  private updateTimer(): void {
    if (this.closing || this.socket.destroyed) return this.clearTimer();
    if (this.current === null) {
      // Neither timer is re-armed by later bytes. The head timer runs from the first byte after
      // the last request, empty lines included (RFC 9112 §2.2 lets us skip them, not wait for
      // ever): a client trickling one byte at a time (slowloris) still has to finish in time.
      const kind: TimerKind = this.headStarted || !this.parser.isIdle ? 'head' : 'idle';
      const ms =
        kind === 'idle'
          ? (this.options.idleTimeoutMs ?? IDLE_TIMEOUT_MS)
          : (this.options.headTimeoutMs ?? HEAD_TIMEOUT_MS);
      if (this.timerKind !== kind) this.setTimer(kind, ms);
    } else if (!this.current.messageComplete) {
      this.setTimer('body', this.options.bodyTimeoutMs ?? BODY_TIMEOUT_MS); // again at every read
    } else {
      this.clearTimer(); // the handler is working; its time is its own
    }
  }

  private setTimer(kind: TimerKind, ms: number): void {
    this.timerKind = kind;
    this.timerDue = now() + ms;
  }

  private clearTimer(): void {
    this.timerKind = null;
  }

  private onTimeout(): void {
    const kind = this.timerKind;
    this.clearTimer();
    if (kind === 'idle') {
      this.closing = true;
      this.endOurSide();
    } else if (kind === 'head') {
      this.onBadRequest(
        new HttpError(408, 'The request head did not arrive in time; send the whole head at once.'),
      );
    } else {
      this.onBadRequest(
        new HttpError(408, 'The request body stopped arriving; send it without long pauses.'),
      );
    }
  }
}

/**
 * One clock for every connection of a server: while any is open, an interval looks at each a
 * few times a second and lets it act on a timeout whose time has passed (node:http checks its
 * connections the same way). So a timeout fires a little late: between its value and a quarter
 * more (a 200 ms head timeout after 200–250 ms; the 5 s idle timeout after 5–5.5 s).
 *
 * The plain way, a setTimeout per connection and another for its linger, made each new
 * connection add timers to Node's lists and take them out again: with a connection per request,
 * about a tenth of the server's time (bench/README.md).
 */
class Clock {
  private readonly connections: Set<Connection>;
  private readonly everyMs: number;
  private interval: NodeJS.Timeout | null = null;

  constructor(connections: Set<Connection>, options: HttpServerOptions) {
    this.connections = connections;
    const shortest = Math.min(
      options.headTimeoutMs ?? HEAD_TIMEOUT_MS,
      options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      options.bodyTimeoutMs ?? BODY_TIMEOUT_MS,
      options.lingerTimeoutMs ?? LINGER_TIMEOUT_MS,
    );
    this.everyMs = Math.max(10, Math.floor(shortest / 4));
  }

  /** A connection opened: make sure the clock runs. */
  start(): void {
    // unref(): the clock alone does not keep the process alive (the connections do).
    this.interval ??= setInterval(() => this.tick(), this.everyMs).unref();
  }

  /** A connection closed: with none left, nothing needs the clock. */
  stopIfIdle(): void {
    if (this.connections.size > 0 || this.interval === null) return;
    clearInterval(this.interval);
    this.interval = null;
  }

  private tick(): void {
    const time = now();
    for (const connection of this.connections) connection.checkTimeouts(time);
  }
}

/** A net.Server speaking HTTP/1.1 to `handler`, with a graceful `shutdown()`. */
export class HttpServer extends Server {
  private readonly openConnections = new Set<Connection>();

  constructor(handler: Handler, options: HttpServerOptions = {}) {
    // noDelay: send each response at once, not held back for more bytes (Nagle's algorithm):
    // a response is written whole, so there is nothing to gain from waiting.
    super({ allowHalfOpen: true, noDelay: true });
    const settings = {
      logError: (message: string, error?: unknown) =>
        error === undefined ? console.error(message) : console.error(message, error),
      ...options,
      sendTimeoutMs: options.sendTimeoutMs ?? SEND_TIMEOUT_MS,
    };
    const clock = new Clock(this.openConnections, settings);
    const onClosed = (connection: Connection): void => {
      this.openConnections.delete(connection);
      clock.stopIfIdle();
    };
    this.on('connection', (socket: Socket) => {
      this.openConnections.add(new Connection(socket, handler, settings, onClosed));
      clock.start();
    });
  }

  /**
   * Stop accepting connections, close idle ones now, let in-flight responses finish, and cut
   * whatever is still open at the deadline. Resolves when every connection is closed.
   */
  shutdown(deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
    const closed = new Promise<void>((resolve) => this.close(() => resolve()));
    for (const connection of this.openConnections) connection.closeWhenIdle();
    const deadline = setTimeout(() => {
      for (const connection of this.openConnections) connection.destroy();
    }, deadlineMs);
    return closed.finally(() => clearTimeout(deadline));
  }

  /** How many connections are open now (for tests and the shutdown log). */
  get connectionCount(): number {
    return this.openConnections.size;
  }
}

export function createHttpServer(handler: Handler, options: HttpServerOptions = {}): HttpServer {
  return new HttpServer(handler, options);
}
