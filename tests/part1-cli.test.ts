// `npm run part1` as a learner meets it: which port it picks, what it says when it cannot start,
// and that Ctrl-C stops it cleanly. The child-process tests run part1-sockets/main.ts through tsx.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../part1-sockets/cli.ts';
import { helloResponse } from '../part1-sockets/hello-browser.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { holdPort, unusedPort, type HeldPort } from './helpers/ports.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

describe('parseCli', () => {
  it('uses the default port when neither --port nor PORT is given', () => {
    expect(parseCli(8001, [], {})).toEqual({ port: 8001, host: '127.0.0.1', rest: [] });
  });

  it('takes the port from PORT', () => {
    expect(parseCli(8001, [], { PORT: '9000' }).port).toBe(9000);
  });

  it('lets --port beat PORT, in both spellings', () => {
    expect(parseCli(8001, ['--port', '9001'], { PORT: '9000' }).port).toBe(9001);
    expect(parseCli(8001, ['--port=9002'], { PORT: '9000' }).port).toBe(9002);
  });

  it('leaves the other arguments, in order, for the stage to read', () => {
    expect(parseCli(8001, ['hello', '--port', '9000', 'extra'], {}).rest).toEqual(['hello', 'extra']);
  });

  it('rejects a port that is not a whole number from 0 to 65535, saying what would work', () => {
    for (const bad of ['eighty', '80.5', '-1', '65536']) {
      expect(() => parseCli(8001, ['--port', bad], {})).toThrow(UsageError);
      expect(() => parseCli(8001, ['--port', bad], {})).toThrow(
        `"${bad}" is not a port number: use a whole number from 0 to 65535, e.g. --port 8080`,
      );
    }
    expect(() => parseCli(8001, [], { PORT: 'abc' })).toThrow('"abc" is not a port number');
  });

  it('asks for a value when --port has none', () => {
    expect(() => parseCli(8001, ['--port'], {})).toThrow('--port needs a value, e.g. --port 8080');
  });

  it('asks "did you mean npm run partN -- --port N?" when the first argument is a bare number (npm kept --port for itself)', () => {
    expect(() => parseCli(8002, ['9000'], { npm_lifecycle_event: 'part2' })).toThrow(
      '"9000" on its own is not an argument: did you mean `npm run part2 -- --port 9000`?',
    );
    expect(() => parseCli(8002, ['9000'], {})).toThrow('did you mean `npm run partN -- --port 9000`?');
  });
});

describe('npm run part1 (part1-sockets/main.ts in a child process)', () => {
  const runs: StageRun[] = [];
  let busy: HeldPort | undefined;

  afterEach(async () => {
    for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill();
    await busy?.release();
    busy = undefined;
  });

  function run(args: string[]): StageRun {
    const started = runStage(['part1-sockets/main.ts', ...args]);
    runs.push(started);
    return started;
  }

  it('explains a port in use in one line naming the port, and exits 1 without a stack trace', async () => {
    busy = await holdPort();
    const stage = run(['--port', String(busy.port)]);
    const { code } = await stage.exited;
    expect(code).toBe(1);
    const lines = stage.stderr().trim().split(/\r?\n/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Port ${busy.port} is already in use`);
    expect(lines[0]).toContain(`npm run part1 -- --port ${busy.port + 10}`);
  });

  it("keeps the learner's own arguments in the port-in-use hint", async () => {
    busy = await holdPort();
    const stage = run(['hello', '--port', String(busy.port)]);
    expect((await stage.exited).code).toBe(1);
    expect(stage.stderr().trim()).toContain(`npm run part1 -- hello --port ${busy.port + 10}`);
  });

  it('rejects an unknown command, or one argument too many, with the usage line and exit code 2', async () => {
    const unknown = run(['ehco']);
    const extra = run(['hello', 'world']);
    const usage = 'Usage: npm run part1 -- [echo | client | hello] [--port N] [--host H]';
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr().trim()).toBe(`Unknown command "ehco". ${usage}`);
    expect((await extra.exited).code).toBe(2);
    expect(extra.stderr().trim()).toBe(`Unexpected argument "world". ${usage}`);
  });

  it('runs the client, which says in one line that nothing is listening and exits 1', async () => {
    const port = await unusedPort();
    const client = run(['client', '--port', String(port)]);
    expect((await client.exited).code).toBe(1);
    expect(client.stderr().trim()).toBe(
      `Nothing is listening on 127.0.0.1:${port}: start the echo server first (npm run part1) in another terminal.`,
    );
  });

  it.skipIf(process.platform === 'win32')(
    'stops on Ctrl-C (SIGINT): ends open connections with a FIN and exits 0',
    async () => {
      const stage = run(['--port', '0']);
      const [, port] = await stage.waitForOutput(/Echo server listening on 127\.0\.0\.1:(\d+)/);
      const socket = await openSocket(Number(port));
      socket.write('ping');
      await readUntil(socket, (soFar) => soFar.length >= 4);
      let sawFin = false;
      socket.on('end', () => (sawFin = true));
      const closed = readUntilClose(socket);

      stage.child.kill('SIGINT');
      expect(await stage.exited).toEqual({ code: 0, signal: null });
      await closed;
      expect(sawFin).toBe(true);
      expect(stage.stdout()).toContain('SIGINT: stopping');
    },
  );

  it.skipIf(process.platform === 'win32')(
    'takes one Ctrl-C delivered twice at once (the terminal and npm both send it) as one graceful stop',
    async () => {
      // `npm run part1` is npm and the server: the terminal sends SIGINT to both, and npm relays its own.
      const stage = runStage(['part1-sockets/main.ts', '--port', '0']);
      runs.push(stage);
      await stage.waitForOutput(/Echo server listening/);
      stage.child.kill('SIGINT');
      stage.child.kill('SIGINT');
      expect(await stage.exited).toEqual({ code: 0, signal: null });
      expect(stage.stderr()).not.toContain('again');
    },
  );
});

describe('part1-sockets/README.md (the lesson) and REFERENCE.md', () => {
  const readme = readFileSync(new URL('../part1-sockets/README.md', import.meta.url), 'utf8');
  const reference = readFileSync(new URL('../part1-sockets/REFERENCE.md', import.meta.url), 'utf8');

  it.each([
    ['README.md', readme],
    ['REFERENCE.md', reference],
  ])('%s names only files that exist', (file, text) => {
    // `echo-server.ts` and `solutions/...` are in part1-sockets; `tests/...` and `part1-sockets/...` are from the repository root.
    // A file the learner creates (part1-sockets/my-echo.ts) is not expected to exist.
    const names = new Set(
      text.match(/(?:[\w-]+\/)*[\w-]+\.(?:test\.)?ts\b/g)?.filter((name) => !/(?:^|\/)my-[\w-]+\.ts$/.test(name)),
    );
    expect(names.size).toBeGreaterThan(5);
    for (const name of names) {
      const path = /^(?:tests|part\d-[\w-]+)\//.test(name) ? `../${name}` : `../part1-sockets/${name}`;
      expect(existsSync(new URL(path, import.meta.url)), `${name} is named in ${file}`).toBe(true);
    }
  });

  it('runs only commands that main.ts knows', () => {
    const commands = new Set(
      [...(readme + reference).matchAll(/npm run (?:-s )?part1 -- (\w+)/g)].map((match) => match[1]),
    );
    expect(commands).toEqual(new Set(['client', 'hello']));
  });

  it('shows the head of the response that helloResponse() really sends', () => {
    const response = helloResponse().toString('latin1');
    const headLines = response.slice(0, response.indexOf('\r\n\r\n')).split('\r\n');
    for (const line of headLines) expect(readme).toContain(`${line}\\r\\n`);
  });
});

if (process.platform === 'win32') {
  console.log(
    'Skipped the Ctrl-C test: Windows has no SIGINT to send to another process (child.kill() terminates it outright).',
  );
}
