// Responses, server → client. Part 2 has no response parser (a server only writes them), so
// this reads the status line and the fields itself, decides where the body ends as RFC 9112
// §6.3 says, and borrows part 2's request parser for chunked bodies, whose grammar is the same
// both ways. See framing.ts for the pieces a framer gives out.
import { HttpError } from '../part2-tcp-http/errors.ts';
import { headerValue, type HeaderField } from '../part2-tcp-http/head.ts';
import {
  MAX_HEADER_BYTES,
  MAX_REQUEST_LINE_BYTES,
  RequestParser,
} from '../part2-tcp-http/parser.ts';
import {
  CR,
  EMPTY,
  LF,
  RECORDER_LIMITS,
  SWITCHED,
  titleOf,
  type Framer,
  type Piece,
} from './framing.ts';

/** The longest response head read before the rest is drawn raw: a request's limits, together. */
export const MAX_RESPONSE_HEAD_BYTES = MAX_REQUEST_LINE_BYTES + MAX_HEADER_BYTES;

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
    // A head still arriving was given out already, read by read: nothing is left to give.
    this.partialHead = EMPTY;
    this.state = { at: 'raw' };
    return [{ kind: 'not-http', reason }];
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
        // The bytes of earlier reads were given out already, as the start of a head.
        { kind: 'raw', bytes: bytes },
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
