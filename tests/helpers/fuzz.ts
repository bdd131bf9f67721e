// A seeded generator of request byte streams for property tests, and a shrinker for the input
// that breaks a property. No dependency: a 32-bit PRNG (mulberry32) drives everything, so one
// seed reproduces a whole run, and a failure prints that seed and a minimized input.
//
//   const random = mulberry32(seed);
//   const input = generateInput(random);      // { bytes, cuts }: what to send and where to split it
//   const smallest = shrink(input, (candidate) => failureOf(candidate) !== null);
//
// Inputs are valid requests mutated (bits flipped; bytes inserted, deleted, duplicated; the
// stream truncated; framing-sensitive snippets spliced in) or pure noise. `cuts` are the
// offsets at which the bytes are delivered in separate reads (TCP keeps no boundaries).

/** The seed for this run: STRESS_SEED from the environment (decimal or 0x-hex), else a fresh one. */
export function seedFromEnv(): number {
  const text = process.env.STRESS_SEED;
  if (text !== undefined && text !== '') {
    const seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new Error(`STRESS_SEED must be a 32-bit unsigned integer, got ${JSON.stringify(text)}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzInput {
  bytes: Buffer;
  /** Offsets (ascending, inside the bytes) where one read ends and the next begins. */
  cuts: number[];
}

/** Well-formed requests the mutations start from: every framing the parser knows. */
export const VALID_REQUESTS: readonly string[] = [
  'GET /hello?name=Ada HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
  'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;note=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n',
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'PUT /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata',
  'HEAD /page HTTP/1.1\r\nHost: x\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://x/abs?q=1 HTTP/1.1\r\nHost: x\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n',
  '\r\nPOST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
];

/** Snippets that touch framing decisions: spliced in, they make the interesting cases likely. */
const SNIPPETS: readonly string[] = [
  '\r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: 99999999\r\n',
  'Host: y\r\n',
  ' ',
  '\t',
  ':',
  ';',
  ',',
  '0\r\n\r\n',
  'ffffffff\r\n',
  'GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n',
  'Expect: 100-continue\r\n',
  'HTTP/1.0',
  '\0',
  '\xff',
];

/** Bytes a mutation most likely inserts: delimiters and digits, where parsers go wrong. */
const INTERESTING_BYTES = Buffer.from('\r\n \t:;,0123456789abcdefABCDEF-+/?#%\0\x7f\x80\xff', 'latin1');

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const below = (random: () => number, n: number): number => Math.floor(random() * n);

type Mutation = (random: () => number, bytes: Buffer) => Buffer;

const MUTATIONS: readonly Mutation[] = [
  function flipBit(random, bytes) {
    if (bytes.length === 0) return bytes;
    const copy = Buffer.from(bytes);
    copy[below(random, copy.length)] ^= 1 << below(random, 8);
    return copy;
  },
  function insertByte(random, bytes) {
    const at = below(random, bytes.length + 1);
    const byte = random() < 0.7 ? INTERESTING_BYTES[below(random, INTERESTING_BYTES.length)] : below(random, 256);
    return Buffer.concat([bytes.subarray(0, at), Buffer.of(byte), bytes.subarray(at)]);
  },
  function deleteRange(random, bytes) {
    const at = below(random, bytes.length + 1);
    const length = 1 + below(random, 8);
    return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
  },
  function truncate(random, bytes) {
    return bytes.subarray(0, below(random, bytes.length + 1));
  },
  function duplicateRange(random, bytes) {
    const from = below(random, bytes.length + 1);
    const slice = bytes.subarray(from, from + 1 + below(random, 40));
    const at = below(random, bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), slice, bytes.subarray(at)]);
  },
  function spliceSnippet(random, bytes) {
    const at = below(random, bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(random, SNIPPETS), 'latin1'), bytes.subarray(at)]);
  },
];

/** Random bytes: sometimes any byte at all, sometimes only what HTTP heads are made of. */
function noise(random: () => number): Buffer {
  const length = below(random, 300);
  const alphabet = random() < 0.5 ? null : INTERESTING_BYTES;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++)
    bytes[i] = alphabet === null ? below(random, 256) : alphabet[below(random, alphabet.length)];
  return bytes;
}

/** Split points: none (one read), every byte, or a few at random. */
function randomCuts(random: () => number, length: number): number[] {
  const choice = random();
  if (choice < 0.3 || length < 2) return [];
  if (choice < 0.4) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const cuts = new Set<number>();
  const count = 1 + below(random, 6);
  for (let i = 0; i < count; i++) cuts.add(1 + below(random, length - 1));
  return [...cuts].sort((a, b) => a - b);
}

/** One input: 10% pure noise, else a valid request (or two, pipelined) with 1 to 4 mutations. */
export function generateInput(random: () => number): FuzzInput {
  let bytes: Buffer;
  if (random() < 0.1) {
    bytes = noise(random);
  } else {
    bytes = Buffer.from(pick(random, VALID_REQUESTS), 'latin1');
    if (random() < 0.2) bytes = Buffer.concat([bytes, Buffer.from(pick(random, VALID_REQUESTS), 'latin1')]);
    const mutations = 1 + below(random, 4);
    for (let i = 0; i < mutations; i++) bytes = pick(random, MUTATIONS)(random, bytes);
  }
  return { bytes, cuts: randomCuts(random, bytes.length) };
}

/** The input's bytes as the reads that deliver them. */
export function pieces(input: FuzzInput): Buffer[] {
  const result: Buffer[] = [];
  let start = 0;
  for (const cut of [...input.cuts, input.bytes.length]) {
    if (cut > start) result.push(input.bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  return result;
}

/**
 * Delta debugging, simply: first try delivering the bytes in one read, then remove ever smaller
 * runs of bytes (halves, quarters, ... single bytes) as long as `fails` still holds. `maxTries`
 * bounds the work (each try may cost a parse or a connection).
 */
export function shrink(input: FuzzInput, fails: (candidate: FuzzInput) => boolean, maxTries = 2_000): FuzzInput {
  let best = input;
  let tries = 0;
  const attempt = (candidate: FuzzInput): boolean => {
    tries++;
    if (!fails(candidate)) return false;
    best = candidate;
    return true;
  };
  if (best.cuts.length > 0) attempt({ bytes: best.bytes, cuts: [] });
  for (
    let size = Math.max(1, best.bytes.length >> 1);
    size >= 1 && tries < maxTries;
    size = size === 1 ? 0 : Math.max(1, size >> 1)
  ) {
    // Walk the removals from the end, so a success does not shift the runs still to try.
    for (let at = best.bytes.length - size; at >= 0 && tries < maxTries; at -= size) {
      const bytes = Buffer.concat([best.bytes.subarray(0, at), best.bytes.subarray(at + size)]);
      attempt({ bytes, cuts: best.cuts.filter((cut) => cut < bytes.length) });
    }
  }
  return best;
}

/** An input printed so it can be pasted back into a test: a JS string literal and its reads. */
export function describeInput(input: FuzzInput): string {
  return `${JSON.stringify(input.bytes.toString('latin1'))} delivered in ${pieces(input).length} read(s), cuts ${JSON.stringify(input.cuts)}`;
}
