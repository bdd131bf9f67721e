// `npm run inspect` as a learner runs it (inspector/main.ts in a child process): it prints where
// the proxy and the page are, forwards to the server named by --to, says in one line when a port
// is taken or an argument is wrong, and stops cleanly on Ctrl-C. And its README's promises: the
// files it names exist, its numbers are the code's.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BODY_FOLD_BYTES, HEAD_FOLD_BYTES, MAX_CONNECTIONS, MAX_ITEMS_PER_CONNECTION } from '../inspector/recorder.ts';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { holdPort, type HeldPort } from './helpers/ports.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange } from './helpers/wire.ts';

const stages: StageRun[] = [];
const held: HeldPort[] = [];
let site: RunningServer | null = null;

afterEach(async () => {
  for (const stage of stages.splice(0)) stage.child.kill('SIGKILL');
  for (const port of held.splice(0)) await port.release();
  await site?.close();
  site = null;
});

function inspect(args: string[]): StageRun {
  const stage = runStage(['inspector/main.ts', ...args]);
  stages.push(stage);
  return stage;
}

describe('npm run inspect', () => {
  it('prints the proxy and the page, forwards to --to, records what passed, and stops on Ctrl-C', async () => {
    site = await start(createSiteServer());
    const stage = inspect(['--to', `127.0.0.1:${site.port}`, '--port', '0']);
    const [, proxyPort] = await stage.waitForOutput(/a proxy on 127\.0\.0\.1:(\d+) forwarding to 127\.0\.0\.1:\d+/);
    const [, pageUrl] = await stage.waitForOutput(/See every connection at (http:\/\/127\.0\.0\.1:\d+\/)/);
    // The last line printed (the output may arrive in pieces: wait for it, do not just look).
    await stage.waitForOutput(new RegExp(`npm run check -- part2 --port ${proxyPort}\\n`));

    const answer = await exchange(
      Number(proxyPort),
      'GET /hello?name=Inspector HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toContain('Hello, Inspector!');
    const recorded = await fetch(`${pageUrl}connections`).then((response) => response.json());
    expect(JSON.stringify(recorded)).toContain('GET /hello?name=Inspector HTTP/1.1');

    stage.child.kill('SIGINT');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it('takes a bare port for --to, on 127.0.0.1', async () => {
    site = await start(createSiteServer());
    const stage = inspect(['--to', String(site.port), '--port', '0']);
    await stage.waitForOutput(new RegExp(`forwarding to 127\\.0\\.0\\.1:${site.port} `));
    stage.child.kill('SIGTERM');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  });

  it("says in one line that the proxy's port is taken, and which command to try", async () => {
    const taken = await holdPort();
    held.push(taken);
    const stage = inspect(['--to', '8002', '--port', String(taken.port)]);
    expect(await stage.exited).toEqual({ code: 1, signal: null });
    expect(stage.stderr().trim()).toBe(
      `Port ${taken.port} is already in use (is another server still running?); pick another with: npm run inspect -- --to 8002 --port ${taken.port + 10}   (or PORT=${taken.port + 10})`,
    );
  });

  it("says in one line that the page's port is taken, naming --page-port", async () => {
    const taken = await holdPort();
    held.push(taken);
    const stage = inspect(['--to', '8002', '--port', '0', '--page-port', String(taken.port)]);
    expect(await stage.exited).toEqual({ code: 1, signal: null });
    expect(stage.stderr().trim()).toBe(
      `For the page: Port ${taken.port} is already in use (is another server still running?); pick another with: npm run inspect -- --to 8002 --page-port ${taken.port + 10}`,
    );
  });

  it('refuses an argument it does not know, with the usage, exit code 2', async () => {
    const stage = inspect(['--to', '8002', '--port', '0', '--frobnicate']);
    expect(await stage.exited).toEqual({ code: 2, signal: null });
    expect(stage.stderr().trim()).toMatch(/^Unexpected argument "--frobnicate"\. Usage: npm run inspect -- /);
  });

  it('refuses a --to that is not a port', async () => {
    const stage = inspect(['--to', 'localhost:http', '--port', '0']);
    expect(await stage.exited).toEqual({ code: 2, signal: null });
    expect(stage.stderr().trim()).toBe('--to "http": a port is a whole number from 0 to 65535, e.g. --to 8002');
  });
});

describe('inspector/README.md', () => {
  const readme = readFileSync(new URL('../inspector/README.md', import.meta.url), 'utf8');

  it('names files that exist', () => {
    const table = readme.slice(readme.indexOf('## How it is built'), readme.indexOf('## Through the checker'));
    // The first cell of each row: `a.ts`, `b.ts`, ...
    const cells = [...table.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) \|/gm)].map((match) => match[1]);
    const named = cells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]));
    expect(named.length).toBeGreaterThanOrEqual(11);
    for (const file of named) expect(existsSync(new URL(`../inspector/${file}`, import.meta.url)), file).toBe(true);
  });

  it("gives the recorder's limits as the code has them", () => {
    const prose = readme.replace(/\s+/g, ' ');
    expect(prose).toContain(`**N = ${MAX_CONNECTIONS}** connections (\`MAX_CONNECTIONS\`)`);
    expect(prose).toContain(`the last ${MAX_ITEMS_PER_CONNECTION} items of each (\`MAX_ITEMS_PER_CONNECTION\`)`);
    expect(prose).toContain(`first and last ${BODY_FOLD_BYTES} bytes (\`BODY_FOLD_BYTES\`)`);
    expect(prose).toContain(`first and last ${HEAD_FOLD_BYTES} (\`HEAD_FOLD_BYTES\`)`);
  });

  it('shows a screenshot that exists and stays small', () => {
    expect(readme).toContain('](screenshot.png)');
    expect(statSync(new URL('../inspector/screenshot.png', import.meta.url)).size).toBeLessThan(200 * 1024);
  });
});
