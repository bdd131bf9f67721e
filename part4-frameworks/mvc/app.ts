// The mvc framework's application: URL patterns, views and a middleware chain, packaged as one
// part 3 Application. After Django's request handling (and Express's/Koa's middleware):
//
//   environ → HttpRequest → middleware 1 → middleware 2 → … → resolve URL → view
//                                                                              ↓
//   startResponse + body ← HttpResponse ← middleware 1 ← middleware 2 ← … ← HttpResponse
//
//   import { createApp } from './app.ts';
//   import { path } from './urls.ts';
//   import { HttpResponse } from './http.ts';
//   import { requestLogger, responseTime } from './middleware.ts';
//
//   export const app = createApp({
//     urls: [
//       path('hello/<name>', (request) =>
//         new HttpResponse(`Hello, ${request.params.name}`, { contentType: 'text/plain' }),
//       ),
//     ],
//     middleware: [requestLogger(), responseTime()],
//     debug: true,
//   });
//
//   npm run part3 -- path/to/that-file.ts:app
//
// Errors: a view or middleware that throws HttpException gets an error page with that status;
// any other error is a crash: the stack goes to gateway.errors, and the client gets a 500 page,
// with the stack trace only when `debug` is on (never in production: it shows your code).
//
// Not here: settings files, an ORM, sessions, CSRF protection (a real form needs it), template
// files and inheritance, static files, async streaming responses.
import type { Application, Environ } from '../../part3-gateway/contract.ts';
import { STATUS_REASONS } from '../../part2-tcp-http/response.ts';
import { HttpException, HttpRequest, HttpResponse, type Reverser } from './http.ts';
import { render, template } from './template.ts';
import { resolve, reverse, type MethodViews, type UrlPattern, type View } from './urls.ts';

/**
 * Middleware wraps everything after it: it may act on the request, call `next()` to get the
 * response from the rest of the chain (ending in the view), act on that response, and return
 * it. Or answer by itself and not call `next()` at all (a cache, a login check).
 */
export type Middleware = (
  request: HttpRequest,
  next: () => Promise<HttpResponse>,
) => Promise<HttpResponse>;

export interface AppOptions {
  urls: UrlPattern[];
  /** Outermost first: the first middleware sees the request first and the response last. */
  middleware?: Middleware[];
  /** Show stack traces and the URL patterns on error pages. For development only. */
  debug?: boolean;
}

export function createApp(options: AppOptions): Application {
  const { urls, middleware = [], debug = false } = options;
  const handle = buildChain(middleware, (request) => callView(urls, request, debug), debug);
  const reverser: Reverser = (name, params) => reverse(urls, name, params);
  return async (environ, startResponse) => {
    const response = await handle(new HttpRequest(environ, reverser));
    const status = `${response.status} ${STATUS_REASONS[response.status] ?? 'Unknown Status'}`;
    // A crash's 500 says so to the server through startResponse's third argument (see contract.ts).
    if (response.error !== undefined) startResponse(status, response.headers, response.error);
    else startResponse(status, response.headers);
    return [response.content];
  };
}

type Handler = (request: HttpRequest) => Promise<HttpResponse>;

const METHOD_NAMES = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Wrap the view-calling handler in each middleware, innermost last. Every layer is guarded, as
 * Django does: an exception becomes an error response right there, so the layers outside it
 * (the logger, the timer) still see a response, with its status, and never an exception.
 */
function buildChain(middleware: Middleware[], innermost: Handler, debug: boolean): Handler {
  let handler = guard(innermost, debug);
  for (let i = middleware.length - 1; i >= 0; i--) {
    const layer = middleware[i];
    const next = handler;
    handler = guard((request) => layer(request, () => next(request)), debug);
  }
  return handler;
}

function guard(handler: Handler, debug: boolean): Handler {
  return async (request) => {
    try {
      return await handler(request);
    } catch (error) {
      return errorResponse(request, error, debug);
    }
  };
}

/** Find the URL pattern, pick the view for the method, call it, check what it returned. */
async function callView(
  urls: UrlPattern[],
  request: HttpRequest,
  debug: boolean,
): Promise<HttpResponse> {
  const match = resolve(urls, request.pathInfo);
  if (match === null) {
    const tried = urls.map((pattern) => `'${pattern.route}'`).join(', ');
    throw new HttpException(
      404,
      debug
        ? `No URL pattern matches '${request.pathInfo}'. Tried, in order: ${tried}.`
        : 'There is no page at this address.',
    );
  }
  request.params = match.params;
  const view = viewFor(match.pattern.view, request.method);
  const response: unknown = await view(request);
  if (!(response instanceof HttpResponse)) {
    // Django's own wording for the most common slip in a view.
    throw new TypeError(
      `The view for '${match.pattern.route}' didn't return an HttpResponse object. ` +
        `It returned ${response === undefined ? 'undefined' : typeof response} instead.`,
    );
  }
  return response;
}

/** A plain view takes every method; method views answer theirs, and 405 + Allow for the rest. */
function viewFor(target: View | MethodViews, method: string): View {
  if (typeof target === 'function') return target;
  const name = METHOD_NAMES.find((candidate) => candidate === method.toLowerCase());
  // RFC 9110 §9.3.2: HEAD is GET without the body (the server drops the body).
  const view =
    name === undefined ? undefined : (target[name] ?? (name === 'head' ? target.get : undefined));
  if (view !== undefined) return view;
  const allowed = METHOD_NAMES.filter(
    (candidate) =>
      target[candidate] !== undefined || (candidate === 'head' && target.get !== undefined),
  );
  const allow = allowed.map((candidate) => candidate.toUpperCase()).join(', ');
  throw new HttpException(405, `This address answers ${allow} only.`, [['Allow', allow]]);
}

// ---- Error pages ------------------------------------------------------------------------------

// The pages go through the template engine, so the message and the stack are escaped like
// any other value: an error message may quote the request.
const ERROR_PAGE = template(
  'error page',
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ status }} {{ reason }}</title></head>
<body><h1>{{ status }} {{ reason }}</h1><p>{{ message }}</p></body></html>
`,
);

const DEBUG_PAGE = template(
  'debug page',
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ name }} at {{ path }}</title></head>
<body><h1>{{ name }} at {{ method }} {{ path }}</h1><p>{{ message }}</p>
<pre>{{ stack }}</pre>
<p>You see this because the app runs with debug on; turn it off in production, where a
generic 500 page is shown and the details go to the error log only.</p></body></html>
`,
);

const CRASH_MESSAGE = 'The server failed while answering; the details are in its log.';

function errorResponse(request: HttpRequest, error: unknown, debug: boolean): HttpResponse {
  if (error instanceof HttpException) {
    return render(
      ERROR_PAGE,
      { status: error.status, reason: STATUS_REASONS[error.status], message: error.message },
      { status: error.status, headers: error.headers },
    );
  }
  logCrash(request.environ, error);
  const response = debug
    ? render(
        DEBUG_PAGE,
        {
          name: error instanceof Error ? error.name : 'Error',
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? error.stack : '',
          method: request.method,
          path: request.path,
        },
        { status: 500 },
      )
    : render(
        ERROR_PAGE,
        { status: 500, reason: STATUS_REASONS[500], message: CRASH_MESSAGE },
        { status: 500 },
      );
  response.error = error;
  return response;
}

function logCrash(environ: Environ, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // REQUEST_URI is as sent (visible ASCII, checked by the parser): no newline can forge a log line.
  environ['gateway.errors'].write(
    `[mvc] ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: ${detail}\n`,
  );
}
