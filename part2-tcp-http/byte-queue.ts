// A queue of bytes that costs about what it holds, however the bytes arrived.
//
// A Buffer from a socket is often a view of a larger read buffer: keep a one-byte view and the
// whole read buffer (up to 64 KiB) stays in memory with it. A chunked body of a million
// one-byte chunks, each kept as it came, once cost a server gigabytes for a body under its
// 1 MiB limit. So the queue copies what it is given into blocks of its own, filled end to end:
// memory about the bytes held, one object per block (not per piece), each byte copied once on
// the way in. Taking bytes out hands back views of those blocks, copying only to join bytes
// that span two blocks.

/** The first block's size at least; each next block doubles, up to LARGEST_BLOCK_BYTES. */
const SMALLEST_BLOCK_BYTES = 1024;
const LARGEST_BLOCK_BYTES = 64 * 1024;

export class ByteQueue {
  /** Blocks in order; the first is read from `readAt`, the last is written at `writeAt`. */
  private blocks: Buffer[] = [];
  private readAt = 0;
  private writeAt = 0;
  /** Bytes held: pushed and not yet taken. */
  length = 0;

  /** Append a copy of `bytes` (the caller may reuse or drop its buffer). */
  push(bytes: Uint8Array): void {
    let from = 0;
    while (from < bytes.length) {
      let block = this.blocks.at(-1);
      if (block === undefined || this.writeAt === block.length) {
        const grown = Math.max(SMALLEST_BLOCK_BYTES, 2 * (block?.length ?? 0));
        block = Buffer.allocUnsafe(
          Math.min(LARGEST_BLOCK_BYTES, Math.max(grown, bytes.length - from)),
        );
        this.blocks.push(block);
        this.writeAt = 0;
      }
      const count = Math.min(bytes.length - from, block.length - this.writeAt);
      block.set(bytes.subarray(from, from + count), this.writeAt);
      this.writeAt += count;
      this.length += count;
      from += count;
    }
  }

  /** The bytes at the front that sit in one block (at most `max`), without copying. */
  shift(max = Infinity): Buffer {
    const first = this.blocks[0];
    if (first === undefined) return Buffer.alloc(0);
    const end = this.blocks.length === 1 ? this.writeAt : first.length;
    return this.takeFromFirst(Math.min(max, end - this.readAt));
  }

  /** Exactly `count` bytes from the front (all of them if fewer are held). */
  take(count: number): Buffer {
    const wanted = Math.min(count, this.length);
    const first = this.shift(wanted);
    if (first.length === wanted) return first;
    const joined = Buffer.allocUnsafe(wanted);
    joined.set(first, 0);
    for (let filled = first.length; filled < wanted;) {
      const piece = this.shift(wanted - filled);
      joined.set(piece, filled);
      filled += piece.length;
    }
    return joined;
  }

  /** Where `byte` first occurs at or after position `from` (counted from the front), or -1. */
  indexOf(byte: number, from = 0): number {
    let start = 0; // the position of the current block's first unread byte
    for (let i = 0; i < this.blocks.length; i++) {
      const begin = i === 0 ? this.readAt : 0;
      const end = i === this.blocks.length - 1 ? this.writeAt : this.blocks[i].length;
      const size = end - begin;
      if (from < start + size) {
        const found = this.blocks[i].subarray(begin, end).indexOf(byte, Math.max(0, from - start));
        if (found !== -1) return start + found;
      }
      start += size;
    }
    return -1;
  }

  private takeFromFirst(count: number): Buffer {
    const first = this.blocks[0];
    const taken = first.subarray(this.readAt, this.readAt + count);
    this.readAt += count;
    this.length -= count;
    const end = this.blocks.length === 1 ? this.writeAt : first.length;
    // A block read to its end is dropped; the last block is kept while it has room to fill.
    if (this.readAt === end && (this.blocks.length > 1 || this.writeAt === first.length)) {
      this.blocks.shift();
      this.readAt = 0;
    }
    return taken;
  }
}
