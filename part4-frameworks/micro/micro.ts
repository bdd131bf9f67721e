// A micro framework in the Flask style: a table of routes, and handlers that take a small
// request view and return what the response should be. The app it builds is itself a part 3
// Application, so any gateway server can run it.
//
//   import { micro, html } from './micro.ts';
//
//   export const app = micro();
//   app.get('/hello/:name', (request) => html`<p>Hello, ${request.params.name}!</p>`);
//   app.post('/echo', async (request) => ({ youSent: await request.json() }));
//
//   npm run part3 -- path/to/that-file.ts:app
//
// What a handler may return:
//   a string or html`...`           → 200, text/html
//   any other object or array        → 200, the object as JSON
//   reply({ status, headers, body }) → that status and headers; the body by the rules above
//   redirect(location, 303)          → a redirect
// What the framework answers by itself: 404 (no route matches the path), 405 with Allow (a
// route matches the path but not the method), 400/413/415 (a body helper refused the body),
// 500 (the handler threw: details to gateway.errors, never to the client).
//
// Not here: blueprints, sessions, cookies, multipart forms, streaming responses, url_for by
// endpoint name, request hooks. Flask has them; each is a small layer on what is below.
import { STATUS_REASONS } from '../../part2-tcp-http/response.ts';
import type {
  Application,
  Environ,
  ResponseHeader,
  StartResponse,
} from '../../part3-gateway/contract.ts';
import { SafeHtml } from './html.ts';

export { escapeHtml, html, SafeHtml, trusted } from './html.ts';

// ---- What a handler sees --------------------------------------------------------------------

/** The request, as a handler sees it (Flask's `request`; not the fetch API's Request). */
export class Request {
  readonly method: string;
  /** PATH_INFO, the path below where the app is mounted; '/' when empty. */
  readonly path: string;
  /** The `:name` parts of the route pattern, from the (already percent-decoded) path. */
  readonly params: Readonly<Record<string, string>>;
  /** The media type of the body, lower-case, without parameters: 'application/json', or ''. */
  readonly mimetype: string;
  private body: Promise<Uint8Array> | null = null;
  #query: URLSearchParams | null = null;

  readonly environ: Environ;

  constructor(environ: Environ, params: Record<string, string>) {
    this.environ = environ;
    this.method = environ.REQUEST_METHOD;
    this.path = environ.PATH_INFO || '/';
    this.params = params;
    this.mimetype = (environ.CONTENT_TYPE ?? '').split(';')[0].trim().toLowerCase();
  }

  /**
   * QUERY_STRING, decoded: `request.query.get('page')`.
   * Parsed on first use: most handlers never look.
   */
  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.environ.QUERY_STRING);
    return this.#query;
  }

  /** True for `application/json` and `application/*+json` bodies. */
  get isJson(): boolean {
    return (
      this.mimetype === 'application/json' ||
      (this.mimetype.startsWith('application/') && this.mimetype.endsWith('+json'))
    );
  }

  /** A request header by its HTTP name, case-insensitively: `header('User-Agent')`. */
  header(name: string): string | undefined {
    const key = name.toUpperCase().replace(/-/g, '_');
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') return this.environ[key];
    return this.environ[`HTTP_${key}`];
  }

  /** The urlencoded form in the body (an HTML form's POST). 415 for any other Content-Type. */
  async form(): Promise<URLSearchParams> {
    if (this.mimetype !== 'application/x-www-form-urlencoded') {
      // Simplification: multipart/form-data (file uploads) is not parsed.
      abort(415, 'Send the form as application/x-www-form-urlencoded.');
    }
    return new URLSearchParams(await this.text());
  }

  /** The JSON body, parsed. 415 unless it is declared JSON; 400 if it does not parse. */
  async json(): Promise<unknown> {
    if (!this.isJson) abort(415, 'Send the body as application/json.');
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      // SyntaxError's message names the position, not the content: safe to pass on.
      abort(
        400,
        `The body is not valid JSON (${error instanceof Error ? error.message : 'parse error'}).`,
      );
    }
  }

  /** A path inside this app, for links and redirects: `/` → `/micro/` when mounted at /micro. */
  urlFor(path: string): string {
    // SCRIPT_NAME is decoded; a URL needs it encoded again, segment by segment.
    return this.environ.SCRIPT_NAME.split('/').map(encodeURIComponent).join('/') + path;
  }

  /** The body as UTF-8 text, read once from gateway.input however many helpers ask. */
  async text(): Promise<string> {
    this.body ??= readBody(this.environ);
    return new TextDecoder().decode(await this.body);
  }
}

/**
 * All of gateway.input. The server enforces the body limit: past it, its reads reject with an
 * error carrying the status to answer (413), as do reads of a malformed body (400). That error
 * becomes a clean answer with the same status instead of a 500.
 */
async function readBody(environ: Environ): Promise<Uint8Array> {
  try {
    return await environ['gateway.input'].read();
  } catch (error) {
    if (error instanceof Error && 'status' in error && typeof error.status === 'number')
      abort(error.status, error.message);
    abort(400, 'The request body could not be read.');
  }
}

// ---- What a handler returns -----------------------------------------------------------------

/** A body: text or html`...` (HTML), bytes (application/octet-stream), anything else (JSON). */
export type ReplyBody = string | SafeHtml | Uint8Array | object;

/** A response with a status and headers of its own; make one with `reply()` or `redirect()`. */
export class Reply {
  readonly status: number;
  /** Simplification: one value per header name (no repeated Set-Cookie). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ReplyBody;

  constructor(status: number, headers: Readonly<Record<string, string>>, body: ReplyBody) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

export function reply(parts: {
  status?: number;
  headers?: Record<string, string>;
  body?: ReplyBody;
}): Reply {
  return new Reply(parts.status ?? 200, parts.headers ?? {}, parts.body ?? '');
}

/**
 * RFC 9110 §15.4: 303 sends the browser to GET `location` (POST-redirect-GET); 302 is the classic.
 */
export function redirect(location: string, status: 301 | 302 | 303 | 307 | 308 = 302): Reply {
  // The body is for a client that does not follow redirects (RFC 9110 §15.4 suggests a note).
  return new Reply(
    status,
    { Location: location, 'Content-Type': 'text/plain; charset=utf-8' },
    `Redirecting to ${location}\n`,
  );
}

/**
 * Thrown to stop a handler with an error status (werkzeug's name): `abort(404, 'No such entry.')`.
 */
export class HTTPException extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HTTPException';
    this.status = status;
    this.headers = headers;
  }
}

export function abort(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): never {
  throw new HTTPException(status, message, headers);
}

export type Handler = (request: Request) => ReplyBody | Reply | Promise<ReplyBody | Reply>;

// ---- The app: a route table and a dispatcher -----------------------------------------------

interface Route {
  methods: readonly string[];
  /** `/hello/:name` compiled to `^/hello/([^/]+)$`, with the names of its groups. */
  regex: RegExp;
  paramNames: string[];
  handler: Handler;
}

/** A micro app: a part 3 Application with methods to add routes. */
export interface Micro extends Application {
  route(pattern: string, methods: readonly string[], handler: Handler): Micro;
  get(pattern: string, handler: Handler): Micro;
  post(pattern: string, handler: Handler): Micro;
  put(pattern: string, handler: Handler): Micro;
  delete(pattern: string, handler: Handler): Micro;
}

export function micro(): Micro {
  const routes: Route[] = [];
  const application: Application = (environ, startResponse) =>
    serve(routes, environ, startResponse);
  const app: Micro = Object.assign(application, {
    route(pattern: string, methods: readonly string[], handler: Handler): Micro {
      routes.push(compileRoute(pattern, methods, handler));
      return app;
    },
    get: (pattern: string, handler: Handler) => app.route(pattern, ['GET'], handler),
    post: (pattern: string, handler: Handler) => app.route(pattern, ['POST'], handler),
    put: (pattern: string, handler: Handler) => app.route(pattern, ['PUT'], handler),
    delete: (pattern: string, handler: Handler) => app.route(pattern, ['DELETE'], handler),
  });
  return app;
}

/**
 * One request: find the handler, run it, turn what it returned (or threw) into a response.
 * Fast path: a handler that returns at once (not a promise) is answered at once, and the
 * gateway gets an array, not a promise: it can then send the response in the same call (see
 * runApplication). An async handler's reply is awaited, with the same outcome.
 */
function serve(
  routes: Route[],
  environ: Environ,
  startResponse: StartResponse,
): Uint8Array[] | Promise<Uint8Array[]> {
  let answer: Reply | Promise<Reply>;
  try {
    answer = dispatch(routes, environ);
  } catch (error) {
    return answerError(error, environ, startResponse);
  }
  if (answer instanceof Promise) {
    return answer.then(
      (reply) => respond(reply, startResponse),
      (error: unknown) => answerError(error, environ, startResponse),
    );
  }
  return respond(answer, startResponse);
}

function respond(answer: Reply, startResponse: StartResponse): Uint8Array[] {
  const { headers, body } = encode(answer);
  startResponse(statusLine(answer.status), headers);
  // An array, not a generator: the server knows the length and sends Content-Length.
  return [body];
}

/** abort() and its kind answer with their status; anything else is a crash. */
function answerError(error: unknown, environ: Environ, startResponse: StartResponse): Uint8Array[] {
  if (!(error instanceof HTTPException)) return crashed(environ, startResponse, error);
  return respond(textReply(error.status, error.message, error.headers), startResponse);
}

/**
 * A bug in a handler: the stack goes to the error log, a generic message to the client, and
 * the error to startResponse, which is how the contract says "this 500 is a crash".
 */
function crashed(environ: Environ, startResponse: StartResponse, error: unknown): Uint8Array[] {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // REQUEST_URI is as sent (visible ASCII, checked by the parser): no newline can forge a log line.
  environ['gateway.errors'].write(
    `[micro] ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: ${detail}\n`,
  );
  const { headers, body } = encode(
    textReply(500, 'the server failed; the details are in its log.'),
  );
  startResponse(statusLine(500), headers, error);
  return [body];
}

/** What the framework says by itself (404, 405, abort()): a line of plain text. */
function textReply(
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): Reply {
  return reply({
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
    body: `${statusLine(status)}: ${message}\n`,
  });
}

function dispatch(routes: Route[], environ: Environ): Reply | Promise<Reply> {
  const method = environ.REQUEST_METHOD;
  const path = environ.PATH_INFO || '/';
  for (const route of routes) {
    if (!takes(route, method)) continue;
    const match = route.regex.exec(path);
    if (match === null) continue;
    const params: Record<string, string> = {};
    for (const [i, name] of route.paramNames.entries()) params[name] = match[i + 1];
    const result = route.handler(new Request(environ, params));
    return result instanceof Promise
      ? result.then((awaited) => toReply(awaited, method, path))
      : toReply(result, method, path);
  }
  // No route takes this method at this path: 405 if another method would do (RFC 9110 §15.5.6
  // asks for an Allow header listing them), else 404.
  const allowed = new Set<string>();
  for (const route of routes.filter((candidate) => candidate.regex.test(path))) {
    for (const other of route.methods) {
      allowed.add(other);
      if (other === 'GET') allowed.add('HEAD');
    }
  }
  if (allowed.size === 0) abort(404, 'Nothing here: check the address.');
  const allow = [...allowed].join(', ');
  abort(405, `Use ${allow} for this address.`, { Allow: allow });
}

/** RFC 9110 §9.3.2: HEAD is GET without the body; the server drops the body. */
function takes(route: Route, method: string): boolean {
  return route.methods.includes(method) || (method === 'HEAD' && route.methods.includes('GET'));
}

function toReply(result: ReplyBody | Reply | undefined, method: string, path: string): Reply {
  if (result instanceof Reply) return result;
  if (result === undefined || result === null) {
    // The classic slip: a handler with a branch that forgets to return.
    throw new TypeError(
      `The handler for ${method} ${path} returned ${String(result)}: ` +
        `return a string, an object, or reply({ status, headers, body }).`,
    );
  }
  return new Reply(200, {}, result);
}

/**
 * A Reply as startResponse wants it: header pairs, with a Content-Type chosen by the body
 * unless the handler gave one. Always one, even for an empty body: the contract's validator
 * (like wsgiref.validate) asks for it on every status that may have a body.
 */
function encode(answer: Reply): { headers: ResponseHeader[]; body: Uint8Array } {
  const headers: ResponseHeader[] = Object.entries(answer.headers);
  const hasType = headers.some(([name]) => name.toLowerCase() === 'content-type');
  const { body, contentType } = bodyBytes(answer.body);
  if (!hasType) headers.push(['Content-Type', contentType]);
  return { headers, body };
}

function bodyBytes(body: ReplyBody): { body: Uint8Array; contentType: string } {
  if (typeof body === 'string' || body instanceof SafeHtml)
    return { body: Buffer.from(String(body)), contentType: 'text/html; charset=utf-8' };
  if (body instanceof Uint8Array) return { body, contentType: 'application/octet-stream' };
  return { body: Buffer.from(JSON.stringify(body)), contentType: 'application/json' };
}

function statusLine(status: number): string {
  return `${status} ${STATUS_REASONS[status] ?? 'Unknown Status'}`;
}

/** `/entries/:id` → `^/entries/([^/]+)$`: each `:name` matches one whole path segment. */
function compileRoute(pattern: string, methods: readonly string[], handler: Handler): Route {
  if (!pattern.startsWith('/'))
    throw new Error(
      `Route pattern ${JSON.stringify(pattern)} must start with '/', e.g. '/hello/:name'.`,
    );
  const paramNames: string[] = [];
  const source = pattern.split('/').map((segment) => {
    if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const name = segment.slice(1);
    if (!/^[A-Za-z_]\w*$/.test(name))
      throw new Error(
        `Route ${pattern}: ${JSON.stringify(segment)} must be ':' and a name, e.g. ':id'.`,
      );
    paramNames.push(name);
    return '([^/]+)';
  });
  return {
    methods: methods.map((method) => method.toUpperCase()),
    regex: new RegExp(`^${source.join('/')}$`),
    paramNames,
    handler,
  };
}
