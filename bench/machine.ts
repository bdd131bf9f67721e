// What the benchmark ran on, for RESULTS.md: numbers mean little without the machine, and
// nothing at all without knowing whether something else was using it at the same time.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Machine {
  node: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  date: string;
}

export function describeMachine(): Machine {
  return {
    node: process.version,
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/** The "model name" line of /proc/cpuinfo on Linux; what Node reports elsewhere. */
function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match !== null) return match[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** How busy the CPUs were over a short sample while our servers sat idle: others' load. */
export interface BusySample {
  /** 0 to 1: the busy share of all cores (Linux, /proc/stat), or null where unknown. */
  busyShare: number | null;
  /** The 1-minute load average (0 on Windows). */
  loadAverage: number;
}

const SAMPLE_MS = 2_000;

export async function sampleBusyCores(): Promise<BusySample> {
  const before = cpuTimes();
  await sleep(SAMPLE_MS);
  const after = cpuTimes();
  const busyShare =
    before === null || after === null ? null : (after.busy - before.busy) / (after.total - before.total);
  return { busyShare, loadAverage: loadavg()[0] };
}

/** The first line of /proc/stat: jiffies spent by all cores in each state since boot. */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: idle and iowait are "not busy".
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return null;
  }
}

let clockTicksPerSecond: number | null = null;

/** A process's peak resident memory so far (VmHWM), in bytes, from /proc; null where there is none. */
export function peakRssFromProc(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, all threads) a process has used so far, in seconds, from
 * /proc/PID/stat; null where there is no /proc. Unlike a request rate, CPU time per request
 * hardly moves when other programs compete for the cores: it is the cost of a request itself.
 */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    clockTicksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
    return ticks / clockTicksPerSecond;
  } catch {
    return null;
  }
}
