// The second server: the part 3 contract served by Node's own `node:http`, whose parser and
// connection handling nobody in this course wrote. It is the other half of "mix and match":
// any app that runs on the gateway server (part3-gateway/server.ts) runs here unchanged.
//
//   node:http parses the request → RequestInfo → buildEnviron → runApplication → a ResponseSink
//   that writes to node:http's ServerResponse
//
// Only the two ends differ from part 3: how the request is read (IncomingMessage instead of
// part 2's parser) and how bytes are written (ServerResponse instead of ResponseWriter). The
// environ and every response rule come from part 3's environ.ts and handler.ts, shared.
//
// Not here: what node:http does not offer us to control — its parser's exact limits (16 KiB of
// headers by default), its error pages for malformed requests (a bare 400, also for HTTP/1.9,
// which part 2 answers as HTTP/1.1), its Server-less default head. What it leaves to us, we
// answer as part 2 does: an invalid Host value (400), `OPTIONS *` (200), CONNECT (501).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HeaderField } from '../part2-tcp-http/head.ts';
import { HttpError } from '../part2-tcp-http/errors.ts';
import { isValidHost } from '../part2-tcp-http/grammar.ts';
import { clientKeepsAlive, INVALID_HOST } from '../part2-tcp-http/head.ts';
import { checkTarget, NO_TUNNEL } from '../part2-tcp-http/target.ts';
import { MAX_BODY_BYTES } from '../part2-tcp-http/parser.ts';
import { sendError, sendServerOptions } from '../part2-tcp-http/errors.ts';
import {
  DeclaredLength,
  ResponseWriter,
  STATUS_REASONS,
  statusForbidsBody,
  type ResponseHeader,
} from '../part2-tcp-http/response.ts';
import { drained, SocketWriter } from '../part2-tcp-http/socket-writer.ts';
import { SERVER_METHODS, SHUTDOWN_DEADLINE_MS } from '../part2-tcp-http/server.ts';
import { HEAD_TIMEOUT_MS, IDLE_TIMEOUT_MS } from '../part2-tcp-http/timeouts.ts';
import type { Application, ErrorStream } from '../part3-gateway/contract.ts';
import { buildEnviron, type RequestInfo } from '../part3-gateway/environ.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { runApplication, type ResponseSink } from '../part3-gateway/handler.ts';
import { stderrErrors } from '../part3-gateway/server.ts';

export interface NodeGatewayOptions {
  errors?: ErrorStream;
  /** Largest request body; node:http has no limit of its own. → 413 */
  maxBodyBytes?: number;
  /**
   * How long the app may take over one request, as on part 3's server
   * (APP_TIMEOUT_MS by default). → 503
   */
  appTimeoutMs?: number;
  /**
   * The methods `OPTIONS *` lists in Allow, as on part 2's server (SERVER_METHODS unless given).
   */
  serverMethods?: readonly string[];
}

/** The Server header of this server's responses (an app may give its own). */
const SERVER_NAME = 'small-journey-node-http';

/** A node:http server with the same graceful `shutdown()` as part 2's server. */
export type NodeGatewayServer = Server & { shutdown(deadlineMs?: number): Promise<void> };

export function createNodeGatewayServer(
  app: Application,
  options: NodeGatewayOptions = {},
): NodeGatewayServer {
  const errors = options.errors ?? stderrErrors;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;

  async function handleRequest(
    request: IncomingMessage,
    response: ServerResponse,
    expectContinue: boolean,
  ): Promise<void> {
    const sink = new ServerResponseSink(response);
    // node:http keeps an HTTP/1.0 connection that asks for both keep-alive and close; close wins.
    const connection = request.headers.connection;
    if (connection !== undefined && !clientKeepsAlive(protocolOf(request), [connection]))
      response.shouldKeepAlive = false;
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort(new Error('The client disconnected.'));
    });
    // What node:http lets through and part 2's parser does not (a Host or an absolute-form
    // authority with an invalid value, a #fragment): the same answer, by the same rules.
    const refusal = refuseTarget(request.method ?? 'GET', request.url ?? '/', request.headers.host);
    if (refusal !== null) {
      sendError(sink, refusal);
      return;
    }
    // `OPTIONS *` is about the server, not a resource: answered here, as part 2's server does.
    if (request.method === 'OPTIONS' && request.url === '*') {
      sendServerOptions(sink, options.serverMethods ?? SERVER_METHODS);
      return;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      sendError(sink, new HttpError(413, `Request body too large: at most ${maxBodyBytes} bytes.`));
      return;
    }
    const environ = buildEnviron(new NodeRequestInfo(request, abort), {
      input: new GatewayInput(bodyReader(request, response, expectContinue, maxBodyBytes)),
      errors,
      multiprocess: false,
    });
    await runApplication(app, environ, sink, { appTimeoutMs: options.appTimeoutMs });
  }

  const server = createServer((request, response) => void handleRequest(request, response, false));
  // With a 'checkContinue' listener, node:http leaves `100 Continue` to us: we send it when the
  // app first reads gateway.input, as part 3's server does.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    // Without a body, nothing waits for the go-ahead; but node:http closes the connection after
    // an Expect whose 100 Continue was never sent. So it is sent, at once (a client must take
    // a 1xx it did not wait for, RFC 9110 §15.2), and the connection is kept.
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (!hasBody) response.writeContinue();
    void handleRequest(request, response, hasBody);
  });
  // node:http hands a CONNECT request to a 'connect' listener, with the raw socket, and drops
  // the connection when there is none. We answer as part 2's parser does (RFC 9110 §9.3.6):
  // 501, we do not tunnel, written with part 2's ResponseWriter since node:http has let go.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    if (!(socket instanceof Socket)) {
      socket.destroy();
      return;
    }
    sendError(
      new ResponseWriter(
        new SocketWriter(socket, {}),
        { method: 'CONNECT', version: 'HTTP/1.1', keepAlive: false },
        { serverName: SERVER_NAME },
      ),
      new HttpError(501, NO_TUNNEL),
    );
    socket.end(); // our FIN after the answer: nothing else will be read on this connection
  });
  // The same timeouts as part 2 (node:http's own defaults are far longer).
  server.headersTimeout = HEAD_TIMEOUT_MS;
  server.keepAliveTimeout = IDLE_TIMEOUT_MS;

  return Object.assign(server, {
    shutdown(deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
      return closed.finally(() => clearTimeout(deadline));
    },
  });
}

/** What buildEnviron needs to know of a node:http request. */
class NodeRequestInfo implements RequestInfo {
  readonly head: RequestInfo['head'];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly #abort: AbortController;

  constructor(request: IncomingMessage, abort: AbortController) {
    this.head = {
      method: request.method ?? 'GET',
      target: request.url ?? '/',
      version: protocolOf(request),
      headers: rawHeaderFields(request.rawHeaders),
    };
    const { socket } = request;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.#abort = abort;
  }

  /**
   * An AbortController makes its signal when the signal is first read, and a signal made for
   * every request cost this server a third more time per request: read it only for an app
   * that asks for gateway.signal (bench/README.md, items 2 and 24).
   */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}

function protocolOf(request: IncomingMessage): 'HTTP/1.0' | 'HTTP/1.1' {
  return request.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
}

/** The HttpError part 2's parser would answer this request line and Host with, or null. */
function refuseTarget(method: string, target: string, host: string | undefined): HttpError | null {
  if (host !== undefined && !isValidHost(host)) return new HttpError(400, INVALID_HOST);
  try {
    checkTarget(method, target);
    return null;
  } catch (error) {
    return error instanceof HttpError ? error : new HttpError(400, 'Malformed request target.');
  }
}

/** node:http's rawHeaders, `['Host', 'x', 'Accept', '*\/*']`, as part 2's list of fields. */
function rawHeaderFields(raw: string[]): HeaderField[] {
  const fields: HeaderField[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) fields.push({ name: raw[i], value: raw[i + 1] });
  return fields;
}

/** The body as a pull source for GatewayInput, with part 2's body limit (→ 413). */
function bodyReader(
  request: IncomingMessage,
  response: ServerResponse,
  expectContinue: boolean,
  maxBodyBytes: number,
): () => Promise<Uint8Array | null> {
  const chunks: AsyncIterator<Buffer> = request[Symbol.asyncIterator]();
  let received = 0;
  let continueSent = !expectContinue;
  return async () => {
    if (!continueSent && !response.headersSent) response.writeContinue();
    continueSent = true;
    const step = await chunks.next();
    if (step.done === true) return null;
    received += step.value.length;
    if (received > maxBodyBytes)
      throw new HttpError(413, `Request body too large: at most ${maxBodyBytes} bytes.`);
    return step.value;
  };
}

/**
 * part 3's ResponseSink on a ServerResponse: node:http frames the body (Content-Length,
 * chunked, or close) and adds Date; this class adds what the contract asks on top of it.
 */
class ServerResponseSink implements ResponseSink {
  /** The Content-Length the body is held to (node:http does not enforce it). */
  private declared: DeclaredLength | null = null;

  private readonly response: ServerResponse;

  constructor(response: ServerResponse) {
    this.response = response;
  }

  get headSent(): boolean {
    return this.response.headersSent;
  }

  get keepAlive(): boolean {
    return this.response.shouldKeepAlive;
  }

  set keepAlive(value: boolean) {
    this.response.shouldKeepAlive = value;
  }

  /** node:http marks the response destroyed when its connection closes. */
  get clientGone(): boolean {
    return this.response.destroyed;
  }

  // The reason defaults to part 2's table, as on the gateway: node:http's own would say, e.g.,
  // "Payload Too Large" for 413, the name RFC 9110 §15.5.14 replaced with "Content Too Large".
  writeHead(
    status: number,
    headers: ResponseHeader[],
    knownLength?: number,
    reason = STATUS_REASONS[status],
  ): void {
    const fields = [...headers];
    let length = fields.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
    if (length === undefined && knownLength !== undefined && !statusForbidsBody(status)) {
      length = String(knownLength);
      fields.push(['Content-Length', length]);
    }
    // RFC 9110 §8.6: an answer with no body (HEAD, 204, 304) may declare the length a GET would
    // get; there is no body to hold to it (but the value is checked all the same).
    const declared = length === undefined ? null : new DeclaredLength(length);
    const bodyless = this.response.req.method === 'HEAD' || statusForbidsBody(status);
    if (!bodyless) this.declared = declared;
    if (!fields.some(([name]) => name.toLowerCase() === 'server'))
      fields.push(['Server', SERVER_NAME]);
    // A flat [name, value, name, value] array keeps order and repeats (Set-Cookie).
    this.response.writeHead(status, reason, fields.flat());
  }

  write(chunk: Uint8Array): boolean {
    this.declared?.count(chunk.length);
    if (this.response.destroyed) return true;
    return this.response.write(chunk);
  }

  drained(): Promise<void> {
    return drained(this.response);
  }

  end(): void {
    this.declared?.finish();
    this.response.end();
  }

  abort(): void {
    // node:http corks the socket for a write() until the next tick; destroy() now would throw
    // those bytes away, and the client would not see the good start of the body, nor even the
    // head. Flush first (as part 2's ResponseWriter.abort does), then cut.
    const socket = this.response.socket;
    while (socket !== null && socket.writableCorked > 0) socket.uncork();
    this.response.destroy();
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
}
