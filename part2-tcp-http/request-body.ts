// The body of one request, handed to the handler as it arrives: `await body.read()` until it
// returns null, or `for await (const piece of body)`, or `await body.readAll()`.
//
// The server pushes the pieces its parser finds (already de-chunked) and says when the body
// ends or fails; the handler reads them. Whatever the handler has not read yet waits in a
// ByteQueue, so it costs about its own size whatever its framing, and never more than the body
// limit. A handler that answers without reading the body leaves it to the server, which reads
// the rest and drops it (discard), so the next request on the connection can be read.
import { ByteQueue } from './byte-queue.ts';

export class RequestBody implements AsyncIterable<Buffer> {
  /** Called once, on the first read: the server sends `100 Continue` from here if asked. */
  onFirstRead: (() => void) | null = null;
  private readonly held = new ByteQueue();
  private ended = false;
  private discarding = false;
  private error: Error | null = null;
  private wakeReader: (() => void) | null = null;

  /** True when every byte has arrived and been read. */
  get done(): boolean {
    return this.ended && this.held.length === 0;
  }

  push(piece: Uint8Array): void {
    if (this.discarding) return;
    this.held.push(piece);
    this.wake();
  }

  finish(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: Error): void {
    this.error ??= error;
    this.wake();
  }

  /** Nobody will read the rest: drop what is held and whatever still arrives. */
  discard(): void {
    this.discarding = true;
    this.held.take(this.held.length);
  }

  /** The next piece of the body, or null at its end. Rejects if the body was malformed or cut. */
  async read(): Promise<Buffer | null> {
    this.onFirstRead?.();
    this.onFirstRead = null;
    for (;;) {
      if (this.held.length > 0) return this.held.shift();
      if (this.error !== null) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }

  /** The whole body as one Buffer (bounded by the server's body limit). */
  async readAll(): Promise<Buffer> {
    this.onFirstRead?.();
    this.onFirstRead = null;
    for (;;) {
      if (this.error !== null) throw this.error;
      if (this.ended) return this.held.take(this.held.length);
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let piece = await this.read(); piece !== null; piece = await this.read()) yield piece;
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = null;
    wake?.();
  }
}
