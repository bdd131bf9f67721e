// A bridge between the course's contract and the fetch handler, the contract real TypeScript
// frameworks and hosts speak: `(request: Request) => Response | Promise<Response>` (Hono,
// itty-router, Remix; Deno.serve, Bun.serve, Cloudflare Workers). Both ways:
//
//   fromFetch(handler)   a fetch handler as an Application: a real framework on our servers
//                        (part 3's gateway, part 4's node:http server, the dispatcher)
//   toFetch(app)         an Application as a fetch handler: the course's apps on a fetch host
//
//   import { Hono } from 'hono';
//   const hono = new Hono().get('/', (c) => c.text('Hello'));
//   export const app = fromFetch(hono.fetch);   // npm run part3 -- this-file.ts:app
//
// or let part 4 wrap it: `npm run part4 -- --app this-file.ts` takes `export default hono`.
//
// What each side cannot say to the other is written where it is lost; the biggest is
// mounting. SCRIPT_NAME has no fetch equivalent: a Request carries one URL, the whole one.
//
// - fromFetch: the handler gets the URL the client asked for (REQUEST_URI), mount prefix
//   included. A dispatcher (dispatcher.ts) that moved `/hono` from PATH_INFO to SCRIPT_NAME
//   changed nothing the handler can see, so a fetch app under a prefix must be told its prefix
//   (Hono: `new Hono().basePath('/hono')`, as site.ts does) and routes on the whole path.
//   Hono's own `app.mount('/x', handler)` goes the other way: it rewrites the URL without the
//   prefix, and the mounted handler no longer knows where it is (its links are then wrong).
// - toFetch: the app gets SCRIPT_NAME '' and the whole path in PATH_INFO: it believes it is at
//   the root. To serve it under /prefix on a fetch host, wrap it in dispatcher({ prefix: app })
//   first, which moves the prefix into SCRIPT_NAME as on our servers.
//
// Not here: HTTP/2 details, trailers, request bodies on GET or HEAD (a Request cannot carry
// one: fromFetch gives the handler none), WebSocket upgrades.
import { STATUS_CODES } from 'node:http';
import { HttpError } from '../part2-tcp-http/errors.ts';
import {
  DeclaredLength,
  STATUS_REASONS,
  statusForbidsBody,
  type ResponseHeader,
} from '../part2-tcp-http/response.ts';
import { isHopByHop } from '../part2-tcp-http/grammar.ts';
import type { Application, Body, Environ, ErrorStream } from '../part3-gateway/contract.ts';
import { buildEnviron } from '../part3-gateway/environ.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { runApplication, type ResponseSink } from '../part3-gateway/handler.ts';
import { isFetchApp, loadApplication, loadExport } from '../part3-gateway/loader.ts';
import { stderrErrors } from '../part3-gateway/server.ts';

/** What a fetch host calls: Hono's `app.fetch`, the `fetch` of `export default { fetch }`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

// ---- fromFetch: a fetch handler served by our servers ---------------------------------------

/**
 * A fetch handler as an Application. For each request: the environ becomes a Request, the
 * handler answers, and the Response becomes startResponse and a body the server pulls from.
 */
export function fromFetch(handler: FetchHandler): Application {
  return async (environ, startResponse) => {
    const response: unknown = await handler(requestFrom(environ));
    if (!isResponse(response)) {
      const got = response === undefined ? 'undefined' : typeof response;
      throw new TypeError(
        `The fetch handler returned ${got}: return a Response, e.g. new Response('Hello').`,
      );
    }
    startResponse(`${response.status} ${reasonPhrase(response)}`, headersFrom(response));
    return response.body === null ? [] : chunksOf(response.body, environ['gateway.signal']);
  };
}

/**
 * The app `spec` names (`path/to/app.ts[:export]`), for `npm run part4 -- --app`: part 3's
 * loader finds the export, with its one-line errors; a fetch app (an object with a fetch
 * method, or a function of one parameter) is wrapped with fromFetch. `how` says which it was.
 */
export async function loadAnyApp(
  spec: string,
  cwd = process.cwd(),
): Promise<{ app: Application; how: string }> {
  const { value } = await loadExport(spec, cwd);
  if (isFetchApp(value)) {
    // What the handler returns is checked when it answers (fromFetch's isResponse).
    const handler = (request: Request): Promise<Response> =>
      (typeof value === 'function'
        ? Promise.resolve(value(request))
        : Promise.resolve(value.fetch(request))) as Promise<Response>;
    const how =
      typeof value === 'function'
        ? 'a fetch handler, wrapped with fromFetch'
        : 'a fetch app: its fetch method, wrapped with fromFetch';
    return { app: fromFetch(handler), how };
  }
  return { app: await loadApplication(spec, cwd), how: 'an app of the contract' };
}

/**
 * The Request a fetch handler expects, from the environ. Nothing of the body is read here: the
 * Request's body stream reads gateway.input only when the handler reads the body, so a client
 * that sent `Expect: 100-continue` still waits for its `100 Continue` until then (and a handler
 * that answers 413 or 401 without reading spares it the upload).
 */
export function requestFrom(environ: Environ): Request {
  // HEAD is asked as GET. The contract's app answers HEAD with the GET body, and the server
  // counts it (an array) and sends none of it; Hono does the same inside, but drops the body
  // itself, so a server given its HEAD answer could not tell the GET's length, nor even that
  // it is not 0. Asked GET, the handler gives the body, and the server drops it as for any app.
  // Simplification: a streamed body is still produced to its end, as a contract app's is.
  const method = environ.REQUEST_METHOD === 'HEAD' ? 'GET' : environ.REQUEST_METHOD;
  // RFC 9110 §9.3.1: a GET body has no meaning, and a Request cannot carry one. Any other
  // method gets the stream, empty if the request had no body: whether it had one is not always
  // in the environ (a Request's own body has no Content-Length field, nor Transfer-Encoding).
  const body = method === 'GET' ? null : bodyStream(environ['gateway.input']);
  try {
    // duplex 'half': the handler may start answering before it has read the whole body (the
    // only mode fetch defines for a streamed request body). The Request's signal follows
    // gateway.signal: aborted when the client disconnects.
    return new Request(urlOf(environ), {
      method,
      headers: headersOf(environ),
      body,
      duplex: 'half',
      signal: environ['gateway.signal'],
    });
  } catch (error) {
    // The Request constructor refuses what fetch forbids (TRACE, a URL it cannot parse): the
    // server answers this status before the handler runs.
    const detail = error instanceof Error ? error.message : String(error);
    throw new HttpError(501, `This request cannot be given to a fetch handler: ${detail}`, false);
  }
}

/** The URL the client asked for: scheme, Host, and the request-target as sent, query included. */
function urlOf(environ: Environ): string {
  const target = environ.REQUEST_URI;
  // absolute-form (RFC 9112 §3.2.2): it names its own host
  if (/^https?:\/\//i.test(target)) return target;
  // String concatenation, not new URL(target, base): `//evil.example/x` is an origin-form path,
  // which URL resolution would read as another host.
  const path = target.startsWith('/') ? target : '/';
  return `${environ['gateway.url_scheme']}://${authorityOf(environ)}${path}`;
}

/** The Host header, else SERVER_NAME and SERVER_PORT (an HTTP/1.0 client may send no Host). */
function authorityOf(environ: Environ): string {
  const host = environ.HTTP_HOST;
  if (host !== undefined && host !== '') return host;
  const name =
    environ.SERVER_NAME.includes(':') && !environ.SERVER_NAME.startsWith('[')
      ? `[${environ.SERVER_NAME}]`
      : environ.SERVER_NAME;
  return `${name}:${environ.SERVER_PORT}`;
}

/**
 * The request's fields back from the environ's keys: `HTTP_USER_AGENT` → `user-agent`, and
 * CONTENT_TYPE, CONTENT_LENGTH. The names come back lower-case with `-` (fetch's Headers
 * lower-cases them anyway); a field the server joined with ", " stays joined.
 */
function headersOf(environ: Environ): Headers {
  const headers = new Headers();
  if (environ.CONTENT_TYPE !== undefined) headers.set('content-type', environ.CONTENT_TYPE);
  if (environ.CONTENT_LENGTH !== undefined) headers.set('content-length', environ.CONTENT_LENGTH);
  for (const key of Object.keys(environ)) {
    const value = environ[key];
    if (key.startsWith('HTTP_') && typeof value === 'string')
      headers.set(key.slice(5).toLowerCase().replace(/_/g, '-'), value);
  }
  return headers;
}

/**
 * gateway.input as a ReadableStream, pulled: a highWaterMark of 0 means the stream asks for
 * nothing until someone reads it, then for one chunk per read.
 */
function bodyStream(input: Environ['gateway.input']): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= input[Symbol.asyncIterator]();
        // A read the server fails (413 over its body limit, 400 a malformed chunk) errors the
        // stream with the server's error, its `status` included: the handler's body read
        // rejects with it, and a handler that does not catch it gets that status (see fromFetch).
        const step = await chunks.next();
        if (step.done === true) controller.close();
        else controller.enqueue(step.value);
      },
      async cancel() {
        await chunks?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A Response from any fetch implementation (the global one, undici's own):
 * its shape, not its class.
 */
function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    'status' in value &&
    typeof value.status === 'number' &&
    'headers' in value &&
    'body' in value
  );
}

/**
 * The reason phrase: the Response's statusText if it has one (`new Response(body, { status })`
 * has ''), else part 2's table (RFC 9110's names), else Node's, which knows every registered code.
 */
function reasonPhrase(response: Response): string {
  return (
    response.statusText ||
    STATUS_REASONS[response.status] ||
    STATUS_CODES[response.status] ||
    'Unknown'
  );
}

/**
 * Every field of the Response but those that describe one connection (hop-by-hop, RFC 9110
 * §7.6.1: a Response may hold them, fetch hosts drop them, startResponse refuses them), in the
 * order Headers gives them (sorted, lower-case). Set-Cookie
 * is the one field that cannot be joined with ", " (RFC 6265 §3: a date inside has a comma):
 * getSetCookie() gives each one on its own, and each becomes its own field.
 *
 * A Response may have no Content-Type (`new Response(null)`, a redirect, a stream); the contract
 * wants one on every answer but 204 and 304 (wsgiref's rule, which part 3's validator checks).
 * It gets the type RFC 9110 §8.3 tells a recipient to assume when there is none:
 * application/octet-stream, "some bytes", so nothing changes for the client.
 */
function headersFrom(response: Response): ResponseHeader[] {
  const headers: ResponseHeader[] = [];
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie' && !isHopByHop(name)) headers.push([name, value]);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
  if (!response.headers.has('content-type') && !statusForbidsBody(response.status))
    headers.push(['content-type', 'application/octet-stream']);
  return headers;
}

/**
 * A ReadableStream as the iterator the server pulls: one read() of the stream per chunk the
 * server asks for, and the server asks only once the socket took the last one (backpressure
 * reaches the handler's stream). The stream is cancelled, which runs its cancel() and stops
 * whatever feeds it, when the server stops early: its return(), called however the response
 * ended, cancels a stream that has not finished (the connection was cut); and gateway.signal,
 * aborted when the client leaves, cancels it at once, even while it waits for data to send (a
 * quiet event stream) and the server, waiting for that chunk, would not notice yet.
 *
 * Written by hand, not as an async generator: a generator's return() waits for a pending read
 * to finish, and a stream that waits for data might never give one; cancel() does not wait.
 */
function chunksOf(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncIterableIterator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  const cancel = async (reason: unknown): Promise<void> => {
    if (finished) return;
    finished = true;
    signal.removeEventListener('abort', onAbort);
    await reader.cancel(reason);
  };
  // a cancel() that fails has nobody to tell: the client is gone
  const onAbort = (): void => void cancel(signal.reason).catch(() => {});
  signal.addEventListener('abort', onAbort);
  const iterator: AsyncIterableIterator<Uint8Array> = {
    async next() {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (error) {
        finished = true; // an errored stream has nothing left to cancel
        signal.removeEventListener('abort', onAbort);
        throw error;
      }
      // A read ended by the client leaving is not the end of the body: the server must not
      // finish the response as if it were complete.
      if (signal.aborted) throw signal.reason;
      if (!step.done) return { done: false, value: step.value };
      finished = true;
      signal.removeEventListener('abort', onAbort);
      return { done: true, value: undefined };
    },
    async return() {
      await cancel(
        new Error(
          'The server stopped reading the response: the client left, or the response was cut.',
        ),
      );
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

// ---- toFetch: our apps on a fetch host ------------------------------------------------------

export interface ToFetchOptions {
  /** Where gateway.errors writes: standard error unless given. */
  errors?: ErrorStream;
  /** How long one app call may take, as on our servers (handler.ts, APP_TIMEOUT_MS by default). */
  appTimeoutMs?: number;
}

/**
 * An Application as a fetch handler. Part 3's runApplication does the server's half of the
 * contract, exactly as on our servers (deferred head, clean 500 before it, Content-Length
 * checks, the body closed once); only its output is a Response instead of bytes on a socket.
 *
 * The environ, from the Request. What a Request cannot tell is filled in and said here:
 * - REMOTE_ADDR '' and REMOTE_PORT '0': a Request has no client address (Deno passes it
 *   beside the Request, Bun asks its server object, Workers put it in a header).
 * - SERVER_PROTOCOL 'HTTP/1.1': the host hides the version it spoke (maybe HTTP/2 or 3).
 * - SERVER_NAME and SERVER_PORT from the URL, as the Host header gives them on our servers.
 * - SCRIPT_NAME '' (see the top of this file for mounting).
 * - gateway.signal: aborted when the host aborts the Request's signal or the Response's body
 *   is cancelled.
 *
 * The Response waits for the head, as a server does: for startResponse and the first non-empty
 * chunk (or the end of the body). Its body is a ReadableStream that pulls the app's iterator one
 * chunk per read, at most one ahead of the reader; when it ends or is cancelled, the iterator's
 * return() and the body's close() run, once each.
 */
export function toFetch(
  app: Application,
  options: ToFetchOptions = {},
): (request: Request) => Promise<Response> {
  const errors = options.errors ?? stderrErrors;
  return (request) => {
    const url = new URL(request.url);
    const cancelled = new AbortController();
    const head = {
      method: request.method,
      target: `${url.pathname}${url.search}`,
      version: 'HTTP/1.1' as const,
      headers: requestFields(request, url),
    };
    const environ = buildEnviron(
      {
        head,
        remoteAddress: '',
        remotePort: 0,
        localAddress: url.hostname,
        localPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        signal: AbortSignal.any([request.signal, cancelled.signal]),
      },
      { input: new GatewayInput(chunkSource(request.body)), errors, multiprocess: false },
    );
    environ['gateway.url_scheme'] = url.protocol === 'https:' ? 'https' : 'http';
    const sink = new ResponseStreamSink(request.method, () =>
      cancelled.abort(new Error('The Response body was cancelled.')),
    );
    // runApplication never throws; if it ends without a head (the client left first), say so.
    void Promise.resolve(
      runApplication(app, environ, sink, { appTimeoutMs: options.appTimeoutMs }),
    ).then(() => sink.noResponse());
    return sink.response;
  };
}

/**
 * The Request's fields for buildEnviron, with a Host from the URL if it has none
 * (a Request made in code rarely does).
 */
function requestFields(request: Request, url: URL): Array<{ name: string; value: string }> {
  const fields = [...request.headers].map(([name, value]) => ({ name, value }));
  if (!request.headers.has('host')) fields.unshift({ name: 'host', value: url.host });
  return fields;
}

/** request.body as GatewayInput's source: one read of the stream per chunk, null at the end. */
function chunkSource(body: ReadableStream<Uint8Array> | null): () => Promise<Uint8Array | null> {
  const reader = body?.getReader();
  return async () => {
    if (reader === undefined) return null;
    const step = await reader.read();
    return step.done ? null : step.value;
  };
}

/**
 * part 3's ResponseSink whose output is a Response: the head resolves `response`, the chunks go
 * into its body stream. write() returns false until the stream's reader asks for more, and
 * drained() waits for that ask: backpressure from whoever reads the Response back to the app.
 */
class ResponseStreamSink implements ResponseSink {
  headSent = false;
  keepAlive = true;
  /** The Response's body was cancelled: nobody reads what is written any more. */
  clientGone = false;
  readonly response: Promise<Response>;

  private readonly method: string;
  private readonly onCancel: () => void;
  private readonly stream: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private resolveResponse: (response: Response) => void = () => {};
  private rejectResponse: (error: Error) => void = () => {};
  /** The reader asked for a chunk that has not been written yet. */
  private wanted = false;
  private wake: (() => void) | null = null;
  /** The Content-Length the body is held to, as on our servers. */
  private declared: DeclaredLength | null = null;
  /** HEAD, 204, 304: the Response has no body; chunks are dropped. */
  private bodyless = false;

  constructor(method: string, onCancel: () => void) {
    this.method = method;
    this.onCancel = onCancel;
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.wanted = true;
          this.wakeWriter();
        },
        cancel: () => {
          this.clientGone = true;
          this.onCancel();
          this.wakeWriter();
        },
      },
      { highWaterMark: 0 },
    );
  }

  writeHead(
    status: number,
    headers: ResponseHeader[],
    knownLength?: number,
    reason = STATUS_REASONS[status] ?? 'Unknown',
  ): void {
    if (this.headSent)
      throw new Error('writeHead() called twice: a response has exactly one head.');
    const fields = new Headers();
    for (const [name, value] of headers) fields.append(name, value);
    let length = fields.get('content-length');
    if (length === null && knownLength !== undefined && !statusForbidsBody(status)) {
      length = String(knownLength);
      fields.set('content-length', length);
    }
    if (length !== null) this.declared = new DeclaredLength(length);
    // A Response with 204, 205 or 304 must have a null body (fetch's "null body status").
    this.bodyless = this.method === 'HEAD' || statusForbidsBody(status) || status === 205;
    this.headSent = true;
    this.resolveResponse(
      new Response(this.bodyless ? null : this.stream, {
        status,
        statusText: reason,
        headers: fields,
      }),
    );
  }

  write(chunk: Uint8Array): boolean {
    // as on our servers: a HEAD answer's body is not sent, nor counted
    if (this.bodyless) return true;
    this.declared?.count(chunk.length);
    if (this.clientGone || chunk.length === 0) return true;
    this.controller?.enqueue(chunk);
    this.wanted = false;
    return false;
  }

  drained(): Promise<void> {
    if (this.wanted || this.clientGone) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  end(): void {
    if (this.bodyless) return;
    this.declared?.finish();
    if (!this.clientGone) this.controller?.close();
  }

  /**
   * The response cannot be completed: the reader sees the body fail
   * instead of a short one that looks whole.
   */
  abort(): void {
    if (!this.clientGone && !this.bodyless)
      this.controller?.error(
        new Error(
          'The response was cut: the application failed after its head was sent ' +
            '(see the error log).',
        ),
      );
  }

  sendWhole(
    status: number,
    headers: ResponseHeader[],
    body: string | Uint8Array = '',
    reason?: string,
  ): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.writeHead(status, headers, bytes.length, reason);
    this.write(bytes);
    this.end();
  }

  /**
   * The application's run ended: if no head was made (the client had gone),
   * the Response never will be.
   */
  noResponse(): void {
    if (!this.headSent)
      this.rejectResponse(
        new Error('The application produced no response: the request was aborted first.'),
      );
  }

  private wakeWriter(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
