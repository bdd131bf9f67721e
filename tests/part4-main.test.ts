// `npm run part4` as a learner runs it (part4-frameworks/main.ts in a child process): both
// guestbooks behind an index page by default, one --server × --framework pair on request, a
// one-line answer to a wrong choice, and a clean exit on Ctrl-C. Then the lesson's promises:
// the files part4-frameworks/README.md, FETCH.md and REFERENCE.md name exist.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { runStage, type StageRun } from './helpers/child.ts';

const MAIN = 'part4-frameworks/main.ts';
/** tsx compiles main.ts and everything it imports at start-up: seconds on a busy machine. */
const START_MS = 20_000;
const runs: StageRun[] = [];

function run(args: string[]): StageRun {
  const stage = runStage([MAIN, '--port', '0', ...args]);
  runs.push(stage);
  return stage;
}

afterEach(() => {
  for (const stage of runs.splice(0))
    if (stage.child.exitCode === null && stage.child.signalCode === null) stage.child.kill('SIGKILL');
});

async function get(url: string): Promise<{ status: number; server: string; text: string }> {
  const response = await request(url);
  return { status: response.statusCode, server: String(response.headers.server), text: await response.body.text() };
}

describe('npm run part4 (part4-frameworks/main.ts in a child process)', { timeout: 2 * START_MS }, () => {
  it('serves the guestbooks on the gateway under /micro/, /mvc/ and /hono/ with an index page, and stops on Ctrl-C with exit 0', async () => {
    const stage = run([]);
    const [, base] = await stage.waitForOutput(/index at (http:\/\/127\.0\.0\.1:\d+\/)\n[\s\S]*Try: /, START_MS);
    expect(stage.stdout()).toContain(`${base}micro/`);
    expect(stage.stdout()).toContain(`${base}mvc/`);
    expect(stage.stdout()).toContain(`${base}hono/`);
    const index = await get(base);
    expect(index.status).toBe(200);
    expect(index.server).toBe('small-journey-gateway');
    expect(index.text).toContain('href="micro/"');
    expect((await get(`${base}micro/`)).text).toContain('<title>Guestbook (micro)</title>');
    expect((await get(`${base}mvc/entries`)).text).toBe('{"entries":[]}');
    expect((await get(`${base}hono/`)).text).toContain('<title>Guestbook (hono)</title>');
    expect((await get(`${base}elsewhere`)).status).toBe(404);

    stage.child.kill('SIGINT');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it('with --server node --framework mvc serves that one guestbook at / on node:http', async () => {
    const stage = run(['--server', 'node', '--framework=mvc']);
    const [, base] = await stage.waitForOutput(
      /The mvc .* guestbook on node:http .*, at (http:\/\/127\.0\.0\.1:\d+\/)/,
      START_MS,
    );
    const page = await get(base);
    expect(page.server).toBe('small-journey-node-http');
    expect(page.text).toContain('<title>Guestbook (mvc)</title>');
    stage.child.kill('SIGTERM');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it("with --app serves a fetch app (Hono's export default app) on node:http, wrapped with fromFetch, and says so", async () => {
    const stage = run(['--app', 'part4-frameworks/hono/guestbook.ts', '--server', 'node']);
    const [, base] = await stage.waitForOutput(
      /Serving part4-frameworks\/hono\/guestbook\.ts \(a fetch app: its fetch method, wrapped with fromFetch\) on node:http .*, at (http:\/\/127\.0\.0\.1:\d+\/)/,
      START_MS,
    );
    const page = await get(base);
    expect(page.server).toBe('small-journey-node-http');
    expect(page.text).toContain('<title>Guestbook (hono)</title>');
    stage.child.kill('SIGTERM');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it('with --app serves an app of the contract, a named export, on the gateway', async () => {
    const stage = run(['--app', 'tests/fixtures/loader-cases.ts:other']);
    const [, base] = await stage.waitForOutput(
      /Serving tests\/fixtures\/loader-cases\.ts:other \(an app of the contract\) on the gateway server .*, at (http:\/\/127\.0\.0\.1:\d+\/)/,
      START_MS,
    );
    expect((await get(base)).text).toBe('other\n');
    stage.child.kill('SIGTERM');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it.each([
    [['--server', 'apache'], '--server does not know "apache": choose gateway or node, e.g. --server node'],
    [['--framework'], '--framework needs a value: choose micro, mvc or hono, e.g. --framework hono'],
    [
      ['--workers', '2'],
      'Unknown option --workers. Usage: npm run part4 -- [--server gateway|node] [--framework micro|mvc|hono | --app app.ts[:export]] [--port N] [--host H]',
    ],
    [['--app'], '--app needs a file: --app path/to/app.ts, or path/to/app.ts:exportName'],
    [
      ['--app', 'part4-frameworks/hono/guestbook.ts', '--framework', 'mvc'],
      'Give --app or --framework, not both: --app serves your app instead of a guestbook.',
    ],
    [
      ['--app', 'nowhere/app.ts'],
      expect.stringMatching(/^No such file: nowhere\/app\.ts \(looked for .*\)\. Give the path to a \.ts file/),
    ],
  ])('answers %j with one line saying what to do, and exit code 2', async (args, message) => {
    const stage = run(args);
    expect(await stage.exited).toEqual({ code: 2, signal: null });
    expect(stage.stderr().trim().split(/\r?\n/)).toEqual([message]);
  });
});

describe('part4-frameworks/README.md (the lesson), FETCH.md (part 4b) and REFERENCE.md', () => {
  it.each(['README.md', 'FETCH.md', 'REFERENCE.md'])('%s names only files that exist', (file) => {
    const readme = readFileSync(new URL(`../part4-frameworks/${file}`, import.meta.url), 'utf8');
    // Paths like tests/part4-guestbook.test.ts, or micro/guestbook.ts and solutions/challenge-1.ts
    // (inside part4-frameworks/), and bare names, e.g. `urls.ts` in the trace table's mvc column.
    // A file the learner creates (part4-frameworks/my-framework.ts) is not expected to exist.
    const named = new Set(
      (readme.match(/\b(?:part\d-[\w-]+|tests|micro|mvc|solutions)\/[\w./-]+\.ts\b|\b[\w-]+\.ts\b/g) ?? []).filter(
        (name) => !/(?:^|\/)my-[\w-]+\.ts$/.test(name),
      ),
    );
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) {
      const candidates = [
        '',
        'part4-frameworks/',
        'part4-frameworks/micro/',
        'part4-frameworks/mvc/',
        'part4-frameworks/solutions/',
        'tests/',
      ].map((folder) => folder + name);
      expect(
        candidates.some((path) => existsSync(new URL(`../${path}`, import.meta.url))),
        name,
      ).toBe(true);
    }
  });
});
