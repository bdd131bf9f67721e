// Writing an HTTP/1.1 response: the status line, the header fields, and a body framed so the
// client knows where it ends.
//
//   HTTP/1.1 200 OK\r\n                  <- status-line: version SP status-code SP reason CRLF
//   Content-Type: text/plain\r\n         <- field lines
//   Content-Length: 6\r\n                <- how the client finds the end of the body
//   Date: Wed, 25 Nov 2026 00:41:10 GMT\r\n
//   \r\n                                 <- the empty line ends the head
//   hello\n                              <- the body, exactly Content-Length bytes
//
// A body can be framed three ways (RFC 9112 §6): by Content-Length when its size is known; by
// chunked transfer coding when it is not (HTTP/1.1 only); or by closing the connection after it
// (the only option left for an HTTP/1.0 client with an unknown length).
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { HttpError, type RequestHead } from './parser.ts';
import { traceBytes, type TraceSink } from './trace.ts';

/** A response header as [name, value]; the order is kept and names may repeat (Set-Cookie). */
export type ResponseHeader = [name: string, value: string];

/** Reason phrases for the status codes this course uses (RFC 9110 §15). */
export const STATUS_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', // §15.2.1
  200: 'OK', // §15.3.1
  201: 'Created', // §15.3.2
  202: 'Accepted', // §15.3.3
  204: 'No Content', // §15.3.5
  301: 'Moved Permanently', // §15.4.2
  302: 'Found', // §15.4.3
  303: 'See Other', // §15.4.4
  304: 'Not Modified', // §15.4.5
  307: 'Temporary Redirect', // §15.4.8
  308: 'Permanent Redirect', // §15.4.9
  400: 'Bad Request', // §15.5.1
  403: 'Forbidden', // §15.5.4
  404: 'Not Found', // §15.5.5
  405: 'Method Not Allowed', // §15.5.6
  408: 'Request Timeout', // §15.5.9
  409: 'Conflict', // §15.5.10
  411: 'Length Required', // §15.5.12
  413: 'Content Too Large', // §15.5.14
  414: 'URI Too Long', // §15.5.15
  415: 'Unsupported Media Type', // §15.5.16
  417: 'Expectation Failed', // §15.5.18
  422: 'Unprocessable Content', // §15.5.21
  429: 'Too Many Requests', // RFC 6585 §4
  431: 'Request Header Fields Too Large', // RFC 6585 §5
  500: 'Internal Server Error', // §15.6.1
  501: 'Not Implemented', // §15.6.2
  503: 'Service Unavailable', // §15.6.4
  505: 'HTTP Version Not Supported', // §15.6.6
};

/** RFC 9110 §6.4.1: no content in responses to HEAD, nor with status 1xx, 204 or 304. */
export function statusForbidsBody(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204 || status === 304;
}

let cachedDate = { second: -1, text: '' };

/** The Date header value in IMF-fixdate form (RFC 9110 §5.6.7), computed once a second. */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedDate.second)
    cachedDate = { second, text: new Date(second * 1000).toUTCString() };
  return cachedDate.text;
}

export interface ResponseWriterOptions {
  /** Value of the Server header added when the caller gave none; '' adds none. */
  serverName?: string;
  /** Print every byte written, curl -v style (see trace.ts). */
  trace?: TraceSink;
  /**
   * Drop the connection when output is waiting and the socket takes none of it for this long
   * (server.ts sets SEND_TIMEOUT_MS); no limit when absent.
   */
  sendTimeoutMs?: number;
}

/** Body bytes up to this size are copied behind the head, to leave in one write (see heldHead). */
const HEAD_WITH_BODY_MAX_BYTES = 16 * 1024;
/**
 * The most handed to the socket at once; a larger write waits in `backlog` and goes a piece at a
 * time. Node reports progress ('drain') only when all it was given has gone to the kernel: one
 * 32 MiB write to a slow reader would look stalled until its very end.
 */
const MAX_WRITE_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

type Framing =
  | { type: 'none' }
  | { type: 'length'; remaining: number }
  | { type: 'chunked' }
  | { type: 'close' };

/**
 * Writes one response to one request. `writeHead` then any number of `write`s then `end`; or
 * `send` for a body known in full. `keepAlive` says whether the connection may carry another
 * request afterwards; framing an unknown-length body for HTTP/1.0 turns it off.
 */
export class ResponseWriter {
  headSent = false;
  finished = false;
  keepAlive: boolean;
  private framing: Framing = { type: 'none' };
  /**
   * Fast path: the head, written but not yet on the wire. It leaves together with the first
   * body bytes, in one socket write (one system call, one TCP segment) instead of two; a head
   * with no body in the same tick leaves on the next tick, or at end() or abort(). node:http
   * does the same by corking the socket. It halves the cost of writing a small response.
   */
  private heldHead: Buffer | null = null;
  /** Bytes not yet handed to the socket: the rest of a large write, in pieces (MAX_WRITE_BYTES). */
  private backlog: Uint8Array[] = [];
  /** end() came while the backlog was not empty: close our side once it is sent. */
  private endWhenSent = false;
  /** A 'drain' listener is registered: the socket holds bytes the client has not taken yet. */
  private waitingForDrain = false;
  /** Runs while output waits and the socket takes none of it (see waitForDrain). */
  private sendTimer: NodeJS.Timeout | null = null;

  private readonly socket: Socket;
  private readonly request: Pick<RequestHead, 'method' | 'version' | 'keepAlive'>;
  private readonly options: ResponseWriterOptions;

  constructor(
    socket: Socket,
    request: Pick<RequestHead, 'method' | 'version' | 'keepAlive'>,
    options: ResponseWriterOptions = {},
  ) {
    this.socket = socket;
    this.request = request;
    this.options = options;
    this.keepAlive = request.keepAlive;
  }

  /**
   * Send the status line and header fields. Framing: the caller's own Content-Length if it
   * gave one; else `knownLength` if the whole body is known; else chunked (HTTP/1.1) or
   * "until the connection closes" (HTTP/1.0).
   */
  writeHead(
    status: number,
    headers: ResponseHeader[],
    knownLength?: number,
    reason?: string,
  ): void {
    this.heldHead = Buffer.from(this.composeHead(status, headers, knownLength, reason), 'latin1');
    process.nextTick(() => this.releaseHead());
  }

  /** The head as text, framing decided; from here on the response has its head. */
  private composeHead(
    status: number,
    headers: ResponseHeader[],
    knownLength: number | undefined,
    reason = STATUS_REASONS[status] ?? 'Unknown',
  ): string {
    if (this.headSent)
      throw new Error('writeHead() called twice: a response has exactly one head.');
    const given = findManagedHeaders(headers);
    // The caller's fields first, in its order; then the ones this writer adds.
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;

    if (statusForbidsBody(status)) {
      this.framing = { type: 'none' };
    } else if (given.contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(given.contentLength))
        throw new Error(
          `Content-Length must be a whole number of bytes, got ${JSON.stringify(given.contentLength)}.`,
        );
      this.framing = { type: 'length', remaining: Number(given.contentLength) };
    } else if (knownLength !== undefined) {
      head += `Content-Length: ${knownLength}\r\n`;
      this.framing = { type: 'length', remaining: knownLength };
    } else if (this.request.method === 'HEAD') {
      // The length a GET would have is unknown; RFC 9110 §9.3.2 lets a HEAD answer omit it.
      this.framing = { type: 'none' };
    } else if (this.request.version === 'HTTP/1.1') {
      head += 'Transfer-Encoding: chunked\r\n';
      this.framing = { type: 'chunked' };
    } else {
      this.framing = { type: 'close' };
      this.keepAlive = false;
    }
    if (this.request.method === 'HEAD') this.framing = { type: 'none' };

    if (!given.date) head += `Date: ${httpDate()}\r\n`;
    const serverName = this.options.serverName ?? 'small-journey';
    if (serverName !== '' && !given.server) head += `Server: ${serverName}\r\n`;
    if (!this.keepAlive) head += 'Connection: close\r\n';
    else if (this.request.version === 'HTTP/1.0') head += 'Connection: keep-alive\r\n';

    this.headSent = true;
    return `${head}\r\n`;
  }

  /**
   * Send part of the body. Returns false when the socket's buffer is full: wait for
   * `drained()` before writing more (backpressure). Never sends more than Content-Length.
   */
  write(chunk: Uint8Array): boolean {
    if (!this.headSent) throw new Error('write() before writeHead(): the head must go first.');
    if (this.finished) throw new Error('write() after end().');
    if (chunk.length === 0) return true; // an empty chunk in chunked coding would mean "the end"
    switch (this.framing.type) {
      case 'none':
        return true;
      case 'length':
        if (chunk.length > this.framing.remaining) {
          throw new Error(
            `The body is longer than its Content-Length: ${chunk.length} more bytes with only ${this.framing.remaining} left.`,
          );
        }
        this.framing.remaining -= chunk.length;
        return this.send(chunk);
      case 'chunked':
        // chunk = chunk-size (hex) CRLF chunk-data CRLF (RFC 9112 §7.1); cork sends it as one.
        this.socket.cork();
        this.send(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'));
        this.send(chunk);
        process.nextTick(() => this.socket.uncork());
        return this.send(Buffer.from('\r\n', 'latin1'));
      case 'close':
        return this.send(chunk);
    }
  }

  /** Finish the body. Throws if fewer bytes were sent than the Content-Length promised. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.framing.type === 'chunked') this.send(Buffer.from('0\r\n\r\n', 'latin1'));
    this.releaseHead();
    if (this.framing.type === 'length' && this.framing.remaining > 0) {
      throw new Error(
        `The body ended ${this.framing.remaining} bytes short of its Content-Length.`,
      );
    }
    if (this.keepAlive) return;
    if (this.backlog.length === 0) this.socket.end();
    else this.endWhenSent = true;
  }

  /** A whole response whose body is known: head, body, end, with Content-Length computed. */
  sendWhole(
    status: number,
    headers: ResponseHeader[],
    body: string | Uint8Array = '',
    reason?: string,
  ): void {
    const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
    const head = this.composeHead(status, headers, length, reason);
    if (
      this.framing.type === 'length' &&
      this.framing.remaining === length &&
      length <= HEAD_WITH_BODY_MAX_BYTES
    ) {
      // Fast path: head and body encoded straight into one buffer, sent in one write, now.
      const message = Buffer.allocUnsafe(head.length + length);
      message.write(head, 0, 'latin1');
      if (typeof body === 'string') message.write(body, head.length, 'utf8');
      else message.set(body, head.length);
      this.framing.remaining = 0;
      this.send(message);
    } else {
      // No body (HEAD, 204), a Content-Length of the caller's, or a large body: the general way,
      // writeHead() without its tick (the held head leaves with the body, or alone at end()).
      this.heldHead = Buffer.from(head, 'latin1');
      this.write(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
    }
    this.end();
  }

  /**
   * Cut the connection now. For a response that cannot be completed correctly once its head
   * is out: the client sees a truncated response instead of a complete wrong one.
   */
  abort(): void {
    this.finished = true;
    this.releaseHead();
    this.backlog = [];
    // A chunked write() stays corked until the next tick; destroy() would throw those bytes
    // away, and the client would not even see the part of the body that was fine. Flush first.
    this.socket.uncork();
    // A close-delimited body (HTTP/1.0, length unknown) ends where the connection does, so a
    // FIN would make the cut body look complete: send a reset (RST) instead. (A client that
    // has not yet read the bytes before the RST may still see a plain end: TCP offers nothing
    // better.) The other framings show the cut by themselves (bytes missing, no last chunk).
    if (this.framing.type === 'close') this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** True once the connection is closed: nobody reads what is written any more. */
  get clientGone(): boolean {
    return this.socket.destroyed;
  }

  /** True while written bytes wait for the client: wait for drained() before writing more. */
  get backedUp(): boolean {
    return this.backlog.length > 0 || this.socket.writableNeedDrain;
  }

  /** Resolves when every byte written has gone to the socket and it can take more (or is gone). */
  async drained(): Promise<void> {
    // Our own 'drain' listener (waitForDrain) runs first and hands the socket the next piece
    // of the backlog: wait again until the backlog is empty.
    do await drained(this.socket);
    while (this.backlog.length > 0 && !this.socket.destroyed);
  }

  /** Send a held head now, alone: no body bytes came with it. */
  private releaseHead(): void {
    if (this.heldHead !== null) this.send(EMPTY);
  }

  private send(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || !this.socket.writable) return true; // the client is gone; drop quietly
    const head = this.heldHead;
    this.heldHead = null;
    if (head === null) return this.writeToSocket(bytes);
    // A large body goes in a write of its own: copying it would cost more than the write saved.
    if (bytes.length > HEAD_WITH_BODY_MAX_BYTES) {
      this.writeToSocket(head);
      return this.writeToSocket(bytes);
    }
    return this.writeToSocket(bytes.length === 0 ? head : Buffer.concat([head, bytes]));
  }

  private writeToSocket(bytes: Uint8Array): boolean {
    if (this.options.trace) traceBytes(this.options.trace, '<', bytes);
    // Fast path: nothing waiting, and small enough to go whole.
    if (this.backlog.length === 0 && bytes.length <= MAX_WRITE_BYTES)
      return this.socket.write(bytes) || this.waitForDrain();
    for (let start = 0; start < bytes.length; start += MAX_WRITE_BYTES)
      this.backlog.push(bytes.subarray(start, start + MAX_WRITE_BYTES));
    return this.sendBacklog();
  }

  /** Hand the socket pieces of the backlog until it is full (then the next 'drain' goes on). */
  private sendBacklog(): boolean {
    while (this.backlog.length > 0) {
      if (this.socket.destroyed) {
        this.backlog = [];
        return true;
      }
      const [piece] = this.backlog.splice(0, 1);
      if (!this.socket.write(piece)) return this.waitForDrain();
    }
    if (this.endWhenSent) this.socket.end();
    return true;
  }

  /**
   * The socket holds bytes the client has not taken. Each 'drain' (everything given so far has
   * gone to the kernel: the client is reading) sends more of the backlog and restarts the send
   * timeout; if none comes in time, the client has stopped reading, and would otherwise hold
   * its connection for ever: drop it, like nginx's send_timeout. (The timer is unref'd: it
   * never keeps the process alive for a socket already closed.)
   */
  private waitForDrain(): false {
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => this.onDrain());
    }
    const ms = this.options.sendTimeoutMs;
    if (this.sendTimer === null && ms !== undefined)
      this.sendTimer = setTimeout(() => this.socket.destroy(), ms).unref();
    return false;
  }

  private onDrain(): void {
    this.waitingForDrain = false;
    this.sendBacklog();
    if (this.sendTimer === null) return;
    if (this.waitingForDrain)
      this.sendTimer.refresh(); // progress: the timeout starts again
    else {
      clearTimeout(this.sendTimer);
      this.sendTimer = null;
    }
  }
}

/** The fields a ResponseWriter adds unless the caller gave them. */
interface ManagedHeaders {
  /** The caller's own Content-Length value (the first, if repeated). */
  contentLength: string | undefined;
  date: boolean;
  server: boolean;
}

/** Which of the fields this writer manages the caller gave itself: one pass, any case. */
function findManagedHeaders(headers: ResponseHeader[]): ManagedHeaders {
  const given: ManagedHeaders = { contentLength: undefined, date: false, server: false };
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length') given.contentLength ??= value;
    else if (lower === 'date') given.date = true;
    else if (lower === 'server') given.server = true;
  }
  return given;
}

/** Resolves once `stream` can take more data after write() returned false, or it has closed. */
export function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/**
 * Answer with an HttpError: a short plain-text body saying what was wrong (never the raw input),
 * and `Connection: close` when the error leaves the framing in doubt.
 */
export function sendError(
  response: Pick<ResponseWriter, 'keepAlive' | 'sendWhole'>,
  error: HttpError,
): void {
  if (error.closeConnection) response.keepAlive = false;
  const headers: ResponseHeader[] = [['Content-Type', 'text/plain; charset=utf-8']];
  if (error.status === 405 && error instanceof MethodNotAllowed)
    headers.push(['Allow', error.allow.join(', ')]);
  response.sendWhole(
    error.status,
    headers,
    `${error.status} ${STATUS_REASONS[error.status] ?? 'Error'}: ${error.message}\n`,
  );
}

/**
 * The answer to `OPTIONS *` (RFC 9110 §9.3.7): 200, the methods this server handles in Allow,
 * and no content (Content-Length: 0).
 */
export function sendServerOptions(
  response: Pick<ResponseWriter, 'sendWhole'>,
  methods: readonly string[],
): void {
  response.sendWhole(200, [['Allow', methods.join(', ')]], '');
}

/** 405 carries the list of methods the resource does support (RFC 9110 §15.5.6). */
export class MethodNotAllowed extends HttpError {
  readonly allow: string[];

  constructor(method: string, allow: string[]) {
    super(
      405,
      `Method ${method.replace(/[^A-Z]/gi, '?')} is not allowed here; use ${allow.join(' or ')}.`,
      false,
    );
    this.allow = allow;
  }
}
