// startResponse, the server's side of it (contract.ts, StartResponse): the status and headers an
// application gives, checked at once, and held until the first body bytes go out; the legacy
// write(). The head waits so that an app that fails before its first chunk still gets a clean
// 500 (handler.ts): until then, it may change its mind with startResponse(..., error).
import { isHopByHop, TOKEN } from '../part2-tcp-http/grammar.ts';
import { statusForbidsBody } from '../part2-tcp-http/response.ts';
import type { ResponseHeader, StartResponse } from './contract.ts';
import type { ResponseSink } from './handler.ts';

/** Latin-1 text without CR, LF or NUL: what may go into a header line unchanged. */
const SAFE_HEADER_TEXT = /^[^\r\n\0\u0100-\uffff]*$/;
const STATUS = /^([1-5]\d\d) ([^\r\n\0\u0100-\uffff]+)$/;

/** The status and headers given to startResponse, held until the first body bytes. */
export class PendingResponse {
  /** The function the app is given. */
  readonly startResponse: StartResponse;
  /** The deadline passed and the server answered for the app: nothing of the app's is sent. */
  timedOut = false;
  private pending: { status: number; reason: string; headers: ResponseHeader[] } | null = null;

  private readonly sink: ResponseSink;
  /** The request's method: a HEAD answer's Content-Length is not its (empty) body's. */
  private readonly method: string;

  constructor(sink: ResponseSink, method: string) {
    this.sink = sink;
    this.method = method;
    this.startResponse = (status, headers, error) => this.start(status, headers, error);
  }

  /** Send the head if it has not gone yet. */
  sendHead(knownLength: number | undefined): void {
    if (this.timedOut) {
      throw new Error(
        'The application missed its deadline; the server has answered for it already.',
      );
    }
    if (this.sink.headSent) return;
    if (this.pending === null) {
      const message =
        'The body was sent before startResponse() was called: call ' +
        'startResponse(status, headers) first (in a generator, before the first yield).';
      throw new Error(message);
    }
    const { status, reason, headers } = this.pending;
    this.sink.writeHead(status, headers, knownLength, reason);
  }

  /**
   * The contract's rule for a body known in full (an array): its length is known before the
   * head goes out, so a Content-Length of the app's that differs from it is the app's bug, and
   * throwing it now gets a clean 500 instead of a head and a cut connection. Not for HEAD or a
   * status without content (RFC 9110 §8.6: Content-Length there gives the length a GET would
   * get), nor once write() has sent the head (then the array is only the rest of the body).
   */
  checkWholeBody(length: number): void {
    const declared = this.declaredLength();
    if (declared !== undefined && declared !== length) {
      const message =
        `Content-Length: ${declared} was declared for a body of ${length} bytes: give the ` +
        'exact length, or leave Content-Length out and let the server count.';
      throw new Error(message);
    }
  }

  /**
   * The same rule for a streamed body's first chunk, which goes out with the head: one already
   * longer than the declared length is caught while a clean 500 can still be sent.
   */
  checkFirstChunk(length: number): void {
    const declared = this.declaredLength();
    if (declared !== undefined && length > declared) {
      const message =
        `The body is longer than its Content-Length: its first chunk alone is ${length} bytes, ` +
        `with ${declared} declared. Give the exact length, or leave Content-Length out.`;
      throw new Error(message);
    }
  }

  private start(
    status: string,
    headers: ResponseHeader[],
    error?: unknown,
  ): (chunk: Uint8Array) => void {
    if (error !== undefined && error !== null) {
      // PEP 3333: with an error, a second call may replace the head, if it is not out yet.
      if (this.sink.headSent) throw error;
    } else if (this.pending !== null) {
      const message =
        'startResponse() was called a second time without an error: call it once, or pass ' +
        'the caught error as the third argument to replace the head.';
      throw new Error(message);
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
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`write() was given ${describe(chunk)}; pass a Uint8Array.`);
    }
    // The contract's promise: an app pushing data with write() (no backpressure, no signal
    // checks of its own) must learn that nobody is reading any more.
    if (this.sink.clientGone) throw new Error('write(): the client has gone away; stop sending.');
    if (chunk.length === 0) return;
    this.sendHead(undefined);
    this.sink.write(chunk);
  }

  /** The app's Content-Length while the head is not sent, where it is the body's length. */
  private declaredLength(): number | undefined {
    const pending = this.pending;
    if (pending === null || this.sink.headSent) return undefined;
    if (this.method === 'HEAD' || statusForbidsBody(pending.status)) return undefined;
    const declared = pending.headers.find(([name]) => name.toLowerCase() === 'content-length');
    return declared === undefined ? undefined : Number(declared[1]);
  }
}

function parseStatus(status: unknown): { code: number; reason: string } {
  const match = typeof status === 'string' ? STATUS.exec(status) : null;
  if (match === null) {
    const message =
      `Bad status ${JSON.stringify(status)}: use a code, a space and a reason phrase, ` +
      "e.g. '200 OK' or '404 Not Found'.";
    throw new TypeError(message);
  }
  const code = Number(match[1]);
  if (code < 200) {
    // A 1xx head is interim (RFC 9110 §15.2): the client would wait for the real answer after
    // it, and read the next response on the connection as this one's.
    const message =
      `${code} is an interim status: the server sends those itself (100 Continue); ` +
      'answer with a final status from 200 to 599.';
    throw new TypeError(message);
  }
  return { code, reason: match[2] };
}

/** The server's own checks: enough to keep the framing and the header block intact. */
function checkHeaders(headers: unknown): ResponseHeader[] {
  if (!Array.isArray(headers)) {
    throw new TypeError('startResponse() headers must be an array of [name, value] pairs.');
  }
  const checked: ResponseHeader[] = [];
  for (const header of headers as unknown[]) {
    if (
      !Array.isArray(header) ||
      header.length !== 2 ||
      typeof header[0] !== 'string' ||
      typeof header[1] !== 'string'
    ) {
      const message =
        `Bad header ${describe(header)}: ` + 'each header must be a [name, value] pair of strings.';
      throw new TypeError(message);
    }
    const [name, value] = header;
    if (!TOKEN.test(name)) {
      const message =
        `Bad header name ${JSON.stringify(name)}: use letters, digits and - only, ` +
        "e.g. 'Content-Type'.";
      throw new TypeError(message);
    }
    if (!SAFE_HEADER_TEXT.test(value)) {
      const message =
        `Bad value for header ${name}: it contains CR, LF, NUL or a character above U+00FF; ` +
        'percent-encode it or use RFC 8187 encoding.';
      throw new TypeError(message);
    }
    if (isHopByHop(name)) {
      const message =
        `The hop-by-hop header ${name} is the server's to set, not the ` +
        "application's: remove it.";
      throw new TypeError(message);
    }
    const isLength = name.toLowerCase() === 'content-length';
    if (isLength && checked.some(([other]) => other.toLowerCase() === 'content-length')) {
      // Two lengths, and a client or a proxy may believe either (RFC 9110 §8.6): refuse, like a
      // request's.
      const message =
        'Content-Length was given twice: give it once, or leave it out and let the server ' +
        'frame the body.';
      throw new TypeError(message);
    }
    checked.push([name, value]);
  }
  return checked;
}

/** A short description of a value for an error message: its type, never its full content. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `a string (${value.length} characters)`;
  if (value instanceof Uint8Array) return `a single Uint8Array (${value.length} bytes)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value}`;
}
