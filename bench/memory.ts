// The memory of what a user starts: `npm run part3 -- part3-gateway/apps/hello.ts`, which is
// `node --import tsx part3-gateway/main.ts part3-gateway/apps/hello.ts`, against the same two
// files compiled ahead (compile.ts) and run with plain `node`. For each, in turn, several rounds:
//
//   start it on a free port → one request → peak memory "at rest" → keep-alive load, then
//   Connection: close load → peak memory "after load" → stop it
//
// then the medians and their ratio, which issue 17 wants within 15% (≤ 1.15×).
//
//   npm run bench:memory                                  (from the repository root)
//   npm run bench:memory -- --rounds 5 --duration 5
//   npx -y -p node@22 -- npm run bench:memory             (the same on another Node)
//
// Peak memory is VmHWM from /proc/PID/status: Linux only. It measures the server's process,
// not npm's (npm run adds a process of its own, the same whatever it starts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileFiles } from './compile.ts';
import { generatorName, pickGenerator, runLoad, type GeneratorName } from './loadgen.ts';
import { peakRssFromProc } from './machine.ts';
import { wholeNumber } from './options.ts';
import { median } from './report.ts';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = fileURLToPath(new URL('./.build-memory/', import.meta.url));
const MAIN = 'part3-gateway/main.ts';
const APP = 'part3-gateway/apps/hello.ts';
const GOAL = 1.15;
const START_TIMEOUT_MS = 30_000;

interface Variant {
  label: string;
  args: string[];
}

interface Sample {
  restBytes: number;
  loadBytes: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '3' },
      loadgen: { type: 'string' },
    },
  });
  if (process.platform !== 'linux') {
    console.log('bench/memory.ts reads peak memory from /proc (VmHWM): it runs on Linux only.');
    return;
  }
  const rounds = wholeNumber('--rounds', values.rounds);
  const durationSeconds = wholeNumber('--duration', values.duration);
  const generator = pickGenerator(values.loadgen === undefined ? undefined : generatorName(values.loadgen));
  const [main, app] = compileFiles([`${REPOSITORY}${MAIN}`, `${REPOSITORY}${APP}`], OUTPUT);
  const variants: Variant[] = [
    { label: `npm run part3 -- ${APP} (node --import tsx)`, args: ['--import', 'tsx', MAIN, APP] },
    { label: 'the same, compiled ahead (node main.js hello.js)', args: [main, app] },
  ];
  console.log(
    `Node ${process.version}; ${rounds} round${rounds === 1 ? '' : 's'}; ${durationSeconds} s of keep-alive and ${durationSeconds} s of Connection: close load (${generator}) a round.`,
  );
  const samples = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order, as run.ts does, so neither always runs first.
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const sample = await measure(variant, generator, durationSeconds);
      samples.get(variant)?.push(sample);
      console.log(
        `round ${round}/${rounds}  ${variant.label}: ${mib(sample.restBytes)} at rest, ${mib(sample.loadBytes)} after load`,
      );
    }
  }
  const [tsx, compiled] = variants.map((variant) => {
    const list = samples.get(variant) ?? [];
    return {
      rest: median(list.map((sample) => sample.restBytes)),
      load: median(list.map((sample) => sample.loadBytes)),
    };
  });
  const ratio = tsx.load / compiled.load;
  console.log(
    `\nMedians: npm run part3 ${mib(tsx.load)} after load (${mib(tsx.rest)} at rest); compiled ahead ${mib(compiled.load)} (${mib(compiled.rest)}).`,
  );
  console.log(
    `${ratio <= GOAL ? '✓' : '✗'} npm run part3, peak RSS ÷ compiled ahead: ${ratio.toFixed(2)}× (goal ≤ ${GOAL.toFixed(2)})`,
  );
}

/** Start one variant, measure it at rest and after load, stop it. */
async function measure(variant: Variant, generator: GeneratorName, durationSeconds: number): Promise<Sample> {
  const child = spawn(process.execPath, [...variant.args, '--port', '0'], {
    cwd: REPOSITORY,
    env: { ...process.env, PORT: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await listeningUrl(child);
    const pid = child.pid ?? 0;
    await fetch(url).then((response) => response.arrayBuffer());
    const restBytes = peakRss(pid);
    await runLoad(generator, { url, connections: 50, durationSeconds, close: false, cpu: null });
    await runLoad(generator, { url, connections: 50, durationSeconds, close: true, cpu: null });
    return { restBytes, loadBytes: peakRss(pid) };
  } finally {
    await stop(child);
  }
}

/** The URL the server prints once it listens ("… on http://127.0.0.1:PORT/"). */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`No "http://127.0.0.1:PORT/" within ${START_TIMEOUT_MS} ms; it printed: ${output}`)),
      START_TIMEOUT_MS,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve(match[0]);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The server exited (code ${code}) before listening; it printed: ${output}`));
    });
  });
}

function peakRss(pid: number): number {
  const bytes = peakRssFromProc(pid);
  if (bytes === null) throw new Error(`No VmHWM in /proc/${pid}/status.`);
  return bytes;
}

/** SIGTERM (the server stops gracefully), and wait for it to be gone. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
