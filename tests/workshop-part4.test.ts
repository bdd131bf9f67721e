// Workshop mode, part 4: the checks of tests/checks/part4.ts can pass, and they can fail, each at
// the right place. Against the course's guestbooks (micro, mvc and hono, on the gateway and on
// node:http, alone at / and mounted at /micro/ and /mvc/) every core and hardening check passes,
// with part 3's validator finding no violation; the minimal guestbook passes the core and fails
// a known list of hardening checks; the starter fails check 1; each challenge fails on the
// course's guestbook and passes on its solution; and guestbooks with one classic mistake each
// fail at the check that names it, with a command to reproduce.
//
// Every server runs in this process; two runs go through the real `npm run check` command line
// (one starting minimal.ts as an attendee's file, one with --port and --base). Timeouts are
// short on both sides; nothing here depends on how fast the machine is.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Application, ErrorStream } from '../part3-gateway/contract.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import { app as minimalApp } from '../part4-frameworks/minimal.ts';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import { createSite, FRAMEWORKS } from '../part4-frameworks/site.ts';
import { createMaintainedGuestbook } from '../part4-frameworks/solutions/challenge-1.ts';
import { withETags } from '../part4-frameworks/solutions/challenge-2.ts';
import { createDeletableGuestbook } from '../part4-frameworks/solutions/challenge-3.ts';
import { app as starterApp } from '../part4-frameworks/starter.ts';
import { runChecks, selectChecks, type CheckResult, type Group, type ServerTimeouts } from './checks/check.ts';
import { part4Checks } from './checks/part4.ts';
import { createBrokenGuestbook, type Flaw } from './fixtures/broken-part4.ts';
import { failedNames, reportOf as report, runCheckCli } from './helpers/checks.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { ViolationLog } from './helpers/validator.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The server's timeouts and the checks' expectation of them (part 4's checks wait on none). */
const SHORT: ServerTimeouts = { headMs: 500, idleMs: 500, bodyMs: 500 };
/** Long enough for any run below; reached only by a hang. */
const SLOW_TEST_MS = 60_000;

/** What minimal.ts leaves out (REFERENCE.md, "What minimal.ts leaves out"): the hardening checks it fails. */
const MINIMAL_FAILS = [
  'answers 400, not 500, to a JSON body that does not parse',
  'answers 415 to a body that is neither a form nor JSON, and stores nothing',
  'takes only digits as an entry id: /entries/%20N, /entries/N.0 and /entries/0xN are 404',
];

/** An error stream that keeps what it is told (the mvc logger's lines, a crash's stack). */
function quietErrors(): ErrorStream & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (text) => void lines.push(text), flush: () => {} };
}

/** `app` on part 3's gateway server, with short timeouts. */
function onGateway(app: Application): Promise<RunningServer> {
  return start(
    createGatewayServer(app, { errors: quietErrors(), headTimeoutMs: SHORT.headMs, idleTimeoutMs: SHORT.idleMs }),
  );
}

/** Run `groups` of part 4's checks against `server`, then close it. */
async function check(
  server: RunningServer,
  groups: Group[],
  options: { base?: string; all?: boolean } = {},
): Promise<CheckResult[]> {
  try {
    return await runChecks(selectChecks(part4Checks, { groups }), {
      port: server.port,
      timeouts: SHORT,
      base: options.base,
      all: options.all ?? true,
    });
  } finally {
    await server.close();
  }
}

/** Run `npm run check -- part4 ...` as an attendee would (without npm in between). */
const runCli = (args: string[]): ReturnType<typeof runCheckCli> => runCheckCli(['part4', ...args]);

describe("the hints of part 4's checks", () => {
  it('name a README heading and a function of the reference that exist', () => {
    for (const { hint, name } of part4Checks) {
      const readme = /^(part4-frameworks\/README\.md), section "(.+)"$/.exec(hint.readme);
      expect(readme, `${name}: ${hint.readme}`).not.toBeNull();
      const headings = readFileSync(`${ROOT}${readme?.[1]}`, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .map((line) => line.replace(/^#+ /, ''));
      expect(headings, name).toContain(readme?.[2]);
      const reference = /^(part\d-[\w-]+\/\S+\.ts) → (?:\w+\.)?(\w+)$/.exec(hint.reference);
      expect(reference, `${name}: ${hint.reference}`).not.toBeNull();
      const file = `${ROOT}${reference?.[1]}`;
      expect(existsSync(file), hint.reference).toBe(true);
      expect(readFileSync(file, 'utf8'), hint.reference).toMatch(new RegExp(`\\b${reference?.[2]}\\b`));
    }
  });

  it('are numbered as the REFERENCE.md table shows: 11 core, then 7 hardening, then two per challenge', () => {
    const groups = part4Checks.map((entry) => entry.group);
    expect(groups.slice(0, 11).every((group) => group === 'core')).toBe(true);
    expect(groups.slice(11, 18).every((group) => group === 'hardening')).toBe(true);
    expect(groups.slice(18)).toEqual([
      'challenge 1',
      'challenge 1',
      'challenge 2',
      'challenge 2',
      'challenge 3',
      'challenge 3',
    ]);
  });
});

describe("the course's guestbooks pass every core and hardening check", () => {
  const cases: Array<{
    what: string;
    serve: (app: Application) => Promise<RunningServer>;
    create: () => Application;
    base: string;
  }> = [
    { what: 'micro on the gateway, at /', serve: onGateway, create: FRAMEWORKS.micro, base: '/' },
    { what: 'mvc on the gateway, at /', serve: onGateway, create: FRAMEWORKS.mvc, base: '/' },
    {
      what: 'micro on node:http, at /',
      serve: (app) => start(createNodeGatewayServer(app, { errors: quietErrors() })),
      create: FRAMEWORKS.micro,
      base: '/',
    },
    { what: 'the site on the gateway, at /micro/', serve: onGateway, create: createSite, base: '/micro/' },
    {
      what: 'the site on node:http, at /mvc/',
      serve: (app) => start(createNodeGatewayServer(app, { errors: quietErrors() })),
      create: createSite,
      base: '/mvc/',
    },
    // Hono, a framework nobody in the course wrote, through the fetch bridge.
    { what: 'hono on the gateway, at /', serve: onGateway, create: FRAMEWORKS.hono, base: '/' },
    { what: 'the site on the gateway, at /hono/', serve: onGateway, create: createSite, base: '/hono/' },
  ];
  it.each(cases)(
    '$what',
    async ({ serve, create, base }) => {
      const violations = new ViolationLog();
      const results = await check(await serve(violations.validated(create())), ['core', 'hardening'], { base });
      expect(failedNames(results), report(results)).toEqual([]);
      expect(results).toHaveLength(18);
      expect(violations.messages()).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});

describe('the minimal guestbook (part4-frameworks/minimal.ts)', () => {
  it(
    'passes every core check and fails exactly the hardening checks REFERENCE.md lists',
    async () => {
      const results = await check(await onGateway(minimalApp), ['core', 'hardening']);
      expect(
        results.filter((result) => result.check.group === 'core' && !result.passed).map((result) => result.check.name),
        report(results),
      ).toEqual([]);
      expect(failedNames(results)).toEqual(MINIMAL_FAILS);
      // REFERENCE.md, "What minimal.ts leaves out", names each of them by its number.
      const reference = readFileSync(`${ROOT}part4-frameworks/REFERENCE.md`, 'utf8');
      for (const result of results.filter((entry) => !entry.passed))
        expect(reference).toContain(`- **${result.number}**, `);
      // Check 17 reproduces from a fresh entry: its setup keeps the new id in $id.
      const ids = report(results.filter((result) => result.number === 17));
      expect(ids).toMatch(
        /Reproduce: id=\$\(curl -s -H 'Content-Type: application\/json' --data-binary '\{"name":"Id","message":"\w+"\}' 'http:\/\/127\.0\.0\.1:\d+\/entries' \| sed '[^']+'\) && curl -i "http:\/\/127\.0\.0\.1:\d+\/entries\/%20\$id"\n/,
      );
    },
    SLOW_TEST_MS,
  );

  it('is about 110 lines of framework, the guestbook after it', () => {
    const source = readFileSync(`${ROOT}part4-frameworks/minimal.ts`, 'utf8');
    const framework = source.slice(source.indexOf('// ---- The framework'), source.indexOf('// ---- The guestbook'));
    expect(framework.split('\n').length).toBeLessThan(125);
  });
});

describe('the starter (part4-frameworks/starter.ts)', () => {
  it('fails check 1 with the status it saw, a command to reproduce it and where to read', async () => {
    const results = await check(await onGateway(starterApp), ['core', 'hardening'], { all: false });
    expect(results).toHaveLength(1);
    expect(results[0].number).toBe(1);
    expect(results[0].passed).toBe(false);
    const text = report(results);
    expect(text).toContain("✗  1 core        answers GET / with 200 and the guestbook's page as HTML");
    expect(text).toMatch(/Reproduce: curl -i 'http:\/\/127\.0\.0\.1:\d+\/'/);
    expect(text).toContain('< HTTP/1.1 404 Not Found\\r\\n');
    expect(text).toContain('Seen:     status 404 Not Found');
    expect(text).toContain('Read:     part4-frameworks/README.md, section "Build it yourself"');
  });
});

describe('each challenge fails on the course guestbook and passes on its solution', () => {
  const solutions: Array<{ challenge: number; create: () => Application }> = [
    { challenge: 1, create: createMaintainedGuestbook },
    { challenge: 2, create: () => withETags(FRAMEWORKS.mvc()) },
    { challenge: 3, create: createDeletableGuestbook },
  ];
  it.each(solutions)(
    'challenge $challenge',
    async ({ challenge, create }) => {
      const group: Group = `challenge ${challenge}`;
      const before = await check(await onGateway(FRAMEWORKS.micro()), [group]);
      expect(before.map((result) => result.passed)).toEqual([false, false]);
      const violations = new ViolationLog();
      const after = await check(await onGateway(violations.validated(create())), [group, 'core', 'hardening']);
      expect(failedNames(after), report(after)).toEqual([]);
      expect(violations.messages()).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});

describe('guestbooks with one mistake each fail at the check that names it', () => {
  const cases: Array<{ flaw: Flaw; check: number; base?: string }> = [
    { flaw: 'page-as-text', check: 1 },
    { flaw: 'page-crashes', check: 1 },
    { flaw: 'form-answers-200', check: 3 },
    { flaw: 'location-ignores-mount', check: 3, base: '/book/' },
    { flaw: 'no-escaping', check: 4 },
    { flaw: 'oldest-first', check: 6 },
    { flaw: 'page-oldest-first', check: 6 },
    { flaw: 'silent-400', check: 7 },
    { flaw: 'no-allow', check: 10 },
  ];
  it.each(cases)('$flaw → check $check', async ({ flaw, check: expected, base }) => {
    const results = await check(await onGateway(createBrokenGuestbook(flaw)), ['core', 'hardening'], {
      base,
      all: false,
    });
    const failed = results.at(-1);
    expect(failed?.passed, report(results)).toBe(false);
    expect(failed?.number, report(results)).toBe(expected);
    expect(report(results)).toMatch(/Reproduce: (\S+=\$\()?curl /);
  });

  it('a check that needs an entry first reproduces with the request that adds it', async () => {
    const results = await check(await onGateway(createBrokenGuestbook('no-escaping')), ['core'], { all: false });
    const text = report(results);
    expect(results.at(-1)?.number, text).toBe(4);
    // The form POST, silent, then the page: on a fresh server it shows the same entry.
    expect(text).toMatch(
      /Reproduce: curl -s -o \/dev\/null -H 'Content-Type: application\/x-www-form-urlencoded' --data-binary 'name=Tom\+%26\+%3Cb%3E\w+%3C%2Fb%3E&message=Hello\+from\+\w+' 'http:\/\/127\.0\.0\.1:\d+\/entries' && curl -i 'http:\/\/127\.0\.0\.1:\d+\/'\n/,
    );
    // Seen: the page where the entry is, not its first 200 characters.
    expect(text).toMatch(
      /Seen: {5}the markup <b>\w+<\/b> inserted as is, in the page around "\w+" \(character \d+ of \d+\): ".*<li><strong>Tom & <b>/,
    );
  });

  it("a 500 is met with advice to read the server's log", async () => {
    const text = report(await check(await onGateway(createBrokenGuestbook('page-crashes')), ['core'], { all: false }));
    expect(text).toContain('Seen:     status 500 Internal Server Error');
    expect(text).toContain(
      'Advice:   A 500 is your server failing, and its log says why: look at the lines starting with "[your server]" above',
    );
  });
});

describe('npm run check -- part4, the command line', () => {
  it(
    'starts minimal.ts as a file, runs every check, ends with "15 passed, 3 failed" and exits 1',
    async () => {
      const { code, output } = await runCli(['part4-frameworks/minimal.ts', '--all']);
      const lines = output.trimEnd().split('\n');
      expect(lines.at(-1), output).toBe('15 passed, 3 failed');
      expect(code).toBe(1);
      for (const name of MINIMAL_FAILS) expect(output).toContain(`hardening   ${name}`);
      // The file's start line names the file run (serve.ts reads it from import.meta.url).
      expect(output).toMatch(
        /\[your server\] The minimal guestbook \(part4-frameworks[\\/]minimal\.ts\), on the gateway server/,
      );
    },
    SLOW_TEST_MS,
  );

  it(
    'checks a running server with --port and a guestbook mounted below / with --base, and exits 0',
    async () => {
      const server = await onGateway(createSite());
      try {
        const { code, output } = await runCli(['--port', String(server.port), '--base', 'mvc', '--group', 'core']);
        expect(output).toContain('the app mounted at /mvc/');
        expect(output.trimEnd().split('\n').at(-1), output).toBe('11 passed, 0 failed');
        expect(code).toBe(0);
      } finally {
        await server.close();
      }
    },
    SLOW_TEST_MS,
  );
});
