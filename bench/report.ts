// From the rounds' raw results to what a reader sees: medians, ratios to node:http, the
// issue's targets checked, and three renderings of one summary — the terminal table,
// RESULTS.md, and results.svg (a bar chart written by hand: a few rects and texts).
import type { LoadResult } from './loadgen.ts';
import type { BusySample, Machine } from './machine.ts';
import type { TestId } from './load-tests.ts';
import type { ServerSpec } from './servers.ts';

/** One load run: what the load generator saw, and the CPU time the server spent on it. */
export interface Sample extends LoadResult {
  /** The server process's CPU time (all threads) over the run ÷ requests answered; NaN without /proc. */
  serverCpuUsPerRequest: number;
}

/** Every round's sample for each server (by name), and its peak memory at the end. */
export type Measurements = Map<string, Record<TestId, Sample[]> & { peakRssBytes: number }>;

/** One server's medians over the rounds. */
export interface Figures {
  keepAliveRps: number;
  /** The lowest and highest keep-alive rate over the rounds: how much the machine moved. */
  keepAliveRpsSpread: { low: number; high: number };
  closeRps: number;
  oneConnectionRps: number;
  keepAliveP99Ms: number;
  oneConnectionP99Ms: number;
  keepAliveCpuUs: number;
  peakRssBytes: number;
  /** Errors and non-2xx answers over all rounds: anything but 0 makes the row suspect. */
  problems: number;
}

/**
 * The same figures divided by node:http's. Throughput: higher is better. Latency and memory:
 * lower is better. One connection's mean latency is 1 / its request rate (one request at a
 * time), so its ratio is node:http's rate over this server's.
 */
export interface Ratios {
  keepAlive: number;
  close: number;
  oneConnectionLatency: number;
  keepAliveP99: number;
  oneConnectionP99: number;
  /** Server CPU time per request, keep-alive: the cost of a request, whatever else ran. */
  keepAliveCpu: number;
  peakRss: number;
}

export interface Row {
  spec: ServerSpec;
  figures: Figures;
  ratios: Ratios;
}

export interface Summary {
  rows: Row[];
  baseline: Row;
  targets: TargetCheck[];
}

export interface ReportContext {
  machine: Machine;
  busyBefore: BusySample;
  busyAfter: BusySample;
  generator: string;
  pinning: string;
  rounds: number;
  durationSeconds: number;
  note: string | null;
}

export function summarize(measurements: Measurements, specs: readonly ServerSpec[], baselineName: string): Summary {
  const figures = new Map(specs.map((spec) => [spec.name, figuresOf(measurements, spec.name)]));
  const base = figures.get(baselineName);
  if (base === undefined) throw new Error(`No measurements for the baseline, ${baselineName}.`);
  const rows = specs.map((spec): Row => {
    const own = figures.get(spec.name) ?? base;
    return {
      spec,
      figures: own,
      ratios: {
        keepAlive: own.keepAliveRps / base.keepAliveRps,
        close: own.closeRps / base.closeRps,
        oneConnectionLatency: base.oneConnectionRps / own.oneConnectionRps,
        keepAliveP99: own.keepAliveP99Ms / base.keepAliveP99Ms,
        oneConnectionP99: own.oneConnectionP99Ms / base.oneConnectionP99Ms,
        keepAliveCpu: own.keepAliveCpuUs / base.keepAliveCpuUs,
        peakRss: own.peakRssBytes / base.peakRssBytes,
      },
    };
  });
  const baseline = rows.find((row) => row.spec.name === baselineName) ?? rows[0];
  return { rows, baseline, targets: checkTargets(rows) };
}

function figuresOf(measurements: Measurements, name: string): Figures {
  const results = measurements.get(name);
  if (results === undefined) throw new Error(`No measurements for ${name}.`);
  const all = [...results.keepAlive, ...results.close, ...results.oneConnection];
  return {
    keepAliveRps: median(results.keepAlive.map((result) => result.requestsPerSecond)),
    keepAliveRpsSpread: {
      low: Math.min(...results.keepAlive.map((result) => result.requestsPerSecond)),
      high: Math.max(...results.keepAlive.map((result) => result.requestsPerSecond)),
    },
    closeRps: median(results.close.map((result) => result.requestsPerSecond)),
    oneConnectionRps: median(results.oneConnection.map((result) => result.requestsPerSecond)),
    keepAliveP99Ms: median(results.keepAlive.map((result) => result.latencyP99Ms)),
    oneConnectionP99Ms: median(results.oneConnection.map((result) => result.latencyP99Ms)),
    keepAliveCpuUs: median(results.keepAlive.map((result) => result.serverCpuUsPerRequest)),
    peakRssBytes: results.peakRssBytes,
    problems: all.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN; // a test left out with --tests
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// ---- The issue's targets (issue 17), each a ratio to node:http in the same run ------------------

/** What the no-parser reference reached in this run: the ceiling for JavaScript on node:net. */
function ceilingText(summary: Summary): string {
  const reference = summary.rows.find((row) => row.spec.name === 'net-minimal');
  if (reference === undefined) return 'The no-parser reference was not measured in this run.';
  const { keepAlive, close } = reference.ratios;
  return `The ceiling in this run: the no-parser reference reached ${keepAlive.toFixed(2)}× node:http with keep-alive and ${close.toFixed(2)}× with Connection: close.`;
}

export interface TargetCheck {
  what: string;
  goal: string;
  measured: number | null;
  met: boolean | null;
}

/**
 * Issue 17's targets that a load run measures: where people are (the generator app the README
 * teaches, Connection: close), and what was met before and must hold. (Its last target, the
 * peak memory of `npm run part3` under tsx, is not a load test: bench/README.md, "Where the
 * rest goes".) Issue 7's targets were withdrawn: the README says why.
 */
function checkTargets(rows: Row[]): TargetCheck[] {
  const ratio = (name: string, pick: (ratios: Ratios) => number): number | null => {
    const row = rows.find((candidate) => candidate.spec.name === name);
    return row === undefined ? null : pick(row.ratios);
  };
  const atLeast = (what: string, measured: number | null, goal: number): TargetCheck => ({
    what,
    goal: `≥ ${goal.toFixed(2)}`,
    measured,
    met: measured === null || Number.isNaN(measured) ? null : measured >= goal,
  });

  const micro = ratio('micro', (r) => r.keepAlive);
  const fastify = ratio('fastify', (r) => r.keepAlive);
  return [
    atLeast(
      'part 3 gateway, generator app, keep-alive',
      ratio('part3-generator', (r) => r.keepAlive),
      1.0,
    ),
    atLeast(
      'part 2 server, Connection: close',
      ratio('part2', (r) => r.close),
      1.0,
    ),
    atLeast(
      'part 3 gateway, Connection: close',
      ratio('part3', (r) => r.close),
      0.95,
    ),
    atLeast(
      'part 2 server, keep-alive (held)',
      ratio('part2', (r) => r.keepAlive),
      1.2,
    ),
    atLeast(
      'part 3 gateway, array app, keep-alive (held)',
      ratio('part3', (r) => r.keepAlive),
      1.0,
    ),
    atLeast(
      'part 4 micro ÷ Fastify, keep-alive (held)',
      micro === null || fastify === null ? null : micro / fastify,
      1.05,
    ),
  ];
}

// ---- Rendering ---------------------------------------------------------------------------------

const COLUMNS: Array<{ title: string; pick: (ratios: Ratios) => number }> = [
  { title: 'keep-alive ↑', pick: (r) => r.keepAlive },
  { title: 'Connection: close ↑', pick: (r) => r.close },
  { title: '1-conn latency ↓', pick: (r) => r.oneConnectionLatency },
  { title: 'p99, 50 conns ↓', pick: (r) => r.keepAliveP99 },
  { title: 'p99, 1 conn ↓', pick: (r) => r.oneConnectionP99 },
  { title: 'CPU/request ↓', pick: (r) => r.keepAliveCpu },
  { title: 'peak RSS ↓', pick: (r) => r.peakRss },
];

function ratioText(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)}×` : '–'; // – : not measured in this run
}

/** A target's measured ratio: three digits, so 1.004× against "≤ 1.00" does not read as 1.00×. */
function targetText(target: TargetCheck): string {
  return target.measured === null ? 'not measured' : ratioText(target.measured, 3);
}

export function renderTerminal(summary: Summary): string {
  const header = ['server', ...COLUMNS.map((column) => column.title)];
  const body = summary.rows.map((row) => [
    row.spec.label + (row.figures.problems > 0 ? ' (!)' : ''),
    ...COLUMNS.map((column) => ratioText(column.pick(row.ratios))),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const lines = [
    'Ratios to node:http in this run (↑ higher is better, ↓ lower is better):',
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...body.map(line),
    '',
    `node:http itself: ${describeAbsolute(summary.baseline.figures)}`,
    '',
    'Targets:',
    ...summary.targets.map(
      (target) =>
        `  ${target.met === null ? '–' : target.met ? '✓' : '✗'} ${target.what}: ${targetText(target)} (goal ${target.goal})`,
    ),
  ];
  if (summary.rows.some((row) => row.figures.problems > 0))
    lines.push('', '(!) errors or non-2xx answers during the run: see the progress lines above.');
  return lines.join('\n');
}

function describeAbsolute(figures: Figures): string {
  return [
    `${figures.keepAliveRps.toFixed(0)} req/s keep-alive`,
    `${figures.closeRps.toFixed(0)} req/s with Connection: close`,
    `${(1000 / figures.oneConnectionRps).toFixed(3)} ms mean latency on one connection`,
    `p99 ${figures.keepAliveP99Ms.toFixed(2)} ms at 50 connections`,
    `peak RSS ${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
  ].join(', ');
}

function describeBusy(sample: BusySample): string {
  const share = sample.busyShare === null ? 'unknown' : `${(sample.busyShare * 100).toFixed(0)}% of all cores busy`;
  return `${share}, load average ${sample.loadAverage.toFixed(2)}`;
}

export function renderMarkdown(summary: Summary, context: ReportContext): string {
  const { machine } = context;
  const table = [
    `| server | ${COLUMNS.map((column) => column.title).join(' | ')} |`,
    `|---|${COLUMNS.map(() => '---:').join('|')}|`,
    ...summary.rows.map(
      (row) =>
        `| ${row.spec.label}${row.figures.problems > 0 ? ' (!)' : ''} | ${COLUMNS.map((column) => ratioText(column.pick(row.ratios))).join(' | ')} |`,
    ),
  ];
  const absolute = [
    '| server | keep-alive req/s | close req/s | 1-conn mean latency | p99, 50 conns | p99, 1 conn | CPU/request | peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...summary.rows
      .map(({ spec, figures }) =>
        [
          spec.label,
          figures.keepAliveRps.toFixed(0),
          figures.closeRps.toFixed(0),
          `${(1000 / figures.oneConnectionRps).toFixed(3)} ms`,
          `${figures.keepAliveP99Ms.toFixed(2)} ms`,
          `${figures.oneConnectionP99Ms.toFixed(2)} ms`,
          `${figures.keepAliveCpuUs.toFixed(1)} µs`,
          `${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
        ].join(' | '),
      )
      .map((cells) => `| ${cells} |`),
  ];
  const targets = summary.targets.map(
    (target) =>
      `| ${target.what} | ${target.goal} | ${targetText(target)} | ${target.met === null ? 'not measured' : target.met ? 'met' : '**missed**'} |`,
  );
  return `# Benchmark results

Written by \`npm run bench\` (bench/run.ts); see [README.md](README.md) for what is measured and
how to read it. Every figure is a ratio to \`node:http\` measured in the same run, the median of
${context.rounds} rounds of ${context.durationSeconds} s per test, the servers' order reversed every
other round. ↑: higher is better; ↓: lower is better.

![Requests per second as a multiple of node:http](results.svg)

${table.join('\n')}

## Targets (issue 17)

| target | goal | measured | |
|---|---|---:|---|
${targets.join('\n')}

${ceilingText(summary)} What bounds the targets, with the profiles: README.md,
[Where the rest goes](README.md#where-the-rest-goes-and-the-targets).

## The machine

| | |
|---|---|
| date | ${machine.date} |
| Node.js | ${machine.node} |
| CPU | ${machine.cpuModel}, ${machine.cores} cores |
| memory | ${machine.memoryGiB} GiB |
| OS | ${machine.os} |
| load generator | ${context.generator} (one thread, its own process) |
| pinning | ${context.pinning} |
| other load before the run | ${describeBusy(context.busyBefore)} |
| other load after the run | ${describeBusy(context.busyAfter)} |
${context.note === null ? '' : `| note | ${context.note} |\n`}| noise | node:http's keep-alive rate ranged from ${summary.baseline.figures.keepAliveRpsSpread.low.toFixed(0)} to ${summary.baseline.figures.keepAliveRpsSpread.high.toFixed(0)} req/s over the rounds |
| peak memory | ${process.platform === 'linux' ? 'VmHWM from /proc/PID/status, read by the runner after the last round' : "each server's getrusage() maxRSS, asked over IPC after the last round"} |

## Absolute numbers (this machine, this run only)

For context; they move with the machine and with whatever else it was doing, the ratios above much less.

${absolute.join('\n')}

## The servers

${summary.rows.map((row) => `- **${row.spec.label}**: ${row.spec.description}.`).join('\n')}
${summary.rows.some((row) => row.figures.problems > 0) ? '\n(!) This server had errors or non-2xx answers during the run; its figures are suspect.\n' : ''}`;
}

// ---- The chart -----------------------------------------------------------------------------------

const CHART = { width: 760, labelWidth: 230, rowHeight: 44, barHeight: 15, top: 78, bottom: 56, right: 60 };
const SERIES = [
  { title: 'keep-alive, 50 connections', color: '#4c78a8', pick: (r: Ratios) => r.keepAlive },
  { title: 'Connection: close, 50 connections', color: '#f58518', pick: (r: Ratios) => r.close },
];

/** Horizontal bars: each server's request rate in both tests, as a multiple of node:http's. */
export function renderChart(summary: Summary, context: ReportContext): string {
  const { width, labelWidth, rowHeight, barHeight, top, bottom, right } = CHART;
  const height = top + summary.rows.length * rowHeight + bottom;
  const largest = Math.max(...summary.rows.flatMap((row) => SERIES.map((series) => series.pick(row.ratios))));
  const scaleMax = Math.ceil(largest * 2) / 2; // the next half step: 1.5, 2, 2.5 ...
  const plotWidth = width - labelWidth - right;
  const x = (ratio: number): number => labelWidth + (ratio / scaleMax) * plotWidth;

  const parts: string[] = [];
  parts.push(
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Requests per second, as a multiple of node:http (same run)</text>`,
  );
  SERIES.forEach((series, i) => {
    const legendX = labelWidth + i * 260;
    parts.push(`<rect x="${legendX}" y="40" width="12" height="12" fill="${series.color}"/>`);
    parts.push(`<text x="${legendX + 18}" y="50" font-size="12">${escapeXml(series.title)}</text>`);
  });
  for (let tick = 0; tick <= scaleMax + 1e-9; tick += 0.5) {
    const tickX = x(tick).toFixed(1);
    const isBaseline = Math.abs(tick - 1) < 1e-9;
    parts.push(
      `<line x1="${tickX}" y1="${top - 8}" x2="${tickX}" y2="${height - bottom + 4}" stroke="${isBaseline ? '#333' : '#ddd'}" ${isBaseline ? 'stroke-dasharray="4 3"' : ''}/>`,
    );
    parts.push(
      `<text x="${tickX}" y="${height - bottom + 18}" text-anchor="middle" font-size="11">${tick.toFixed(1)}×</text>`,
    );
  }
  summary.rows.forEach((row, i) => {
    const rowTop = top + i * rowHeight;
    parts.push(
      `<text x="${labelWidth - 10}" y="${rowTop + rowHeight / 2 + 2}" text-anchor="end" font-size="12">${escapeXml(row.spec.label)}</text>`,
    );
    SERIES.forEach((series, j) => {
      const value = series.pick(row.ratios);
      const barY = rowTop + 6 + j * (barHeight + 2);
      parts.push(
        `<rect x="${labelWidth}" y="${barY}" width="${(x(value) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${series.color}"/>`,
      );
      parts.push(
        `<text x="${(x(value) + 4).toFixed(1)}" y="${barY + barHeight - 3}" font-size="11">${value.toFixed(2)}</text>`,
      );
    });
  });
  const footer = `${context.machine.cpuModel}, ${context.machine.cores} cores, Node ${context.machine.node}, ${context.generator}, ${context.machine.date.slice(0, 10)}; dashed line: node:http = 1`;
  parts.push(
    `<text x="${width / 2}" y="${height - 14}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(footer)}</text>`,
  );

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
