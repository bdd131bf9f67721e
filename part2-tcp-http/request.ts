// The request a handler is given (server.ts, ServerRequest): the parsed head, the body to read,
// the two ends' addresses, and a signal that fires if the client leaves before the answer is
// complete. The connection (connection.ts) makes one per request, with the response that
// answers it, and holds it until that answer has gone.
//
// The addresses and the signal are getters: each is made or asked for the first time a
// handler reads it, and most handlers never do. (So a copy made with `{ ...request }` lacks
// them: a spread copies an object's own fields, not its class's getters.)
import type { Socket } from 'node:net';
import type { RequestHead } from './head.ts';
import type { RequestBody } from './request-body.ts';
import type { ResponseWriter } from './response.ts';
import type { ServerRequest } from './server.ts';

export const CLIENT_DISCONNECTED = 'The client disconnected.';

export class IncomingRequest implements ServerRequest {
  readonly head: RequestHead;
  readonly body: RequestBody;
  /** The answer to this request, which the handler writes. */
  readonly response: ResponseWriter;
  readonly #socket: Socket;
  /** Made on the first read of `signal`; aborted if the client leaves first. */
  #controller: AbortController | null = null;

  constructor(head: RequestHead, body: RequestBody, response: ResponseWriter, socket: Socket) {
    this.head = head;
    this.body = body;
    this.response = response;
    this.#socket = socket;
  }

  // The first read of an address is a system call (getpeername, getsockname), which Node then
  // remembers for the socket: with a connection per request, reading all four for every
  // request cost 7% of the time (bench/README.md, item 14).
  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }

  get localAddress(): string {
    return this.#socket.localAddress ?? '';
  }

  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  /**
   * Made the first time it is read: an AbortSignal costs microseconds to make and more to
   * collect (bench/README.md, item 2). One asked for after the client left is aborted at once.
   */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.response.clientGone) this.clientLeft();
    return this.#controller.signal;
  }

  /** The client left: if the answer was not complete, the signal (if anyone made it) fires. */
  clientLeft(): void {
    if (!this.response.finished) this.#controller?.abort(new Error(CLIENT_DISCONNECTED));
  }
}
