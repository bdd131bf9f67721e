// The gateway server: part 2's HTTP/1.1 server, with a handler that speaks the contract of
// contract.ts instead of answering requests itself. For each request:
//
//   part 2 reads and parses it → buildEnviron (environ.ts) → runApplication (handler.ts: calls
//   the app, sends its response) → part 2 goes on to the next request on the connection
//
// Start it from the command line with `npm run part3 -- path/to/app.ts[:export]` (main.ts),
// or in a program / test: `createGatewayServer(app).listen(8003)`.
//
// Not here: TLS (gateway.url_scheme is always 'http'), HTTP/2, a thread pool — one event loop
// serves every connection, and `--workers N` adds processes (workers.ts).
import {
  createHttpServer,
  type Handler,
  type HttpServer,
  type HttpServerOptions,
} from '../part2-tcp-http/server.ts';
import type { Application, ErrorStream } from './contract.ts';
import { buildEnviron } from './environ.ts';
import { runApplication } from './handler.ts';
import { GatewayInput } from './input.ts';

export interface GatewayOptions extends HttpServerOptions {
  /** Where `gateway.errors` writes: standard error unless given. */
  errors?: ErrorStream;
  /** Several processes serve this app (set by `--workers N`); shown as `gateway.multiprocess`. */
  multiprocess?: boolean;
  /** How long the app may take over one request (handler.ts, APP_TIMEOUT_MS by default). → 503 */
  appTimeoutMs?: number;
}

/** The error log on standard error. */
export const stderrErrors: ErrorStream = {
  write: (text) => void process.stderr.write(text),
  flush: () => {},
};

export function createGatewayServer(app: Application, options: GatewayOptions = {}): HttpServer {
  const errors = options.errors ?? stderrErrors;
  const logError = (message: string, error?: unknown): void => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    errors.write(`[gateway] ${message}${error === undefined ? '' : ` ${detail}`}\n`);
  };
  return createHttpServer(createGatewayHandler(app, options), {
    serverName: 'small-journey-gateway',
    logError,
    ...options,
  });
}

/**
 * The gateway as part 2's request handler: each request becomes an environ and an app call.
 * createGatewayServer serves it; a server of your own can wrap it (the challenges' solutions do).
 */
export function createGatewayHandler(app: Application, options: GatewayOptions = {}): Handler {
  const errors = options.errors ?? stderrErrors;
  const multiprocess = options.multiprocess ?? false;
  return (request, response) => {
    // Simplification: the signal fires when the connection closes. A client that leaves sends
    // FIN, which part 2 reads as "done sending, still listening" (a half-close), so an app
    // learns the client is gone at its next write, which fails; a Go server cancels on the FIN.
    const input = new GatewayInput(() => request.body.read());
    const environ = buildEnviron(request, { input, errors, multiprocess });
    return runApplication(app, environ, response, { appTimeoutMs: options.appTimeoutMs });
  };
}
