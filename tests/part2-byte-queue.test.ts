// The queue that holds a request body's bytes: what goes in comes out, in order, byte for byte,
// however it was pushed and taken; and it holds copies, never the caller's buffers.
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../part2-tcp-http/byte-queue.ts';

/** A deterministic pseudo-random sequence (so a failure can be rerun). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('ByteQueue', () => {
  it('gives back every byte pushed, in order, for any mix of piece sizes, take(), shift() and indexOf()', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const queue = new ByteQueue();
      let model = Buffer.alloc(0);
      for (let step = 0; step < 400; step++) {
        const choice = next();
        if (choice < 0.5) {
          // Mostly tiny pieces, sometimes one larger than a block.
          const size = next() < 0.9 ? Math.floor(next() * 20) : Math.floor(next() * 200_000);
          const piece = Buffer.alloc(size, Math.floor(next() * 256));
          queue.push(piece);
          model = Buffer.concat([model, piece]);
        } else if (choice < 0.75) {
          const count = Math.floor(next() * 3_000);
          expect(queue.take(count).equals(model.subarray(0, count)), `seed ${seed} step ${step}`).toBe(true);
          model = model.subarray(Math.min(count, model.length));
        } else if (choice < 0.9) {
          const piece = queue.shift();
          expect(piece.equals(model.subarray(0, piece.length))).toBe(true);
          if (model.length > 0) expect(piece.length).toBeGreaterThan(0);
          model = model.subarray(piece.length);
        } else {
          const byte = Math.floor(next() * 256);
          const from = Math.floor(next() * (model.length + 2));
          expect(queue.indexOf(byte, from), `seed ${seed} step ${step}`).toBe(model.indexOf(byte, from));
        }
        expect(queue.length).toBe(model.length);
      }
    }
  });

  it('keeps a copy: changing or dropping the pushed buffer changes nothing held', () => {
    const queue = new ByteQueue();
    const piece = Buffer.from('hello');
    queue.push(piece);
    piece.fill(0);
    expect(queue.take(5).toString()).toBe('hello');
  });

  it('gives an empty buffer when asked for bytes it does not have', () => {
    const queue = new ByteQueue();
    expect(queue.shift().length).toBe(0);
    expect(queue.take(10).length).toBe(0);
    expect(queue.indexOf(0x0a)).toBe(-1);
  });
});
