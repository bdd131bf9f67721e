// Part 2's small site: the handler that server.ts calls once per request. It shows HTTP at
// work, nothing more: a page with forms, a query string, a form POST and a JSON POST read from
// the body, an echo of the request as parsed, a chunked response, and files from public/.
//
//   GET  /                 the start page (HTML, with forms)      pages.ts
//   GET  /hello?name=Ada   a greeting from the query string
//   GET  /echo, POST /echo the request as the server parsed it (text, or JSON if asked)
//   POST /form             an application/x-www-form-urlencoded body → an HTML page
//   POST /api/greeting     an application/json body → a JSON answer
//   GET  /stream           a body sent in chunks, its length unknown in advance
//   GET  /static/<file>    a file from public/                    static.ts
//
// HEAD works wherever GET does. Unknown path → 404; known path, wrong method → 405 + Allow.
// Run it with `npm run part2` (main.ts); tests start it with `createSiteServer()`.
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from './errors.ts';
import { headerValue } from './head.ts';
import { splitTarget } from './target.ts';
import { MethodNotAllowed } from './errors.ts';
import type { ResponseWriter } from './response.ts';
import {
  createHttpServer,
  type Handler,
  type ServerRequest,
  type HttpServer,
  type HttpServerOptions,
} from './server.ts';
import { formResultPage, helloPage, homePage } from './pages.ts';
import { PUBLIC_DIR, serveStatic } from './static.ts';

export interface SiteOptions extends HttpServerOptions {
  /** The folder behind /static/; part2-tcp-http/public/ unless a test gives its own. */
  publicDir?: string;
  /** Pause between the chunks of /stream, so `curl -N` shows them arrive; tests use 0. */
  streamIntervalMs?: number;
}

/** The request-target split up: `path` percent-decoded once, `query` parsed. */
export interface SiteTarget {
  path: string;
  query: URLSearchParams;
}

/**
 * The request goes to a route handler as the server made it, with its target beside it: a
 * copy such as `{ ...request, path }` would lose the request's getters (the client's address,
 * its AbortSignal), which a spread does not copy.
 */
type RouteHandler = (
  request: ServerRequest,
  target: SiteTarget,
  response: ResponseWriter,
) => void | Promise<void>;
/** What a path answers to. HEAD is never listed: it runs the GET handler without the body. */
type Route = { GET?: RouteHandler; POST?: RouteHandler };

const STATIC_PREFIX = '/static/';
const DEFAULT_STREAM_INTERVAL_MS = 300;
/** RFC 9110 §9: the methods HTTP defines. Any other is not "wrong here" but unknown: 501. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

export function createSiteServer(options: SiteOptions = {}): HttpServer {
  return createHttpServer(createSiteHandler(options), options);
}

/** The handler: target → route → method → route handler. */
export function createSiteHandler(options: SiteOptions = {}): Handler {
  const publicDir = options.publicDir ?? PUBLIC_DIR;
  const streamIntervalMs = options.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS;
  const routes: Record<string, Route> = {
    '/': { GET: sendHomePage },
    '/hello': { GET: sendHello },
    '/echo': { GET: sendEcho, POST: sendEcho },
    '/form': { POST: receiveForm },
    '/api/greeting': { POST: receiveJson },
    '/stream': {
      GET: (request, _target, response) => sendStream(request, response, streamIntervalMs),
    },
  };
  const staticRoute: Route = {
    GET: (_request, target, response) =>
      serveStatic(publicDir, target.path.slice(STATIC_PREFIX.length), response),
  };

  return async (request, response) => {
    const target = parseTarget(request.head.target);
    const route =
      routes[target.path] ?? (target.path.startsWith(STATIC_PREFIX) ? staticRoute : undefined);
    if (route === undefined)
      throw new HttpError(404, 'Nothing here: try / for the list of pages.', false);
    const handle = pickHandler(route, request.head.method);
    await handle(request, target, response);
  };
}

/**
 * Split a request-target into its path, percent-decoded exactly once (decoding twice would
 * turn "%252e" into "."), and its query. RFC 9112 §3.2: "/path?query" (origin-form) or
 * "http://host/path?query" (absolute-form, which a server must also accept).
 */
function parseTarget(target: string): SiteTarget {
  const { path: rawPath, query: rawQuery } = splitTarget(target);
  let path: string;
  try {
    path = decodeURIComponent(rawPath === '' ? '/' : rawPath);
  } catch {
    throw new HttpError(
      400,
      'Bad percent-encoding in the path: "%" must be followed by two hex digits of UTF-8.',
      false,
    );
  }
  // URLSearchParams decodes "+" as a space and %XX as UTF-8, as HTML forms encode them.
  return { path, query: new URLSearchParams(rawQuery) };
}

function pickHandler(route: Route, method: string): RouteHandler {
  let handler: RouteHandler | undefined;
  // RFC 9110 §9.3.2: HEAD is GET without the body; the response writer leaves the body out.
  if (method === 'GET' || method === 'HEAD') handler = route.GET;
  else if (method === 'POST') handler = route.POST;
  if (handler !== undefined) return handler;
  if (!KNOWN_METHODS.has(method))
    throw new HttpError(501, 'Unknown method: this server implements GET, HEAD and POST.', false);
  const allow = [...(route.GET ? ['GET', 'HEAD'] : []), ...(route.POST ? ['POST'] : [])];
  throw new MethodNotAllowed(method, allow);
}

// ---- Routes, in the order of the table --------------------------------------------------

function sendHomePage(request: ServerRequest, _target: SiteTarget, response: ResponseWriter): void {
  // HTTP/1.0 requests may have no Host; then name the address the client reached.
  const host =
    headerValue(request.head.headers, 'host') ?? `${request.localAddress}:${request.localPort}`;
  sendHtml(response, 200, homePage(host));
}

function sendHello(_request: ServerRequest, target: SiteTarget, response: ResponseWriter): void {
  const name = target.query.get('name')?.trim() || 'world';
  sendHtml(response, 200, helloPage(name));
}

/** The request as parsed: request line, header fields in order (duplicates kept), body. */
async function sendEcho(
  request: ServerRequest,
  siteTarget: SiteTarget,
  response: ResponseWriter,
): Promise<void> {
  const { method, target, version, headers } = request.head;
  // Simplification: the body is shown as UTF-8 text; other bytes become U+FFFD.
  const body = (await request.body.readAll()).toString('utf8');
  const client = `${request.remoteAddress}:${request.remotePort}`;
  if (wantsJson(request, siteTarget)) {
    const report = {
      method,
      target,
      version,
      headers: headers.map((field) => [field.name, field.value]),
      body,
      client,
    };
    sendJson(response, 200, report);
    return;
  }
  const lines = [
    `${method} ${target} ${version}`,
    ...headers.map((field) => `${field.name}: ${field.value}`),
  ];
  const intro = `Your request, as parsed by the server (from ${client}):`;
  const text = `${intro}\n\n${lines.join('\n')}\n\n${body}`;
  // text/plain + nosniff: the request is shown as text, never interpreted as HTML.
  response.sendWhole(
    200,
    [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['X-Content-Type-Options', 'nosniff'],
    ],
    text,
  );
}

async function receiveForm(
  request: ServerRequest,
  _target: SiteTarget,
  response: ResponseWriter,
): Promise<void> {
  requireContentType(request, 'application/x-www-form-urlencoded', 'name=Ada&message=hi');
  // The body looks like a query string: name=Ada&message=Hello+%26+welcome
  const form = new URLSearchParams((await request.body.readAll()).toString('utf8'));
  sendHtml(response, 200, formResultPage([...form.entries()]));
}

async function receiveJson(
  request: ServerRequest,
  _target: SiteTarget,
  response: ResponseWriter,
): Promise<void> {
  requireContentType(request, 'application/json', '{"name": "Ada"}');
  const text = (await request.body.readAll()).toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // Not JSON.parse's own message: it quotes the body back, and we never echo raw input.
    const position = /position (\d+)/.exec(String(error));
    const where = position === null ? '' : ` (near byte ${position[1]})`;
    throw new HttpError(
      400,
      `The body is not valid JSON${where}: send e.g. {"name": "Ada"}.`,
      false,
    );
  }
  const name = typeof data === 'object' && data !== null && 'name' in data ? data.name : undefined;
  if (typeof name !== 'string' || name.trim() === '') {
    // Well-formed JSON that means nothing to us: RFC 9110 §15.5.21.
    throw new HttpError(
      422,
      'Expected a JSON object with a non-empty "name" string, e.g. {"name": "Ada"}.',
      false,
    );
  }
  sendJson(response, 200, {
    greeting: `Hello, ${name.trim()}!`,
    receivedBytes: Buffer.byteLength(text),
  });
}

/**
 * A body whose length is not known when the head goes out: no Content-Length, so the writer
 * frames it with `Transfer-Encoding: chunked` (RFC 9112 §7.1). `curl -N` shows each line arrive.
 */
async function sendStream(
  request: ServerRequest,
  response: ResponseWriter,
  intervalMs: number,
): Promise<void> {
  const count = 5;
  response.writeHead(200, [['Content-Type', 'text/plain; charset=utf-8']]);
  if (request.head.method === 'HEAD') return;
  for (let i = 1; i <= count; i++) {
    if (i > 1) await sleep(intervalMs); // a pause: each chunk goes out before the next is made
    if (request.signal.aborted) return; // the client left; the server closes the connection
    if (!response.write(Buffer.from(`chunk ${i} of ${count}\n`))) await response.drained();
  }
}

// ---- Small helpers -----------------------------------------------------------------------

function sendHtml(response: ResponseWriter, status: number, html: string): void {
  response.sendWhole(status, [['Content-Type', 'text/html; charset=utf-8']], html);
}

function sendJson(response: ResponseWriter, status: number, value: unknown): void {
  response.sendWhole(
    status,
    [['Content-Type', 'application/json']],
    `${JSON.stringify(value, null, 2)}\n`,
  );
}

/** `/echo?format=json`, or `Accept: application/json` (RFC 9110 §12.5.1, much simplified). */
function wantsJson(request: ServerRequest, target: SiteTarget): boolean {
  const accept = headerValue(request.head.headers, 'accept') ?? '';
  return target.query.get('format') === 'json' || accept.toLowerCase().includes('application/json');
}

/** 415 unless the body is declared as `mediaType` (parameters such as charset are ignored). */
function requireContentType(request: ServerRequest, mediaType: string, example: string): void {
  const contentType = headerValue(request.head.headers, 'content-type') ?? '';
  if (contentType.split(';')[0].trim().toLowerCase() !== mediaType) {
    throw new HttpError(415, `Send the body as Content-Type: ${mediaType}, e.g. ${example}`, false);
  }
}
