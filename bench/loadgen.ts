// The load generator, always in a process of its own: wrk when it is installed (C, one thread,
// latencies in microseconds), else autocannon (JavaScript, a dependency of bench/, latencies
// in whole milliseconds). On Linux the runner pins it to a core of its own with taskset.
//
//   const result = await runLoad(generator, { url, connections: 50, durationSeconds: 5, close: false, cpu: 1 });
//
// Each run is bounded: the process is killed (by its PID) if it overruns its duration by
// LOADGEN_GRACE_MS.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** How long past its duration a load run may take before it is killed. */
export const LOADGEN_GRACE_MS = 20_000;

export type GeneratorName = 'wrk' | 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Send `Connection: close`: every request on a new TCP connection. */
  close: boolean;
  /** The core to pin the generator to (Linux, taskset), or null for none. */
  cpu: number | null;
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
  /** Responses whose status was not 2xx (wrk: not 2xx or 3xx). */
  non2xx: number;
}

/** The value of a --loadgen option, checked. */
export function generatorName(text: string): GeneratorName {
  if (text === 'wrk' || text === 'autocannon') return text;
  throw new Error(`--loadgen is wrk or autocannon, got "${text}".`);
}

/** wrk if it is on the PATH, else autocannon. */
export function pickGenerator(wanted: GeneratorName | undefined): GeneratorName {
  if (wanted !== undefined) return wanted;
  return hasCommand('wrk') ? 'wrk' : 'autocannon';
}

export function hasCommand(command: string): boolean {
  const probe = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined;
}

export async function runLoad(generator: GeneratorName, options: LoadOptions): Promise<LoadResult> {
  const { command, args } = generator === 'wrk' ? wrkCommand(options) : autocannonCommand(options);
  const pinned =
    options.cpu === null
      ? { command, args }
      : { command: 'taskset', args: ['-c', String(options.cpu), command, ...args] };
  const output = await runBounded(pinned.command, pinned.args, options.durationSeconds * 1000 + LOADGEN_GRACE_MS);
  return generator === 'wrk' ? readWrk(output) : readAutocannon(output);
}

// ---- wrk ---------------------------------------------------------------------------------------

const WRK_REPORT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

function wrkCommand(options: LoadOptions): { command: string; args: string[] } {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationSeconds}s`, '-s', WRK_REPORT];
  // wrk opens a new connection after each response that says "Connection: close".
  if (options.close) args.push('-H', 'Connection: close');
  return { command: 'wrk', args: [...args, options.url] };
}

/** The JSON line that wrk-report.lua prints last. */
interface WrkReport {
  requests: number;
  durationUs: number;
  errors: number;
  non2xx: number;
  latencyP50Us: number;
  latencyP99Us: number;
}

function readWrk(output: string): LoadResult {
  const line = output
    .trim()
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('{'));
  if (line === undefined) throw new Error(`wrk printed no report:\n${output}`);
  const report = JSON.parse(line) as WrkReport;
  return {
    requestsPerSecond: report.requests / (report.durationUs / 1e6),
    latencyP50Ms: report.latencyP50Us / 1000,
    latencyP99Ms: report.latencyP99Us / 1000,
    errors: report.errors,
    non2xx: report.non2xx,
  };
}

// ---- autocannon ----------------------------------------------------------------------------------

function autocannonCommand(options: LoadOptions): { command: string; args: string[] } {
  const script = createRequire(import.meta.url).resolve('autocannon');
  const args = [
    script,
    '--json',
    '--no-progress',
    '-c',
    String(options.connections),
    '-d',
    String(options.durationSeconds),
  ];
  if (options.close) args.push('-H', 'Connection=close');
  return { command: process.execPath, args: [...args, options.url] };
}

/** The parts of autocannon's --json result read here (latencies in milliseconds). */
interface AutocannonReport {
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

function readAutocannon(output: string): LoadResult {
  const report = JSON.parse(output) as AutocannonReport;
  return {
    requestsPerSecond: report.requests.total / report.duration,
    latencyP50Ms: report.latency.p50,
    latencyP99Ms: report.latency.p99,
    errors: report.errors + report.timeouts,
    non2xx: report.non2xx,
  };
}

// ---- A child process with a deadline ---------------------------------------------------------------

function runBounded(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(deadline);
      reject(new Error(`Could not start ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${command} ${signal === 'SIGKILL' ? `overran its time and was killed` : `exited with ${code}`}:\n${stderr || stdout}`,
          ),
        );
    });
  });
}
