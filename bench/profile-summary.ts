// Where a server spends its time, from a `node --cpu-prof` profile: self time and total time
// (self plus everything it called) per function, largest first.
//
//   npm run bench -- --only part2 --cpu-prof --rounds 1      writes bench/profiles/part2/CPU.*.cpuprofile
//   npx tsx bench/profile-summary.ts bench/profiles/part2/CPU.*.0.001.cpuprofile [--top 30] [--files] [--after 3]
//
// --after S leaves out the first S seconds (start-up: loading and compiling modules).
//
// A .cpuprofile is JSON: a tree of call-frame nodes, and a list of samples (which node was on
// top of the stack) with the time since the previous sample. Self time is the sum of the time
// of a function's own samples; total time counts a sample for every function on its stack.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Not JavaScript at all: waiting for events, V8 and libuv internals, the garbage collector. */
const PSEUDO_FRAMES = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function main(argv: string[]): void {
  const file = argv.find((arg) => !arg.startsWith('--'));
  if (file === undefined) {
    console.error('Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--files] [--after S]');
    process.exit(2);
  }
  const topIndex = argv.indexOf('--top');
  const top = topIndex === -1 ? 25 : Number(argv[topIndex + 1]);
  const byFile = argv.includes('--files');
  const afterIndex = argv.indexOf('--after');
  const afterUs = afterIndex === -1 ? 0 : Number(argv[afterIndex + 1]) * 1e6;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const keyOf = (node: ProfileNode): string => (byFile ? fileOf(node.callFrame) : describe(node.callFrame));

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idleUs = 0;
  let allUs = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    elapsedUs += deltaUs;
    const node = nodes.get(id);
    if (node === undefined || elapsedUs < afterUs) return;
    allUs += deltaUs;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += deltaUs;
      return;
    }
    add(self, keyOf(node), deltaUs);
    // Each function once per sample, however deep it recurses.
    const onStack = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const frame = nodes.get(current);
      if (frame !== undefined && frame.callFrame.functionName !== '(root)') onStack.add(keyOf(frame));
    }
    for (const key of onStack) add(total, key, deltaUs);
  });

  const busyUs = allUs - idleUs;
  console.log(
    `${file}: ${(allUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s busy (${((busyUs / allUs) * 100).toFixed(0)}%); percentages are of busy time.\n`,
  );
  console.log(`${'self %'.padStart(7)} ${'total %'.padStart(8)}  ${byFile ? 'file' : 'function (file:line)'}`);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, selfUs] of rows) {
    const percent = (us: number): string => `${((us / busyUs) * 100).toFixed(1)}%`;
    console.log(`${percent(selfUs).padStart(7)} ${percent(total.get(key) ?? 0).padStart(8)}  ${key}`);
  }
}

function add(totals: Map<string, number>, key: string, value: number): void {
  totals.set(key, (totals.get(key) ?? 0) + value);
}

function describe(frame: CallFrame): string {
  if (PSEUDO_FRAMES.has(frame.functionName)) return frame.functionName;
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  // lineNumber is 0-based in the profile.
  return frame.url === '' ? `${name} (native)` : `${name} (${shortUrl(frame.url)}:${frame.lineNumber + 1})`;
}

function fileOf(frame: CallFrame): string {
  if (PSEUDO_FRAMES.has(frame.functionName)) return frame.functionName;
  return frame.url === '' ? '(native)' : shortUrl(frame.url);
}

/** file:///…/part2-tcp-http/parser.ts → part2-tcp-http/parser.ts; node:internal/… unchanged. */
function shortUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  return relative(process.cwd(), new URL(url).pathname);
}

main(process.argv.slice(2));
