// Two middleware for the mvc framework, each a few lines, to show the shape every middleware
// has (see `Middleware` in app.ts): do something before `next()`, something after, or both.
//
//   createApp({ urls, middleware: [requestLogger(), responseTime()] })
//
// The order matters and is the order of the list: requestLogger is outermost here, so the time
// it logs includes responseTime's own work, and it sees the Server-Timing header already set.
import type { Middleware } from './app.ts';

/**
 * Logs one line per request after the response is made: `GET /mvc/entries 200 1.3ms`.
 * Writes to gateway.errors (the server's log, like wsgiref and gunicorn's access log on stderr)
 * unless given `log`, e.g. `requestLogger((line) => lines.push(line))` in a test.
 */
export function requestLogger(log?: (line: string) => void): Middleware {
  return async (request, next) => {
    const started = performance.now();
    const response = await next();
    const elapsed = (performance.now() - started).toFixed(1);
    // REQUEST_URI, as sent: visible ASCII only, so a request cannot forge a second log line.
    const line = `${request.method} ${request.environ.REQUEST_URI} ${response.status} ${elapsed}ms`;
    if (log !== undefined) log(line);
    else request.environ['gateway.errors'].write(`${line}\n`);
    return response;
  };
}

/**
 * Adds `Server-Timing: app;dur=1.23` (W3C Server Timing): how long the rest of the chain and
 * the view took, in milliseconds. Browsers show it in the developer tools' network panel.
 */
export function responseTime(): Middleware {
  return async (_request, next) => {
    const started = performance.now();
    const response = await next();
    response.setHeader('Server-Timing', `app;dur=${(performance.now() - started).toFixed(2)}`);
    return response;
  };
}
