// The gateway server: part 2's HTTP/1.1 connection loop, with a handler that speaks the
// contract of contract.ts instead of answering requests itself. For each request:
//
//   part 2 reads and parses it → buildEnviron → runApplication (calls the app, sends the
//   response) → part 2 moves on to the next request on the connection
//
// Start it from the command line with `npm run part3 -- path/to/app.ts[:export]` (main.ts),
// or in a program / test: `createGatewayServer(app).listen(8003)`.
//
// Not here: TLS (gateway.url_scheme is always 'http'), HTTP/2, a thread pool — one event loop
// serves every connection, and `--workers N` adds processes (main.ts).
import {
  createHttpServer,
  type Handler,
  type ServerRequest,
  type HttpServer,
  type HttpServerOptions,
} from '../part2-tcp-http/server.ts';
import type { ResponseWriter } from '../part2-tcp-http/response.ts';
import type { Application, ErrorStream } from './contract.ts';
import { buildEnviron, GatewayInput, signalOnDemand, type RequestInfo } from './environ.ts';
import { runApplication } from './handler.ts';

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
  return createHttpServer(createGatewayHandler(app, options), {
    serverName: 'small-journey-gateway',
    logError: (message, error) =>
      errors.write(
        `[gateway] ${message}${error === undefined ? '' : ` ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`}\n`,
      ),
    ...options,
  });
}

/**
 * The gateway as part 2's request handler: each request becomes an environ and an app call.
 * createGatewayServer serves it; a server of your own can wrap it (the challenges' solutions do).
 */
export function createGatewayHandler(app: Application, options: GatewayOptions = {}): Handler {
  const errors = options.errors ?? stderrErrors;

  return function handleRequest(
    request: ServerRequest,
    response: ResponseWriter,
  ): void | Promise<void> {
    const environ = buildEnviron(new ExchangeInfo(request), {
      // Simplification: part 2 buffers body bytes that arrive before the app reads them
      // (bounded by the body limit, 1 MiB), rather than pausing the client's upload.
      input: new GatewayInput(() => request.body.read()),
      errors,
      // Simplification: the signal fires when the connection closes. A client that leaves
      // sends FIN, which part 2 reads as "done sending, still listening" (a half-close), so
      // an app learns the client is gone at its next write, which fails; a Go server, say,
      // cancels on the FIN itself.
      signal: signalOnDemand(request),
      multiprocess: options.multiprocess ?? false,
    });
    return runApplication(app, environ, response, { appTimeoutMs: options.appTimeoutMs });
  };
}

/**
 * Part 2's request as buildEnviron reads it.
 * Fast path: the local address and port are asked of the socket only when buildEnviron needs
 * them, for a request without a Host header (SERVER_NAME, SERVER_PORT). Reading them is a
 * system call (getsockname) the first time on each connection: with a connection per request,
 * 1.5% of the gateway's time for a value nearly every request does without. The client's
 * address is not deferred, though it costs more (bench/README.md, item 20): REMOTE_ADDR is read
 * when the request arrives, since once a client has reset the connection the system can no
 * longer tell it, and an app logging that request would log ''. A class, for the getters: V8
 * builds an object literal with getters the slow way (bench/README.md).
 */
class ExchangeInfo implements RequestInfo {
  readonly method: string;
  readonly target: string;
  readonly protocol: RequestInfo['protocol'];
  readonly headers: RequestInfo['headers'];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #request: ServerRequest;

  constructor(request: ServerRequest) {
    this.method = request.head.method;
    this.target = request.head.target;
    this.protocol = request.head.version;
    this.headers = request.head.headers;
    this.remoteAddress = request.remoteAddress;
    this.remotePort = request.remotePort;
    this.#request = request;
  }

  get localAddress(): string {
    return this.#request.localAddress;
  }

  get localPort(): number {
    return this.#request.localPort;
  }
}
