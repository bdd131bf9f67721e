// Part 3's checks (tests/checks/part3.ts) can pass and can fail: every core and hardening check
// passes on the course's gateway; the minimal gateway passes the core and fails the hardening
// checks it has no code for; the starter fails check 1; each challenge fails on the course's
// gateway and passes on its solution; and each deliberately broken gateway fails at the check
// that names its flaw, with a command to reproduce it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, selectChecks, type CheckResult, type Group, type ServerTimeouts } from './checks/check.ts';
import { part3Checks } from './checks/part3.ts';
import { app as demoApp } from '../part3-gateway/apps/demo.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import probeApp from './checks/probe-app.ts';
import { formatResult } from './checks/report.ts';
import { STAGES } from './checks/stages.ts';
import { createBrokenGateway, type Flaw } from './fixtures/broken-part3.ts';
import { startGateway, type RunningGateway } from './helpers/gateway.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { runCheckCli } from './helpers/checks.ts';
import { start } from './helpers/server.ts';

/** Short server timeouts, given to the server and to the checks alike. */
const TIMEOUTS: ServerTimeouts = { headMs: 300, idleMs: 300, bodyMs: 300 };
const SERVER_OPTIONS = { headTimeoutMs: TIMEOUTS.headMs, idleTimeoutMs: TIMEOUTS.idleMs };
const CORE_AND_HARDENING: Group[] = ['core', 'hardening'];
const SERVER_ARGS = STAGES.part3.serverArgs;

const numberOf = (name: string): number => part3Checks.findIndex((check) => check.name === name) + 1;
const hardeningNames = part3Checks.filter((check) => check.group === 'hardening').map((check) => check.name);

function check(port: number, groups: Group[], all = true): Promise<CheckResult[]> {
  return runChecks(selectChecks(part3Checks, { groups }), { port, timeouts: TIMEOUTS, all });
}

/** A check's report, as the learner would read it (no colours). */
const report = (result: CheckResult): string => formatResult(result, { color: false });

describe("the course's gateway (createGatewayServer with the probe app)", () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(probeApp, SERVER_OPTIONS);
  });
  afterAll(() => gateway.close());

  it('passes every core and hardening check', async () => {
    const results = await check(gateway.port, CORE_AND_HARDENING);
    expect(results.filter((result) => !result.passed).map(report)).toEqual([]);
    expect(results).toHaveLength(part3Checks.filter((entry) => CORE_AND_HARDENING.includes(entry.group)).length);
  });

  it.each([1, 2, 3])('fails challenge %i (the README asks for more than the reference does)', async (challenge) => {
    const results = await check(gateway.port, [`challenge ${challenge}`], false);
    expect(results[0].passed).toBe(false);
  });
});

describe('deliberately broken gateways fail at the check that names their flaw, with a command to reproduce it', () => {
  const cases: Array<[Flaw, string]> = [
    ['ignores-the-app', 'calls the app for a request and sends what it answers (GET /hello?name=...)'],
    [
      'raw-path-info',
      'builds the CGI keys from the request: REQUEST_METHOD, SCRIPT_NAME, PATH_INFO decoded, QUERY_STRING raw, SERVER_*',
    ],
    ['short-input', 'lets the app read a request body through gateway.input (Content-Length, sent in two pieces)'],
    ['buffers-the-body', "streams a generator's chunks as the app makes them (chunked), not once the body ends"],
    ['forgets-close', "calls the body's return() and close() once each when the response is done"],
    ['greedy-read', 'gateway.input.read(size) never gives more than size bytes, even when more have arrived'],
    [
      'readline-reads-all',
      'gateway.input.readline() gives one line at a time, its "\\n" included, and an empty array at the end',
    ],
    [
      'ignores-declared-length',
      "answers 500, sending nothing of the app's head, when an array body disagrees with its Content-Length",
    ],
    ['defaults-to-200', 'answers 500 when the app returns a body without ever calling startResponse'],
    ['encodes-strings', 'answers 500 when the body yields a string instead of bytes'],
    [
      'decodes-all-or-nothing',
      'decodes the escapes of PATH_INFO that decode and keeps the others as sent (/a%zz/caf%C3%A9 → /a%zz/café)',
    ],
  ];

  it.each(cases)('%s → %s', async (flaw, failing) => {
    const server = await start(
      createBrokenGateway(flaw, probeApp, { ...SERVER_OPTIONS, errors: { write: () => {}, flush: () => {} } }),
    );
    try {
      const results = await check(server.port, CORE_AND_HARDENING, false);
      const last = results.at(-1);
      expect(last?.check.name).toBe(failing);
      expect(last?.number).toBe(numberOf(failing));
      expect(results.slice(0, -1).every((result) => result.passed)).toBe(true);
      const text = last === undefined ? '' : report(last);
      expect(text).toMatch(/Reproduce: (curl|printf|head|\()/);
      expect(text).toContain('\\r\\n');
      expect(text).toMatch(/part3-gateway\/(README|REFERENCE)\.md, section "/);
    } finally {
      await server.close();
    }
  });
});

describe("one check's advice fits what the gateway did", () => {
  const QUIET = { ...SERVER_OPTIONS, errors: { write: () => {}, flush: () => {} } };

  /** Run check `number` alone against `server`, and return its report (it must fail). */
  async function failing(
    server: ReturnType<typeof createGatewayServer>,
    number: number,
  ): Promise<{ text: string; advice: string }> {
    const running = await start(server);
    try {
      const [result] = await runChecks([{ number, check: part3Checks[number - 1] }], {
        port: running.port,
        timeouts: TIMEOUTS,
      });
      expect(result.passed).toBe(false);
      return { text: report(result), advice: result.failure?.advice ?? '' };
    } finally {
      await running.close();
    }
  }

  it('check 1, on a gateway serving another app (the demo): start the gateway with the probe app, the command given', async () => {
    const server = createGatewayServer(demoApp, QUIET);
    const running = await start(server);
    try {
      const [result] = await runChecks([{ number: 1, check: part3Checks[0] }], {
        port: running.port,
        timeouts: TIMEOUTS,
      });
      expect(result.failure?.seen).toContain('another app answers on this port');
      expect(result.failure?.advice).toContain(`npm run part3 -- tests/checks/probe-app.ts --port ${running.port}`);
    } finally {
      await running.close();
    }
  });

  it('check 7, on a gateway that sends an array chunked: hold the head until the first body bytes, as check 14 asks', async () => {
    const { advice } = await failing(createBrokenGateway('streams-arrays', probeApp, QUIET), 7);
    expect(advice).toContain('hold the head until the first body bytes');
    expect(advice).toContain('check 14');
  });

  it.each([8, 9])(
    'check %i, when the probe app throws (no gateway.input): the server log, not "the probe app answered 200"',
    async (number) => {
      const { advice } = await failing(createBrokenGateway('no-input', probeApp, QUIET), number);
      expect(advice).toContain('[your server]');
      expect(advice).toContain("environ['gateway.input']");
      expect(advice).not.toContain('answered 200');
    },
  );

  it('check 10 gives a reproduce command that releases the stream, so it ends by itself', async () => {
    const { text } = await failing(createBrokenGateway('buffers-the-body', probeApp, QUIET), 10);
    expect(text).toMatch(
      /Reproduce: printf 'GET \/stream\?id=(\S+) .*\| nc -N .* & sleep 1; curl -s 'http:\/\/127\.0\.0\.1:\d+\/release\?id=\1'; wait/,
    );
  });

  it('check 15, on a gateway that holds the body and answers a clean 500: the first chunk counts as sent; send it, then response.abort()', async () => {
    const { text, advice } = await failing(createBrokenGateway('buffers-the-body', probeApp, QUIET), 15);
    expect(text).toContain('Seen:     a complete 500');
    expect(advice).toContain('counts as sent');
    expect(advice).toContain('response.abort()');
  });

  it('check 15, on a gateway that ends the body normally after the failure: no 0\\r\\n\\r\\n, response.abort()', async () => {
    const { text, advice } = await failing(createBrokenGateway('swallows-errors', probeApp, QUIET), 15);
    expect(text).toContain('ended by 0\\r\\n\\r\\n');
    expect(advice).toContain('no 0\\r\\n\\r\\n');
    expect(advice).toContain('response.abort()');
  });
});

describe('what a check says is what happened', () => {
  it("check 21 names a field of the probe's answer, not an environ key", async () => {
    const server = await start(
      createBrokenGateway('readline-reads-all', probeApp, {
        ...SERVER_OPTIONS,
        errors: { write: () => {}, flush: () => {} },
      }),
    );
    try {
      const number = numberOf(
        'gateway.input.readline() gives one line at a time, its "\\n" included, and an empty array at the end',
      );
      const [result] = await runChecks([{ number, check: part3Checks[number - 1] }], {
        port: server.port,
        timeouts: TIMEOUTS,
      });
      expect(result.failure?.expected).toMatch(/^the probe app's "lines" to be /);
      expect(report(result)).not.toContain("environ['lines']");
    } finally {
      await server.close();
    }
  });
});

describe('the files an attendee runs (started as `npm run check` starts them: the file, the probe app, --port)', () => {
  const running: StageRun[] = [];
  afterAll(() => {
    for (const stage of running) stage.child.kill();
  });
  async function launched(file: string): Promise<{ port: number; stage: StageRun; stop(): Promise<void> }> {
    const stage = runStage([file, ...SERVER_ARGS, '--port', '0']);
    running.push(stage);
    const [, port] = await stage.waitForOutput(/http:\/\/127\.0\.0\.1:(\d+)\//);
    return {
      port: Number(port),
      stage,
      stop: async () => {
        stage.child.kill();
        await stage.exited;
      },
    };
  }

  it("the starter fails check 1, with the app's 200 expected and its 501 seen, and stops on SIGTERM", async () => {
    const server = await launched('part3-gateway/starter.ts');
    const results = await check(server.port, CORE_AND_HARDENING, false);
    expect(results).toHaveLength(1);
    expect(results[0].number).toBe(1);
    const text = report(results[0]);
    expect(text).toContain('Expected: status 200');
    expect(text).toContain('Seen:     status 501 Not Implemented');
    expect(text).toContain("Reproduce: curl -v 'http://127.0.0.1:");
    server.stage.child.kill('SIGTERM');
    expect(await server.stage.exited).toEqual({ code: 0, signal: null });
    expect(server.stage.stdout()).toContain('SIGTERM: stopping');
  });

  it.each([1, 2, 3])('solutions/challenge-%i.ts passes its challenge', async (challenge) => {
    const server = await launched(`part3-gateway/solutions/challenge-${challenge}.ts`);
    const results = await check(server.port, [`challenge ${challenge}`]);
    expect(results.filter((result) => !result.passed).map(report)).toEqual([]);
    expect(results.length).toBeGreaterThan(0);
    await server.stop();
  });

  it('the minimal gateway, through `npm run check -- part3 part3-gateway/minimal.ts --all`: every core check passes, seven hardening checks fail', async () => {
    const { code, output } = await runCheckCli(['part3', 'part3-gateway/minimal.ts', '--all']);
    const failed = [...output.matchAll(/^✗ +\d+ (\S+) +(.+)$/gm)].map((match) => [match[1], match[2]]);
    const expectedFailures = [
      "calls the body's return() and close() once each when the response is done",
      'refuses a hop-by-hop header from the app (Connection: close) with a 500',
      'stops pulling a generator when its client leaves mid-stream',
      'waits for a client that does not read (backpressure): stops pulling the body once the socket is full',
      "answers 500, sending nothing of the app's head, when an array body disagrees with its Content-Length",
      'answers 500 when the body yields a string instead of bytes',
      'decodes the escapes of PATH_INFO that decode and keeps the others as sent (/a%zz/caf%C3%A9 → /a%zz/café)',
    ];
    expect(failed).toEqual(expectedFailures.map((name) => ['hardening', name]));
    // Check 18: the client's leaving is the checker's, and the verdict says what the report says.
    expect(output).toContain('(the checker reset this connection on purpose: a client vanishing)');
    expect(output).toContain('not stopped 2 s after the client left: the probe\'s report says "stopped":false');
    expect(hardeningNames).toEqual(expect.arrayContaining(expectedFailures));
    expect(output.trimEnd().split('\n').at(-1)).toBe(
      `${part3Checks.filter((entry) => CORE_AND_HARDENING.includes(entry.group)).length - 7} passed, 7 failed`,
    );
    expect(code).toBe(1);
  });
});

describe('part3-gateway/REFERENCE.md, section "The checks"', () => {
  const reference = readFileSync('part3-gateway/REFERENCE.md', 'utf8');
  const start = reference.indexOf('\n## The checks\n');
  // The section runs to the next second-level heading (its ### subsections included).
  const section = reference.slice(start, reference.indexOf('\n## ', start + 1));

  it('is there, and holds the check table', () => {
    expect(start).toBeGreaterThan(0);
    expect(section).toContain('| # | group | check |');
  });

  it('lists every check of the stage in order, with its number and group', () => {
    const rows = [...section.matchAll(/^\| (\d+) \| ([\w ]+) \| (.+) \|$/gm)].map((match) => [
      Number(match[1]),
      match[2],
      match[3],
    ]);
    expect(rows).toEqual(part3Checks.map((entry, index) => [index + 1, entry.group, entry.name]));
  });

  it('numbers the hardening checks the minimal gateway fails as the checker does', () => {
    const leavesOut = section.slice(section.indexOf('### What minimal.ts leaves out'), section.indexOf('| # |'));
    const listed = [...leavesOut.matchAll(/^- (\d+): /gm)].map((match) => Number(match[1]));
    expect(listed.every((number) => part3Checks[number - 1].group === 'hardening')).toBe(true);
    expect(listed).toEqual([16, 17, 18, 19, 22, 24, 25]);
  });
});
