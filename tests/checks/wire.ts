// The checker's side of the wire: a TCP connection that records every byte it sends and
// receives (so a failing check can show them), and a strict HTTP/1.1 response reader that says
// where a response went wrong, byte by byte.
//
// Deliberately not undici or node:http: a check must see the bytes exactly as the server under
// test wrote them, including the ones a forgiving client would quietly accept.
import { connect, type Socket } from 'node:net';
import { CheckFailure } from './check.ts';

/** One write the checker made: its bytes, and how long it paused before making it. */
export interface SentPiece {
  bytes: Buffer;
  pauseBeforeMs: number;
}

/** Everything that happened on one connection, for the failure report. */
export interface Transcript {
  label: string;
  port: number;
  sent: SentPiece[];
  received: Buffer;
  /** How the connection ended, if it did: 'closed' (FIN), 'reset', or null (still open). */
  ended: 'closed' | 'reset' | null;
  /** The checker itself reset the connection (a client vanishing on purpose). */
  resetByChecker?: boolean;
  /** The checker closed the connection during the check, while the server still had it open. */
  closedByChecker?: boolean;
  /** Still open when the check ended (the runner closed it then). */
  openAtEnd?: boolean;
  /** When the last byte was sent, and when the connection ended or the check let it go. */
  lastWriteAt?: number;
  endedAt?: number;
  /** Closes the connection: the runner calls it when the check is over. */
  close?: () => void;
}

/** How long a check waits for bytes it expects, unless it says otherwise. */
export const DEFAULT_WAIT_MS = 2_000;

/**
 * A recorded TCP connection to the server under test. Reads are "wait until this much has
 * arrived (or the connection ends, or time is up)"; the bytes stay in `transcript.received`.
 */
export class Conversation {
  readonly transcript: Transcript;
  readonly socket: Socket;
  /** Where the next readResponse starts in transcript.received. */
  private consumed = 0;
  private lastWriteAt = 0;
  private readonly waiters = new Set<() => void>();
  /** The checker ended the connection itself: its 'close' is not the server closing. */
  private closedByUs = false;

  private constructor(socket: Socket, transcript: Transcript) {
    this.socket = socket;
    this.transcript = transcript;
    transcript.close = () => {
      if (transcript.ended === null && !this.closedByUs) transcript.openAtEnd = true;
      transcript.endedAt ??= Date.now();
      this.closedByUs = true;
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      transcript.received = Buffer.concat([transcript.received, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      transcript.ended ??= 'closed';
      transcript.endedAt ??= Date.now();
      this.wake();
    });
    socket.on('error', () => {
      transcript.ended = 'reset';
      transcript.endedAt ??= Date.now();
      this.wake();
    });
    socket.on('close', () => {
      if (!this.closedByUs) transcript.ended ??= 'closed';
      transcript.endedAt ??= Date.now();
      this.wake();
    });
  }

  /** Connect to host:port; a refused connection fails the check with a hint about why. */
  static open(
    host: string,
    port: number,
    transcripts: Transcript[],
    label = `connection ${transcripts.length + 1}`,
  ): Promise<Conversation> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.off('error', onError);
        const transcript: Transcript = { label, port, sent: [], received: Buffer.alloc(0), ended: null };
        transcripts.push(transcript);
        resolve(new Conversation(socket, transcript));
      });
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new CheckFailure({
            expected: `a server accepting connections on ${host}:${port}`,
            seen: `${error.code ?? error.message}: nothing is listening there`,
            advice:
              'Is your server running, and on this port? Start it in another terminal, or give the checker its file instead of --port.',
          }),
        );
      };
      socket.once('error', onError);
    });
  }

  /** Send bytes now (recorded with the pause since the previous write, for the reproduce command). */
  send(bytes: string | Buffer): void {
    const now = Date.now();
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.transcript.sent.push({
      bytes: buffer,
      pauseBeforeMs: this.transcript.sent.length === 0 ? 0 : now - this.lastWriteAt,
    });
    this.lastWriteAt = now;
    this.transcript.lastWriteAt = now;
    if (!this.socket.destroyed) this.socket.write(buffer);
  }

  /** Send, then close our sending side (FIN): "that is all I will send". */
  sendAndEnd(bytes: string | Buffer = ''): void {
    if (bytes.length > 0) this.send(bytes);
    this.socket.end();
  }

  /** All bytes received so far on this connection. */
  get received(): Buffer {
    return this.transcript.received;
  }

  get ended(): Transcript['ended'] {
    return this.transcript.ended;
  }

  /** Wait until `done()` is true, the connection ends, or `ms` pass. Resolves either way. */
  async waitFor(done: () => boolean, ms = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && this.transcript.ended === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, deadline - Date.now());
        function finish(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(finish);
      });
    }
    this.waiters.clear();
  }

  /** Wait until at least `count` bytes have arrived (or the connection ends, or time is up). */
  waitForBytes(count: number, ms = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(() => this.received.length >= count, ms);
  }

  /** Wait for the server to close the connection; true if it did within `ms`. */
  async waitForClose(ms = DEFAULT_WAIT_MS): Promise<boolean> {
    await this.waitFor(() => false, ms);
    return this.transcript.ended !== null;
  }

  /**
   * Read the next complete response on this connection (after any read before). Fails the
   * check, with a caret under the offending byte, when the bytes are not a valid response, and
   * says what was missing when none arrives in time.
   */
  async readResponse(options: { method?: string; waitMs?: number } = {}): Promise<HttpResponse> {
    const start = this.consumed;
    let result: ParseResult = { kind: 'incomplete', reason: 'nothing arrived' };
    await this.waitFor(() => {
      result = parseResponse(this.received, start, options.method ?? 'GET', false);
      return result.kind !== 'incomplete';
    }, options.waitMs ?? DEFAULT_WAIT_MS);
    // The server closed: a body without a declared length ends here (RFC 9112 §6.3, item 8).
    if (result.kind === 'incomplete' && this.transcript.ended !== null)
      result = parseResponse(this.received, start, options.method ?? 'GET', true);
    if (result.kind === 'error') {
      throw new CheckFailure({
        expected: 'a valid HTTP/1.1 response',
        seen: result.message,
        caretAt: result.offset,
        advice: result.advice,
      });
    }
    if (result.kind === 'incomplete') {
      const what = this.received.length === start ? 'no response at all' : `an incomplete response (${result.reason})`;
      const end =
        this.transcript.ended === 'closed'
          ? 'then the server closed the connection'
          : this.transcript.ended === 'reset'
            ? 'then the connection was reset'
            : `within ${options.waitMs ?? DEFAULT_WAIT_MS} ms`;
      throw new CheckFailure({
        expected: 'a complete HTTP/1.1 response',
        seen: `${what}, ${end}`,
        advice: incompleteAdvice(this.received.length === start, this.transcript.ended),
      });
    }
    this.consumed = result.response.end;
    return result.response;
  }

  /** Bytes after the last response read: should be none unless more responses are due. */
  get unread(): Buffer {
    return this.received.subarray(this.consumed);
  }

  /** Close the connection from the checker's side: the report says the checker did it. */
  close(): void {
    if (this.transcript.ended === null) this.transcript.closedByChecker = true;
    this.transcript.endedAt ??= Date.now();
    this.closedByUs = true;
    this.socket.destroy();
  }

  /** Vanish as a client can: a reset (RST), no goodbye. The report says the checker did it. */
  reset(): void {
    this.transcript.resetByChecker = true;
    this.closedByUs = true;
    this.socket.resetAndDestroy();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function incompleteAdvice(nothing: boolean, ended: Transcript['ended']): string {
  if (nothing && ended === 'closed')
    return 'The server closed the connection without answering: did it crash on this request, or close before writing?';
  if (nothing && ended === 'reset')
    return 'The connection was reset: the server process may have crashed (look at its terminal).';
  if (nothing)
    return 'No bytes came back: does the server write a response for this request, and did it wait for more input than the request has?';
  return 'A response must end where its framing says: Content-Length bytes after the empty line, or a zero-size chunk. Count the bytes you send.';
}

// ---- A strict response parser (RFC 9112 §4, §5, §6, §7) -------------------------------------

export interface HttpResponse {
  version: string;
  status: number;
  reason: string;
  /** In order, duplicates kept, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  framing: 'length' | 'chunked' | 'close' | 'none';
  /** Offset in the connection's bytes where this response began and just after it ended. */
  start: number;
  end: number;
}

/** All values of one header (case-insensitive name), or [] if absent. */
export function headerValues(response: HttpResponse, name: string): string[] {
  const wanted = name.toLowerCase();
  return response.headers.filter(([field]) => field.toLowerCase() === wanted).map(([, value]) => value);
}

export function header(response: HttpResponse, name: string): string | undefined {
  const values = headerValues(response, name);
  return values.length === 0 ? undefined : values.join(', ');
}

type ParseResult =
  | { kind: 'ok'; response: HttpResponse }
  | { kind: 'incomplete'; reason: string }
  | { kind: 'error'; message: string; offset: number; advice?: string };

const CRLF = Buffer.from('\r\n');
/** What every response starts with: "HTTP/" (then 1.1 or 1.0, a space, the status code). */
const STATUS_START = Buffer.from('HTTP/');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parse one response starting at `start`. `closed`: the connection has ended, so a body with no
 * declared length ends at the last byte. HEAD, 1xx, 204 and 304 responses have no body.
 */
export function parseResponse(bytes: Buffer, start: number, method: string, closed: boolean): ParseResult {
  // Not even the start of a status line: say so, rather than what is wrong with the line.
  const arrived = bytes.subarray(start, start + STATUS_START.length);
  const differs = [...arrived].findIndex((byte, index) => byte !== STATUS_START[index]);
  if (differs !== -1) {
    const text = bytes.toString('latin1', start, Math.min(bytes.length, start + 40));
    return {
      kind: 'error',
      message: `no status line came: the answer starts with ${JSON.stringify(text)}${bytes.length - start > 40 ? '...' : ''}, not "HTTP/1.1 "`,
      offset: start + differs,
      advice:
        'Every answer, an error too, starts with a status line, e.g. "HTTP/1.1 400 Bad Request\\r\\n", then header lines and an empty line. (Python\'s http.server answers a request line it cannot read the way HTTP/0.9 did: a body alone, no status line.)',
    };
  }
  const lineEnd = bytes.indexOf(CRLF, start);
  if (lineEnd === -1) {
    const bareLf = bytes.indexOf(0x0a, start);
    if (bareLf !== -1)
      return { kind: 'error', message: 'the status line must end with \\r\\n, not a bare \\n', offset: bareLf };
    return { kind: 'incomplete', reason: 'the status line has not ended' };
  }
  const statusLine = bytes.toString('latin1', start, lineEnd);
  const match = /^(HTTP\/1\.[01]) (\d{3}) ([^\r\n]*)$/.exec(statusLine);
  if (match === null) {
    return {
      kind: 'error',
      message: `the status line must look like "HTTP/1.1 200 OK" (version SP 3-digit code SP reason); got ${JSON.stringify(statusLine)}`,
      offset: start + firstStatusLineError(statusLine),
    };
  }
  const headers: Array<[string, string]> = [];
  let offset = lineEnd + 2;
  for (;;) {
    const end = bytes.indexOf(CRLF, offset);
    if (end === -1) return { kind: 'incomplete', reason: 'the head has not ended with an empty line (\\r\\n\\r\\n)' };
    if (end === offset) {
      offset += 2;
      break;
    }
    const line = bytes.toString('latin1', offset, end);
    const colon = line.indexOf(':');
    if (colon <= 0)
      return {
        kind: 'error',
        message: `a header line must look like "Name: value"; got ${JSON.stringify(line)}`,
        offset,
      };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) {
      const bad = [...name].findIndex((character) => !TOKEN.test(character));
      const what =
        name[bad] === ' ' || name[bad] === '\t'
          ? 'whitespace before the colon is not allowed (RFC 9112 §5.1)'
          : "a header name is letters, digits and !#$%&'*+-.^_`|~ only";
      return { kind: 'error', message: what, offset: offset + Math.max(0, bad) };
    }
    headers.push([name, line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
    offset = end + 2;
  }
  const status = Number(match[2]);
  const base = { version: match[1], status, reason: match[3], headers, start };
  const responseOf = (body: Buffer, framing: HttpResponse['framing'], end: number): ParseResult => ({
    kind: 'ok',
    response: { ...base, body, framing, end },
  });
  const find = (name: string): string[] =>
    headers.filter(([field]) => field.toLowerCase() === name).map(([, value]) => value);

  // RFC 9112 §6.3: which responses have no body, then chunked, then Content-Length, then close.
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304)
    return responseOf(Buffer.alloc(0), 'none', offset);
  const transferEncoding = find('transfer-encoding');
  const contentLength = find('content-length');
  if (transferEncoding.length > 0) {
    if (contentLength.length > 0)
      return {
        kind: 'error',
        message: 'a response must not have both Transfer-Encoding and Content-Length (RFC 9112 §6.2)',
        offset: start,
      };
    if (transferEncoding.join(',').trim().toLowerCase() !== 'chunked')
      return {
        kind: 'error',
        message: `the checker reads only "Transfer-Encoding: chunked"; got ${JSON.stringify(transferEncoding.join(', '))}`,
        offset: start,
      };
    return readChunked(bytes, offset, responseOf);
  }
  if (contentLength.length > 0) {
    if (contentLength.length > 1 || !/^\d+$/.test(contentLength[0]))
      return {
        kind: 'error',
        message: `Content-Length must be one whole number; got ${JSON.stringify(contentLength.join(', '))}`,
        offset: start,
      };
    const length = Number(contentLength[0]);
    if (bytes.length - offset < length)
      return { kind: 'incomplete', reason: `Content-Length says ${length} bytes, ${bytes.length - offset} arrived` };
    return responseOf(bytes.subarray(offset, offset + length), 'length', offset + length);
  }
  if (!closed)
    return {
      kind: 'incomplete',
      reason: 'no Content-Length and no chunked encoding, so the body ends only when the connection closes',
    };
  return responseOf(bytes.subarray(offset), 'close', bytes.length);
}

function readChunked(
  bytes: Buffer,
  from: number,
  responseOf: (body: Buffer, framing: HttpResponse['framing'], end: number) => ParseResult,
): ParseResult {
  const parts: Buffer[] = [];
  let offset = from;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, offset);
    if (lineEnd === -1) return { kind: 'incomplete', reason: 'a chunk-size line has not ended' };
    const sizeText = bytes.toString('latin1', offset, lineEnd).split(';')[0];
    if (!/^[0-9a-fA-F]+$/.test(sizeText))
      return {
        kind: 'error',
        message: `a chunk must start with its size in hex and \\r\\n, e.g. "1a\\r\\n"; got ${JSON.stringify(sizeText)}`,
        offset,
      };
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) {
      // Trailer fields, then the empty line that ends the message (RFC 9112 §7.1.2).
      for (;;) {
        const end = bytes.indexOf(CRLF, offset);
        if (end === -1)
          return { kind: 'incomplete', reason: 'the empty line after the last chunk (0\\r\\n\\r\\n) has not arrived' };
        const empty = end === offset;
        offset = end + 2;
        if (empty) return responseOf(Buffer.concat(parts), 'chunked', offset);
      }
    }
    if (bytes.length < offset + size + 2)
      return { kind: 'incomplete', reason: `a chunk of ${size} bytes has not fully arrived` };
    parts.push(bytes.subarray(offset, offset + size));
    offset += size;
    if (bytes[offset] !== 0x0d || bytes[offset + 1] !== 0x0a)
      return {
        kind: 'error',
        message: 'chunk data must be followed by \\r\\n (is the chunk size the byte length of the data, in hex?)',
        offset,
      };
    offset += 2;
  }
}

/** Where a status line first departs from "HTTP/1.1 200 OK", for the caret. */
function firstStatusLineError(line: string): number {
  if (!/^HTTP\/1\.[01]/.test(line)) {
    const expected = 'HTTP/1.1';
    for (let i = 0; i < expected.length; i++) if (line[i] !== expected[i] && !(i === 7 && line[i] === '0')) return i;
  }
  if (line[8] !== ' ') return 8;
  if (!/^\d{3}$/.test(line.slice(9, 12))) return 9;
  return 12;
}
