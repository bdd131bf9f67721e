// Reading HTTP/1.1 responses out of raw bytes, for tests that talk over a plain socket: split a
// byte stream into the responses it holds (pipelining, 100 Continue), decode chunked bodies.
// Deliberately small and strict: a response it cannot frame fails the test.
import type { Socket } from 'node:net';
import { exchange, readUntil } from './wire.ts';

export interface RawResponse {
  status: number;
  /** Header fields in order, names lower-cased. */
  headers: Array<[name: string, value: string]>;
  /** The body, de-chunked. */
  body: string;
  /** The bytes of this response exactly as received (head and framed body). */
  raw: string;
}

/** The value of a header (first occurrence), or undefined. */
export function header(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([fieldName]) => fieldName === name.toLowerCase())?.[1];
}

/**
 * Every complete response at the start of `text` (latin1). A body without Content-Length or
 * chunked framing runs to the end of the text (close-delimited) only if `closed` is true.
 * `bodiless` says the responses answer HEAD requests: heads only.
 */
export function parseResponses(text: string, options: { closed?: boolean; bodiless?: boolean } = {}): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return responses;
    const [statusLine, ...fieldLines] = text.slice(offset, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1]);
    if (Number.isNaN(status)) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = fieldLines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const bodyStart = headEnd + 4;
    const framed = frameBody(text, bodyStart, headers, status, options);
    if (framed === null) return responses;
    responses.push({ status, headers, body: framed.body, raw: text.slice(offset, framed.end) });
    offset = framed.end;
  }
}

function frameBody(
  text: string,
  start: number,
  headers: Array<[string, string]>,
  status: number,
  options: { closed?: boolean; bodiless?: boolean },
): { body: string; end: number } | null {
  const find = (name: string): string | undefined => headers.find(([fieldName]) => fieldName === name)?.[1];
  if (options.bodiless || status < 200 || status === 204 || status === 304) return { body: '', end: start };
  const length = find('content-length');
  if (length !== undefined) {
    const end = start + Number(length);
    return end <= text.length ? { body: text.slice(start, end), end } : null;
  }
  if (find('transfer-encoding') === 'chunked') return decodeChunked(text, start);
  return options.closed ? { body: text.slice(start), end: text.length } : null;
}

function decodeChunked(text: string, start: number): { body: string; end: number } | null {
  let body = '';
  let offset = start;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', offset);
    if (lineEnd === -1) return null;
    const size = parseInt(text.slice(offset, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line: ${JSON.stringify(text.slice(offset, lineEnd))}`);
    offset = lineEnd + 2;
    if (size === 0) {
      const end = text.indexOf('\r\n', offset); // no trailers from our server: just CRLF
      return end === -1 ? null : { body, end: end + 2 };
    }
    if (text.length < offset + size + 2) return null;
    body += text.slice(offset, offset + size);
    offset += size + 2;
  }
}

/** Read from `socket` until `count` complete responses have arrived; return them. */
export async function readResponses(
  socket: Socket,
  count: number,
  options: { bodiless?: boolean } = {},
): Promise<RawResponse[]> {
  const bytes = await readUntil(socket, (soFar) => parseResponses(soFar.toString('latin1'), options).length >= count);
  return parseResponses(bytes.toString('latin1'), options);
}

/** Send `bytes` on a fresh connection and parse every response received until the server closes it. */
export async function exchangeResponses(
  port: number,
  bytes: string | Buffer,
  timeoutMs?: number,
): Promise<RawResponse[]> {
  return parseResponses(await exchange(port, bytes, timeoutMs), { closed: true });
}

/** The status codes of `responses`, in order: `[200, 200]`. */
export function statuses(responses: RawResponse[]): number[] {
  return responses.map((response) => response.status);
}
