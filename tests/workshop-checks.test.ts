// The checker itself: every hint points at something that exists, failures are shown as the
// learner needs them (bytes with \r\n visible, a caret, a command to reproduce), and the strict
// response reader finds the first wrong byte. The stage checks run against servers in
// tests/workshop-part*.test.ts.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckFailure, runChecks, summaryLine, type Check } from './checks/check.ts';
import { formatResult, reproduceCommand, showBytes, showSent } from './checks/report.ts';
import { STAGES } from './checks/stages.ts';
import { runCheckCli } from './helpers/checks.ts';
import { parseResponse, type Transcript } from './checks/wire.ts';

/** Long enough for a checker run that starts a server; reached only by a hang. */
const SLOW_TEST_MS = 60_000;

const allChecks = Object.values(STAGES).flatMap((stage) => stage.checks.map((check) => ({ stage: stage.name, check })));

describe('every hint points at something in the repository', () => {
  it.each(allChecks.map(({ stage, check }) => [`${stage}: ${check.name}`, check] as const))('%s', (_name, check) => {
    const readme = /^(\S+\.md), section "(.+)"$/.exec(check.hint.readme);
    expect(readme, `hint.readme "${check.hint.readme}" reads 'file.md, section "Heading"'`).not.toBeNull();
    const [, readmeFile, heading] = readme ?? [];
    expect(existsSync(readmeFile), readmeFile).toBe(true);
    const headings = readFileSync(readmeFile, 'utf8')
      .split('\n')
      .filter((line) => /^#{2,4} /.test(line))
      .map((line) => line.replace(/^#+ /, ''));
    expect(headings).toContain(heading);

    const reference = /^(\S+\.ts) → (.+)$/.exec(check.hint.reference);
    expect(reference, `hint.reference "${check.hint.reference}" reads 'file.ts → function'`).not.toBeNull();
    const [, referenceFile, symbol] = reference ?? [];
    expect(existsSync(referenceFile), referenceFile).toBe(true);
    // "Class.method (detail)" names the method; the file must define it.
    const name = symbol.split(' ')[0].split('.').at(-1) ?? symbol;
    expect(readFileSync(referenceFile, 'utf8')).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('gives each check of a stage a different name', () => {
    for (const stage of Object.values(STAGES)) {
      const names = stage.checks.map((check) => check.name);
      expect(new Set(names).size, stage.name).toBe(names.length);
    }
  });
});

describe('showing bytes', () => {
  it('spells out \\r, \\n, tabs and bytes outside printable ASCII, one line per \\n', () => {
    expect(showBytes(Buffer.from('GET / HTTP/1.1\r\nX: a\tb\x00\r\n\r\n', 'latin1'), '> ', undefined)).toEqual([
      '      > GET / HTTP/1.1\\r\\n',
      '      > X: a\\tb\\x00\\r\\n',
      '      > \\r\\n',
    ]);
  });

  it('puts a caret under the byte at the given offset', () => {
    const lines = showBytes(Buffer.from('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'), '< ', 20);
    expect(lines[1]).toBe('      < Bad Name: x\\r\\n');
    expect(lines[2]).toBe(`      ${' '.repeat(2 + 3)}^ here`);
  });

  it('shows the writes of a request split on purpose one by one, with the pause between them', () => {
    const pieces = [
      { bytes: Buffer.from('GET / HTTP/1.1\r\nHo'), pauseBeforeMs: 0 },
      { bytes: Buffer.from('st: x\r\n\r\n'), pauseBeforeMs: 300 },
    ];
    expect(showSent(pieces)).toEqual([
      '      > GET / HTTP/1.1\\r\\n',
      '      > Ho',
      '      ~ the next write, 300 ms later ~',
      '      > st: x\\r\\n',
      '      > \\r\\n',
    ]);
  });

  it('sums up a large run of binary bytes instead of spelling it out', () => {
    const lines = showBytes(Buffer.alloc(4096, 0xff), '< ', undefined);
    expect(lines).toEqual([
      '      < (4,096 bytes of binary data, starting ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ...)',
    ]);
  });

  it('cuts a long exchange to its first and last lines, saying how many are left out', () => {
    const lines = showBytes(Buffer.from('line\n'.repeat(100)), '< ', undefined);
    expect(lines.length).toBeLessThan(20);
    expect(lines.some((line) => /\.\.\. \d+ lines not shown \.\.\./.test(line))).toBe(true);
    expect(lines.at(-1)).toBe('      < line\\n');
  });
});

describe('the reproduce command', () => {
  const transcript = (pieces: Array<[string, number]>): Transcript => ({
    label: 'connection 1',
    port: 8002,
    sent: pieces.map(([text, pauseBeforeMs]) => ({ bytes: Buffer.from(text, 'latin1'), pauseBeforeMs })),
    received: Buffer.alloc(0),
    ended: null,
  });

  it('is a printf piped into nc, with \\r\\n, % and quotes escaped for the shell', () => {
    expect(reproduceCommand([transcript([["GET /100% HTTP/1.1\r\nX: it's\r\n\r\n", 0]])], 0)).toBe(
      "printf 'GET /100%% HTTP/1.1\\r\\nX: it'\\''s\\r\\n\\r\\n' | nc -N 127.0.0.1 8002",
    );
  });

  it('keeps the pauses between writes that the check made on purpose', () => {
    expect(
      reproduceCommand(
        [
          transcript([
            ['GET / HTTP/1.1\r\n', 0],
            ['Host: x\r\n\r\n', 300],
          ]),
        ],
        0,
      ),
    ).toBe("(printf 'GET / HTTP/1.1\\r\\n'; sleep 0.3; printf 'Host: x\\r\\n\\r\\n') | nc -N 127.0.0.1 8002");
  });
});

describe('the strict response reader', () => {
  const parse = (text: string, closed = false) => parseResponse(Buffer.from(text, 'latin1'), 0, 'GET', closed);

  it('reads a response framed by Content-Length, and one framed by chunks', () => {
    const fixed = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    expect(fixed.kind === 'ok' && fixed.response.body.toString()).toBe('hello');
    const chunked = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n');
    expect(chunked.kind === 'ok' && chunked.response.body.toString()).toBe('hello');
  });

  it('points at the first wrong byte of a status line, a header line, or a chunk', () => {
    expect(parse('HTTP/1.1 200OK\r\n\r\n')).toMatchObject({ kind: 'error', offset: 12 });
    expect(parse('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n')).toMatchObject({ kind: 'error', offset: 17 + 3 });
    expect(parse('HTTP/1.1 200 OK\nContent-Length: 0\n\n')).toMatchObject({ kind: 'error', offset: 15 });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n')).toMatchObject({
      kind: 'error',
      offset: 53,
    }); // 'l' of "hello", after 3 bytes
  });

  it('says that no status line came when the answer does not start with "HTTP/" (a body alone, HTTP/0.9 style)', () => {
    const result = parse('<!DOCTYPE HTML>\n<html><body>Bad request</body></html>\n');
    expect(result).toMatchObject({ kind: 'error', offset: 0 });
    expect(result.kind === 'error' && result.message).toMatch(
      /^no status line came: the answer starts with "<!DOCTYPE/,
    );
    expect(result.kind === 'error' && result.advice).toContain('starts with a status line');
  });

  it('waits for the rest of a body that has not all arrived, and ends a length-less body at the close', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')).toMatchObject({ kind: 'incomplete' });
    expect(parse('HTTP/1.1 200 OK\r\n\r\nuntil the end')).toMatchObject({ kind: 'incomplete' });
    const closed = parse('HTTP/1.1 200 OK\r\n\r\nuntil the end', true);
    expect(closed.kind === 'ok' && closed.response.framing).toBe('close');
  });
});

describe('running checks', () => {
  const passing: Check = {
    group: 'core',
    name: 'passes',
    hint: { concept: 'c', readme: 'r', reference: 'f' },
    run: async () => {},
  };
  const failing: Check = {
    group: 'core',
    name: 'fails',
    hint: {
      concept: 'The idea.',
      readme: 'part2-tcp-http/README.md, section "Break it"',
      reference: 'part2-tcp-http/parser.ts → parseHead',
    },
    run: async () => {
      throw new CheckFailure({ expected: 'status 404', seen: 'status 200 OK', advice: 'Look at the path.' });
    },
  };
  const options = { port: 1, timeouts: { headMs: 1, idleMs: 1, bodyMs: 1 } };

  it('stops at the first failure unless asked for all, and ends with "N passed, M failed"', async () => {
    const numbered = [passing, failing, passing].map((check, index) => ({ number: index + 1, check }));
    const first = await runChecks(numbered, options);
    expect(first.map((result) => result.passed)).toEqual([true, false]);
    expect(summaryLine(first)).toBe('1 passed, 1 failed');
    const all = await runChecks(numbered, { ...options, all: true });
    expect(summaryLine(all)).toBe('2 passed, 1 failed');
  });

  it('reports a failure with expected, seen, the advice and the hint', async () => {
    const [result] = await runChecks([{ number: 7, check: failing }], options);
    const text = formatResult(result, { color: false });
    expect(text.split('\n')[0]).toBe('✗  7 core        fails');
    expect(text).toContain('Expected: status 404');
    expect(text).toContain('Seen:     status 200 OK');
    expect(text).toContain('Advice:   Look at the path.');
    expect(text).toContain('Read:     part2-tcp-http/README.md, section "Break it"');
    expect(text).toContain('See:      part2-tcp-http/parser.ts → parseHead');
  });

  it('reports a check that crashes as failed, with its error, instead of stopping the run', async () => {
    const crashing: Check = { ...passing, name: 'crashes', run: async () => JSON.parse('{') };
    const [result] = await runChecks([{ number: 1, check: crashing }], options);
    expect(result.passed).toBe(false);
    expect(result.failure?.seen).toMatch(/^the checker itself failed: /);
  });
});

describe('the report says who ended a connection', () => {
  const failing: Check = {
    group: 'hardening',
    name: 'a check of policy',
    policy: 'the course waits 10 s. Give yours: --head-timeout MS.',
    hint: { concept: 'c', readme: 'r', reference: 'f' },
    run: async () => {},
  };
  const transcript = (flags: Partial<Transcript>): Transcript => ({
    label: 'connection 1',
    port: 8002,
    sent: [{ bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n'), pauseBeforeMs: 0 }],
    received: Buffer.alloc(0),
    ended: null,
    ...flags,
  });
  const text = (flags: Partial<Transcript>): string =>
    formatResult(
      {
        number: 1,
        check: failing,
        passed: false,
        failure: new CheckFailure({ expected: 'e', seen: 's' }),
        transcripts: [transcript(flags)],
      },
      { color: false },
    );

  it('the server, the checker (a client leaving, or vanishing), or nobody before the check ended', () => {
    expect(text({ ended: 'closed' })).toContain('(connection closed by the server)');
    expect(text({ ended: 'closed', closedByChecker: true })).toContain(
      '(the checker closed this connection on purpose: a client leaving)',
    );
    expect(text({ ended: 'closed', resetByChecker: true })).toContain('(the checker reset this connection on purpose');
    expect(text({ openAtEnd: true })).toContain('(still open when the check ended)');
  });

  it("prints a check's policy, with the option that gives the checker another value", () => {
    expect(text({})).toContain(
      'Policy:   course policy, not an RFC rule: the course waits 10 s. Give yours: --head-timeout MS.',
    );
  });
});

describe('npm run check, asked for help or given a wrong option', () => {
  it('prints its usage and every option with --help, and exits 0', async () => {
    const { code, output } = await runCheckCli(['--help']);
    expect(code).toBe(0);
    expect(output).toMatch(/^Usage: npm run check -- <part1\|part2\|part3\|part4>/);
    for (const option of ['--port N', '--all', '--watch', '--group G', '--challenge N', '--check N', '--base'])
      expect(output).toContain(option);
  });

  it('answers a check number out of range, a file that does not exist, or an unknown stage, in one line with exit code 2', async () => {
    const outOfRange = await runCheckCli(['part2', '--port', '1', '--check', '99']);
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.output.trim()).toBe("part2's checks are numbered 1 to 43; got --check 99.");
    const missing = await runCheckCli(['part3', 'my-gateway.ts']);
    expect(missing.code).toBe(2);
    expect(missing.output.trim()).toBe(
      "No such file: my-gateway.ts. Give the path of your server's file, e.g. a copy of the starter, kept in its folder (its imports are relative): cp part3-gateway/starter.ts part3-gateway/my-gateway.ts",
    );
    const unknown = await runCheckCli(['part9', '--port', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.output.trim()).toMatch(/^Unknown stage "part9"\. Usage: /);
  });
});

describe('npm run check, when the server under test crashes', () => {
  it('says the server exited during which check, points at its log, and runs no check after it', async () => {
    const { code, output, lastLine } = await runCheckCli([
      'part2',
      'tests/fixtures/broken-part2-crash.ts',
      '--group',
      'core',
      '--all',
    ]);
    expect(code).toBe(1);
    expect(output).toContain('[your server] ');
    expect(output).toMatch(
      /✗ Your server exited \(code 1\) during check 12: the lines marked \[your server\] above say why/,
    );
    expect(output).not.toMatch(/^[✓✗] 13 /m);
    expect(lastLine).toMatch(/^\d+ passed, \d+ failed$/);
  });
});

describe('npm run check, starting servers in any language and stopping them', () => {
  it(
    'starts a .mjs file with node, shows each line of its output whole, and prints the command to start it by hand',
    async () => {
      const { code, output, lastLine } = await runCheckCli([
        'part2',
        'tests/fixtures/silent-server.mjs',
        '--check',
        '1',
      ]);
      expect(code).toBe(1);
      expect(lastLine).toBe('0 passed, 1 failed');
      expect(output).toContain('  [your server] a line written in two pieces\n');
      expect(output).toMatch(
        /start your server on that port first \(the checker has stopped it\): node tests\/fixtures\/silent-server\.mjs --port \d+/,
      );
    },
    SLOW_TEST_MS,
  );

  it(
    'starts any command with --exec, PORT and --port as for a file',
    async () => {
      const { code, output, lastLine } = await runCheckCli([
        'part2',
        '--exec',
        'node --import tsx part2-tcp-http/minimal.ts',
        '--group',
        'core',
      ]);
      expect(lastLine, output).toBe('13 passed, 0 failed');
      expect(code).toBe(0);
    },
    SLOW_TEST_MS,
  );

  it(
    'reports a server that never listens as one failure, the other checks not run',
    async () => {
      const { code, output, lastLine } = await runCheckCli(['part2', 'tests/fixtures/throws-on-load.ts']);
      expect(code).toBe(1);
      expect(output).toMatch(
        /^✗ tests\/fixtures\/throws-on-load\.ts exited \(code 1\) before it listened on port \d+/m,
      );
      expect(output).toContain(`(${STAGES.part2.checks.length - 3} checks not run: the server did not start)`);
      expect(lastLine).toBe('0 passed, 1 failed');
    },
    SLOW_TEST_MS,
  );

  it(
    "says where to keep a starter's copy when one outside its folder cannot find what it imports",
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'checker-copy-'));
      try {
        const copy = join(folder, 'my-server.ts');
        copyFileSync('part2-tcp-http/starter.ts', copy);
        const { code, output } = await runCheckCli(['part2', copy]);
        expect(code).toBe(1);
        expect(output).toContain(
          'keep the copy in part2-tcp-http/: cp part2-tcp-http/starter.ts part2-tcp-http/my-server.ts',
        );
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
    SLOW_TEST_MS,
  );

  it('answers a file it cannot start with the --exec way, in one line with exit code 2', async () => {
    const { code, output } = await runCheckCli(['part2', 'README.md']);
    expect(code).toBe(2);
    expect(output.trim()).toMatch(/^The checker starts \.ts, \.js, \.mjs and \.py files; .*--exec 'go run server\.go'/);
  });

  it(
    'stops the server it started when its own output is closed (npm run check ... | head -3)',
    async () => {
      const checker = spawn(
        process.execPath,
        ['--import', 'tsx', 'tests/checks/cli.ts', 'part2', 'tests/fixtures/silent-server.mjs'],
        { env: { ...process.env, NO_COLOR: '1', PORT: '' }, stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const exited = new Promise<number | null>((resolve) => checker.once('exit', (code) => resolve(code)));
      try {
        // Read until the server says its pid, then close the pipe, as `head` does once it has its lines.
        const pid = await new Promise<number>((resolve) => {
          let text = '';
          checker.stdout.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
            const match = /pid (\d+)/.exec(text);
            if (match !== null) resolve(Number(match[1]));
          });
        });
        checker.stdout.destroy();
        await exited;
        // The server gets SIGTERM, then SIGKILL after a while: wait for it to be gone.
        for (let alive = true; alive;) {
          try {
            process.kill(pid, 0);
            await new Promise((resolve) => setTimeout(resolve, 50));
          } catch {
            alive = false;
          }
        }
      } finally {
        checker.kill();
      }
    },
    SLOW_TEST_MS,
  );
});
