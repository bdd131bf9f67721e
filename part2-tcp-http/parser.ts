// An incremental HTTP/1.1 request parser: bytes in, request parts out.
//
// Feed it whatever the socket delivers (`parser.push(chunk)`), then pull events with
// `parser.next()` until it returns null ("need more bytes"):
//
//   { kind: 'head', head }     the request line and header fields, framing decided (head.ts)
//   { kind: 'body', chunk }    some body bytes, already de-chunked
//   { kind: 'end', trailers }  the message is complete; the next one may follow at once
//
// A request may arrive one byte at a time or several to a read (pipelining): the parser keeps
// what it has not used and carries on where it stopped. Bad input throws an HttpError carrying
// the status code to answer with. Reference: RFC 9112 (HTTP/1.1 message syntax), RFC 9110.
//
//   head ──▶ fixed-body ─────────────────────────────────▶ (end) ──▶ head …
//     │                                                    ▲
//     └──▶ chunk-size ──▶ chunk-data ──▶ chunk-data-end ───┤ (size 0) ──▶ trailers ──▶ (end)
//              ▲                               │
//              └───────────────────────────────┘
//
// Not here: sockets and timeouts (connection.ts), what a target *means* (the handler's).
import { HttpError } from './errors.ts';
import { CHUNK_EXTENSIONS, significantDigits } from './grammar.ts';
import {
  bodyTooLarge,
  headersTooLarge,
  parseFieldLine,
  parseHead,
  requestLineTooLong,
  type HeaderField,
  type RequestHead,
} from './head.ts';

// ---- Limits (each overridable; each answered with its own status code) ----------------------

/** Longest request line, e.g. `GET /path?query HTTP/1.1`, not counting CRLF. → 414 */
export const MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** Longest header section (all field lines together, CRLFs included). → 431 */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Most header field lines in one request. → 431 */
export const MAX_HEADER_FIELDS = 100;
/** Largest request body, however it is framed. → 413 */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest chunk-size line (`1a;name=value`) in a chunked body. → 400 */
export const MAX_CHUNK_LINE_BYTES = 1024;
/**
 * Most chunk-extension bytes (`;name=value` after a chunk size) in one message, all chunks
 * together. Extensions carry nothing we use, yet without a total a body of one-byte chunks each
 * with a 1 KiB extension would make the wire a thousand times longer than the body
 * (RFC 9112 §7.1.1 asks for such a limit; Node's is the same size). → 413
 */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;

export interface ParserLimits {
  maxRequestLineBytes: number;
  maxHeaderBytes: number;
  maxHeaderFields: number;
  maxBodyBytes: number;
  maxChunkExtensionBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxRequestLineBytes: MAX_REQUEST_LINE_BYTES,
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxHeaderFields: MAX_HEADER_FIELDS,
  maxBodyBytes: MAX_BODY_BYTES,
  maxChunkExtensionBytes: MAX_CHUNK_EXTENSION_BYTES,
};

export type ParseEvent =
  | { kind: 'head'; head: RequestHead }
  | { kind: 'body'; chunk: Buffer }
  | { kind: 'end'; trailers: HeaderField[] };

const CR = 0x0d;
const LF = 0x0a;

type State =
  | { at: 'head' }
  | { at: 'fixed-body'; remaining: number }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; remaining: number }
  | { at: 'chunk-data-end' }
  | { at: 'trailers' }
  | { at: 'failed' };

export class RequestParser {
  private readonly limits: ParserLimits;
  private buffer: Buffer = Buffer.alloc(0);
  private state: State = { at: 'head' };
  /** Where the search for the end of the head resumes, so a trickled head is scanned once. */
  private scanFrom = 0;
  private bodyBytes = 0;
  private extensionBytes = 0;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Add bytes from the socket. Nothing is parsed until `next()` is called. */
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** True between messages with nothing buffered: a timeout here is idle, not a slow request. */
  get isIdle(): boolean {
    return this.state.at === 'head' && this.buffer.length === 0;
  }

  /** Bytes received and not parsed yet (e.g. a pipelined request waiting its turn). */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** The next event, or null when more bytes are needed. Throws HttpError on bad input. */
  next(): ParseEvent | null {
    try {
      return this.step();
    } catch (error) {
      this.state = { at: 'failed' };
      throw error;
    }
  }

  private step(): ParseEvent | null {
    switch (this.state.at) {
      case 'head':
        return this.readHead();
      case 'fixed-body':
        return this.readFixedBody(this.state.remaining);
      case 'chunk-size':
        return this.readChunkSize();
      case 'chunk-data':
        return this.readChunkData(this.state.remaining);
      case 'chunk-data-end':
        return this.readChunkDataEnd();
      case 'trailers':
        return this.readTrailers();
      case 'failed':
        throw new HttpError(400, 'The connection cannot be used after a malformed request.');
    }
  }

  /** Remove and return the first `length` bytes of the buffer. */
  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    this.scanFrom = 0;
    return taken;
  }

  // -- Head: request-line CRLF *( field-line CRLF ) CRLF (RFC 9112 §2.1) ----------------------

  private readHead(): ParseEvent | null {
    // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request-line
    // (some old clients send an extra CRLF after a POST body).
    while (this.buffer[0] === LF || (this.buffer[0] === CR && this.buffer[1] === LF)) {
      this.take(this.buffer[0] === LF ? 1 : 2);
    }
    const headEnd = this.findHeadEnd();
    if (headEnd === null) {
      this.checkIncompleteHead();
      return null;
    }
    const head = parseHead(this.take(headEnd), this.limits);
    this.bodyBytes = 0;
    this.extensionBytes = 0;
    if (head.framing.type === 'length' && head.framing.length > 0) {
      this.state = { at: 'fixed-body', remaining: head.framing.length };
    } else if (head.framing.type === 'chunked') {
      this.state = { at: 'chunk-size' };
    } else {
      // No body: the 'end' event comes on the next call, before any pipelined bytes are read.
      this.state = { at: 'fixed-body', remaining: 0 };
    }
    return { kind: 'head', head };
  }

  /**
   * Find the empty line that ends the head: where the head ends, its empty line included.
   * Lines end in CRLF, or a bare LF, which RFC 9112 §2.2 lets a recipient accept (people
   * typing into `nc` send LF only); head.ts refuses a head that mixes the two.
   */
  private findHeadEnd(): number | null {
    const buffer = this.buffer;
    for (let i = buffer.indexOf(LF, this.scanFrom); i !== -1; i = buffer.indexOf(LF, i + 1)) {
      // The line ending at i is empty if the previous line ended just before it.
      const emptyLineStart = i > 0 && buffer[i - 1] === CR ? i - 1 : i;
      if (emptyLineStart > 0 && buffer[emptyLineStart - 1] === LF) return i + 1;
    }
    // Resume the next search one byte back: the LF we need may pair with the last byte seen.
    this.scanFrom = Math.max(0, buffer.length - 1);
    return null;
  }

  /** While the head is incomplete, enforce the size limits on what has arrived so far. */
  private checkIncompleteHead(): void {
    const { maxRequestLineBytes, maxHeaderBytes } = this.limits;
    const firstLineEnd = this.buffer.indexOf(LF);
    const requestLineLength = firstLineEnd === -1 ? this.buffer.length : firstLineEnd;
    // + 1: the line's CR, if it came, is already counted, but it is not part of the line.
    if (requestLineLength > maxRequestLineBytes + 1) throw requestLineTooLong(this.limits);
    if (firstLineEnd !== -1 && this.buffer.length - firstLineEnd - 1 > maxHeaderBytes) {
      throw headersTooLarge(this.limits);
    }
  }

  // -- Body framed by Content-Length -------------------------------------------------------

  private readFixedBody(remaining: number): ParseEvent | null {
    if (remaining === 0) {
      this.state = { at: 'head' };
      return { kind: 'end', trailers: [] };
    }
    if (this.buffer.length === 0) return null;
    const chunk = this.take(Math.min(remaining, this.buffer.length));
    this.state = { at: 'fixed-body', remaining: remaining - chunk.length };
    return { kind: 'body', chunk };
  }

  // -- Chunked body: *( chunk-size [ext] CRLF data CRLF ) "0" [ext] CRLF trailers CRLF (§7.1) ---

  /**
   * Unlike head lines, every line of chunked framing must end in CRLF exactly: this is where
   * lenient parsers have been smuggled past (a bare LF read differently by two servers).
   */
  private takeStrictLine(maxBytes: number, what: string): string | null {
    const lf = this.buffer.indexOf(LF);
    if ((lf === -1 ? this.buffer.length : lf - 1) > maxBytes) {
      throw new HttpError(400, `Bad chunked body: ${what} is too long.`);
    }
    if (lf === -1) return null;
    if (lf === 0 || this.buffer[lf - 1] !== CR) {
      throw new HttpError(400, `Bad chunked body: ${what} must end with CRLF.`);
    }
    const line = this.take(lf + 1).toString('latin1', 0, lf - 1);
    if (line.includes('\r')) throw new HttpError(400, `Bad chunked body: a bare CR in ${what}.`);
    return line;
  }

  private readChunkSize(): ParseEvent | null {
    const line = this.takeStrictLine(MAX_CHUNK_LINE_BYTES, 'a chunk-size line');
    if (line === null) return null;
    const { size, extensionBytes } = parseChunkSizeLine(line);
    this.extensionBytes += extensionBytes;
    if (this.extensionBytes > this.limits.maxChunkExtensionBytes) {
      const message =
        `Chunk extensions too large: at most ${this.limits.maxChunkExtensionBytes} bytes ` +
        'of them in one body. Send the chunks without extensions.';
      throw new HttpError(413, message);
    }
    if (size === 0) {
      this.state = { at: 'trailers' };
      return this.readTrailers();
    }
    this.bodyBytes += size;
    if (this.bodyBytes > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits);
    this.state = { at: 'chunk-data', remaining: size };
    return this.readChunkData(size);
  }

  private readChunkData(remaining: number): ParseEvent | null {
    if (this.buffer.length === 0) return null;
    const chunk = this.take(Math.min(remaining, this.buffer.length));
    const left = remaining - chunk.length;
    this.state = left === 0 ? { at: 'chunk-data-end' } : { at: 'chunk-data', remaining: left };
    return { kind: 'body', chunk };
  }

  private readChunkDataEnd(): ParseEvent | null {
    if (this.buffer.length < 2) return null;
    if (this.buffer[0] !== CR || this.buffer[1] !== LF) {
      const message =
        'Bad chunked body: chunk data must be followed by CRLF (is the chunk size right?).';
      throw new HttpError(400, message);
    }
    this.take(2);
    this.state = { at: 'chunk-size' };
    return this.readChunkSize();
  }

  /** Trailer fields after the last chunk, then an empty line (RFC 9112 §7.1.2). */
  private readTrailers(): ParseEvent | null {
    const { maxHeaderBytes, maxHeaderFields } = this.limits;
    const trailers: HeaderField[] = [];
    let offset = 0;
    let bytes = 0;
    // Parse without consuming until the whole trailer section is here, so a trickled trailer
    // section is simply re-read from the start (it is small and bounded by the header limit).
    for (;;) {
      const lf = this.buffer.indexOf(LF, offset);
      if (lf === -1) {
        if (this.buffer.length - offset + bytes > maxHeaderBytes)
          throw headersTooLarge(this.limits);
        return null;
      }
      if (lf === offset || this.buffer[lf - 1] !== CR) {
        throw new HttpError(400, 'Bad chunked body: trailer lines must end with CRLF.');
      }
      const line = this.buffer.toString('latin1', offset, lf - 1);
      offset = lf + 1;
      if (line === '') break;
      bytes += line.length + 2;
      if (bytes > maxHeaderBytes || trailers.length >= maxHeaderFields) {
        throw headersTooLarge(this.limits);
      }
      trailers.push(parseFieldLine(line));
    }
    this.take(offset);
    this.state = { at: 'head' };
    return { kind: 'end', trailers };
  }
}

/**
 * chunk-size [ chunk-ext ] (RFC 9112 §7.1): the size, in hex, and how many bytes of extensions
 * follow it (they carry nothing we use, but they count toward MAX_CHUNK_EXTENSION_BYTES).
 */
function parseChunkSizeLine(line: string): { size: number; extensionBytes: number } {
  const digits = /^[0-9a-fA-F]*/.exec(line)?.[0] ?? '';
  if (digits === '') {
    throw new HttpError(400, 'Bad chunked body: a chunk size must be hex digits, e.g. "1a".');
  }
  const extensions = line.slice(digits.length);
  if (!CHUNK_EXTENSIONS.test(extensions)) {
    const message =
      'Bad chunked body: after the chunk size, only extensions may follow: ";name" or ' +
      '";name=value", the value a token or a "quoted string".';
    throw new HttpError(400, message);
  }
  // Leading zeros are allowed (1*HEXDIG). More than 8 significant digits is over 4 GiB: far
  // beyond any body limit, and a number some parsers downstream would overflow.
  if (significantDigits(digits).length > 8) {
    throw new HttpError(413, 'Chunk too large: a chunk size has at most 8 hex digits.');
  }
  return { size: parseInt(digits, 16), extensionBytes: extensions.length };
}
