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
//
// Which one is chosen as late as it can be. The head and the first body bytes are held until
// this turn of the event loop ends (or the body ends, or grows past HOLD_BYTES), then sent in
// one write: one system call, one TCP segment, not two. A body that ended by then has a known
// length, so it goes with a Content-Length, whoever produced it and however (Go's net/http does
// the same for a handler whose output fits its buffer). Only then, chunked or close.
import type { RequestHead } from './head.ts';
import type { SocketWriter } from './socket-writer.ts';

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
  if (second !== cachedDate.second) {
    cachedDate = { second, text: new Date(second * 1000).toUTCString() };
  }
  return cachedDate.text;
}

/**
 * A Content-Length given up front, and the body held to it (RFC 9110 §8.6): never a byte more
 * (the client would read the rest as the next response), never fewer (it would wait for them).
 * Every sink of the course counts with this: part 2's writer, part 4's node:http and fetch ones.
 */
export class DeclaredLength {
  /** Bytes the body still owes. */
  remaining: number;

  /** `value` is the header's text; anything but a whole number of bytes is refused. */
  constructor(value: string) {
    if (!/^\d{1,15}$/.test(value)) {
      const shown = JSON.stringify(value);
      throw new Error(`Content-Length must be a whole number of bytes, got ${shown}.`);
    }
    this.remaining = Number(value);
  }

  /** Count `bytes` more of the body; throws if they go past the declared length. */
  count(bytes: number): void {
    if (bytes > this.remaining) {
      const message =
        `The body is longer than its Content-Length: ${bytes} more bytes ` +
        `with only ${this.remaining} left.`;
      throw new Error(message);
    }
    this.remaining -= bytes;
  }

  /** The body has ended; throws if it fell short. */
  finish(): void {
    if (this.remaining > 0) {
      throw new Error(`The body ended ${this.remaining} bytes short of its Content-Length.`);
    }
  }
}

export interface ResponseWriterOptions {
  /** Value of the Server header added when the caller gave none; '' adds none. */
  serverName?: string;
}

/** What the writer needs to know of the request it answers. */
export type AnsweredRequest = Pick<RequestHead, 'method' | 'version' | 'keepAlive'>;

/**
 * Body bytes held with the head before the writer commits to a framing (see the top of this
 * file); a body still going past this is sent chunked from there on.
 */
export const HOLD_BYTES = 16 * 1024;

type Framing = 'none' | 'length' | 'chunked' | 'close';

/** The head as given to writeHead, waiting to be sent with the first body bytes. */
interface HeldHead {
  status: number;
  reason: string;
  headers: ResponseHeader[];
  /** The Content-Length the caller gave or the whole body's, or null: the framing is open. */
  length: string | null;
  /** The length is the whole body's, known to the writer: its field is not among `headers`. */
  added: boolean;
  /** Which of Date and Server the caller gave itself. */
  hasDate: boolean;
  hasServer: boolean;
}

/**
 * Writes one response to one request: `writeHead`, any number of `write`s, then `end`; or
 * `sendWhole` for a body known in full. `keepAlive` says whether the connection may carry
 * another request afterwards; framing an unknown-length body for HTTP/1.0 turns it off.
 */
export class ResponseWriter {
  /** writeHead() has been called: the status and headers are settled. */
  headSent = false;
  /** Nothing more will be written: end() or abort() was called. */
  finished = false;
  keepAlive: boolean;
  /** end() was called: the body is complete. */
  private ended = false;
  /** The head and the body bytes that wait to leave with it (see the top of the file). */
  private held: HeldHead | null = null;
  private heldBody: Uint8Array[] = [];
  private heldBytes = 0;
  /** null until the head has been sent: how the body on the wire ends. */
  private framing: Framing | null = null;
  /** The caller's Content-Length (or the whole body's), which the body must keep to. */
  private declared: DeclaredLength | null = null;

  private readonly out: SocketWriter;
  private readonly request: AnsweredRequest;
  private readonly serverName: string;

  /** `out`: the connection's socket, as a SocketWriter (one for all of its responses). */
  constructor(out: SocketWriter, request: AnsweredRequest, options: ResponseWriterOptions = {}) {
    this.out = out;
    this.request = request;
    this.serverName = options.serverName ?? 'small-journey';
    this.keepAlive = request.keepAlive;
  }

  /**
   * Set the status line and header fields; they go out with the first body bytes, at the
   * latest when this turn of the event loop ends. `knownLength`: the length of a body known
   * in full (it becomes the Content-Length, unless the caller gave its own).
   */
  writeHead(
    status: number,
    headers: ResponseHeader[],
    knownLength?: number,
    reason?: string,
  ): void {
    this.hold(status, headers, knownLength, reason);
    setImmediate(() => this.flush()); // after all that this turn of the event loop does
  }

  /**
   * Send part of the body. Returns false when the socket's buffer is full: wait for
   * `drained()` before writing more (backpressure). Never sends more than Content-Length.
   */
  write(chunk: Uint8Array): boolean {
    if (!this.headSent) throw new Error('write() before writeHead(): the head must go first.');
    if (this.finished) throw new Error('write() after end().');
    if (chunk.length === 0) return true; // an empty chunk in chunked coding would mean "the end"
    this.declared?.count(chunk.length);
    if (this.held !== null) {
      this.heldBody.push(chunk);
      this.heldBytes += chunk.length;
      return this.heldBytes <= HOLD_BYTES || this.flush();
    }
    switch (this.framing) {
      case 'none':
        return true;
      case 'chunked':
        return this.out.writeMessage('', [chunkSize(chunk.length), chunk, CRLF]);
      default:
        return this.out.write(chunk);
    }
  }

  /** Finish the body. Throws if fewer bytes were sent than the Content-Length promised. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.ended = true;
    this.flush();
    if (this.framing === 'chunked') this.out.write(LAST_CHUNK);
    this.declared?.finish();
  }

  /** A whole response whose body is known: head, body, end, with Content-Length computed. */
  sendWhole(
    status: number,
    headers: ResponseHeader[],
    body: string | Uint8Array = '',
    reason?: string,
  ): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.hold(status, headers, bytes.length, reason); // no tick to wait for: it all goes now
    this.write(bytes);
    this.end();
  }

  /**
   * Cut the connection now. For a response that cannot be completed correctly once its head
   * is out: the client sees a truncated response instead of a complete wrong one.
   */
  abort(): void {
    this.finished = true;
    this.flush();
    // A close-delimited body (HTTP/1.0, length unknown) ends where the connection does, so a
    // FIN would make the cut body look complete: send a reset (RST) instead. (A client that
    // has not yet read the bytes before the RST may still see a plain end: TCP offers nothing
    // better.) The other framings show the cut by themselves (bytes missing, no last chunk).
    this.out.cut(this.framing === 'close');
  }

  /** True once the connection is closed: nobody reads what is written any more. */
  get clientGone(): boolean {
    return this.out.closed;
  }

  /** True while written bytes wait for the client: wait for drained() before writing more. */
  get backedUp(): boolean {
    return this.out.backedUp;
  }

  /** Resolves when every byte written has gone to the socket and it can take more (or is gone). */
  drained(): Promise<void> {
    return this.out.drained();
  }

  /** Settle the head (writeHead without the tick): the status line and fields as text. */
  private hold(
    status: number,
    headers: ResponseHeader[],
    knownLength?: number,
    reason?: string,
  ): void {
    if (this.headSent)
      throw new Error('writeHead() called twice: a response has exactly one head.');
    let length: string | null = null;
    let hasDate = false;
    let hasServer = false;
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') length ??= value;
      else if (lower === 'date') hasDate = true;
      else if (lower === 'server') hasServer = true;
    }
    // The writer adds the Content-Length of a body known in full (unless the caller gave one).
    const added = length === null && knownLength !== undefined && !statusForbidsBody(status);
    if (added) length = String(knownLength);
    // Checked even where there is no body to hold it to (HEAD, 204, 304).
    const declared = length === null ? null : new DeclaredLength(length);
    if (!statusForbidsBody(status) && this.request.method !== 'HEAD') this.declared = declared;
    reason ??= STATUS_REASONS[status] ?? 'Unknown';
    this.held = { status, reason, headers, length, added, hasDate, hasServer };
    this.headSent = true;
  }

  /**
   * Send the held head and body now, framing decided: by their length if the body has ended,
   * else chunked (or, for HTTP/1.0, until the close). Returns write()'s backpressure answer.
   */
  private flush(): boolean {
    const head = this.held;
    if (head === null) return !this.out.backedUp;
    this.held = null;
    // The status line and the caller's fields (RFC 9112 §4, §5), then the writer's own.
    let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    for (const [name, value] of head.headers) text += `${name}: ${value}\r\n`;
    if (head.added) text += `Content-Length: ${head.length}\r\n`;
    const bodyless = statusForbidsBody(head.status) || this.request.method === 'HEAD';
    if (head.length === null && this.ended && !statusForbidsBody(head.status)) {
      // The whole body is here: its length is known (for HEAD: the length GET would send).
      text += `Content-Length: ${this.heldBytes}\r\n`;
      this.framing = bodyless ? 'none' : 'length';
    } else if (bodyless) {
      this.framing = 'none';
    } else if (head.length !== null) {
      this.framing = 'length';
    } else if (this.request.version === 'HTTP/1.1') {
      text += 'Transfer-Encoding: chunked\r\n';
      this.framing = 'chunked';
    } else {
      this.framing = 'close';
      this.keepAlive = false;
    }
    // The fields this writer adds (RFC 9110 §6.6.1: an origin server with a clock sends Date).
    if (!head.hasDate) text += `Date: ${httpDate()}\r\n`;
    if (this.serverName !== '' && !head.hasServer) text += `Server: ${this.serverName}\r\n`;
    if (!this.keepAlive) text += 'Connection: close\r\n';
    else if (this.request.version === 'HTTP/1.0') text += 'Connection: keep-alive\r\n';
    const body = this.framing === 'none' ? [] : this.heldBody;
    this.heldBody = [];
    if (this.framing === 'chunked' && this.heldBytes > 0) {
      body.unshift(chunkSize(this.heldBytes));
      body.push(CRLF);
    }
    return this.out.writeMessage(`${text}\r\n`, body);
  }
}

/** chunk = chunk-size CRLF chunk-data CRLF (RFC 9112 §7.1): the size, in hex, and its CRLF. */
function chunkSize(bytes: number): Buffer {
  return Buffer.from(`${bytes.toString(16)}\r\n`, 'latin1');
}

/** Ends each chunk's data. */
const CRLF = Buffer.from('\r\n', 'latin1');
/** last-chunk and the empty trailer section: the end of a chunked body. */
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
