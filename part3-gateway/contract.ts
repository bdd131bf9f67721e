// The gateway contract: what a server promises an application, and what an application must
// give back. Modelled on Python's WSGI (PEP 3333), with its vocabulary kept, so that a learner
// who meets WSGI, Rack or CGI later recognises every name.
//
// This file is types and documentation only; read it top to bottom and you can write an app:
//
//   import type { Application } from './contract.ts';
//
//   export const app: Application = function* (environ, startResponse) {
//     startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
//     yield new TextEncoder().encode(`Hello from ${environ.PATH_INFO}\n`);
//   };
//
// and run it: `npm run part3 -- path/to/app.ts:app`. Nothing else needs importing: every type
// an app meets is defined here.

/** One response header field: `['Content-Type', 'text/plain; charset=utf-8']`. */
export type ResponseHeader = [name: string, value: string];

/**
 * An application answers one HTTP request.
 *
 * The server calls `application(environ, startResponse)` once per request. The application
 * calls `startResponse(status, headers)` to say how the response begins, and returns the body:
 * an iterable of byte chunks. Nothing reaches the client until the server iterates the body.
 *
 * Lifecycle, in order:
 * 1. The server parses the request and builds `environ`.
 * 2. It calls the application, which returns (or resolves to) a `Body`.
 * 3. It iterates the body. `startResponse` must have been called by the time the first chunk
 *    is produced (it may be called inside a generator, before its first `yield`).
 * 4. The head (status line and headers) is sent together with the first non-empty chunk, or
 *    at the end if every chunk was empty. Until then the application may still change its
 *    mind with `startResponse(..., error)`; a crash before that point becomes a clean 500.
 * 5. Each further chunk is sent as it comes; the server pulls the next one only after the
 *    socket has accepted the last (backpressure), so a slow client slows the generator.
 * 6. Whatever happens (the body ends, the app throws, the client disconnects), the server
 *    calls the iterator's `return()` and the body's `close()` if it has one, exactly once, so
 *    `finally` blocks in a generator always run.
 *
 * A generator function is the natural application: `function*` for sync work, `async
 * function*` when it awaits (reading the request body, a database, a timer).
 *
 * What the server does with the body, by request and status:
 * - An array, of one chunk or several, gets a Content-Length: the sum of its chunks' lengths.
 * - Any other body is framed by the server as HTTP needs: a Content-Length when it has the
 *   whole body before it must send (a generator that ends at once), else chunked for HTTP/1.1
 *   or, for HTTP/1.0, ended by closing the connection. The app never says which.
 * - HEAD: return the body GET would return; the server sends no body bytes (RFC 9110 §9.3.2).
 * - 204 No Content and 304 Not Modified have no body: return `[]`.
 */
export type Application = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/**
 * The response body: chunks of bytes, produced lazily. Strings are not allowed: encode text
 * yourself (`new TextEncoder().encode(text)` or `Buffer.from(text)`), because only the
 * application knows which charset it declared in Content-Type.
 *
 * An array (`[bytes]`) is a body whose length the server knows before it sends anything: it
 * gets a Content-Length, and a Content-Length the app gave is held to that length before
 * anything is sent (see StartResponse).
 */
export type Body = (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & {
  /** Called once when the server is done with the body, however the response ended. */
  close?: () => void | Promise<void>;
};

/**
 * `startResponse(status, headers, error?)` sets the status and headers of the response.
 *
 * - `status`: a status code, a space and a reason phrase: `'200 OK'`, `'404 Not Found'`.
 * - `headers`: `[name, value]` pairs, in order; a name may repeat (`Set-Cookie`). Latin-1
 *   text only (no characters above U+00FF), no CR or LF. Hop-by-hop headers (Connection,
 *   Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Proxy-*) belong to the server and are
 *   an error here. `Content-Length`, if given, must match the body exactly (in an answer to
 *   HEAD, or with 204 or 304, it may give the length a GET would get instead). How a mismatch
 *   ends depends on when the server can see it, on either server (part 3's, part 4's):
 *   - An array body: its length is known before the head goes out, so a mismatch (more bytes
 *     or fewer) is the app's bug, answered with a clean 500 and logged; nothing of the app's
 *     response is sent (unless the legacy write() below has sent its head already).
 *   - A streamed body (a generator, any other iterable): a mismatch shows only as the bytes go
 *     out, after the head. The server never sends more bytes than declared: it cuts the
 *     connection at the chunk that would overrun, or at the end of a body that falls short,
 *     so the client sees an incomplete response; the log says which.
 * - `error`: pass the caught error when calling `startResponse` a second time to replace the
 *   status and headers after a failure (how a framework turns a crash into a 500 page). If the
 *   head has already been sent, the server rethrows `error` instead: it is too late to change.
 *
 * Calling it a second time without `error` is an error. It sends nothing by itself. Calling it
 * the first time with `error` is allowed: a middleware whose inner app crashed before it called
 * startResponse answers with its own error page that way.
 *
 * Hop-by-hop names are matched case-insensitively (`connection` and `CONNECTION` alike), and
 * startResponse throws a TypeError at once, in the app's own call: the stack trace points at the
 * line that set the header.
 *
 * It returns `write(chunk)`, the legacy imperative way to send body bytes before the returned
 * body (PEP 3333 keeps it for old frameworks). Prefer yielding chunks from the body: `write`
 * sends the head at once and cannot wait for a slow client.
 */
export type StartResponse = (
  status: string,
  headers: ResponseHeader[],
  error?: unknown,
) => WriteFunction;

/** Legacy: send `chunk` now (see StartResponse). Throws if the client has gone away. */
export type WriteFunction = (chunk: Uint8Array) => void;

/**
 * `environ['gateway.input']`: the request body, already de-chunked, ending exactly where the
 * body ends (never reading into the next request). Reads are async because the bytes may not
 * have arrived yet. Reading it is what sends `100 Continue` to a client that asked for it, so
 * an app that rejects a request (413, 401) before reading spares the client the upload.
 * If the body cannot be read, reads reject with an error whose numeric `status` says what
 * the client did wrong: 413 (larger than the server's body limit), 400 (malformed chunked
 * framing, or the client left mid-body), 408 (the body stopped arriving). An app that does
 * not catch it gets that status as its response, not a 500.
 *
 * The body limit (1 MiB by default) is checked twice. A request whose Content-Length is over it
 * is answered 413 by the server itself, before the app is called. A chunked body has no length
 * up front: it reaches the app, and the read that would pass the limit rejects with status 413.
 *
 * `read(size)` may return fewer than `size` bytes before the end (what has arrived so far);
 * only an empty array means the end. To read exactly n bytes, loop until you have them or get [].
 */
export interface InputStream extends AsyncIterable<Uint8Array> {
  /** Up to `size` bytes (all the rest if omitted); an empty array at the end. */
  read(size?: number): Promise<Uint8Array>;
  /** One line including its `\n` (or up to `size` bytes); an empty array at the end. */
  readline(size?: number): Promise<Uint8Array>;
}

/** `environ['gateway.errors']`: where the app writes diagnostics (the server's error log). */
export interface ErrorStream {
  write(text: string): void;
  flush(): void;
}

/**
 * Everything the application knows about the request: CGI-style keys (upper-case strings,
 * as PEP 3333 and RFC 3875 name them), the request headers as `HTTP_*` keys, and the server's
 * own keys under the `gateway.` prefix. A plain object: middleware may add keys of its own
 * (use a prefix, e.g. `myframework.route`). Never a copy of `process.env`.
 *
 * For `GET /shop/items?id=7 HTTP/1.1` with `Host: localhost:8003`, an app mounted at `/shop`:
 *
 *   REQUEST_METHOD  'GET'                 the method, as sent (case-sensitive)
 *   SCRIPT_NAME     '/shop'               where the app is mounted ('' at the root)
 *   PATH_INFO       '/items'              the rest of the path, percent-decoded
 *   QUERY_STRING    'id=7'                after '?', raw (not decoded); '' if none
 *   REQUEST_URI     '/shop/items?id=7'    the request-target exactly as sent
 *   SERVER_PROTOCOL 'HTTP/1.1'
 *   HTTP_HOST       'localhost:8003'      one HTTP_* key per header field
 */
export interface Environ {
  /** `GET`, `POST`, ... exactly as in the request line. */
  REQUEST_METHOD: string;
  /** The part of the path that led to this application; '' when it is mounted at the root. */
  SCRIPT_NAME: string;
  /**
   * The rest of the path, percent-decoded (`/caf%C3%A9` → `/café`): what the app routes on.
   * `SCRIPT_NAME + PATH_INFO` is the whole decoded path. Empty or starting with `/`.
   * Undecodable escapes (`%zz`, invalid UTF-8) are left as sent.
   */
  PATH_INFO: string;
  /** The query, raw and undecoded, without the '?': `a=1&b=x%20y`; '' when absent. */
  QUERY_STRING: string;
  /** The request-target exactly as the client sent it, path and query, still encoded. */
  REQUEST_URI: string;
  /** The Content-Type header; present only if the request had one. */
  CONTENT_TYPE?: string;
  /** The Content-Length header, as text; present only if the request had one. */
  CONTENT_LENGTH?: string;
  /** The host name the client asked for (from Host, without its port), else the listen address. */
  SERVER_NAME: string;
  /**
   * The port, as text: from Host (80, http's default, if Host names none),
   * else the port the server listens on.
   */
  SERVER_PORT: string;
  /** `HTTP/1.1` or `HTTP/1.0`, as in the request line. */
  SERVER_PROTOCOL: string;
  /** The client's IP address. */
  REMOTE_ADDR: string;
  /** The client's TCP port, as text. */
  REMOTE_PORT: string;

  /**
   * One key per request header: the name upper-cased with `-` turned into `_`, prefixed
   * `HTTP_` (`User-Agent` → `HTTP_USER_AGENT`). Repeated fields are joined with `, `.
   * Content-Type and Content-Length appear only as CONTENT_TYPE and CONTENT_LENGTH. A header
   * whose name contains `_` is dropped: `X_Forwarded_For` would be indistinguishable from
   * `X-Forwarded-For`, a classic spoofing trick (nginx and Apache drop them too).
   */
  [header: `HTTP_${string}`]: string | undefined;

  /** The contract's version, `[1, 0]`. */
  'gateway.version': readonly [number, number];
  /** `http` (this course has no TLS). */
  'gateway.url_scheme': 'http' | 'https';
  /** The request body (see InputStream). */
  'gateway.input': InputStream;
  /** The error log (see ErrorStream). */
  'gateway.errors': ErrorStream;
  /** True if other requests may run at the same time in this process (always, on an event loop). */
  'gateway.multithread': boolean;
  /** True if other processes serve the same app (`--workers N` with N > 1). */
  'gateway.multiprocess': boolean;
  /** True if the app is called once in this process's life (CGI style). Never, here. */
  'gateway.run_once': boolean;
  /** Aborted when the client disconnects before the response is complete: stop work then. */
  'gateway.signal': AbortSignal;

  /** Keys added by middleware and frameworks. */
  [extension: string]: unknown;
}
