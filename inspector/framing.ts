// Framing: where each HTTP message begins and ends in a stream of bytes. The inspector sees the
// bytes of a connection as TCP delivers them, in reads of any size; a framer cuts them into
// messages, and says which bytes are a head, which a body, and where a message ends:
//
//   framer.push(chunk) → [ {kind: 'bytes', part: 'head', bytes}, {kind: 'head', startLine, ...},
//                          {kind: 'bytes', part: 'body', bytes}, {kind: 'end'}, ... ]
//
// Every byte pushed comes out in exactly one 'bytes' or 'raw' piece, in order: the inspector
// draws the wire, so nothing may be dropped or drawn twice.
//
// Requests are framed by part 2's own parser (RequestParser): the same code that decides where
// a request ends for the course's servers decides it here. Responses have no parser in part 2
// (a server only writes them), so ResponseFramer reads the status line and the fields itself,
// and borrows part 2's parser for chunked bodies, whose grammar is the same both ways.
//
// Bytes that are not HTTP (part 1's echo, a request part 2's parser refuses) are passed on as
// 'raw' pieces, with a 'not-http' piece saying why; from there on that direction stays raw.
import {
  headerValue,
  HttpError,
  MAX_HEADER_BYTES,
  MAX_REQUEST_LINE_BYTES,
  RequestParser,
  type HeaderField,
  type ParserLimits,
} from '../part2-tcp-http/parser.ts';

/** What a framer says about the bytes pushed into it. */
export type Piece =
  /** Bytes of the current message (a new one begins with the first 'bytes' after an 'end'). */
  | { kind: 'bytes'; part: 'head' | 'body'; bytes: Buffer }
  /** The head of the current message is complete. */
  | { kind: 'head'; head: MessageHead }
  /** Body bytes decoded so far in the current message (chunked framing removed). */
  | { kind: 'payload'; length: number }
  /** The current message is complete; what follows belongs to the next one. */
  | { kind: 'end' }
  /** Bytes that are not HTTP (or no longer framed as HTTP). */
  | { kind: 'raw'; bytes: Buffer }
  /** From here on this direction is raw, and why. */
  | { kind: 'not-http'; reason: string };

export interface MessageHead {
  /** `GET /hello HTTP/1.1` or `HTTP/1.1 200 OK`, as sent (cut past MAX_TITLE_CHARS). */
  startLine: string;
  /** How the body is delimited, in words: `Content-Length: 12`, `chunked`, `no body (HEAD)`. */
  framing: string;
  /** A request's method; for a response, the method of the request it answers ('' if none). */
  method: string;
  /** A response: the status code; a request: 0. */
  status: number;
  /** A response: which request it answers (1 for the first on the connection), 0 if none. */
  answers: number;
  /** A 1xx response other than 101: an interim answer, the final one still to come. */
  interim: boolean;
  /** A 101, or a 2xx to CONNECT: after this head, both directions carry another protocol. */
  switchesProtocols: boolean;
}

/** Both framers offer this. */
export interface Framer {
  push(chunk: Buffer): Piece[];
  /** The sender closed its side (FIN): a body that runs "until the connection closes" ends here. */
  finish(): Piece[];
  /** From now on pass everything as raw (after 101 Switching Protocols, both ways). */
  switchToRaw(reason: string): Piece[];
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * The recorder's limits for part 2's parser. Bodies are only counted and folded, so any size is
 * framed (part 2's 1 MiB limit is its server's policy, not HTTP's). The head limits stay: they
 * bound what a framer holds while a head is still arriving, and a head past them is drawn raw.
 */
const RECORDER_LIMITS: Partial<ParserLimits> = {
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxChunkExtensionBytes: Number.MAX_SAFE_INTEGER,
};

/** The longest response head read before the rest is drawn raw: a request's limits, together. */
export const MAX_RESPONSE_HEAD_BYTES = MAX_REQUEST_LINE_BYTES + MAX_HEADER_BYTES;

/**
 * The longest start line kept as a message's title; its bytes are all in the head. A request line
 * may be 8 KiB (part 2's limit), and the recorder keeps thousands of titles.
 */
export const MAX_TITLE_CHARS = 200;

/** A start line as a title: whole, or cut at MAX_TITLE_CHARS with a mark that it was. */
function titleOf(line: string): string {
  return ownCopy(line.length <= MAX_TITLE_CHARS ? line : `${line.slice(0, MAX_TITLE_CHARS - 1)}…`);
}

/**
 * The text as a string of its own. A piece cut from a string may keep the whole string alive
 * (JavaScript engines share the memory), here a whole head of up to 24 KiB per message kept.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Why a connection's bytes are raw after a 101 (or a CONNECT's 2xx). */
export const SWITCHED =
  'the server switched this connection to another protocol (101, or a CONNECT tunnel)';

/** token characters (RFC 9110 §5.6.2): what a request (its method) must begin with. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

// ---- Requests: part 2's parser, with the bytes accounted for ------------------------------

/**
 * Client → server. The parser says what it found, not where: the bytes it has taken are
 * whatever it no longer holds (`bufferedBytes`), so each event's bytes are the difference.
 */
export class RequestFramer implements Framer {
  private parser = new RequestParser(RECORDER_LIMITS);
  private raw = false;
  /** Bytes pushed and not yet given out as the head or body of a message whose part is known. */
  private pending: Buffer = EMPTY;
  /** How many of `pending` were already given out as head bytes (a head still arriving). */
  private shown = 0;
  /** Between a head and its end: bytes taken are body bytes. */
  private inBody = false;
  /** The first line of the current message was checked (see checkRequestLine). */
  private lineChecked = false;
  private requests = 0;
  /** Told of each request head, in order: the response framer pairs its answers with them. */
  private readonly onRequest: (method: string, number: number) => void;

  constructor(onRequest: (method: string, number: number) => void = () => {}) {
    this.onRequest = onRequest;
  }

  push(chunk: Buffer): Piece[] {
    if (this.raw) return [{ kind: 'raw', bytes: chunk }];
    const pieces: Piece[] = [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.parser.push(chunk);
    try {
      this.checkRequestLine();
      for (let event = this.parser.next(); event !== null; event = this.parser.next()) {
        const taken = this.take();
        if (event.kind === 'head') {
          this.show(pieces, 'head', taken);
          const { method, target, version, framing } = event.head;
          this.requests++;
          this.onRequest(method, this.requests);
          pieces.push({
            kind: 'head',
            head: {
              startLine: titleOf(`${method} ${target} ${version}`),
              framing:
                framing.type === 'length'
                  ? `Content-Length: ${framing.length}`
                  : framing.type === 'chunked'
                    ? 'chunked'
                    : 'no body',
              method: ownCopy(method),
              status: 0,
              answers: 0,
              interim: false,
              switchesProtocols: false,
            },
          });
          this.inBody = true;
        } else if (event.kind === 'body') {
          this.show(pieces, 'body', taken);
          pieces.push({ kind: 'payload', length: event.chunk.length });
        } else {
          this.show(pieces, 'body', taken);
          pieces.push({ kind: 'end' });
          this.inBody = false;
          this.lineChecked = false;
          this.checkRequestLine();
        }
      }
      // The parser may have taken bytes with no event yet (a chunk-size line): body bytes.
      if (this.inBody) this.show(pieces, 'body', this.take());
      else this.showPartialHead(pieces);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // What was shown of this message stays; the bytes not shown yet are drawn raw.
      pieces.push(...this.switchToRaw(`part 2's parser answers ${error.status}: ${error.message}`));
    }
    return pieces;
  }

  finish(): Piece[] {
    return [];
  }

  switchToRaw(reason: string): Piece[] {
    if (this.raw) return [];
    this.raw = true;
    // Bytes not yet shown (after a head part 2 refused, say) are shown as they are.
    const rest = this.pending.subarray(this.shown);
    this.pending = EMPTY;
    this.shown = 0;
    const pieces: Piece[] = [{ kind: 'not-http', reason }];
    if (rest.length > 0) pieces.push({ kind: 'raw', bytes: rest });
    return pieces;
  }

  /** The bytes the parser took since the last event: the front of `pending`. */
  private take(): Buffer {
    const length = this.pending.length - this.parser.bufferedBytes;
    const taken = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return taken;
  }

  /** Give out `bytes` as part of the message, minus what was given out already as a partial head. */
  private show(pieces: Piece[], part: 'head' | 'body', bytes: Buffer): void {
    const fresh = bytes.subarray(Math.min(this.shown, bytes.length));
    this.shown = Math.max(0, this.shown - bytes.length);
    if (fresh.length > 0) pieces.push({ kind: 'bytes', part, bytes: fresh });
  }

  /**
   * A head still arriving is shown as it comes (the bytes the parser holds are its start), once
   * its first line has passed checkRequestLine: until then they may turn out not to be HTTP.
   */
  private showPartialHead(pieces: Piece[]): void {
    if (!this.lineChecked) return;
    const fresh = this.pending.subarray(this.shown);
    if (fresh.length > 0) pieces.push({ kind: 'bytes', part: 'head', bytes: fresh });
    this.shown = this.pending.length;
  }

  /**
   * Part 2's parser judges a request line only once the whole head is in, so an echo of typed
   * lines (part 1) would be drawn as a head that never ends. Ask it sooner: does the message
   * begin as a request may (a token character), and is its first line, with a head made up
   * around it, one the parser takes? If not, this direction is not HTTP: throw its answer.
   */
  private checkRequestLine(): void {
    if (this.lineChecked) return;
    const bytes = this.pending;
    let start = 0;
    // RFC 9112 §2.2: empty lines before a request line are ignored (the parser skips them).
    while (bytes[start] === CR || bytes[start] === LF) start++;
    if (start === bytes.length) return;
    if (!TCHAR.test(String.fromCharCode(bytes[start])))
      throw new HttpError(400, 'this does not begin like an HTTP request (a method such as GET).');
    const lineEnd = bytes.indexOf(LF, start);
    if (lineEnd === -1) return;
    this.lineChecked = true;
    const line = bytes.toString('latin1', start, bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd);
    const probe = new RequestParser(RECORDER_LIMITS);
    probe.push(Buffer.from(`${line}\r\nHost: inspector\r\n\r\n`, 'latin1'));
    probe.next(); // throws the HttpError the real head would earn for this line
  }
}

// ---- Responses: a status line, fields, and the body by RFC 9112 §6.3 -----------------------

type ResponseState =
  | { at: 'head' }
  | { at: 'length'; remaining: number }
  | { at: 'chunked'; body: RequestParser }
  | { at: 'until-close' }
  | { at: 'raw' };

/** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: [^\r\n]*)?$/;

/**
 * Server → client. Each final response answers the oldest request not yet answered (HTTP/1.1
 * answers in order, RFC 9112 §9.3.2): `expect()` is told of each request as its head is read.
 */
export class ResponseFramer implements Framer {
  private state: ResponseState = { at: 'head' };
  /** A head still arriving (at most MAX_RESPONSE_HEAD_BYTES). */
  private partialHead: Buffer = EMPTY;
  /** The requests not answered yet, oldest first. */
  private readonly waiting: Array<{ method: string; number: number }> = [];

  /** A request head was read: its response will come in its turn. */
  expect(method: string, number: number): void {
    this.waiting.push({ method, number });
  }

  push(chunk: Buffer): Piece[] {
    const pieces: Piece[] = [];
    let rest = chunk;
    while (rest.length > 0) rest = this.step(rest, pieces);
    return pieces;
  }

  finish(): Piece[] {
    if (this.state.at !== 'until-close') return [];
    this.state = { at: 'head' };
    return [{ kind: 'end' }];
  }

  switchToRaw(reason: string): Piece[] {
    if (this.state.at === 'raw') return [];
    const rest = this.partialHead;
    this.partialHead = EMPTY;
    this.state = { at: 'raw' };
    const pieces: Piece[] = [{ kind: 'not-http', reason }];
    if (rest.length > 0) pieces.push({ kind: 'raw', bytes: rest });
    return pieces;
  }

  /** Frame the front of `bytes`; return what is left for the next step. */
  private step(bytes: Buffer, pieces: Piece[]): Buffer {
    const state = this.state;
    switch (state.at) {
      case 'raw':
        pieces.push({ kind: 'raw', bytes });
        return EMPTY;
      case 'head':
        return this.readHead(bytes, pieces);
      case 'until-close':
        pieces.push(
          { kind: 'bytes', part: 'body', bytes },
          { kind: 'payload', length: bytes.length },
        );
        return EMPTY;
      case 'length': {
        const body = bytes.subarray(0, state.remaining);
        pieces.push(
          { kind: 'bytes', part: 'body', bytes: body },
          { kind: 'payload', length: body.length },
        );
        if (body.length < state.remaining) {
          this.state = { at: 'length', remaining: state.remaining - body.length };
        } else {
          this.state = { at: 'head' };
          pieces.push({ kind: 'end' });
        }
        return bytes.subarray(body.length);
      }
      case 'chunked':
        return this.readChunked(state.body, bytes, pieces);
    }
  }

  private readHead(bytes: Buffer, pieces: Piece[]): Buffer {
    const before = this.partialHead.length;
    const soFar = before === 0 ? bytes : Buffer.concat([this.partialHead, bytes]);
    // A response begins "HTTP/": anything else (part 1's echo of a request) is not one.
    const prefix = Math.min(soFar.length, 5);
    if (soFar.toString('latin1', 0, prefix) !== 'HTTP/'.slice(0, prefix)) {
      this.partialHead = EMPTY;
      this.state = { at: 'raw' };
      pieces.push(
        {
          kind: 'not-http',
          reason: 'this does not begin like an HTTP response ("HTTP/1.1 200 OK")',
        },
        { kind: 'raw', bytes: soFar },
      );
      return EMPTY;
    }
    const end = findHeadEnd(soFar);
    if (end === -1) {
      if (soFar.length > MAX_RESPONSE_HEAD_BYTES)
        return this.refuseHead(soFar, before, pieces, 'a head this long');
      this.partialHead = soFar;
      pieces.push({ kind: 'bytes', part: 'head', bytes });
      return EMPTY;
    }
    this.partialHead = EMPTY;
    const headBytes = soFar.subarray(0, end);
    const head = parseResponseHead(headBytes.toString('latin1'));
    if (typeof head === 'string') return this.refuseHead(soFar, before, pieces, head);
    pieces.push({ kind: 'bytes', part: 'head', bytes: headBytes.subarray(before) });
    pieces.push(...this.decideBody(head));
    return soFar.subarray(end);
  }

  /** A head that cannot be read: what was shown stays, the rest is raw. */
  private refuseHead(soFar: Buffer, before: number, pieces: Piece[], what: string): Buffer {
    this.partialHead = EMPTY;
    this.state = { at: 'raw' };
    pieces.push(
      { kind: 'not-http', reason: `the response head cannot be read: ${what}` },
      { kind: 'raw', bytes: soFar.subarray(before) },
    );
    return EMPTY;
  }

  /** RFC 9112 §6.3: how the body of this response is delimited, in order of precedence. */
  private decideBody(parsed: ParsedResponseHead): Piece[] {
    const { status, fields } = parsed;
    const interim = status >= 100 && status < 200 && status !== 101;
    const request = interim ? this.waiting[0] : this.waiting.shift();
    const method = request?.method ?? '';
    const switchesProtocols =
      status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    const head = (framing: string): Piece => ({
      kind: 'head',
      head: {
        startLine: titleOf(parsed.startLine),
        framing,
        method,
        status,
        answers: request?.number ?? 0,
        interim,
        switchesProtocols,
      },
    });
    const end: Piece = { kind: 'end' };
    // The recorder then switches the request direction to raw as well.
    if (switchesProtocols)
      return [
        head('no body: the connection now carries another protocol'),
        end,
        ...this.switchToRaw(SWITCHED),
      ];
    if (method === 'HEAD') return [head('no body (an answer to HEAD)'), end];
    if (interim || status === 204 || status === 304) return [head(`no body (${status})`), end];
    const codings = headerValue(fields, 'Transfer-Encoding');
    if (codings !== undefined) {
      const last = codings.split(',').at(-1)?.trim().toLowerCase();
      if (last === 'chunked') {
        this.state = { at: 'chunked', body: chunkedBodyReader() };
        return [head('chunked')];
      }
      this.state = { at: 'until-close' };
      return [head('until the connection closes (Transfer-Encoding without chunked last)')];
    }
    const length = headerValue(fields, 'Content-Length');
    if (length !== undefined) {
      if (!/^\d+$/.test(length))
        return [
          head(`unknown (Content-Length: ${length})`),
          ...this.switchToRaw('a Content-Length that is not a number'),
        ];
      const remaining = Number(length);
      if (remaining === 0) return [head('Content-Length: 0'), end];
      this.state = { at: 'length', remaining };
      return [head(`Content-Length: ${remaining}`)];
    }
    this.state = { at: 'until-close' };
    return [head('until the connection closes')];
  }

  /**
   * A chunked body, read by part 2's parser. All the bytes pushed belong to the body until it
   * ends; then what the parser did not take is the start of the next response.
   */
  private readChunked(parser: RequestParser, bytes: Buffer, pieces: Piece[]): Buffer {
    parser.push(bytes);
    try {
      for (let event = parser.next(); event !== null; event = parser.next()) {
        if (event.kind === 'body') {
          pieces.push({ kind: 'payload', length: event.chunk.length });
        } else if (event.kind === 'end') {
          const left = parser.bufferedBytes;
          pieces.push(
            { kind: 'bytes', part: 'body', bytes: bytes.subarray(0, bytes.length - left) },
            { kind: 'end' },
          );
          this.state = { at: 'head' };
          return bytes.subarray(bytes.length - left);
        }
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      pieces.push({ kind: 'bytes', part: 'body', bytes });
      pieces.push(...this.switchToRaw(`a chunked body part 2's parser refuses: ${error.message}`));
      return EMPTY;
    }
    pieces.push({ kind: 'bytes', part: 'body', bytes });
    return EMPTY;
  }
}

/**
 * Part 2's request parser, primed with a made-up head that says "chunked": what it reads next
 * is a chunked body, exactly as it reads a request's (RFC 9112 §7.1 is the same for both).
 */
function chunkedBodyReader(): RequestParser {
  const parser = new RequestParser(RECORDER_LIMITS);
  parser.push(
    Buffer.from('POST / HTTP/1.1\r\nHost: inspector\r\nTransfer-Encoding: chunked\r\n\r\n'),
  );
  parser.next();
  return parser;
}

/** Where the head ends (after its empty line), or -1. Lines end in CRLF or, leniently, LF. */
function findHeadEnd(bytes: Buffer): number {
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    const lineStart = i > 0 && bytes[i - 1] === CR ? i - 1 : i;
    if (lineStart > 0 && bytes[lineStart - 1] === LF) return i + 1;
  }
  return -1;
}

interface ParsedResponseHead {
  startLine: string;
  status: number;
  fields: HeaderField[];
}

/** The status line and the field lines of a response head, or why they cannot be read. */
function parseResponseHead(text: string): ParsedResponseHead | string {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const startLine = lines[0];
  const status = STATUS_LINE.exec(startLine);
  if (status === null) return 'the status line is not "HTTP/1.1 200 OK"-shaped';
  const fields: HeaderField[] = [];
  // Simplification: a field is split at its first colon and trimmed; the inspector draws the
  // bytes as they came, so it needs only the fields that frame the body to be right.
  for (const line of lines.slice(1, -2)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `"${line.slice(0, 40)}" is not a "Name: value" field line`;
    fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
  }
  return { startLine, status: Number(status[1]), fields };
}
