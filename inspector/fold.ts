// Bytes as the inspector keeps and shows them: each read with its time, `\r\n` made visible,
// and a long run folded to its first and last few hundred bytes and a count of the rest.

/** One read (or the part of it that was kept): when it arrived, in ms since the connection opened. */
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
export const MAX_SEGMENTS_PER_SIDE = 32;

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

interface Kept {
  t: number;
  bytes: Buffer;
}

/**
 * The first `keep` bytes and the last `keep` bytes of a run that may be any length, with the
 * time of each read; what lies between is only counted. Kept bytes are copies: a large read is
 * never held alive by the few bytes kept of it.
 */
export class FoldedBytes {
  private readonly keep: number;
  private readonly start: Kept[] = [];
  private startBytes = 0;
  private readonly end: Kept[] = [];
  private endBytes = 0;
  total = 0;

  constructor(keep: number) {
    this.keep = keep;
  }

  add(t: number, bytes: Buffer): void {
    this.total += bytes.length;
    let rest = bytes;
    if (this.startBytes < this.keep) {
      const part = rest.subarray(0, this.keep - this.startBytes);
      this.startBytes += part.length;
      rest = rest.subarray(part.length);
      const last = this.start.at(-1);
      if (this.start.length >= MAX_SEGMENTS_PER_SIDE && last !== undefined)
        this.start[this.start.length - 1] = { t: last.t, bytes: Buffer.concat([last.bytes, part]) };
      else this.start.push({ t, bytes: Buffer.from(part) });
    }
    if (rest.length === 0) return;
    const tail = rest.subarray(Math.max(0, rest.length - this.keep));
    this.end.push({ t, bytes: Buffer.from(tail) });
    this.endBytes += tail.length;
    // Keep only the last `keep` bytes: drop whole reads from the front, then cut the first.
    while (this.endBytes - this.end[0].bytes.length >= this.keep) {
      this.endBytes -= this.end[0].bytes.length;
      this.end.shift();
    }
    const over = this.endBytes - this.keep;
    if (over > 0) {
      this.end[0] = { t: this.end[0].t, bytes: Buffer.from(this.end[0].bytes.subarray(over)) };
      this.endBytes = this.keep;
    }
    if (this.end.length > MAX_SEGMENTS_PER_SIDE) {
      const [first, second] = this.end.splice(0, 2);
      this.end.unshift({ t: first.t, bytes: Buffer.concat([first.bytes, second.bytes]) });
    }
  }

  view(): FoldedView {
    const show = (kept: Kept[]): Segment[] =>
      kept.map(({ t, bytes }) => ({ t, text: visible(bytes) }));
    return {
      total: this.total,
      start: show(this.start),
      omitted: this.total - this.startBytes - this.endBytes,
      end: show(this.end),
    };
  }
}
