// An HTTP/1.1 server on `node:net`: it accepts connections and gives each one a loop
// (connection.ts) that reads requests, hands each to the handler, and writes its response:
//
//   accept → for each request: read the head → call the handler → finish the response → …
//
// with keep-alive, pipelining (requests answered in order), Expect: 100-continue, timeouts
// (timeouts.ts), and an answer for every kind of bad input. What a request *means* is up to the
// handler: part 2's small site (site.ts), or part 3's gateway, which reuses this whole server.
//
// Not here: TLS, HTTP/2, Upgrade/WebSocket.
import { Server, type Socket } from 'node:net';
import { Connection } from './connection.ts';
import type { RequestHead } from './head.ts';
import type { ParserLimits } from './parser.ts';
import type { RequestBody } from './request-body.ts';
import type { ResponseWriter } from './response.ts';
import {
  Clock,
  phaseTimeouts,
  SEND_TIMEOUT_MS,
  type Phase,
  type TimeoutOptions,
} from './timeouts.ts';
import type { TraceSink } from './trace.ts';

/** On shutdown, how long in-flight responses may take before their connections are cut. */
export const SHUTDOWN_DEADLINE_MS = 10_000;
/**
 * What `OPTIONS *` lists in Allow. Simplification: the server cannot know which methods its
 * handler's resources take, so it says what the course's sites and apps serve; a server whose
 * handler takes more (PUT, DELETE) lists them with the `serverMethods` option.
 */
export const SERVER_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'OPTIONS'];

/** A request, as the server hands it to its handler. */
export interface ServerRequest {
  head: RequestHead;
  /** The body, read as it arrives: `await body.read()` until null, or `await body.readAll()`. */
  body: RequestBody;
  /** The client's address and port, and ours. */
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Aborted when the client disconnects before the response is complete. */
  readonly signal: AbortSignal;
}

/** Answers one request. Throw an HttpError to answer with its status; any other error is a 500. */
export type Handler = (request: ServerRequest, response: ResponseWriter) => void | Promise<void>;

export interface HttpServerOptions extends TimeoutOptions {
  limits?: Partial<ParserLimits>;
  sendTimeoutMs?: number;
  /** Print every byte received and sent (see trace.ts). */
  trace?: TraceSink;
  /** The Server header value; '' sends none. */
  serverName?: string;
  /** Where errors are reported (the client only ever sees a generic message). */
  logError?: (message: string, error?: unknown) => void;
  /** The methods `OPTIONS *` lists in Allow (SERVER_METHODS unless given). */
  serverMethods?: readonly string[];
}

/** The options with their defaults filled in, as every connection uses them. */
export type ResolvedOptions = HttpServerOptions &
  Required<Pick<HttpServerOptions, 'logError' | 'serverMethods' | 'sendTimeoutMs'>> & {
    /** Each phase's timeout (timeouts.ts), one table for every connection of the server. */
    timeouts: Readonly<Record<Phase, number>>;
  };

function logToConsole(message: string, error?: unknown): void {
  if (error === undefined) console.error(message);
  else console.error(message, error);
}

/** A net.Server speaking HTTP/1.1 to `handler`, with a graceful `shutdown()`. */
export class HttpServer extends Server {
  private readonly openConnections = new Set<Connection>();

  constructor(handler: Handler, options: HttpServerOptions = {}) {
    // allowHalfOpen: a client's FIN ends its requests, not our answers. noDelay: send each
    // response at once, not held back for more bytes (Nagle's algorithm).
    super({ allowHalfOpen: true, noDelay: true });
    const resolved: ResolvedOptions = {
      ...options,
      logError: options.logError ?? logToConsole,
      serverMethods: options.serverMethods ?? SERVER_METHODS,
      sendTimeoutMs: options.sendTimeoutMs ?? SEND_TIMEOUT_MS,
      timeouts: phaseTimeouts(options),
    };
    const clock = new Clock(this.openConnections, resolved.timeouts);
    this.on('connection', (socket: Socket) => {
      const connection = new Connection(socket, handler, resolved, () => {
        this.openConnections.delete(connection);
        clock.stopIfIdle();
      });
      this.openConnections.add(connection);
      clock.start();
    });
  }

  /**
   * Stop accepting connections, close idle ones now, let in-flight responses finish, and cut
   * whatever is still open at the deadline. Resolves when every connection is closed.
   */
  shutdown(deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
    const closed = new Promise<void>((resolve) => this.close(() => resolve()));
    for (const connection of this.openConnections) connection.stop();
    const deadline = setTimeout(() => {
      for (const connection of this.openConnections) connection.destroy();
    }, deadlineMs);
    return closed.finally(() => clearTimeout(deadline));
  }

  /** How many connections are open now (for tests and the shutdown log). */
  get connectionCount(): number {
    return this.openConnections.size;
  }
}

export function createHttpServer(handler: Handler, options: HttpServerOptions = {}): HttpServer {
  return new HttpServer(handler, options);
}
