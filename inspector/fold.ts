// Bytes as the inspector keeps and shows them: each read with its time, `\r\n` made visible,
// and a long run folded to its first and last few hundred bytes and a count of the rest.

/**
 * One read (or the part of it that was kept): when it arrived, in ms since the connection opened.
 */
export interface Segment {
  t: number;
  /** The bytes made visible (see `visible`). */
  text: string;
}

/** A folded run of bytes, as the page and the transcript get it. */
export interface FoldedView {
  /** Every byte of the run, kept or not. */
  total: number;
  start: Segment[];
  /** Bytes between `start` and `end` that were counted, not kept. */
  omitted: number;
  end: Segment[];
}

/**
 * Most reads kept on each side of a fold. A sender that trickles one byte per read would
 * otherwise make a few hundred bytes cost a few hundred objects; past this, reads are merged
 * (the start keeps the time of its last kept read, the end the time of its first).
 */
export const MAX_SEGMENTS_PER_SIDE = 16;

/**
 * Bytes as text a learner can read: printable ASCII as it is; CR, LF and TAB as `\r`, `\n`
 * (followed by a real line break), `\t`; a backslash doubled, so `\r` always means the byte;
 * any other byte as `\xHH`. Simplification: UTF-8 is shown byte by byte (`é` is `\xc3\xa9`):
 * this is the wire, not the text it carries.
 */
export function visible(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    if (byte === 0x0d) text += '\\r';
    else if (byte === 0x0a) text += '\\n\n';
    else if (byte === 0x09) text += '\\t';
    else if (byte === 0x5c) text += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** The smallest buffer a side of a fold starts with; it doubles as needed, up to its limit. */
const FIRST_CAPACITY = 64;

/**
 * The reads kept on one side of a fold: their bytes end to end in one buffer, and where each
 * read begins in it and when it arrived. One buffer, grown by doubling up to `limit` and then
 * reused in place, and a list of numbers: with thousands of messages kept, an object or a fresh
 * buffer per read would cost more than the bytes themselves.
 *
 * The buffer owns its memory (allocUnsafeSlow, not Node's shared pool): a few bytes kept must
 * not keep a large read, or a pool slab, alive.
 */
class Reads {
  private readonly limit: number;
  private buffer: Buffer = Buffer.alloc(0);
  length = 0;
  /** Flat pairs: [t, offset, t, offset, ...], offsets rising. */
  private marks: number[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get count(): number {
    return this.marks.length / 2;
  }

  /**
   * Append a read (the caller keeps the total within `limit`);
   * past MAX_SEGMENTS_PER_SIDE it joins the last one.
   */
  append(t: number, part: Buffer): void {
    if (part.length === 0) return;
    if (this.length + part.length > this.buffer.length) {
      const capacity = Math.min(
        this.limit,
        Math.max(FIRST_CAPACITY, 2 * (this.length + part.length)),
      );
      const grown = Buffer.allocUnsafeSlow(capacity);
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    if (this.count < MAX_SEGMENTS_PER_SIDE) this.marks.push(t, this.length);
    this.length += part.copy(this.buffer, this.length);
  }

  /** Forget the first `length` bytes; a read cut in two keeps its time for what is left of it. */
  dropFront(length: number): void {
    this.buffer.copyWithin(0, length, this.length);
    this.length -= length;
    const marks: number[] = [];
    for (let i = 0; i < this.marks.length; i += 2) {
      const nextOffset = i + 3 < this.marks.length ? this.marks[i + 3] - length : this.length;
      if (nextOffset > 0) marks.push(this.marks[i], Math.max(0, this.marks[i + 1] - length));
    }
    this.marks = marks;
  }

  /** Join the first two reads (the end side's way to stay within MAX_SEGMENTS_PER_SIDE). */
  mergeFirstTwo(): void {
    if (this.count >= 2) this.marks.splice(2, 2);
  }

  segments(): Segment[] {
    const segments: Segment[] = [];
    for (let i = 0; i < this.marks.length; i += 2) {
      const end = i + 3 < this.marks.length ? this.marks[i + 3] : this.length;
      segments.push({
        t: this.marks[i],
        text: visible(this.buffer.subarray(this.marks[i + 1], end)),
      });
    }
    return segments;
  }
}

/**
 * The first `keep` bytes and the last `keep` bytes of a run that may be any length, with the
 * time of each read; what lies between is only counted. Kept bytes are copies: a large read is
 * never held alive by the few bytes kept of it.
 */
export class FoldedBytes {
  private readonly keep: number;
  private readonly start: Reads;
  private readonly end: Reads;
  total = 0;

  constructor(keep: number) {
    this.keep = keep;
    this.start = new Reads(keep);
    this.end = new Reads(keep);
  }

  add(t: number, bytes: Buffer): void {
    this.total += bytes.length;
    const room = this.keep - this.start.length;
    this.start.append(t, bytes.subarray(0, room));
    const rest = bytes.subarray(room);
    if (rest.length === 0) return;
    // Keep only the last `keep` bytes after the start: make room, then append.
    const tail = rest.subarray(Math.max(0, rest.length - this.keep));
    const over = this.end.length + tail.length - this.keep;
    if (over > 0) this.end.dropFront(over);
    if (this.end.count >= MAX_SEGMENTS_PER_SIDE) this.end.mergeFirstTwo();
    this.end.append(t, tail);
  }

  view(): FoldedView {
    return {
      total: this.total,
      start: this.start.segments(),
      omitted: this.total - this.start.length - this.end.length,
      end: this.end.segments(),
    };
  }
}
