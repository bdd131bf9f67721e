// `environ['gateway.input']`: the request body as an app reads it (contract.ts, InputStream).
//
//   await input.read()          the whole rest of the body
//   await input.read(4096)      up to 4096 bytes; an empty array at the end
//   await input.readline()      one line, its \n included
//   for await (const chunk of input)
//
// Both servers make one over their own source of body pieces: part 2's RequestBody on part 3's
// server, node:http's IncomingMessage on part 4's.
import { ByteQueue } from '../part2-tcp-http/byte-queue.ts';
import type { InputStream } from './contract.ts';

/**
 * `gateway.input` over a source of body chunks (part 2's RequestBody, or a node:http
 * IncomingMessage). It hands out exactly the bytes asked for, keeping the rest for the next
 * read, and reports the end of the body as an empty array. What it keeps waits in a ByteQueue,
 * so every read is linear in the bytes, however small the pieces the body came in.
 */
export class GatewayInput implements InputStream {
  private readonly pending = new ByteQueue();
  private ended = false;

  private readonly nextChunk: () => Promise<Uint8Array | null>;

  /** `nextChunk` resolves to the next piece of the body, or null at its end. */
  constructor(nextChunk: () => Promise<Uint8Array | null>) {
    this.nextChunk = nextChunk;
  }

  async read(size?: number): Promise<Uint8Array> {
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
      throw new RangeError(
        `read(size): size must be a whole number of bytes or omitted, got ${size}.`,
      );
    }
    const wanted = size ?? Infinity;
    while (this.pending.length < wanted && (await this.fill()));
    return this.pending.take(wanted);
  }

  async readline(size?: number): Promise<Uint8Array> {
    const limit = size ?? Infinity;
    // Where the search for \n resumes: each byte is looked at once, however the line arrives.
    let searched = 0;
    for (;;) {
      const newline = this.pending.indexOf(0x0a, searched);
      if (newline !== -1 && newline < limit) return this.pending.take(newline + 1);
      if (this.pending.length >= limit) return this.pending.take(limit);
      searched = this.pending.length;
      if (!(await this.fill())) return this.pending.take(this.pending.length);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.pending.length > 0) yield this.pending.take(this.pending.length);
    for (let chunk = await this.nextChunk(); chunk !== null; chunk = await this.nextChunk())
      yield chunk;
    this.ended = true;
  }

  /** Pull one more chunk into `pending`; false at the end of the body. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const chunk = await this.nextChunk();
    if (chunk === null) {
      this.ended = true;
      return false;
    }
    this.pending.push(chunk);
    return true;
  }
}
