// Workshop mode, part 1: the checks of tests/checks/part1.ts can pass, and they can fail, each at
// the right place. Against the course's echo server every core and hardening check passes; the
// minimal server passes the core and fails the backpressure check only; the starter fails check
// 2 (check 1, a connection accepted, it already passes); each challenge fails on the course's
// server and passes on its solution; and servers with one classic mistake each fail at the check
// that names it, with a command to reproduce.
//
// The course's servers, the solutions and the broken servers run in this process; the starter,
// the minimal server (through the real `npm run check` command line) and the server that
// crashes run as child processes. Challenge 2's idle timeout is short on both sides (the
// server's and the check's); nothing here depends on how fast the machine is.
import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoServer } from '../part1-sockets/echo-server.ts';
import { createHelloServer } from '../part1-sockets/hello-browser.ts';
import { createLineServer } from '../part1-sockets/solutions/challenge-1.ts';
import { createIdleEchoServer, IDLE_TIMEOUT_MS } from '../part1-sockets/solutions/challenge-2.ts';
import { createPatientHelloServer } from '../part1-sockets/solutions/challenge-3.ts';
import {
  runChecks,
  selectChecks,
  summaryLine,
  type CheckResult,
  type Group,
  type ServerTimeouts,
} from './checks/check.ts';
import { part1Checks } from './checks/part1.ts';
import { STAGES } from './checks/stages.ts';
import { createBrokenEchoServer, type Flaw } from './fixtures/broken-part1.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { failedNames, reportOf as report, runCheckCli } from './helpers/checks.ts';
import { start } from './helpers/server.ts';

/** Challenge 2's idle timeout, given to the solution and to the check: short, so the test is. */
const SHORT: ServerTimeouts = { headMs: 1_000, idleMs: 1_000, bodyMs: 1_000 };
/** Long enough for any run below (64 MiB of backpressure included); reached only by a hang. */
const SLOW_TEST_MS = 60_000;
const quiet = (): void => {};

/** What minimal.ts leaves out (README, "Build it yourself"): the hardening checks it fails. */
const MINIMAL_FAILS = [
  'stops reading from a client that does not read its echo, serves others meanwhile, and catches up once it reads',
];

const children: StageRun[] = [];
afterEach(() => {
  for (const stage of children.splice(0))
    if (stage.child.exitCode === null && stage.child.signalCode === null) stage.child.kill();
});

/** Start `server` on 127.0.0.1:0 in this process, run the checks of `groups` on it, and close it. */
async function checkServer(server: Server, groups: Group[], all = true): Promise<CheckResult[]> {
  const running = await start(server);
  try {
    return await check(running.port, groups, all);
  } finally {
    await running.close();
  }
}

/** Start a server file in a child process, as the checker would (`node --import tsx file --port P`), on a port it picks (0), and wait until it listens. */
async function launch(file: string): Promise<{ port: number; stage: StageRun }> {
  const stage = runStage([file, '--port', '0']);
  children.push(stage);
  const [, port] = await stage.waitForOutput(
    /Listening \(Ctrl-C to stop\): \{ address: '127\.0\.0\.1', family: 'IPv4', port: (\d+) \}/,
  );
  return { port: Number(port), stage };
}

function check(port: number, groups: Group[], all = true): Promise<CheckResult[]> {
  return runChecks(selectChecks(part1Checks, { groups }), { port, timeouts: SHORT, all });
}

const nameOf = (number: number): string => part1Checks[number - 1].name;

describe("part 1's checks", () => {
  it('are 6 core, 2 hardening and one per challenge, in that order', () => {
    expect(part1Checks.map((check) => check.group)).toEqual([
      'core',
      'core',
      'core',
      'core',
      'core',
      'core',
      'hardening',
      'hardening',
      'challenge 1',
      'challenge 2',
      'challenge 3',
    ]);
  });

  it("expect the idle timeout that challenge 2's solution uses", () => {
    expect(STAGES.part1.timeouts.idleMs).toBe(IDLE_TIMEOUT_MS);
  });

  it(
    "all pass against the course's echo server, core and hardening",
    async () => {
      const results = await checkServer(createEchoServer({ log: quiet }), ['core', 'hardening']);
      expect(failedNames(results), report(results)).toEqual([]);
      expect(results).toHaveLength(8);
    },
    SLOW_TEST_MS,
  );
});

// One at a time: challenge 2 measures idleness, which a busy process would blur.
describe('the challenges', () => {
  const cases = [
    { number: 1, reference: () => createEchoServer({ log: quiet }), solution: () => createLineServer({ log: quiet }) },
    {
      number: 2,
      reference: () => createEchoServer({ log: quiet }),
      solution: () => createIdleEchoServer({ idleMs: SHORT.idleMs, log: quiet }),
    },
    // Challenge 3 changes the hello server, so that is the reference it is held against.
    {
      number: 3,
      reference: () => createHelloServer({ log: quiet }),
      solution: () => createPatientHelloServer({ log: quiet }),
    },
  ];

  it.each(cases)(
    "challenge $number fails on the course's server and passes on its solution",
    async ({ number, reference, solution }) => {
      const [before, after] = await Promise.all([
        checkServer(reference(), [`challenge ${number}`]),
        checkServer(solution(), [`challenge ${number}`]),
      ]);
      expect(before.map((result) => result.passed)).toEqual([false]);
      expect(report(before)).toContain('Read:     part1-sockets/README.md, section "Challenges"');
      expect(failedNames(after), report(after)).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});

// Each test here has its own server, in this process: they run at the same time, and mostly wait.
describe.concurrent('servers with a mistake fail at the check that names it, with a command to reproduce it', () => {
  const cases: Array<{ flaw: Flaw; failsAt: number; seen: RegExp }> = [
    {
      flaw: 'echoes text, not bytes',
      failsAt: 3,
      seen: /byte 128 differs: sent \\x80, got back \\xef[\s\S]*decoded as text/,
    },
    {
      flaw: 'closes after the first chunk',
      failsAt: 3,
      seen: /only \d+ of them, then (the server closed the connection|the connection was reset)/,
    },
    { flaw: 'drops bytes after 64 KiB', failsAt: 3, seen: /only 65536 of them, then nothing for 2000 ms/ },
    { flaw: 'serves one client at a time', failsAt: 4, seen: /Clients 1 to 4 are connected and silent/ },
    { flaw: 'never sends its FIN', failsAt: 5, seen: /the connection still open 2000 ms later/ },
    {
      flaw: 'pauses for ever',
      failsAt: 7,
      seen: /bytes back, then nothing for 2000 ms[\s\S]*resume\(\) reading there/,
    },
  ];

  it.each(cases)(
    '"$flaw" fails check $failsAt',
    async ({ flaw, failsAt, seen }) => {
      const results = await checkServer(createBrokenEchoServer(flaw), ['core', 'hardening'], false);
      const failed = results.at(-1);
      expect(failed?.passed, report(results)).toBe(false);
      expect(failed?.number).toBe(failsAt);
      expect(results.slice(0, -1).every((result) => result.passed)).toBe(true);
      const text = report(results);
      expect(text).toMatch(seen);
      expect(text).toMatch(/Reproduce: \S/);
      expect(summaryLine(results)).toBe(`${failsAt - 1} passed, 1 failed`);
    },
    SLOW_TEST_MS,
  );
});

// Child processes, one at a time.
describe('servers run as programs: the starter, the minimal server, one that crashes', () => {
  it(
    "one without an 'error' listener dies at the first reset: check 6, which says so",
    async () => {
      const server = await launch('tests/fixtures/broken-part1-crash.ts');
      const results = await check(server.port, ['core', 'hardening'], false);
      expect(
        results.map((result) => result.passed),
        report(results),
      ).toEqual([true, true, true, true, true, false]);
      const text = report(results);
      expect(text).toContain(`✗  6 core        ${nameOf(6)}`);
      // Refused, or (if the dying server still accepted it) cut unanswered: either way, said so.
      expect(text).toMatch(/no server listening any more|nothing back, then the connection was (reset|closed)/);
      expect(text).toContain("it crashed on an 'error'");
      expect(text).toMatch(/Reproduce: node -e .*resetAndDestroy.*nc -N 127\.0\.0\.1 \d+/);
      await server.stage.exited;
      expect(server.stage.stderr()).toContain("Unhandled 'error' event");
    },
    SLOW_TEST_MS,
  );

  it(
    'the starter runs, accepts a connection (check 1), and fails check 2 with what to write',
    async () => {
      const server = await launch('part1-sockets/starter.ts');
      const results = await check(server.port, ['core', 'hardening'], false);
      expect(results.map((result) => result.passed)).toEqual([true, false]);
      const text = report(results);
      expect(text).toContain(`✗  2 core        ${nameOf(2)}`);
      // The check waited for an echo, so the command keeps nc's input open as long (sleep).
      expect(text).toMatch(/Reproduce: \(printf 'hello, \w+\\n'; sleep \d+\) \| nc -N 127\.0\.0\.1 \d+/);
      expect(text).toContain('Received bytes:\n      < (nothing)');
      expect(text).toContain("socket.on('data', (chunk) => socket.write(chunk))");
    },
    SLOW_TEST_MS,
  );

  it(
    '`npm run check -- part1 part1-sockets/minimal.ts --all` passes the core and fails only the backpressure check',
    async () => {
      const { code, output } = await runCheckCli(['part1', 'part1-sockets/minimal.ts', '--all']);
      const failed = [...output.matchAll(/^✗ +\d+ (?:core|hardening) +(.+)$/gm)].map((match) => match[1]);
      expect(failed, output).toEqual(MINIMAL_FAILS);
      expect(output).toMatch(/^✓  6 core {8}/m);
      expect(output.trimEnd().split('\n').at(-1)).toBe('7 passed, 1 failed');
      expect(code).toBe(1);
    },
    SLOW_TEST_MS,
  );
});
