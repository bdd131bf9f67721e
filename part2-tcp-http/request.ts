// The request a handler is given (server.ts, ServerRequest): the parsed head, the body to read,
// the two ends' addresses, and a signal that fires if the client leaves before the answer is
// complete. The connection (connection.ts) makes one per request.
import type { Socket } from 'node:net';
import type { RequestHead } from './head.ts';
import type { RequestBody } from './request-body.ts';
import type { ResponseWriter } from './response.ts';
import type { ServerRequest } from './server.ts';

export const CLIENT_DISCONNECTED = 'The client disconnected.';

/** What a request's signal needs to know: its response, and the controller once made. */
export interface Answering {
  response: ResponseWriter;
  /** Made on the first read of request.signal; aborted if the client leaves first. */
  controller: AbortController | null;
}

/** Where a request's `signal` getter finds its Answering (see SIGNAL_GETTER). */
const ANSWERING = Symbol('answering');

export class IncomingRequest implements ServerRequest {
  readonly head: RequestHead;
  readonly body: RequestBody;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  declare readonly signal: AbortSignal; // an own getter (below), so `{ ...request }` keeps it
  readonly [ANSWERING]: Answering;

  constructor(head: RequestHead, body: RequestBody, socket: Socket, answering: Answering) {
    this.head = head;
    this.body = body;
    // Asked of the socket once per connection (getpeername, getsockname), then remembered.
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this[ANSWERING] = answering;
    Object.defineProperty(this, 'signal', SIGNAL_GETTER);
  }
}

/**
 * The getter of every request's `signal`: the AbortSignal is made the first time someone reads
 * it, since one costs microseconds to make and more to collect, and most handlers never look
 * (bench/README.md, item 2). One getter for all requests, each finding its own Answering: a
 * getter written in an object literal cost 4 µs a request (item 3). An own, enumerable
 * property, so that `{ ...request }` keeps the signal.
 */
const SIGNAL_GETTER = {
  get(this: IncomingRequest): AbortSignal {
    const answering = this[ANSWERING];
    answering.controller ??= new AbortController();
    const { response } = answering;
    if (response.clientGone && !response.finished) {
      answering.controller.abort(new Error(CLIENT_DISCONNECTED));
    }
    return answering.controller.signal;
  },
  enumerable: true,
  configurable: true, // middleware may put a signal of its own in its place
};
