// Calls a part 3 application in process, with no server and no socket: builds an environ by
// hand (the body an InputStream over a Buffer), calls the app, drains the body and closes it,
// and hands back what a server would have sent.
//
//   const response = await callApp(app, { method: 'POST', path: '/entries', form: { name: 'Ada' } });
//   expect(response.status).toBe(303);
//
// It is a unit-test harness for frameworks: it shows what the app asked of startResponse
// (including the error it passed for a 500), which the wire hides. Tests about bytes on the
// wire (framing, HEAD, limits) use the real server instead (tests/helpers/server.ts).
//
// The app runs inside part 3's validator, as Bottle runs its tests inside wsgiref.validate:
// any break of the contract, by the app or by this harness, fails the call.
import type { Application, Body, Environ, InputStream, ResponseHeader } from '../../part3-gateway/contract.ts';
import { validator, type ContractError } from '../../part3-gateway/validator.ts';

export interface AppRequest {
  method?: string;
  /** PATH_INFO, already decoded as a server would give it; '/' by default. */
  path?: string;
  /** Where the app is mounted; '' by default. */
  scriptName?: string;
  /** QUERY_STRING, raw. */
  query?: string;
  /** Request headers by their HTTP name; Content-Type and Content-Length become CGI keys. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Shorthand: a urlencoded body with its Content-Type. */
  form?: Record<string, string>;
  /** Shorthand: a JSON body with its Content-Type. */
  json?: unknown;
  /** Make every read of gateway.input reject with this error (a body the server refused). */
  inputError?: Error;
}

export interface AppResponse {
  /** The status line as given, e.g. '404 Not Found'. */
  statusLine: string;
  status: number;
  headers: ResponseHeader[];
  /** The value of a header (names compared case-insensitively), joined with ', ' if repeated. */
  header(name: string): string | undefined;
  body: Buffer;
  text: string;
  /** The error passed as startResponse's third argument, if any. */
  error: unknown;
  /** Everything the app wrote to gateway.errors. */
  log: string;
}

export async function callApp(app: Application, request: AppRequest = {}): Promise<AppResponse> {
  const { headers, body } = requestBody(request);
  let log = '';
  const environ: Environ = {
    REQUEST_METHOD: request.method ?? 'GET',
    SCRIPT_NAME: request.scriptName ?? '',
    PATH_INFO: request.path ?? '/',
    QUERY_STRING: request.query ?? '',
    REQUEST_URI: `${request.scriptName ?? ''}${request.path ?? '/'}${request.query ? `?${request.query}` : ''}`,
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    HTTP_HOST: '127.0.0.1',
    'gateway.version': [1, 0],
    'gateway.url_scheme': 'http',
    'gateway.input': request.inputError ? failingInput(request.inputError) : bufferInput(body),
    'gateway.errors': { write: (text) => void (log += text), flush: () => {} },
    'gateway.multithread': true,
    'gateway.multiprocess': false,
    'gateway.run_once': false,
    'gateway.signal': new AbortController().signal,
  };
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toUpperCase().replace(/-/g, '_');
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') environ[key] = value;
    else environ[`HTTP_${key}`] = value;
  }

  // A holder object rather than a `let`: the type checker cannot see a callback assign a local.
  const started: { head: { statusLine: string; headers: ResponseHeader[]; error: unknown } | null } = { head: null };
  const violations: ContractError[] = [];
  const validated = validator(app, { onViolation: (violation) => violations.push(violation) });
  const result = await validated(environ, (statusLine, responseHeaders, error) => {
    if (started.head !== null && error === undefined) throw new Error('startResponse() called twice without an error');
    started.head = { statusLine, headers: responseHeaders, error };
    return () => {
      throw new Error('this harness does not support the legacy write()');
    };
  });
  const chunks = await drain(result);
  if (violations.length > 0)
    throw new Error(`the app broke the contract: ${violations.map((violation) => violation.message).join('; ')}`);
  const head = started.head;
  if (head === null) throw new Error('the app never called startResponse()');
  const bytes = Buffer.concat(chunks);
  return {
    statusLine: head.statusLine,
    status: Number(head.statusLine.slice(0, 3)),
    headers: head.headers,
    header: (name) => {
      const values = head.headers.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value);
      return values.length === 0 ? undefined : values.join(', ');
    },
    body: bytes,
    text: bytes.toString('utf8'),
    error: head.error,
    log,
  };
}

/** Every chunk of the body; then, as a server must, the iterator's return() and close(). */
async function drain(body: Body): Promise<Uint8Array[]> {
  const iterator = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
  const chunks: Uint8Array[] = [];
  try {
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) chunks.push(step.value);
  } finally {
    await iterator.return?.();
    await body.close?.();
  }
  return chunks;
}

function requestBody(request: AppRequest): { headers: Record<string, string>; body: Uint8Array } {
  const headers = { ...request.headers };
  let body: Uint8Array =
    typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? new Uint8Array());
  if (request.form !== undefined) {
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
    body = Buffer.from(new URLSearchParams(request.form).toString());
  } else if (request.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = Buffer.from(JSON.stringify(request.json));
  }
  if (body.length > 0) headers['Content-Length'] ??= String(body.length);
  return { headers, body };
}

/** gateway.input over bytes already in memory. */
function bufferInput(body: Uint8Array): InputStream {
  let rest = Buffer.from(body);
  const take = (length: number): Uint8Array => {
    const taken = rest.subarray(0, length);
    rest = rest.subarray(length);
    return taken;
  };
  return {
    read: async (size) => take(size ?? rest.length),
    readline: async (size) => {
      const newline = rest.indexOf(0x0a);
      const lineLength = newline === -1 ? rest.length : newline + 1;
      return take(Math.min(lineLength, size ?? Infinity));
    },
    async *[Symbol.asyncIterator]() {
      if (rest.length > 0) yield take(rest.length);
    },
  };
}

/** gateway.input whose every read rejects, as a server's does when the body breaks a limit. */
function failingInput(error: Error): InputStream {
  return {
    read: () => Promise.reject(error),
    readline: () => Promise.reject(error),
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}
