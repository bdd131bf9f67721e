// A request head, from its bytes to a RequestHead: the request line, the header fields, and the
// three decisions the server needs before it reads on (RFC 9112):
//
//   where does the body end?        framing: none, Content-Length bytes, or chunked
//   may the connection carry more?  keepAlive (Connection, the version)
//   does the client wait for a go?  expectContinue (Expect: 100-continue)
//
// The parser (parser.ts) finds where a head ends and hands its bytes here. Everything refused
// throws an HttpError carrying the status to answer with; every ambiguity that a proxy in front
// might read another way is refused, since that is how a second request gets smuggled in.
import { HttpError } from './errors.ts';
import {
  FORBIDDEN_IN_VALUE,
  isValidHost,
  listTokens,
  significantDigits,
  TOKEN,
  trimWhitespace,
} from './grammar.ts';
import type { ParserLimits } from './parser.ts';
import { checkTarget } from './target.ts';

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

/** The answer to an invalid Host value (which it does not echo). */
export const INVALID_HOST =
  'Invalid Host header: send a host name or address and an optional port, ' +
  'e.g. "Host: example.com:8080".';

/**
 * A complete head, its final empty line included → RequestHead. Throws HttpError: 400 for what
 * is malformed, 414/431/413 over a limit, 417, 501, 505.
 */
export function parseHead(head: Buffer, limits: ParserLimits): RequestHead {
  const [requestLine, ...fieldLines] = splitLines(head);
  if (requestLine.length > limits.maxRequestLineBytes) throw requestLineTooLong(limits);
  let headerBytes = 0;
  for (const line of fieldLines) headerBytes += line.length + 2;
  if (headerBytes > limits.maxHeaderBytes) throw headersTooLarge(limits);
  if (fieldLines.length > limits.maxHeaderFields) {
    const message = `Too many header fields: at most ${limits.maxHeaderFields} are allowed.`;
    throw new HttpError(431, message);
  }
  const { method, target, version } = parseRequestLine(requestLine);

  // One pass over the field lines: parse each, and note the few fields that decide how this
  // request is read (each name lower-cased once).
  const headers: HeaderField[] = [];
  const noted: NotedFields = { host: [], length: [], coding: [], connection: [], expect: [] };
  for (const line of fieldLines) {
    const field = parseFieldLine(line);
    headers.push(field);
    noteField(noted, field);
  }

  // §3.2: an HTTP/1.1 request MUST have exactly one Host field, with a valid value.
  if (version === 'HTTP/1.1' && noted.host.length === 0) {
    throw new HttpError(400, 'Missing Host header: HTTP/1.1 requires one, e.g. "Host: localhost".');
  }
  if (noted.host.length > 1)
    throw new HttpError(400, 'More than one Host header: send exactly one.');
  if (noted.host.length === 1 && !isValidHost(noted.host[0]))
    throw new HttpError(400, INVALID_HOST);

  const framing = decideFraming(noted, version, limits);
  const expect = noted.expect.length === 0 ? undefined : noted.expect.join(', ');
  if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
    // RFC 9110 §10.1.1: the only expectation defined is 100-continue.
    const message = 'Unsupported Expect header: only "Expect: 100-continue" is understood.';
    throw new HttpError(417, message);
  }
  // A request without a body has nothing to wait for: no 100 Continue is owed.
  const hasBody = framing.type === 'chunked' || (framing.type === 'length' && framing.length > 0);
  return {
    method,
    target,
    version,
    headers,
    framing,
    keepAlive: clientKeepsAlive(version, noted.connection),
    expectContinue: expect !== undefined && version === 'HTTP/1.1' && hasBody,
  };
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
    if (line.includes('\r')) {
      const message =
        'A bare CR (carriage return not followed by LF) in the request head: end lines with CRLF.';
      throw new HttpError(400, message);
    }
    lines[i] = line;
  }
  if (endedByCrlf !== 0 && endedByCrlf !== lines.length) {
    const message =
      'The request head mixes CRLF and bare LF line endings: end every line with CRLF.';
    throw new HttpError(400, message);
  }
  lines.pop(); // the empty line that ended the head
  return lines;
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 §3). */
function parseRequestLine(line: string): Pick<RequestHead, 'method' | 'target' | 'version'> {
  const parts = line.split(' ');
  if (parts.length !== 3) {
    const message =
      'Malformed request line: expected "METHOD /target HTTP/1.1" with single spaces.';
    throw new HttpError(400, message);
  }
  const [method, target, sentVersion] = parts;
  if (!TOKEN.test(method)) {
    const message = 'Malformed request line: the method must be a token such as GET or POST.';
    throw new HttpError(400, message);
  }
  const version = parseVersion(sentVersion);
  checkTarget(method, target);
  return { method, target, version };
}

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). RFC 9110 §6.2: a minor version above
 * ours (HTTP/1.2 to 1.9) is processed as the highest we implement, HTTP/1.1, and answered as
 * such; other major versions (HTTP/2.0, and HTTP/0.9, which had no version in its request line)
 * are refused with 505.
 */
function parseVersion(version: string): RequestHead['version'] {
  if (version === 'HTTP/1.1' || version === 'HTTP/1.0') return version;
  if (!/^HTTP\/\d\.\d$/.test(version)) {
    throw new HttpError(400, 'Malformed request line: the version must look like HTTP/1.1.');
  }
  if (version.startsWith('HTTP/1.')) return 'HTTP/1.1';
  const message = 'HTTP version not supported: this server speaks HTTP/1.1 and HTTP/1.0.';
  throw new HttpError(505, message);
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
export function parseFieldLine(line: string): HeaderField {
  if (line.startsWith(' ') || line.startsWith('\t')) {
    // §5.2: obsolete line folding; a server may reject it with 400, and we do.
    const message =
      'Obsolete line folding (a header line starting with a space) is not accepted: ' +
      'put each field on one line.';
    throw new HttpError(400, message);
  }
  const colon = line.indexOf(':');
  if (colon <= 0) throw new HttpError(400, 'Malformed header line: expected "Name: value".');
  const name = line.slice(0, colon);
  // §5.1: no whitespace between the field name and the colon; a server MUST reject it.
  if (name.endsWith(' ') || name.endsWith('\t')) {
    throw new HttpError(400, 'Whitespace before the colon in a header line: write "Name: value".');
  }
  if (!TOKEN.test(name)) {
    const message = "Malformed header name: only letters, digits and !#$%&'*+-.^_`|~ are allowed.";
    throw new HttpError(400, message);
  }
  const value = trimWhitespace(line.slice(colon + 1));
  if (FORBIDDEN_IN_VALUE.test(value)) {
    const message = 'A control character (such as NUL) in a header value is not allowed.';
    throw new HttpError(400, message);
  }
  return { name, value };
}

/** The values of the fields that decide how a request is read, gathered in parseHead's pass. */
interface NotedFields {
  host: string[];
  length: string[];
  coding: string[];
  connection: string[];
  expect: string[];
}

function noteField(noted: NotedFields, field: HeaderField): void {
  switch (field.name.toLowerCase()) {
    case 'host':
      noted.host.push(field.value);
      break;
    case 'content-length':
      noted.length.push(field.value);
      break;
    case 'transfer-encoding':
      noted.coding.push(field.value);
      break;
    case 'connection':
      noted.connection.push(field.value);
      break;
    case 'expect':
      noted.expect.push(field.value);
      break;
  }
}

/**
 * RFC 9112 §6.3: where does the body end? Every ambiguous combination is refused, because a
 * proxy in front of us might resolve it the other way and hide a second request inside this
 * one's body (request smuggling).
 */
function decideFraming(
  noted: NotedFields,
  version: RequestHead['version'],
  limits: ParserLimits,
): BodyFraming {
  if (noted.coding.length > 0) {
    if (noted.length.length > 0) {
      const message = 'Both Transfer-Encoding and Content-Length were sent: send only one of them.';
      throw new HttpError(400, message);
    }
    if (version === 'HTTP/1.0') {
      const message =
        'Transfer-Encoding is not allowed in an HTTP/1.0 request: use Content-Length.';
      throw new HttpError(400, message);
    }
    // Its value is never echoed back: it is the attacker's text.
    const codings = listTokens(noted.coding);
    // §6.3: if chunked is not the final coding, nothing says where the body ends. §6.1:
    // chunked is applied once.
    if (codings.at(-1) !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1) {
      const message =
        'Bad Transfer-Encoding: it must end with "chunked", once, ' +
        'e.g. "Transfer-Encoding: chunked".';
      throw new HttpError(400, message);
    }
    // A coding before it (gzip, chunked) would frame the body well, but we decode no other.
    if (codings.length > 1) {
      const message = 'Unsupported Transfer-Encoding: this server decodes only "chunked".';
      throw new HttpError(501, message);
    }
    return { type: 'chunked' };
  }

  if (noted.length.length === 0) return { type: 'none' };
  // Simplification: RFC 9112 §6.3 lets a server accept repeated identical lengths; refusing
  // every repeat is simpler and just as safe.
  if (noted.length.length > 1) {
    throw new HttpError(400, 'More than one Content-Length header: send exactly one.');
  }
  const text = noted.length[0];
  // 1*DIGIT only: no sign, no spaces inside, no lists (RFC 9110 §8.6). Leading zeros are
  // allowed; a number of more than 15 significant digits is too large to be exact, and far
  // too large to accept.
  if (!/^[0-9]+$/.test(text)) {
    const message =
      'Bad Content-Length: it must be a whole number of bytes, e.g. "Content-Length: 42".';
    throw new HttpError(400, message);
  }
  if (significantDigits(text).length > 15) throw bodyTooLarge(limits);
  const length = Number(text);
  if (length > limits.maxBodyBytes) throw bodyTooLarge(limits);
  return { type: 'length', length };
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

/**
 * All values of the header `name` (compared case-insensitively), joined with ", " as
 * RFC 9110 §5.3 allows for list fields; undefined when absent.
 */
export function headerValue(headers: HeaderField[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  let joined: string | undefined;
  for (const field of headers) {
    if (field.name.toLowerCase() !== wanted) continue;
    joined = joined === undefined ? field.value : `${joined}, ${field.value}`;
  }
  return joined;
}

export function requestLineTooLong(limits: ParserLimits): HttpError {
  const message =
    `Request line too long: at most ${limits.maxRequestLineBytes} bytes. ` +
    'Shorten the URL or send data in a POST body.';
  return new HttpError(414, message);
}

export function headersTooLarge(limits: ParserLimits): HttpError {
  const message = `Request header fields too large: at most ${limits.maxHeaderBytes} bytes in all.`;
  return new HttpError(431, message);
}

export function bodyTooLarge(limits: ParserLimits): HttpError {
  return new HttpError(413, `Request body too large: at most ${limits.maxBodyBytes} bytes.`);
}
