// Workshop mode, part 2: the checks of tests/checks/part2.ts can pass, and they can fail, each at
// the right place. Against the course's server every core and hardening check passes; the
// minimal server passes the core and fails a known list of hardening checks; the starter fails
// check 1; each challenge fails on the course's server and passes on its solution; and servers
// with one classic mistake each fail at the check that names it, with a command to reproduce.
//
// The reference and the broken servers run in this process; minimal.ts and the solutions are
// started in child processes (`tsx file --port 0`), and two runs go through the real `npm run
// check` command line. For the hardening checks the timeouts are short on both sides (the
// server's and the checks'), so 408 and the idle close come in a fraction of a second. Nothing
// here depends on how fast the machine is: waits end on an event, or at a bound only a hang reaches.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { runChecks, selectChecks, type CheckResult, type Group, type ServerTimeouts } from './checks/check.ts';
import { part2Checks } from './checks/part2.ts';
import { formatResult } from './checks/report.ts';
import { createBrokenServer, type Flaw } from './fixtures/broken-part2.ts';
import { failedNames, reportOf, runCheckCli } from './helpers/checks.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { exchangeResponses, statuses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Timeouts for the hardening checks, the server's and the checks' expectation of them: short, so 408 and idle are quick. */
const SHORT: ServerTimeouts = { headMs: 300, idleMs: 300, bodyMs: 300 };
/** Long enough for any run below; reached only by a hang. */
const SLOW_TEST_MS = 60_000;

/** What minimal.ts leaves out (REFERENCE.md, "What minimal.ts leaves out"): the hardening checks it fails. */
const MINIMAL_FAILS = [
  'answers 400 to an HTTP/1.1 request without Host',
  'answers 400 to a header line with whitespace before the colon',
  'answers 414 to a request line longer than its limit (course policy: 8 KiB)',
  'answers 431 (or 400) to a header section larger than its limit (course policy: 16 KiB)',
  'answers 413 to a Content-Length over its body limit (course policy: 1 MiB) before reading the body',
  'refuses (400) or reads by Transfer-Encoding a request with both Content-Length and Transfer-Encoding, then closes: no smuggled request runs',
  'refuses a Transfer-Encoding that does not end in chunked (400 or 501), then closes',
  'answers 505 to HTTP/2.0 on this HTTP/1.1 connection',
  'answers 400 to a NUL byte in a header value, or reads it as a space',
  'answers 408 (or closes) when a request head does not complete in time (course policy: 10 s)',
  'closes an idle keep-alive connection quietly (course policy: after 5 s)',
  'answers 400 to a Host value that is not a host name with an optional port',
  'answers HTTP/1.9 as HTTP/1.1 (a higher minor version is served, not refused)',
  'answers OPTIONS * with 200 and an Allow header (or 501: OPTIONS is optional)',
  'reads a head mixing CRLF and bare LF as a CRLF-only proxy would, or refuses it (400): no smuggled request runs',
  'answers CONNECT with 405 or 501: this server does not tunnel',
  'refuses an invalid Content-Length, two different values or a digit outside 0-9 (400, then close): no smuggled request runs',
  'closes the connection after answering HTTP/1.0 without keep-alive, or a request with Connection: keep-alive, close',
  'sends a Date header with the current time, in HTTP date format',
  'ignores an empty line before a request line',
  'answers 408 (or closes) when a request body stops arriving (course policy: 10 s)',
  'refuses many tiny chunks with long chunk extensions (a 4xx): their bytes are bounded (course policy: 16 KiB)',
  'answers 400 to a "#" in the request target: a target has no fragment',
  'accepts an absolute-form target (GET http://host/path), and answers 400 when its host is not valid',
];

function check(port: number, groups: Group[], all = true): Promise<CheckResult[]> {
  return runChecks(selectChecks(part2Checks, { groups }), { port, timeouts: SHORT, all });
}

describe("part 2's checks", () => {
  it('are numbered as the REFERENCE.md table shows: 13 core, then 27 hardening, then the challenges', ({ expect }) => {
    const groups = part2Checks.map((entry) => entry.group);
    expect(groups.slice(0, 13).every((group) => group === 'core')).toBe(true);
    expect(groups.filter((group) => group === 'hardening')).toHaveLength(27);
    expect(groups.filter((group) => group.startsWith('challenge'))).toEqual([
      'challenge 1',
      'challenge 2',
      'challenge 3',
    ]);
  });
});

describe.concurrent("the course's server (part2-tcp-http/site.ts)", () => {
  // Two copies: the core checks pause between the pieces of a request (up to 300 ms), so they
  // run against the default timeouts; the hardening checks against short ones, so that 408 and
  // the idle close come quickly.
  let server: RunningServer;
  let shortTimeouts: RunningServer;
  beforeAll(async () => {
    server = await start(createSiteServer({ logError: () => {} }));
    shortTimeouts = await start(
      createSiteServer({
        headTimeoutMs: SHORT.headMs,
        idleTimeoutMs: SHORT.idleMs,
        bodyTimeoutMs: SHORT.bodyMs,
        logError: () => {},
      }),
    );
  });
  afterAll(() => Promise.all([server.close(), shortTimeouts.close()]));

  it('passes every core check', async ({ expect }) => {
    const results = await check(server.port, ['core']);
    expect(results).toHaveLength(13);
    expect(failedNames(results), reportOf(results)).toEqual([]);
  });

  it('passes every hardening check', async ({ expect }) => {
    const results = await check(shortTimeouts.port, ['hardening']);
    expect(results).toHaveLength(27);
    expect(failedNames(results), reportOf(results)).toEqual([]);
  });

  for (const challenge of [1, 2, 3]) {
    it(`fails challenge ${challenge}, with a reproduce command in the report`, async ({ expect }) => {
      const results = await check(server.port, [`challenge ${challenge}`]);
      expect(results.map((result) => result.passed)).toEqual([false]);
      expect(formatResult(results[0], { color: false })).toContain('Reproduce: printf ');
    });
  }
});

describe.concurrent("files started as an attendee's are (minimal.ts, the solutions), in child processes", () => {
  const files = [
    'part2-tcp-http/minimal.ts',
    'part2-tcp-http/solutions/challenge-1.ts',
    'part2-tcp-http/solutions/challenge-2.ts',
    'part2-tcp-http/solutions/challenge-3.ts',
  ];
  const runs = new Map<string, { stage: StageRun; port: number }>();
  beforeAll(async () => {
    // All at once (each takes a moment for tsx to start), on ports the system picks.
    await Promise.all(
      files.map(async (file) => {
        const stage = runStage([file, '--port', '0']);
        runs.set(file, { stage, port: 0 });
        const [, port] = await stage.waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)\//, 20_000);
        runs.set(file, { stage, port: Number(port) });
      }),
    );
  }, SLOW_TEST_MS);
  afterAll(async () => {
    for (const { stage } of runs.values()) stage.child.kill('SIGTERM');
    await Promise.all([...runs.values()].map(({ stage }) => stage.exited));
  });
  const portOf = (file: string): number => runs.get(file)?.port ?? 0;

  it('minimal.ts passes every core check', async ({ expect }) => {
    const results = await check(portOf('part2-tcp-http/minimal.ts'), ['core']);
    expect(results).toHaveLength(13);
    expect(failedNames(results), reportOf(results)).toEqual([]);
  });

  it(
    'minimal.ts fails exactly the hardening checks REFERENCE.md lists',
    async ({ expect }) => {
      const results = await check(portOf('part2-tcp-http/minimal.ts'), ['hardening']);
      expect(failedNames(results)).toEqual(MINIMAL_FAILS);
      const readme = readFileSync(`${ROOT}part2-tcp-http/REFERENCE.md`, 'utf8');
      for (const result of results) {
        expect(formatResult(result, { color: false })).toMatch(result.passed ? /^✓/ : /Reproduce: /);
        // The check table (REFERENCE.md, "The checks") marks each check minimal.ts fails.
        if (!result.passed)
          expect(readme).toMatch(
            new RegExp(`\\| ${result.number} \\| hardening \\| ${escapeRegExp(result.check.name)} \\| fails \\|`),
          );
      }
    },
    SLOW_TEST_MS,
  );

  for (const challenge of [1, 2, 3]) {
    it(`solutions/challenge-${challenge}.ts passes challenge ${challenge}`, async ({ expect }) => {
      const results = await check(portOf(`part2-tcp-http/solutions/challenge-${challenge}.ts`), [
        `challenge ${challenge}`,
      ]);
      expect(failedNames(results), reportOf(results)).toEqual([]);
    });
  }

  it('solutions/challenge-1.ts still refuses a way out of public/: /static/../ is 403', async ({ expect }) => {
    // Raw bytes: a URL parser (fetch's too) would resolve the "..".
    const responses = await exchangeResponses(
      portOf('part2-tcp-http/solutions/challenge-1.ts'),
      'GET /static/../ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /static/%2e%2e/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(statuses(responses)).toEqual([403]);
  });
});

describe.concurrent('servers with one classic mistake each fail at the check that names it', () => {
  const cases: Array<[flaw: Flaw, failsAt: number]> = [
    ['ignores-body', 5],
    ['answers-early', 6],
    ['never-closes', 9],
    ['drops-after-64k', 13],
  ];
  for (const [flaw, failsAt] of cases) {
    it(`${flaw}: fails check ${failsAt}, every check before it passes, with a reproduce command`, async ({
      expect,
    }) => {
      const server = await start(createBrokenServer(flaw));
      try {
        const results = await check(server.port, ['core'], false);
        expect(results.map((result) => result.passed)).toEqual([...Array<boolean>(failsAt - 1).fill(true), false]);
        const text = formatResult(results[failsAt - 1], { color: false });
        expect(text).toMatch(/Reproduce: (printf|\(printf|head -c|curl) /);
        expect(text).toContain('Expected: ');
      } finally {
        await server.close();
      }
    });
  }
});

describe.concurrent('npm run check, as an attendee runs it', () => {
  it(
    'minimal.ts, core group: 13 passed, exit code 0',
    async ({ expect }) => {
      const { code, output, lastLine } = await runCheckCli(['part2', 'part2-tcp-http/minimal.ts', '--group', 'core']);
      expect(lastLine, output).toBe('13 passed, 0 failed');
      expect(code).toBe(0);
    },
    SLOW_TEST_MS,
  );

  it(
    'starter.ts: check 1 fails with advice on what to write, exit code 1',
    async ({ expect }) => {
      const { code, output, lastLine } = await runCheckCli(['part2', 'part2-tcp-http/starter.ts']);
      expect(lastLine, output).toBe('0 passed, 1 failed');
      expect(code).toBe(1);
      expect(output).toContain('✗  1 core        answers GET / with 200 and a Content-Length that matches the body');
      expect(output).toMatch(/Reproduce: curl -v http:\/\/127\.0\.0\.1:\d+\//);
      expect(output).toContain('      > GET / HTTP/1.1\\r\\n');
      expect(output).toContain('Seen:     no response at all');
      expect(output).toContain('Advice:   Nothing came back. Once the head has arrived');
      // The starter's own log of what arrived, with \r\n visible, is passed through.
      expect(output).toContain('[your server] received 35 bytes: "GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"');
      expect(output).toContain('(39 more checks not run: fix this one first, or add --all to see them all)');
    },
    SLOW_TEST_MS,
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
