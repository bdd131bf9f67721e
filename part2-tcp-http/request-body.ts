// The body of one request, read by the handler as it arrives: `await body.read()` until it
// returns null, or `for await (const piece of body)`, or `await body.readAll()`.
//
// Each read pulls the next piece from the connection (connection.ts → readBody), which parses
// it out of the bytes received (de-chunked). Nothing is read that nobody asked for: a handler
// that does not read leaves the bytes in the socket, and TCP slows the client down
// (backpressure), up to the point where the connection reads the rest itself, to drop it and
// find the next request.
import { ByteQueue } from './byte-queue.ts';

/** Where a body's pieces come from: the connection that reads them (connection.ts). */
export interface BodySource {
  /** Called once, before the first read: where `100 Continue` is sent to a client that asked. */
  bodyWanted(): void;
  /** The next piece of the body, or null at its end. */
  readBody(): Promise<Buffer | null>;
}

export class RequestBody implements AsyncIterable<Buffer> {
  private ended: boolean;
  /** The handler is done with the body (close). */
  private closed = false;
  private wanted = false;
  private failure: { error: unknown } | null = null;
  private readonly source: BodySource;

  /** `empty`: the request has no body at all (no Content-Length, no Transfer-Encoding). */
  constructor(source: BodySource, empty: boolean) {
    this.source = source;
    this.ended = empty;
  }

  /** True once the whole body has been read. */
  get done(): boolean {
    return this.ended;
  }

  /**
   * The next piece of the body, or null at its end. Rejects if the body is malformed, too
   * large, stalls or is cut off: the error's `status` (an HttpError's) says how to answer.
   */
  async read(): Promise<Buffer | null> {
    if (!this.wanted) {
      this.wanted = true;
      this.source.bodyWanted();
    }
    if (this.failure !== null) throw this.failure.error;
    if (this.ended || this.closed) return null;
    try {
      const piece = await this.source.readBody();
      if (piece === null) this.ended = true;
      return piece;
    } catch (error) {
      this.failure = { error };
      throw error;
    }
  }

  /** The whole body as one Buffer (bounded by the server's body limit). */
  async readAll(): Promise<Buffer> {
    // Pieces may be tiny (a chunked body of one-byte chunks): collected in a ByteQueue, they
    // cost about the body's size, not an object each.
    const all = new ByteQueue();
    for (let piece = await this.read(); piece !== null; piece = await this.read()) all.push(piece);
    return all.take(all.length);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let piece = await this.read(); piece !== null; piece = await this.read()) yield piece;
  }

  /**
   * The handler is done: later reads end at once. What is left of the body is the
   * connection's to read and drop, to find where the next request begins.
   */
  close(): void {
    this.closed = true;
  }
}
