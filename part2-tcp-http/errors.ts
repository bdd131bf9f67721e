// When a request cannot be served: the HttpError that says which answer it earns, and the two
// answers the server gives without asking its handler.
import { STATUS_REASONS, type ResponseHeader, type ResponseWriter } from './response.ts';

/**
 * A request we will not serve, and the answer it earns. `closeConnection` is true when we can
 * no longer tell where this request ends and the next begins: then the only safe move is to
 * answer and hang up (RFC 9112 §11.2, request smuggling). A handler throws one to answer with
 * its status (404, 405, 415...): an answer it chose, not a bug, so it is never logged as one.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly closeConnection: boolean;

  constructor(status: number, message: string, closeConnection = true) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.closeConnection = closeConnection;
  }
}

/** 405 carries the list of methods the resource does support (RFC 9110 §15.5.6). */
export class MethodNotAllowed extends HttpError {
  readonly allow: string[];

  constructor(method: string, allow: string[]) {
    const shown = method.replace(/[^A-Z]/gi, '?'); // the client's text, made harmless
    super(405, `Method ${shown} is not allowed here; use ${allow.join(' or ')}.`, false);
    this.allow = allow;
  }
}

/**
 * Answer with an HttpError: a short plain-text body saying what was wrong (never the raw
 * input), and `Connection: close` when the error leaves the framing in doubt.
 */
export function sendError(
  response: Pick<ResponseWriter, 'keepAlive' | 'sendWhole'>,
  error: HttpError,
): void {
  if (error.closeConnection) response.keepAlive = false;
  const headers: ResponseHeader[] = [['Content-Type', 'text/plain; charset=utf-8']];
  if (error instanceof MethodNotAllowed) headers.push(['Allow', error.allow.join(', ')]);
  const reason = STATUS_REASONS[error.status] ?? 'Error';
  response.sendWhole(error.status, headers, `${error.status} ${reason}: ${error.message}\n`);
}

/**
 * The answer to `OPTIONS *` (RFC 9110 §9.3.7): 200, the methods this server handles in Allow,
 * and no content (Content-Length: 0).
 */
export function sendServerOptions(
  response: Pick<ResponseWriter, 'sendWhole'>,
  methods: readonly string[],
): void {
  response.sendWhole(200, [['Allow', methods.join(', ')]], '');
}
