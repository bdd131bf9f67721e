// The bench runner: `npm run bench` from the repository root (or `npm run bench` in bench/).
//
//   compile the servers to JavaScript (compile.ts) → start every server (servers.ts), each in
//   its own process → check each answers the same response → warm up → rounds: for each test,
//   every server in turn (the order reversed every other round) → medians → ratios to
//   node:http → table, RESULTS.md, results.svg → stop them
//
// Options (a partial run writes no files):
//   --rounds N (3)  --duration S (5, seconds per test)  --only name,name (node-http is always
//   added)  --tests keepAlive,close,oneConnection  --loadgen wrk|autocannon (wrk when installed)
//   --cpu-prof (each server writes profiles to bench/profiles/<name>/)  --no-write
//   --note "text" (a line for RESULTS.md: what else was running, say)
//   --before REV (each course server also as it was at git revision REV, side by side: the way
//   to judge a change, since two runs minutes apart differ more than the change does)
//
// Every number is a ratio to node:http measured in the same run, because absolute numbers
// depend on the machine and on whatever else it is doing; ratios measured side by side hold.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFiles, compileServers } from './compile.ts';
import { COURSE_SERVERS } from './course-servers.ts';
import { generatorName, hasCommand, pickGenerator, runLoad, type GeneratorName } from './loadgen.ts';
import { wholeNumber } from './options.ts';
import { describeMachine, peakRssFromProc, processCpuSeconds, sampleBusyCores } from './machine.ts';
import { TESTS } from './load-tests.ts';
import { renderChart, renderMarkdown, renderTerminal, summarize, type Measurements, type Sample } from './report.ts';
import type { RunnerMessage, ServerMessage } from './serve.ts';
import { checkSameResponse, PATH, SERVERS, type ServerSpec } from './servers.ts';

const BASELINE = 'node-http';
/** How long a server may take to start and report its port. */
const START_TIMEOUT_MS = 20_000;
/** After SIGTERM, how long a server may take to exit before it is killed. */
const STOP_TIMEOUT_MS = 5_000;
const WARM_UP_SECONDS = 2;

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

interface Options {
  rounds: number;
  durationSeconds: number;
  only: string[] | null;
  tests: Array<(typeof TESTS)[number]>;
  generator: GeneratorName;
  cpuProfile: boolean;
  write: boolean;
  /** A line for RESULTS.md about the conditions, e.g. other work known to share the machine. */
  note: string | null;
  /** A git revision whose course servers run beside today's. */
  before: string | null;
}

interface RunningServer {
  spec: ServerSpec;
  child: ChildProcess;
  pid: number;
  port: number;
}

/** Linux with taskset and two cores or more: servers on core 0, the load generator on core 1. */
interface Pinning {
  serverCpu: number;
  loadCpu: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const pinning: Pinning | null =
    process.platform === 'linux' && machine.cores >= 2 && hasCommand('taskset') ? { serverCpu: 0, loadCpu: 1 } : null;
  const chosen = SERVERS.filter(
    (spec) => options.only === null || options.only.includes(spec.name) || spec.name === BASELINE,
  );
  const before = options.before === null ? [] : chosen.filter(isCourseServer).map(asBefore);
  const specs = [...chosen, ...before.map((server) => server.spec)];
  const minutes = (specs.length * (options.tests.length * options.rounds + 1) * options.durationSeconds) / 60;
  console.log(`Load generator: ${options.generator}. ${describePinning(pinning)}`);
  console.log(
    `${specs.length} servers × ${options.tests.length} tests × ${options.rounds} rounds of ${options.durationSeconds} s: about ${minutes.toFixed(0)} minutes.`,
  );
  const busyBefore = await sampleBusyCores();

  const running: RunningServer[] = [];
  const stopAll = (): Promise<void> => Promise.all(running.splice(0).map(stopServer)).then(() => undefined);
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  let measurements: Measurements;
  try {
    const serveScript = compileServers();
    for (const spec of chosen)
      running.push(await startServer(spec, serveScript, spec.name, pinning, options.cpuProfile));
    if (options.before !== null) {
      const beforeScript = compileRevision(options.before);
      for (const { spec, name } of before) {
        running.push(await startServer(spec, beforeScript, name, pinning, options.cpuProfile));
      }
    }
    for (const server of running) await checkSameResponse(server.spec.label, server.port);
    measurements = await measure(running, options, pinning);
  } finally {
    await stopAll();
  }
  const busyAfter = await sampleBusyCores();

  const summary = summarize(measurements, specs, BASELINE);
  console.log(`\n${renderTerminal(summary)}`);
  if (!options.write) return;
  const context = {
    machine,
    busyBefore,
    busyAfter,
    generator: options.generator,
    pinning: describePinning(pinning),
    rounds: options.rounds,
    durationSeconds: options.durationSeconds,
    note: options.note,
  };
  writeFileSync(new URL('./RESULTS.md', import.meta.url), renderMarkdown(summary, context));
  writeFileSync(new URL('./results.svg', import.meta.url), renderChart(summary, context));
  console.log('\nWrote bench/RESULTS.md and bench/results.svg.');
}

/** Warm every server up, then the rounds: each test, every server in turn. */
async function measure(servers: RunningServer[], options: Options, pinning: Pinning | null): Promise<Measurements> {
  const results: Measurements = new Map(
    servers.map((server) => [server.spec.name, { keepAlive: [], close: [], oneConnection: [], peakRssBytes: 0 }]),
  );
  // The first seconds of a JavaScript server are spent compiling the hot path (the JIT).
  for (const server of servers) await load(server, TESTS[0], WARM_UP_SECONDS, options.generator, pinning);
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order, so no server always runs first (or right after the same neighbour).
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const test of options.tests) {
      for (const server of order) {
        const result = await load(server, test, options.durationSeconds, options.generator, pinning);
        results.get(server.spec.name)?.[test.id].push(result);
        console.log(
          `round ${round + 1}/${options.rounds}  ${test.title.padEnd(34)} ${server.spec.label.padEnd(32)} ${describeResult(result)}`,
        );
      }
    }
  }
  for (const server of servers) {
    const entry = results.get(server.spec.name);
    if (entry !== undefined) entry.peakRssBytes = await peakRss(server);
  }
  return results;
}

/** One load run against one server, and the server's CPU time spent on it. */
async function load(
  server: RunningServer,
  test: (typeof TESTS)[number],
  durationSeconds: number,
  generator: GeneratorName,
  pinning: Pinning | null,
): Promise<Sample> {
  const cpuBefore = processCpuSeconds(server.pid);
  const result = await runLoad(generator, {
    url: `http://127.0.0.1:${server.port}${PATH}`,
    connections: test.connections,
    durationSeconds,
    close: test.close,
    cpu: pinning?.loadCpu ?? null,
  });
  const cpuAfter = processCpuSeconds(server.pid);
  const requests = result.requestsPerSecond * durationSeconds;
  const serverCpuUsPerRequest =
    cpuBefore === null || cpuAfter === null ? NaN : ((cpuAfter - cpuBefore) * 1e6) / requests;
  return { ...result, serverCpuUsPerRequest };
}

function describeResult(sample: Sample): string {
  const problems = sample.errors + sample.non2xx > 0 ? `  (${sample.errors} errors, ${sample.non2xx} non-2xx)` : '';
  const cpu = Number.isNaN(sample.serverCpuUsPerRequest)
    ? ''
    : `  ${sample.serverCpuUsPerRequest.toFixed(1)} µs CPU/req`;
  return `${sample.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${sample.latencyP99Ms.toFixed(2).padStart(6)} ms${cpu}${problems}`;
}

function describePinning(pinning: Pinning | null): string {
  if (pinning === null)
    return 'Not pinned to cores (needs Linux, taskset and 2 cores): server and load generator share the CPUs.';
  return `Pinned with taskset: each server on core ${pinning.serverCpu}, the load generator on core ${pinning.loadCpu}.`;
}

// ---- Server processes --------------------------------------------------------------------------

/** Start `name` of `serveScript` (today's, or a revision's) as `spec`. */
function startServer(
  spec: ServerSpec,
  serveScript: string,
  name: string,
  pinning: Pinning | null,
  cpuProfile: boolean,
): Promise<RunningServer> {
  const profileArgs = cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${BENCH_DIR}profiles/${spec.name}`] : [];
  // Plain node on the compiled JavaScript (compile.ts): no loader thread in the process.
  const nodeArgs = [...profileArgs, serveScript, name];
  const command = pinning === null ? process.execPath : 'taskset';
  const args = pinning === null ? nodeArgs : ['-c', String(pinning.serverCpu), process.execPath, ...nodeArgs];
  // taskset replaces itself with node (exec), so the PID is the server's, and the IPC channel
  // (an inherited file descriptor) reaches node.
  const child = spawn(command, args, { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.label} did not report a port within ${START_TIMEOUT_MS} ms.`));
    }, START_TIMEOUT_MS);
    child.on('message', (message: ServerMessage) => {
      if (message.type !== 'listening' || child.pid === undefined) return;
      clearTimeout(timer);
      resolve({ spec, child, pid: child.pid, port: message.port });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.label} exited with code ${code} before it listened.`));
    });
  });
}

/** Peak resident memory: VmHWM from /proc on Linux, else the server's own getrusage(). */
async function peakRss(server: RunningServer): Promise<number> {
  const fromProc = peakRssFromProc(server.pid);
  if (fromProc !== null) return fromProc;
  return new Promise((resolve) => {
    server.child.on('message', (message: ServerMessage) => {
      if (message.type === 'memory') resolve(message.maxRssBytes);
    });
    const question: RunnerMessage = { type: 'memory?' };
    server.child.send(question);
  });
}

/** SIGTERM, then SIGKILL if it has not exited in time. By PID, only our own children. */
function stopServer(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    server.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}

// ---- Options -------------------------------------------------------------------------------------

function parseOptions(argv: string[]): Options {
  const options: Options = {
    rounds: 3,
    durationSeconds: 5,
    only: null,
    tests: [...TESTS],
    generator: pickGenerator(undefined),
    cpuProfile: false,
    write: true,
    note: null,
    before: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value.`);
      return next;
    };
    if (flag === '--rounds') options.rounds = wholeNumber(flag, value());
    else if (flag === '--duration') options.durationSeconds = wholeNumber(flag, value());
    else if (flag === '--only') options.only = value().split(',');
    else if (flag === '--tests') options.tests = testsNamed(value().split(','));
    else if (flag === '--loadgen') options.generator = pickGenerator(generatorName(value()));
    else if (flag === '--cpu-prof') options.cpuProfile = true;
    else if (flag === '--no-write') options.write = false;
    else if (flag === '--note') options.note = value();
    else if (flag === '--before') options.before = value();
    else
      throw new Error(
        `Unknown option ${flag}. Options: --rounds N --duration S --only a,b --tests keepAlive,close,oneConnection --loadgen wrk|autocannon --cpu-prof --no-write --note text --before REV`,
      );
  }
  const unknown = (options.only ?? []).filter((name) => !SERVERS.some((spec) => spec.name === name));
  if (unknown.length > 0)
    throw new Error(
      `No server named ${unknown.join(', ')}; the names are ${SERVERS.map((spec) => spec.name).join(', ')}.`,
    );
  // A partial run must not overwrite the committed results with a partial table.
  const partial = options.only !== null || options.tests.length < TESTS.length;
  if (partial || options.cpuProfile || options.before !== null) options.write = false;
  return options;
}

// ---- --before REV: the course's servers as they were -------------------------------------------

function isCourseServer(spec: ServerSpec): boolean {
  return COURSE_SERVERS.some((course) => course.name === spec.name);
}

/** The same server as it was at the --before revision: its own row, its name in that serve.js. */
function asBefore(spec: ServerSpec): { spec: ServerSpec; name: string } {
  const label = `${spec.label} (before)`;
  return { spec: { ...spec, name: `${spec.name}@before`, label }, name: spec.name };
}

/**
 * The repository at `revision` (git archive, into bench/.before/), its bench/serve.ts compiled
 * as today's is; returns that serve.js.
 */
function compileRevision(revision: string): string {
  const tree = fileURLToPath(new URL('./.before/', import.meta.url));
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const root = fileURLToPath(new URL('..', import.meta.url));
  const archive = execFileSync('git', ['archive', '--format=tar', revision], { cwd: root, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', tree], { input: archive });
  const [serveScript] = compileFiles(
    [join(tree, 'bench', 'serve.ts')],
    fileURLToPath(new URL('./.build-before/', import.meta.url)),
  );
  return serveScript;
}

function testsNamed(ids: string[]): Array<(typeof TESTS)[number]> {
  return ids.map((id) => {
    const test = TESTS.find((candidate) => candidate.id === id);
    if (test === undefined)
      throw new Error(`No test named ${id}; the names are ${TESTS.map((candidate) => candidate.id).join(', ')}.`);
    return test;
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
