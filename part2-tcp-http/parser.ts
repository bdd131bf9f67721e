// An incremental HTTP/1.1 request parser: bytes in, request parts out.
//
// Feed it whatever the socket delivers (`parser.push(chunk)`), then pull events with
// `parser.next()` until it returns null ("need more bytes"):
//
//   { kind: 'head', head }     the request line and header fields, framing decided
//   { kind: 'body', chunk }    some body bytes, already de-chunked
//   { kind: 'end', trailers }  the message is complete; the next one may follow at once
//
// A request may arrive one byte at a time or several to a read (pipelining): the parser keeps
// what it has not used and carries on where it stopped. Bad input throws an HttpError carrying
// the status code to answer with. Reference: RFC 9112 (HTTP/1.1 message syntax), RFC 9110.
//
// Not here: responses (response.ts), sockets and timeouts (server.ts), what a target *means*.
import { isIPv6 } from 'node:net';

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

/**
 * A request we will not serve, and the answer it earns. `closeConnection` is true when we can
 * no longer tell where this request ends and the next begins: then the only safe move is to
 * answer and hang up (RFC 9112 §11.2, request smuggling).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly closeConnection: boolean;

  constructor(status: number, message: string, closeConnection = true) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.closeConnection = closeConnection;
  }
}

// ---- What the parser produces ---------------------------------------------------------------

/** One field line as received: the name keeps its case, the value has its OWS trimmed. */
export interface HeaderField {
  name: string;
  value: string;
}

/** How the body of this request is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  { type: 'none' } | { type: 'length'; length: number } | { type: 'chunked' };

export interface RequestHead {
  method: string;
  /** The request-target exactly as sent: `/path?query`, `http://host/path`, or `*`. */
  target: string;
  version: 'HTTP/1.0' | 'HTTP/1.1';
  /** In the order received, duplicates kept; look them up with `headerValue`. */
  headers: HeaderField[];
  framing: BodyFraming;
  /** Does the client want the connection kept open after this request? (RFC 9112 §9.3) */
  keepAlive: boolean;
  /** `Expect: 100-continue` with a body: the client waits for a go-ahead before sending it. */
  expectContinue: boolean;
}

export type ParseEvent =
  | { kind: 'head'; head: RequestHead }
  | { kind: 'body'; chunk: Buffer }
  | { kind: 'end'; trailers: HeaderField[] };

/**
 * All values of the header `name` (compared case-insensitively), joined with ", " as
 * RFC 9110 §5.3 allows for list fields; undefined when absent.
 */
export function headerValue(headers: HeaderField[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  let joined: string | undefined;
  for (const field of headers) {
    if (field.name.toLowerCase() === wanted)
      joined = joined === undefined ? field.value : `${joined}, ${field.value}`;
  }
  return joined;
}

/** The elements of the values of one list-valued field, lower-cased, empty ones left out. */
function listTokens(values: string[]): string[] {
  const tokens: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      const token = element.trim().toLowerCase();
      if (token !== '') tokens.push(token);
    }
  }
  return tokens;
}

/**
 * Does the client want the connection kept open after this request (RFC 9112 §9.3)? HTTP/1.1
 * keeps it unless told "close"; HTTP/1.0 closes it unless told "keep-alive"; "close" wins over
 * everything (§9.6). `connections`: the values of the Connection fields.
 */
export function clientKeepsAlive(version: RequestHead['version'], connections: string[]): boolean {
  const options = listTokens(connections);
  return !options.includes('close') && (version === 'HTTP/1.1' || options.includes('keep-alive'));
}

// ---- Character classes (RFC 9110 §5.6.2, §5.5) ----------------------------------------------

/** token = 1*tchar: letters, digits and !#$%&'*+-.^_`|~ (methods and field names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything a field value may not contain: control characters except HTAB, and DEL. */
const FORBIDDEN_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** A request-target is visible ASCII only: no spaces, no controls, no raw non-ASCII bytes. */
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/\d\.\d$/;

const CR = 0x0d;
const LF = 0x0a;

// ---- The parser ------------------------------------------------------------------------------

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
    const lines = splitLines(this.take(headEnd));
    const head = this.parseHead(lines);
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
   * typing into `nc` send LF only); splitLines refuses a head that mixes the two.
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
    const firstLineEnd = this.buffer.indexOf(LF);
    const requestLineLength = firstLineEnd === -1 ? this.buffer.length : firstLineEnd;
    // + 1: the line's CR, if it came, is already counted, but it is not part of the line.
    if (requestLineLength > this.limits.maxRequestLineBytes + 1)
      throw requestLineTooLong(this.limits);
    if (firstLineEnd !== -1 && this.buffer.length - firstLineEnd - 1 > this.limits.maxHeaderBytes) {
      throw headersTooLarge(this.limits);
    }
  }

  private parseHead(lines: string[]): RequestHead {
    const requestLine = lines[0];
    if (requestLine.length > this.limits.maxRequestLineBytes) throw requestLineTooLong(this.limits);
    let headerBytes = 0;
    for (let i = 1; i < lines.length; i++) headerBytes += lines[i].length + 2;
    if (headerBytes > this.limits.maxHeaderBytes) throw headersTooLarge(this.limits);
    if (lines.length - 1 > this.limits.maxHeaderFields) {
      throw new HttpError(
        431,
        `Too many header fields: at most ${this.limits.maxHeaderFields} are allowed.`,
      );
    }
    const { method, target, version } = parseRequestLine(requestLine);

    // One pass over the field lines: parse each, and note the few fields that decide how this
    // request is read (each name lower-cased once).
    const headers: HeaderField[] = [];
    const framingFields: FramingFields = {
      hosts: [],
      lengths: [],
      transferEncodings: [],
      connections: [],
      expects: [],
    };
    for (let i = 1; i < lines.length; i++) {
      const field = parseFieldLine(lines[i]);
      headers.push(field);
      noteFramingField(framingFields, field);
    }

    // RFC 9112 §3.2: an HTTP/1.1 request MUST have exactly one Host field, with a valid value.
    const { hosts } = framingFields;
    if (version === 'HTTP/1.1' && hosts.length === 0)
      throw new HttpError(
        400,
        'Missing Host header: HTTP/1.1 requires one, e.g. "Host: localhost".',
      );
    if (hosts.length > 1) throw new HttpError(400, 'More than one Host header: send exactly one.');
    if (hosts.length === 1 && !isValidHost(hosts[0])) throw new HttpError(400, INVALID_HOST);

    const framing = this.decideFraming(framingFields, version);
    const keepAlive = clientKeepsAlive(version, framingFields.connections);
    const expect =
      framingFields.expects.length === 0 ? undefined : framingFields.expects.join(', ');
    if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
      // RFC 9110 §10.1.1: the only expectation defined is 100-continue.
      throw new HttpError(
        417,
        'Unsupported Expect header: only "Expect: 100-continue" is understood.',
      );
    }
    // A request without a body has nothing to wait for: no 100 Continue is owed.
    const hasBody = framing.type === 'chunked' || (framing.type === 'length' && framing.length > 0);
    return {
      method,
      target,
      version,
      headers,
      framing,
      keepAlive,
      expectContinue: expect !== undefined && version === 'HTTP/1.1' && hasBody,
    };
  }

  /**
   * RFC 9112 §6.3: where does the body end? Every ambiguous combination is refused, because a
   * proxy in front of us might resolve it the other way and hide a second request inside
   * this one's body (request smuggling).
   */
  private decideFraming(fields: FramingFields, version: RequestHead['version']): BodyFraming {
    const { lengths } = fields;
    if (fields.transferEncodings.length > 0) {
      if (lengths.length > 0)
        throw new HttpError(
          400,
          'Both Transfer-Encoding and Content-Length were sent: send only one of them.',
        );
      if (version === 'HTTP/1.0')
        throw new HttpError(
          400,
          'Transfer-Encoding is not allowed in an HTTP/1.0 request: use Content-Length.',
        );
      // Its value is never echoed back: it is the attacker's text.
      const codings = listTokens(fields.transferEncodings);
      // §6.3: if chunked is not the final coding, nothing says where the body ends. §6.1:
      // chunked is applied once.
      if (codings.at(-1) !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1) {
        throw new HttpError(
          400,
          'Bad Transfer-Encoding: it must end with "chunked", once, e.g. "Transfer-Encoding: chunked".',
        );
      }
      // A coding before it (gzip, chunked) would frame the body well, but we decode no other.
      if (codings.length > 1)
        throw new HttpError(
          501,
          'Unsupported Transfer-Encoding: this server decodes only "chunked".',
        );
      return { type: 'chunked' };
    }

    if (lengths.length === 0) return { type: 'none' };
    // Simplification: RFC 9112 §6.3 lets a server accept repeated identical lengths; refusing
    // every repeat is simpler and just as safe.
    if (lengths.length > 1)
      throw new HttpError(400, 'More than one Content-Length header: send exactly one.');
    const text = lengths[0];
    // 1*DIGIT only: no sign, no spaces inside, no lists (RFC 9110 §8.6). Leading zeros are
    // allowed; a number of more than 15 significant digits is too large to be exact, and far
    // too large to accept.
    if (!/^[0-9]+$/.test(text))
      throw new HttpError(
        400,
        'Bad Content-Length: it must be a whole number of bytes, e.g. "Content-Length: 42".',
      );
    if (significant(text).length > 15) throw bodyTooLarge(this.limits);
    const length = Number(text);
    if (length > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits);
    return { type: 'length', length };
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
    if (lf === -1) {
      if (this.buffer.length > maxBytes)
        throw new HttpError(400, `Bad chunked body: ${what} is too long.`);
      return null;
    }
    if (lf === 0 || this.buffer[lf - 1] !== CR)
      throw new HttpError(400, `Bad chunked body: ${what} must end with CRLF.`);
    if (lf - 1 > maxBytes) throw new HttpError(400, `Bad chunked body: ${what} is too long.`);
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
      throw new HttpError(
        413,
        `Chunk extensions too large: at most ${this.limits.maxChunkExtensionBytes} bytes of them in one body. Send the chunks without extensions.`,
      );
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
    this.state =
      chunk.length === remaining
        ? { at: 'chunk-data-end' }
        : { at: 'chunk-data', remaining: remaining - chunk.length };
    return { kind: 'body', chunk };
  }

  private readChunkDataEnd(): ParseEvent | null {
    if (this.buffer.length < 2) return null;
    if (this.buffer[0] !== CR || this.buffer[1] !== LF)
      throw new HttpError(
        400,
        'Bad chunked body: chunk data must be followed by CRLF (is the chunk size right?).',
      );
    this.take(2);
    this.state = { at: 'chunk-size' };
    return this.readChunkSize();
  }

  /** Trailer fields after the last chunk, then an empty line (RFC 9112 §7.1.2). */
  private readTrailers(): ParseEvent | null {
    const trailers: HeaderField[] = [];
    let offset = 0;
    let bytes = 0;
    // Parse without consuming until the whole trailer section is here, so a trickled trailer
    // section is simply re-read from the start (it is small and bounded by the header limit).
    for (;;) {
      const lf = this.buffer.indexOf(LF, offset);
      if (lf === -1) {
        if (this.buffer.length - offset + bytes > this.limits.maxHeaderBytes)
          throw headersTooLarge(this.limits);
        return null;
      }
      if (lf === offset || this.buffer[lf - 1] !== CR)
        throw new HttpError(400, 'Bad chunked body: trailer lines must end with CRLF.');
      const line = this.buffer.toString('latin1', offset, lf - 1);
      offset = lf + 1;
      if (line === '') break;
      bytes += line.length + 2;
      if (bytes > this.limits.maxHeaderBytes || trailers.length >= this.limits.maxHeaderFields)
        throw headersTooLarge(this.limits);
      trailers.push(parseFieldLine(line));
    }
    this.take(offset);
    this.state = { at: 'head' };
    return { kind: 'end', trailers };
  }
}

// ---- Line-level parsing ---------------------------------------------------------------------

/** The values of the fields that decide how a request is read, gathered in parseHead's pass. */
interface FramingFields {
  hosts: string[];
  lengths: string[];
  transferEncodings: string[];
  connections: string[];
  expects: string[];
}

function noteFramingField(fields: FramingFields, field: HeaderField): void {
  switch (field.name.toLowerCase()) {
    case 'host':
      fields.hosts.push(field.value);
      break;
    case 'content-length':
      fields.lengths.push(field.value);
      break;
    case 'transfer-encoding':
      fields.transferEncodings.push(field.value);
      break;
    case 'connection':
      fields.connections.push(field.value);
      break;
    case 'expect':
      fields.expects.push(field.value);
      break;
  }
}

/**
 * Split a head, its final empty line included, into its lines (without that empty line).
 * Every line must end the same way: all in CRLF, or all in a bare LF (RFC 9112 §2.2 lets us
 * accept those, for people typing into `nc`). A head that mixes them is refused: a proxy in
 * front that ends lines only at CRLF reads "Dummy: x<LF>Content-Length: 23" as one field, and
 * finds a second request where we see a body (request smuggling, RFC 9112 §11.2). A head in
 * bare LF throughout has no such second reading: to a CRLF-only reader, its request line
 * never ends. A bare CR anywhere is refused too.
 */
function splitLines(head: Buffer): string[] {
  // latin1 maps each byte to one character, so nothing is lost or merged (RFC 9110 §5.5:
  // field values are bytes; non-ASCII bytes are "obs-text", opaque to us).
  const lines = head.toString('latin1').split('\n');
  lines.pop(); // the nothing after the last LF
  let endedByCrlf = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) {
      endedByCrlf++;
      line = line.slice(0, -1);
    }
    if (line.includes('\r'))
      throw new HttpError(
        400,
        'A bare CR (carriage return not followed by LF) in the request head: end lines with CRLF.',
      );
    lines[i] = line;
  }
  if (endedByCrlf !== 0 && endedByCrlf !== lines.length) {
    throw new HttpError(
      400,
      'The request head mixes CRLF and bare LF line endings: end every line with CRLF.',
    );
  }
  lines.pop(); // the empty line that ended the head
  return lines;
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 §3). */
function parseRequestLine(line: string): {
  method: string;
  target: string;
  version: RequestHead['version'];
} {
  const parts = line.split(' ');
  if (parts.length !== 3) {
    throw new HttpError(
      400,
      'Malformed request line: expected "METHOD /target HTTP/1.1" with single spaces.',
    );
  }
  const [method, target, sentVersion] = parts;
  if (!TOKEN.test(method))
    throw new HttpError(
      400,
      'Malformed request line: the method must be a token such as GET or POST.',
    );
  const version = parseVersion(sentVersion);
  checkTarget(method, target);
  return { method, target, version };
}

/**
 * Is `target` a request-target this server takes with `method`? Throws the HttpError to answer
 * with if not. RFC 9112 §3.2: origin-form `/path?q`, absolute-form `http://host/path`,
 * asterisk-form `*` (OPTIONS only), authority-form `host:port` (CONNECT only).
 */
export function checkTarget(method: string, target: string): void {
  if (!TARGET.test(target))
    throw new HttpError(
      400,
      'Malformed request target: it must be visible ASCII without spaces (percent-encode the rest).',
    );
  // A fragment (#...) stays in the browser: it is never part of a request-target (§3.2).
  if (target.includes('#'))
    throw new HttpError(
      400,
      'Malformed request target: a "#fragment" is never sent; leave it out (or percent-encode "#" as %23).',
    );
  if (method === 'CONNECT') {
    // RFC 9112 §3.2.3: CONNECT takes the authority-form, host:port, and no other method does.
    // RFC 9110 §9.3.6: CONNECT asks for a tunnel, which a proxy opens; we are not one, for no
    // target (501, not 405, which would name the methods a resource of ours allows). Closed:
    // a client may send the bytes meant for the tunnel right behind its request.
    if (!/:\d+$/.test(target) || !isValidHost(target)) {
      throw new HttpError(
        400,
        'Malformed request target: CONNECT takes host:port, e.g. "CONNECT example.com:443 HTTP/1.1".',
      );
    }
    throw new HttpError(501, NO_TUNNEL);
  }
  if (target.startsWith('/') || (target === '*' && method === 'OPTIONS')) return;
  const { authority } = splitTarget(target);
  if (authority === null) {
    throw new HttpError(
      400,
      'Malformed request target: expected a path starting with "/" (or an absolute http:// URL).',
    );
  }
  // §3.2.2: the authority of an absolute-form target stands in for Host, so it obeys Host's
  // rules; an http URI has a host, and no userinfo (RFC 9110 §4.2.1, §4.2.4).
  if (authority === '' || !isValidHost(authority)) {
    throw new HttpError(
      400,
      'Malformed request target: the host of an absolute URL must be a host name or address and an optional port, e.g. "http://example.com:8080/".',
    );
  }
}

/** A request-target's parts, from `splitTarget`. */
export interface TargetParts {
  /** `host:port` of an absolute-form target (`http://host:port/path`); null for the other forms. */
  authority: string | null;
  /** The path, still percent-encoded: `/a/b`; '/' for `http://host`, '' for `*`. */
  path: string;
  /** After the first '?', raw; '' when there is none. */
  query: string;
}

/** `/a/b?x=1` → path `/a/b`, query `x=1`; `http://host:8080/a` → authority `host:8080` too. */
export function splitTarget(target: string): TargetParts {
  if (target === '*') return { authority: null, path: '', query: '' };
  let authority: string | null = null;
  let pathAndQuery = target;
  const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
  if (absolute !== null) {
    authority = absolute[1];
    pathAndQuery = target.slice(absolute[0].length);
    if (!pathAndQuery.startsWith('/')) pathAndQuery = `/${pathAndQuery}`;
  }
  const mark = pathAndQuery.indexOf('?');
  if (mark === -1) return { authority, path: pathAndQuery, query: '' };
  return { authority, path: pathAndQuery.slice(0, mark), query: pathAndQuery.slice(mark + 1) };
}

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2), from RFC 3986 §3.2.2-3.2.3: a reg-name (letters,
 * digits, -._~, the sub-delims !$&'()*+,;= and %XX escapes; an IPv4 address is one too), or an
 * IPv6 address in brackets, then optionally a colon and up to five digits.
 * An empty value is valid: RFC 9110 §7.2 has a client send one when the target URI has no
 * authority (e.g. an `OPTIONS *` meant for no host in particular); SERVER_NAME then falls back
 * to the address the connection arrived on.
 * Simplification: a port above 65535 is refused although the grammar (*DIGIT) allows it: it
 * names no TCP port. IPvFuture (`[v1.x]`) is refused too; nothing sends it.
 */
const HOST =
  /^(?:\[([0-9A-Fa-f:.]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::(\d{0,5}))?$/;

export function isValidHost(value: string): boolean {
  const match = HOST.exec(value);
  if (match === null) return false;
  const [, ipv6, port] = match;
  return (
    (ipv6 === undefined || isIPv6(ipv6)) &&
    (port === undefined || port === '' || Number(port) <= 65535)
  );
}

/** The answer to CONNECT, on every server of this course. */
export const NO_TUNNEL =
  'This server does not tunnel: CONNECT is for proxies. Send your request to the server itself.';

/** The answer to an invalid Host value (which it does not echo). */
export const INVALID_HOST =
  'Invalid Host header: send a host name or address and an optional port, e.g. "Host: example.com:8080".';

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). RFC 9110 §6.2: a minor version above
 * ours (HTTP/1.2 to 1.9) is processed as the highest we implement, HTTP/1.1, and answered as
 * such; other major versions (HTTP/2.0, and HTTP/0.9, which had no version in its request line)
 * are refused with 505.
 */
function parseVersion(version: string): RequestHead['version'] {
  if (version === 'HTTP/1.1' || version === 'HTTP/1.0') return version;
  if (!VERSION.test(version))
    throw new HttpError(400, 'Malformed request line: the version must look like HTTP/1.1.');
  if (version.startsWith('HTTP/1.')) return 'HTTP/1.1';
  throw new HttpError(505, 'HTTP version not supported: this server speaks HTTP/1.1 and HTTP/1.0.');
}

/**
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1),
 * a name a token, a value a token or a quoted-string (RFC 9110 §5.6.4: "..." with \-escapes).
 * BWS, "bad" whitespace, is spaces or tabs that no sender should send but a recipient must
 * accept and remove (RFC 9110 §5.6.3): only where the grammar places it, before ";" and around
 * "=". Whitespace after the size with no ";" after it, a ";" with no name, an unclosed quote:
 * each is refused, where lenient parsers guess (and two guesses that differ are how a request
 * gets smuggled).
 */
const CHUNK_EXTENSIONS =
  /^(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"))?)*$/;

/**
 * chunk-size [ chunk-ext ] (RFC 9112 §7.1): the size, in hex, and how many bytes of extensions
 * follow it (they carry nothing we use, but they count toward MAX_CHUNK_EXTENSION_BYTES).
 */
function parseChunkSizeLine(line: string): { size: number; extensionBytes: number } {
  const digits = /^[0-9a-fA-F]*/.exec(line)?.[0] ?? '';
  if (digits === '')
    throw new HttpError(400, 'Bad chunked body: a chunk size must be hex digits, e.g. "1a".');
  const extensions = line.slice(digits.length);
  if (!CHUNK_EXTENSIONS.test(extensions)) {
    throw new HttpError(
      400,
      'Bad chunked body: after the chunk size, only extensions may follow: ";name" or ";name=value", the value a token or a "quoted string".',
    );
  }
  // Leading zeros are allowed (1*HEXDIG). More than 8 significant digits is over 4 GiB: far
  // beyond any body limit, and a number some parsers downstream would overflow.
  if (significant(digits).length > 8)
    throw new HttpError(413, 'Chunk too large: a chunk size has at most 8 hex digits.');
  return { size: parseInt(digits, 16), extensionBytes: extensions.length };
}

/** A number's digits without its leading zeros ('' for zero). */
function significant(digits: string): string {
  let start = 0;
  while (start < digits.length && digits[start] === '0') start++;
  return digits.slice(start);
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
function parseFieldLine(line: string): HeaderField {
  if (line.startsWith(' ') || line.startsWith('\t')) {
    // RFC 9112 §5.2: obsolete line folding; a server may reject it with 400, and we do.
    throw new HttpError(
      400,
      'Obsolete line folding (a header line starting with a space) is not accepted: put each field on one line.',
    );
  }
  const colon = line.indexOf(':');
  if (colon <= 0) throw new HttpError(400, 'Malformed header line: expected "Name: value".');
  const name = line.slice(0, colon);
  // RFC 9112 §5.1: no whitespace between the field name and the colon; a server MUST reject it.
  if (name.endsWith(' ') || name.endsWith('\t'))
    throw new HttpError(400, 'Whitespace before the colon in a header line: write "Name: value".');
  if (!TOKEN.test(name))
    throw new HttpError(
      400,
      "Malformed header name: only letters, digits and !#$%&'*+-.^_`|~ are allowed.",
    );
  const value = trimWhitespace(line.slice(colon + 1));
  if (FORBIDDEN_IN_VALUE.test(value))
    throw new HttpError(400, 'A control character (such as NUL) in a header value is not allowed.');
  return { name, value };
}

/**
 * Remove OWS (spaces and tabs only, RFC 9110 §5.6.3) from both ends. Not String.trim(): it also
 * removes U+00A0, which here is the byte 0xA0, part of the value (obs-text).
 */
function trimWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function requestLineTooLong(limits: ParserLimits): HttpError {
  return new HttpError(
    414,
    `Request line too long: at most ${limits.maxRequestLineBytes} bytes. Shorten the URL or send data in a POST body.`,
  );
}

function headersTooLarge(limits: ParserLimits): HttpError {
  return new HttpError(
    431,
    `Request header fields too large: at most ${limits.maxHeaderBytes} bytes in all.`,
  );
}

function bodyTooLarge(limits: ParserLimits): HttpError {
  return new HttpError(413, `Request body too large: at most ${limits.maxBodyBytes} bytes.`);
}
