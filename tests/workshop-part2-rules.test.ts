// Part 2's checks judge by the RFCs (part2-tcp-http/REFERENCE.md, "What the hardening checks
// ask"): where an RFC allows two answers, a server giving the other one passes; a server that
// breaks one rule, and only that one, fails the check that names it; a check of the course's own
// policy takes the server's own limit or timeout when given it, and says it is policy. And a
// server in another language, tests/fixtures/python_server.py, passes every core and hardening
// check (run when python3 is on the machine, as it is on CI).
//
// The variants are the course's server behind a front that changes one behaviour
// (tests/fixtures/variant-part2.ts); timeouts are short on both sides.
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { runChecks, type CheckResult, type ServerLimits, type ServerTimeouts } from './checks/check.ts';
import { part2Checks } from './checks/part2.ts';
import { formatResult } from './checks/report.ts';
import { createVariantServer, type Variant } from './fixtures/variant-part2.ts';
import { reportOf, runCheckCli } from './helpers/checks.ts';
import { start } from './helpers/server.ts';

const SHORT: ServerTimeouts = { headMs: 300, idleMs: 300, bodyMs: 300 };
const SERVER_TIMEOUTS = { headTimeoutMs: 300, idleTimeoutMs: 300, bodyTimeoutMs: 300 };
/** Long enough for any run below; reached only by a hang. */
const SLOW_TEST_MS = 120_000;

/** Run check `number` alone against a server started from `server`, then close it. */
async function runOne(
  server: Parameters<typeof start>[0],
  number: number,
  options: { limits?: ServerLimits; timeouts?: ServerTimeouts } = {},
): Promise<CheckResult> {
  const running = await start(server);
  try {
    const [result] = await runChecks([{ number, check: part2Checks[number - 1] }], {
      port: running.port,
      timeouts: options.timeouts ?? SHORT,
      limits: options.limits,
    });
    return result;
  } finally {
    await running.close();
  }
}

describe.concurrent('a server giving the other answer an RFC allows passes the check', () => {
  const cases: Array<[Variant, number[]]> = [
    ['reads-by-transfer-encoding-and-closes', [19]],
    ['answers-501-to-unknown-codings', [20]],
    ['replaces-nul-with-space', [23]],
    ['options-with-a-body', [29]],
    ['options-not-implemented', [29]],
    ['bare-lf-as-space', [30]],
    ['closes-without-408', [24, 36]],
  ];
  for (const [variant, numbers] of cases)
    for (const number of numbers)
      it(`${variant}: check ${number} passes`, async ({ expect }) => {
        const result = await runOne(createVariantServer(variant, SERVER_TIMEOUTS), number);
        expect(result.passed, reportOf([result])).toBe(true);
      });
});

describe.concurrent('a server that breaks one rule fails the check that names it', () => {
  const cases: Array<[Variant, number, RegExp]> = [
    ['space-before-colon-accepted', 15, /Expected: status 400/],
    ['runs-the-body-after-413', 18, /Seen: {5}an answer to "GET \/hello\?name=in-the-body"/],
    ['reads-by-content-length', 19, /a body read by Content-Length/],
    ['keeps-open-after-both-framings', 19, /MUST close the connection/],
    ['dechunks-chunked-identity', 20, /Expected: status 400 or 501/],
    ['takes-1.9-as-1.0', 28, /without Host, 400/],
    ['bare-lf-ends-lines', 30, /Dummy: x Content-Length: 23/],
    ['last-content-length-wins', 32, /Expected: status 400/],
    ['drops-unicode-digits', 32, /Seen: {5}no response at all/],
    ['keeps-http10-open', 33, /HTTP\/1\.0 without "Connection: keep-alive"/],
    ['ignores-close-beside-keep-alive', 33, /"close" among the options/],
    ['no-date', 34, /Seen: {5}no Date header/],
    ['refuses-empty-line', 35, /Expected: status 200/],
    ['fragment-accepted', 38, /Expected: status 400 or 301/],
    ['absolute-form-refused', 39, /Seen: {5}status 404/],
    ['authority-unchecked', 39, /Expected: status 400 or 301/],
    ['leading-zeros-refused', 40, /Seen: {5}status 400/],
  ];
  for (const [variant, number, says] of cases)
    it(`${variant}: check ${number} fails, and says why`, async ({ expect }) => {
      const result = await runOne(createVariantServer(variant, SERVER_TIMEOUTS), number);
      expect(result.passed).toBe(false);
      const text = formatResult(result, { color: false });
      expect(text).toMatch(says);
      expect(text).toMatch(/Reproduce: /);
    });
});

describe.concurrent("a check of the course's policy takes the server's own value, and says it is policy", () => {
  const COURSE = { requestLineBytes: 8 * 1024, headerBytes: 16 * 1024, bodyBytes: 1024 * 1024 };
  const cases: Array<[number, Parameters<typeof createSiteServer>[0], Partial<ServerLimits>, string]> = [
    [16, { limits: { maxRequestLineBytes: 16 * 1024 } }, { requestLineBytes: 16 * 1024 }, '--line-limit'],
    [17, { limits: { maxHeaderBytes: 32 * 1024 } }, { headerBytes: 32 * 1024 }, '--header-limit'],
    [18, { limits: { maxBodyBytes: 16 * 1024 * 1024 } }, { bodyBytes: 16 * 1024 * 1024 }, '--body-limit'],
  ];
  for (const [number, options, limits, option] of cases)
    it(`check ${number}: fails a server with a larger limit, naming ${option}; passes it given that limit`, async ({
      expect,
    }) => {
      const server = (): ReturnType<typeof createSiteServer> =>
        createSiteServer({ ...options, ...SERVER_TIMEOUTS, logError: () => {} });
      const asCourse = await runOne(server(), number);
      expect(asCourse.passed).toBe(false);
      expect(asCourse.check.name).toContain('course policy');
      expect(formatResult(asCourse, { color: false })).toMatch(
        new RegExp(`Policy: {3}course policy, not an RFC rule: .*${option}`),
      );
      const given = await runOne(server(), number, { limits: { ...COURSE, ...limits } });
      expect(given.passed, reportOf([given])).toBe(true);
    });

  it('check 36: fails a server that waits longer for a body than the checker is told', async ({ expect }) => {
    const server = createSiteServer({ ...SERVER_TIMEOUTS, bodyTimeoutMs: 60_000, logError: () => {} });
    const result = await runOne(server, 36);
    expect(result.passed).toBe(false);
    expect(formatResult(result, { color: false })).toContain('--body-timeout MS');
  });

  it('check 37: fails a server whose chunk extensions are not bounded below its body limit', async ({ expect }) => {
    const server = createSiteServer({
      ...SERVER_TIMEOUTS,
      limits: { maxChunkExtensionBytes: 8 * 1024 * 1024 },
      logError: () => {},
    });
    const result = await runOne(server, 37);
    expect(result.passed).toBe(false);
    expect(result.failure?.seen).toMatch(/^status 200 OK, after [\d,]+ bytes of chunked body/);
  });
});

const PYTHON = spawnSync('python3', ['--version']).status === 0;
const SKIP_REASON = 'python3 is not on this machine (it is on CI)';
if (!PYTHON) console.warn(`tests/workshop-part2-rules.test.ts: the Python server is skipped: ${SKIP_REASON}`);

describe.skipIf(!PYTHON)(`part 2 in Python, tests/fixtures/python_server.py (skipped when ${SKIP_REASON})`, () => {
  // The server reads its timeouts from its environment, which the checker passes on.
  const ENV = { HEAD_TIMEOUT_MS: '500', IDLE_TIMEOUT_MS: '500', BODY_TIMEOUT_MS: '500' };
  const TIMEOUT_OPTIONS = ['--head-timeout', '500', '--idle-timeout', '500', '--body-timeout', '500'];

  it(
    'passes every core and hardening check, started by the checker with python3',
    async ({ expect }) => {
      const { code, output, lastLine } = await runCheckCli(
        ['part2', 'tests/fixtures/python_server.py', '--all', ...TIMEOUT_OPTIONS],
        ENV,
      );
      const checks = part2Checks.filter((check) => check.group === 'core' || check.group === 'hardening').length;
      expect(lastLine, output).toBe(`${checks} passed, 0 failed`);
      expect(code).toBe(0);
      expect(output).toContain('[your server] Python server listening on http://127.0.0.1:');
    },
    SLOW_TEST_MS,
  );

  it(
    "started with --exec 'python3 ...', the same way; a failing check prints that command to start it by hand",
    async ({ expect }) => {
      // Told a head timeout far shorter than the server's (10 s), check 24 fails.
      const { code, output } = await runCheckCli([
        'part2',
        '--exec',
        'python3 tests/fixtures/python_server.py',
        '--check',
        '24',
        '--head-timeout',
        '100',
      ]);
      expect(code).toBe(1);
      expect(output).toMatch(/Checking "python3 tests\/fixtures\/python_server\.py" \(started on 127\.0\.0\.1:\d+\)/);
      expect(output).toMatch(
        /start your server on that port first \(the checker has stopped it\): python3 tests\/fixtures\/python_server\.py --port \d+/,
      );
    },
    SLOW_TEST_MS,
  );
});
