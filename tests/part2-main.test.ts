// `npm run part2` as a learner runs it (main.ts in a child process), and the README's promises:
// the files it names exist.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import * as parser from '../part2-tcp-http/parser.ts';
import * as server from '../part2-tcp-http/timeouts.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Node 24 and later run TypeScript themselves (type stripping): no tsx needed. */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** Start main.ts the way `npm run part2` does (tsx), or with plain `node` on Node 24+, on a free port. */
function startMain(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  runner: 'tsx' | 'node' = 'tsx',
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const loader = runner === 'tsx' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, 'part2-tcp-http/main.ts', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '', TRACE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.runIf(NODE_MAJOR >= 24)('node part2-tcp-http/main.ts, with no tsx (Node 24 and later)', () => {
  it('serves the site, its stack traces pointing at the real lines of the .ts files', async () => {
    const main = startMain([], {}, 'node');
    try {
      const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(main.output())?.[1], 'the URL');
      const response = await request(`${url}hello?name=Node`);
      expect(await response.body.text()).toContain('Hello, Node!');
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });
});
if (NODE_MAJOR < 24)
  console.log(
    `Skipped the plain-node test: Node ${process.versions.node} cannot run .ts files without tsx (CI runs this suite on Node 24 and 26 too).`,
  );

describe('npm run part2', () => {
  it('prints the URL and a curl command, traces with --trace, and exits 0 on Ctrl-C', async () => {
    const main = startMain(['--trace']);
    try {
      const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(main.output())?.[1], 'the URL');
      // The curl hint is a line of its own, printed after the URL: wait for it too.
      await waitFor(
        () => (main.output().includes(`curl -v '${url}hello?name=Ada'`) ? true : undefined),
        'the curl command',
      );
      const response = await request(`${url}hello?name=Ada`);
      expect(await response.body.text()).toContain('Hello, Ada!');
      await waitFor(() => (main.output().includes('< HTTP/1.1 200 OK\\r\\n') ? true : undefined), 'the trace');
      expect(main.output()).toContain('> GET /hello?name=Ada HTTP/1.1\\r\\n');
      main.child.kill('SIGINT');
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });

  it('turns tracing on with TRACE=1 too', async () => {
    const main = startMain([], { TRACE: '1' });
    try {
      const url = await waitFor(() => /listening on (http:\/\/\S+\/)/.exec(main.output())?.[1], 'the URL');
      await (await request(url)).body.text();
      await waitFor(() => (main.output().includes('> GET / HTTP/1.1\\r\\n') ? true : undefined), 'the trace');
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });

  it('explains an unknown argument in one line and exits 2', async () => {
    const main = startMain(['--tracee']);
    expect(await main.exited).toBe(2);
    expect(main.output().trim()).toBe(
      'Unexpected argument "--tracee". Usage: npm run part2 -- [--trace] [--port N] [--host H]',
    );
  });
});

describe('part2-tcp-http/README.md (the lesson) and REFERENCE.md', () => {
  it.each(['README.md', 'REFERENCE.md'])('%s names only files that exist', (file) => {
    const text = readFileSync(new URL(`../part2-tcp-http/${file}`, import.meta.url), 'utf8');
    // Paths like tests/part2-site.test.ts, and bare names like `parser.ts` (meaning part2-tcp-http/parser.ts).
    // A file the learner creates (part2-tcp-http/my-server.ts) is not expected to exist.
    const named = new Set(
      (
        text.match(
          /\b(?:part1-sockets|part2-tcp-http|tests)\/[\w./-]+\.(?:ts|html|txt|css|svg|json)\b|\b[\w-]+\.ts\b/g,
        ) ?? []
      ).filter((name) => !/(?:^|\/)my-[\w-]+\.ts$/.test(name)),
    );
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) {
      const path = name.includes('/') ? name : `part2-tcp-http/${name}`;
      expect(existsSync(new URL(`../${path}`, import.meta.url)), name).toBe(true);
    }
  });

  it('gives each limit in its limits table (REFERENCE.md) the value the code uses, and names the option that changes it', () => {
    const readme = readFileSync(new URL('../part2-tcp-http/REFERENCE.md', import.meta.url), 'utf8');
    const limits: Array<[name: string, value: number, option: string]> = [
      ['MAX_REQUEST_LINE_BYTES', parser.MAX_REQUEST_LINE_BYTES, 'limits.maxRequestLineBytes'],
      ['MAX_HEADER_BYTES', parser.MAX_HEADER_BYTES, 'limits.maxHeaderBytes'],
      ['MAX_HEADER_FIELDS', parser.MAX_HEADER_FIELDS, 'limits.maxHeaderFields'],
      ['MAX_BODY_BYTES', parser.MAX_BODY_BYTES, 'limits.maxBodyBytes'],
      ['MAX_CHUNK_EXTENSION_BYTES', parser.MAX_CHUNK_EXTENSION_BYTES, 'limits.maxChunkExtensionBytes'],
      ['HEAD_TIMEOUT_MS', server.HEAD_TIMEOUT_MS, 'headTimeoutMs'],
      ['BODY_TIMEOUT_MS', server.BODY_TIMEOUT_MS, 'bodyTimeoutMs'],
      ['IDLE_TIMEOUT_MS', server.IDLE_TIMEOUT_MS, 'idleTimeoutMs'],
      ['LINGER_TIMEOUT_MS', server.LINGER_TIMEOUT_MS, 'lingerTimeoutMs'],
      ['SEND_TIMEOUT_MS', server.SEND_TIMEOUT_MS, 'sendTimeoutMs'],
    ];
    const units: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024, s: 1000, '': 1 };
    for (const [name, value, option] of limits) {
      // | what | default | answer | constant (option) | test |
      const row = readme.split('\n').find((line) => line.includes(`\`${name}\` (\`${option}\`)`));
      expect(row, `a row of the limits table names ${name} and its option ${option}`).toBeDefined();
      const shown = /^(\d+)(?: (KiB|MiB|s)\b)?/.exec(row?.split('|')[2].trim() ?? '');
      expect(shown, `${name}'s default in the table`).not.toBeNull();
      expect(Number(shown?.[1]) * units[shown?.[2] ?? ''], name).toBe(value);
    }
  });
});
