// The rules of the gateway contract (contract.ts) as plain checks, one function per thing to
// check: the environ a server builds, the status and headers an app passes to startResponse,
// the value an app returns, each chunk it produces. A check that fails throws a ContractError
// whose message starts with the rule's name in brackets and ends with what to do about it.
//
// The rules know nothing about timing; validator.ts applies them at the right moment of a
// request and watches what happens in between (who calls what, in which order).
//
// Sources: PEP 3333 and Python's wsgiref/validate.py, Ruby's Rack::Lint (SPEC), RFC 3875 (CGI)
// and RFC 9110 (HTTP semantics). Where this is stricter than those, the comment says why.
import { statusForbidsBody } from '../part2-tcp-http/response.ts';
import type { Environ } from './contract.ts';

/** A broken rule of the contract, found by the validator. `rule` is the name in brackets. */
export class ContractError extends Error {
  override name = 'ContractError';
  readonly rule: string;

  constructor(rule: string, message: string) {
    super(`[${rule}] ${message}`);
    this.rule = rule;
  }
}

/** Throw the ContractError for `rule`. */
export function fail(rule: string, message: string): never {
  throw new ContractError(rule, message);
}

/** RFC 9110 §5.6.2: token = 1*tchar. Methods and header names are tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header lines are Latin-1 on the wire (RFC 9110 §5.5 obs-text); nothing above U+00FF fits. */
const ABOVE_LATIN1 = /[\u0100-\uffff]/;
/** Controls other than HTAB may not appear in a field value or reason phrase (RFC 9110 §5.5). */
const CONTROL = /[\0-\x08\x0a-\x1f\x7f]/;
const CR_OR_LF = /[\r\n]/;
const STATUS = /^(\d{3}) ([^\r\n]+)$/;
const DIGITS = /^\d+$/;

/**
 * Connection-level headers (RFC 9110 §7.6.1): they describe one hop, not the response, and the
 * server alone chooses them. `Proxy-*` belong to proxies. PEP 3333 forbids them to apps too.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** CGI keys (RFC 3875 §4.1), plus REQUEST_URI and REMOTE_PORT, which contract.ts adds. */
const REQUIRED_CGI_KEYS = [
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'PATH_INFO',
  'QUERY_STRING',
  'REQUEST_URI',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'REMOTE_ADDR',
  'REMOTE_PORT',
];
const OPTIONAL_CGI_KEYS = [
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'AUTH_TYPE',
  'GATEWAY_INTERFACE',
  'PATH_TRANSLATED',
  'REMOTE_HOST',
  'REMOTE_IDENT',
  'REMOTE_USER',
  'SERVER_SOFTWARE',
];
const CGI_KEYS = new Set([...REQUIRED_CGI_KEYS, ...OPTIONAL_CGI_KEYS]);
const GATEWAY_FLAGS = ['gateway.multithread', 'gateway.multiprocess', 'gateway.run_once'];

/** A value for an error message: short, with control characters made visible. */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (value instanceof Uint8Array)
    return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype) return 'a plain object';
    if (prototype === null) return 'an object without a prototype';
    const constructor: unknown = Reflect.get(value, 'constructor');
    const name = typeof constructor === 'function' ? constructor.name : '';
    return name === '' || name === 'Object' ? 'an object with a prototype of its own' : `a ${name}`;
  }
  if (typeof value === 'function') return 'a function';
  return `the ${typeof value} ${String(value)}`;
}

function hasMethod(value: unknown, name: string | symbol): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const method: unknown = Reflect.get(value, name);
  return typeof method === 'function';
}

// ---------------------------------------------------------------------------------------------
// The server's side: the environ.

/** Everything contract.ts promises about `environ`; throws at the first broken promise. */
export function checkEnviron(environ: Environ): void {
  const prototype: unknown =
    typeof environ === 'object' && environ !== null ? Object.getPrototypeOf(environ) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    fail(
      'environ-type',
      `The environ is ${show(environ)}; servers must pass a plain object ` +
        "({ REQUEST_METHOD: 'GET', ... }), which apps and middleware may add keys to.",
    );
  }
  for (const key of [
    ...REQUIRED_CGI_KEYS,
    'gateway.version',
    'gateway.url_scheme',
    'gateway.input',
    'gateway.errors',
    ...GATEWAY_FLAGS,
    'gateway.signal',
  ]) {
    if (!(key in environ))
      fail(
        'environ-missing',
        `The environ has no ${key}: the server must always set it (see Environ in contract.ts).`,
      );
  }
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (key in environ)
      fail(
        'environ-http-content',
        `The environ has ${key}: put the request's ${key.slice(5)} header ` +
          `under ${key.slice(5)} instead (CGI, RFC 3875 §4.1).`,
      );
  }
  for (const [key, value] of Object.entries(environ)) checkEnvironKey(key, value);

  checkRequestLine(environ);
  checkPaths(environ);
  if (environ.CONTENT_LENGTH !== undefined && !DIGITS.test(environ.CONTENT_LENGTH)) {
    fail(
      'environ-content-length',
      `CONTENT_LENGTH is ${show(environ.CONTENT_LENGTH)}: it must be digits only; ` +
        'leave the key out when the request had no Content-Length.',
    );
  }
  checkGatewayKeys(environ);
}

/** Keys without a dot are CGI's: strings only, and only the names CGI and HTTP_* define. */
function checkEnvironKey(key: string, value: unknown): void {
  if (key.includes('.')) return; // an extension key (gateway.*, myframework.*): any type
  if (!CGI_KEYS.has(key) && !key.startsWith('HTTP_')) {
    const why =
      key in process.env
        ? 'it looks copied from process.env, which must never leak into the environ'
        : 'extension keys need a prefix with a dot';
    fail(
      'environ-unknown-key',
      `The environ has the key ${key}: ${why}. ` +
        'Use a CGI name, HTTP_* for a request header, ' +
        `or a prefixed name like 'myserver.${key.toLowerCase()}'.`,
    );
  }
  if (typeof value !== 'string') {
    fail(
      'environ-cgi-string',
      `environ.${key} is ${show(value)}: CGI keys hold strings; ` +
        'convert it with String(), or leave the key out when there is no value.',
    );
  }
}

function checkRequestLine(environ: Environ): void {
  if (!TOKEN.test(environ.REQUEST_METHOD)) {
    fail(
      'environ-method',
      `REQUEST_METHOD is ${show(environ.REQUEST_METHOD)}: ` +
        "it must be the request's method, a token such as 'GET' (RFC 9110 §9.1).",
    );
  }
  if (!/^HTTP\/\d\.\d$/.test(environ.SERVER_PROTOCOL)) {
    fail(
      'environ-protocol',
      `SERVER_PROTOCOL is ${show(environ.SERVER_PROTOCOL)}: ` +
        "give the version from the request line, e.g. 'HTTP/1.1'.",
    );
  }
  if (environ.SERVER_NAME === '')
    fail(
      'environ-server-name',
      "SERVER_NAME is empty: use the Host header's name, or the address the server listens on.",
    );
  if (!DIGITS.test(environ.SERVER_PORT)) {
    fail(
      'environ-server-port',
      `SERVER_PORT is ${show(environ.SERVER_PORT)}: it must be the port as digits, e.g. '8003'.`,
    );
  }
}

/** PEP 3333 "URL Reconstruction": SCRIPT_NAME + PATH_INFO is the path, each '' or '/…'. */
function checkPaths(environ: Environ): void {
  const { SCRIPT_NAME: scriptName, PATH_INFO: pathInfo } = environ;
  if (scriptName !== '' && !scriptName.startsWith('/')) {
    fail(
      'environ-script-name',
      `SCRIPT_NAME is ${show(scriptName)}: ` +
        "it must be '' (the app is at the root) or start with '/'.",
    );
  }
  if (scriptName === '/')
    fail(
      'environ-script-name',
      "SCRIPT_NAME is '/': make it '' and put the '/' at the start of PATH_INFO instead.",
    );
  if (pathInfo !== '' && !pathInfo.startsWith('/')) {
    fail('environ-path-info', `PATH_INFO is ${show(pathInfo)}: it must be '' or start with '/'.`);
  }
  // `OPTIONS * HTTP/1.1` (RFC 9112 §3.2.4) names the server, not a path: both may be empty.
  if (scriptName === '' && pathInfo === '' && environ.REQUEST_URI !== '*') {
    fail(
      'environ-path-empty',
      'SCRIPT_NAME and PATH_INFO are both empty: ' +
        "for a request to the root, PATH_INFO should be '/'.",
    );
  }
}

function checkGatewayKeys(environ: Environ): void {
  const version = environ['gateway.version'];
  if (
    !Array.isArray(version) ||
    version.length !== 2 ||
    !version.every((part) => Number.isInteger(part))
  ) {
    fail(
      'environ-version',
      `gateway.version is ${show(version)}: it must be [major, minor], i.e. [1, 0].`,
    );
  }
  const scheme: unknown = environ['gateway.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') {
    fail(
      'environ-url-scheme',
      `gateway.url_scheme is ${show(scheme)}: it must be 'http' or 'https'.`,
    );
  }
  const input = environ['gateway.input'];
  for (const method of ['read', 'readline', Symbol.asyncIterator]) {
    if (!hasMethod(input, method)) {
      fail(
        'environ-input',
        `gateway.input has no ${String(method)}(): ` +
          'it must be an InputStream (read, readline and async iteration; see contract.ts).',
      );
    }
  }
  const errors = environ['gateway.errors'];
  for (const method of ['write', 'flush']) {
    if (!hasMethod(errors, method))
      fail(
        'environ-errors',
        `gateway.errors has no ${method}(): it must be an ErrorStream (write and flush).`,
      );
  }
  for (const key of GATEWAY_FLAGS) {
    if (typeof environ[key] !== 'boolean')
      fail('environ-flag', `${key} is ${show(environ[key])}: it must be true or false.`);
  }
  const signal: unknown = environ['gateway.signal'];
  if (!(signal instanceof AbortSignal)) {
    fail(
      'environ-signal',
      `gateway.signal is ${show(signal)}: it must be an AbortSignal ` +
        '(new AbortController().signal) aborted when the client goes away.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The application's side: startResponse's arguments, the body, its chunks.

/** `'200 OK'`: a three-digit code from 100 to 599, one space, a reason phrase. Returns the code. */
export function checkStatus(status: unknown): number {
  if (typeof status !== 'string') {
    fail(
      'status-type',
      `startResponse's status is ${show(status)}: ` +
        "pass a string of code and reason, e.g. '200 OK', not a number.",
    );
  }
  if (CR_OR_LF.test(status)) {
    fail(
      'status-crlf',
      `The status ${show(status)} contains CR or LF, ` +
        'which would end the status line early: remove them.',
    );
  }
  if (ABOVE_LATIN1.test(status)) {
    fail(
      'status-latin1',
      `The status ${show(status)} has a character above U+00FF, ` +
        'which a status line cannot carry: use a plain ASCII reason phrase.',
    );
  }
  const match = STATUS.exec(status);
  if (match === null) {
    fail(
      'status-format',
      `The status ${show(status)} is not "NNN Reason": ` +
        "write a three-digit code, one space and a reason phrase, e.g. '404 Not Found'.",
    );
  }
  const code = Number(match[1]);
  if (code < 100 || code > 599)
    fail(
      'status-code',
      `The status code ${code} is outside 100–599 (RFC 9110 §15): ` +
        "use a real code, e.g. '500 Internal Server Error'.",
    );
  if (CONTROL.test(match[2]))
    fail(
      'status-control',
      `The reason phrase in ${show(status)} has a control character: use printable text only.`,
    );
  return code;
}

/**
 * The header list given to startResponse. Returns the declared Content-Length, if any, which
 * the validator later compares with the bytes the body produces.
 */
export function checkHeaders(
  headers: unknown,
  code: number,
): { contentLength: number | undefined } {
  if (!Array.isArray(headers)) {
    fail(
      'headers-type',
      `startResponse's headers are ${show(headers)}: ` +
        "pass an array of [name, value] pairs, e.g. [['Content-Type', 'text/plain']].",
    );
  }
  let contentType = false;
  let contentLength: number | undefined;
  for (const header of headers) {
    const [name, value] = checkHeaderPair(header);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      fail(
        'header-status',
        "There is a Status header: that is CGI's way; " +
          "give the status as startResponse's first argument instead.",
      );
    }
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) {
      fail(
        'hop-by-hop',
        `${name} is a hop-by-hop header: the server manages the connection and the framing ` +
          '(it chunks or sets Content-Length itself); remove the header.',
      );
    }
    if (lower === 'content-type') contentType = true;
    if (lower === 'content-length') {
      if (contentLength !== undefined)
        fail('content-length-twice', 'Content-Length is given twice: send it once.');
      if (!DIGITS.test(value))
        fail(
          'content-length-format',
          `Content-Length is ${show(value)}: ` +
            "it must be the body's size in bytes as digits, e.g. String(bytes.byteLength).",
        );
      contentLength = Number(value);
    }
  }
  // wsgiref.validate's rule: no default Content-Type, as CGI had. Bodiless statuses need none.
  if (!contentType && !statusForbidsBody(code)) {
    fail(
      'content-type-missing',
      `A ${code} response has no Content-Type: ` +
        "add one, e.g. ['Content-Type', 'text/plain; charset=utf-8'].",
    );
  }
  // RFC 9110 §8.6: a server must not send Content-Length in a 1xx or 204 response.
  if (contentLength !== undefined && statusForbidsBody(code) && code !== 304) {
    fail(
      'content-length-no-body',
      `A ${code} response has no body, so it must not have a Content-Length: remove the header.`,
    );
  }
  return { contentLength };
}

function checkHeaderPair(header: unknown): [name: string, value: string] {
  if (!Array.isArray(header) || header.length !== 2) {
    fail(
      'header-pair',
      `The header ${show(header)} is not a [name, value] pair: ` +
        "write each header as a two-element array, e.g. ['Content-Type', 'text/html'].",
    );
  }
  const [name, value]: unknown[] = header;
  if (typeof name !== 'string' || typeof value !== 'string') {
    fail(
      'header-string',
      `The header [${show(name)}, ${show(value)}] must hold two strings: ` +
        "convert numbers with String(), e.g. ['Content-Length', String(size)].",
    );
  }
  if (CR_OR_LF.test(name) || CR_OR_LF.test(value)) {
    fail(
      'header-crlf',
      `The header ${show(name)} contains CR or LF, ` +
        'which would let its value start a new header line (response splitting): remove them.',
    );
  }
  if (ABOVE_LATIN1.test(name) || ABOVE_LATIN1.test(value)) {
    fail(
      'header-latin1',
      `The header ${show(name)} has a character above U+00FF, which header bytes cannot carry: ` +
        'percent-encode it (encodeURIComponent), ' +
        "or for a filename use RFC 8187: filename*=UTF-8''...",
    );
  }
  if (!TOKEN.test(name)) {
    fail(
      'header-name',
      `The header name ${show(name)} is not a token: ` +
        "use letters, digits and -, e.g. 'X-Request-Id'.",
    );
  }
  if (CONTROL.test(value))
    fail(
      'header-control',
      `The value of ${name} has a control character: remove it, or encode the value.`,
    );
  return [name, value];
}

/** The value an application returned: what it is, or an error saying what to return instead. */
export function checkBodyValue(body: unknown): 'array' | 'iterable' | 'async-iterable' {
  if (body === undefined || body === null) {
    fail(
      'body-missing',
      `The application returned ${show(body)}: return the body, if only an empty array ([]); ` +
        'did you forget a return, or to await?',
    );
  }
  if (typeof body === 'string') {
    // wsgiref.validate's classic message, in this contract's words.
    fail(
      'body-string',
      'You should not return a string as your application body; ' +
        'instead return a single-item array containing its bytes: ' +
        '[new TextEncoder().encode(text)].',
    );
  }
  if (body instanceof Uint8Array) {
    fail(
      'body-bytes',
      'The application returned a Uint8Array on its own: return [bytes] instead; ' +
        'a Uint8Array is itself iterable, so the server would get it one number at a time.',
    );
  }
  if (Array.isArray(body)) return 'array';
  if (hasMethod(body, Symbol.asyncIterator)) return 'async-iterable';
  if (hasMethod(body, Symbol.iterator)) return 'iterable';
  fail(
    'body-not-iterable',
    `The application returned ${show(body)}: return an iterable of Uint8Array chunks, ` +
      'e.g. [bytes], a generator (function*) or an async generator.',
  );
}

/** One chunk of the body, or one argument of write(): bytes, nothing else. */
export function checkChunk(chunk: unknown, where: 'the body' | 'write()'): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') {
    fail(
      'chunk-string',
      `${where} produced a string: encode text yourself, ` +
        'with the charset your Content-Type names, e.g. new TextEncoder().encode(text).',
    );
  }
  if (typeof chunk === 'number') {
    fail(
      'chunk-number',
      `${where} produced ${show(chunk)}: chunks are Uint8Arrays, not single bytes; ` +
        'did you yield* a Uint8Array (use yield) or return bytes instead of [bytes]?',
    );
  }
  fail(
    'chunk-type',
    `${where} produced ${show(chunk)}: every chunk must be a Uint8Array (a Buffer is one); ` +
      'encode or serialise it first.',
  );
}
