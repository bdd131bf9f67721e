// `npm run part3 -- app.ts [--workers N]` as a learner meets it, in child processes: a bad app
// path explained in one line, two worker processes sharing one port, and a graceful stop that
// lets an in-flight response finish.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseResponses } from './helpers/http-text.ts';
import { runStage, type StageRun } from './helpers/child.ts';
import { holdPort } from './helpers/ports.ts';
import { exchange, openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const MAIN = 'part3-gateway/main.ts';
const runs: StageRun[] = [];
/** Worker PIDs seen in responses, killed too if a test fails before its primary stops them. */
const workerPids = new Set<number>();

function run(args: string[]): StageRun {
  const stage = runStage([MAIN, ...args]);
  runs.push(stage);
  return stage;
}

afterEach(() => {
  for (const stage of runs.splice(0))
    if (stage.child.exitCode === null && stage.child.signalCode === null) stage.child.kill('SIGKILL');
  for (const pid of workerPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  workerPids.clear();
});

/**
 * True once a new connection to `port` is refused, trying for up to a second: the server
 * prints that it is stopping just before it closes its listener, so the first try may be early.
 */
async function refusedSoon(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.on('error', () => {}); // a reset from the closing listener is expected here
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await sleep(20);
  }
  return false;
}

const GET = 'GET /?count=4 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n';

describe('npm run part3 (part3-gateway/main.ts in a child process)', () => {
  it('explains an app path that does not exist in one line on stderr, and exits 2', async () => {
    const stage = run(['tests/fixtures/nowhere.ts', '--port', '0']);
    expect(await stage.exited).toEqual({ code: 2, signal: null });
    const lines = stage.stderr().trim().split(/\r?\n/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^No such file: tests\/fixtures\/nowhere\.ts \(looked for .*\)\. Give the path to a \.ts file, e\.g\. part3-gateway\/apps\/hello\.ts$/,
    );
    expect(stage.stdout()).toBe('');
  });

  it('with --workers 2 and a port in use, says so once, keeping the app and --workers in the hint, and exits 1', async () => {
    const busy = await holdPort();
    try {
      const stage = run(['part3-gateway/apps/hello.ts', '--workers', '2', '--port', String(busy.port)]);
      expect((await stage.exited).code).toBe(1);
      const lines = stage.stderr().trim().split(/\r?\n/);
      expect(lines).toEqual([expect.stringContaining(`Port ${busy.port} is already in use`)]);
      expect(lines[0]).toContain(`npm run part3 -- part3-gateway/apps/hello.ts --workers 2 --port ${busy.port + 10}`);
    } finally {
      await busy.release();
    }
  }, 20_000);

  it('with --workers 2 serves from two different processes sharing one port, each saying multiprocess', async () => {
    const stage = run(['tests/fixtures/pid-app.ts', '--port', '0', '--workers', '2']);
    const [, port] = await stage.waitForOutput(/with 2 worker processes on http:\/\/127\.0\.0\.1:(\d+)\//, 15_000);
    const answers: Array<{ pid: number; multiprocess: boolean }> = [];
    // One connection per request; the primary hands connections to the workers in turn.
    for (let i = 0; i < 20 && new Set(answers.map((answer) => answer.pid)).size < 2; i++) {
      const [response] = parseResponses(await exchange(Number(port), GET), { closed: true });
      const answer = JSON.parse(response.body) as { pid: number; multiprocess: boolean };
      workerPids.add(answer.pid);
      answers.push(answer);
    }
    const pids = new Set(answers.map((answer) => answer.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(stage.child.pid ?? -1)).toBe(false); // the primary only supervises
    expect(answers.every((answer) => answer.multiprocess)).toBe(true);

    stage.child.kill('SIGTERM');
    expect(await stage.exited).toEqual({ code: 0, signal: null });
  }, 20_000);

  it.skipIf(process.platform === 'win32')(
    'on SIGTERM lets an in-flight streaming response finish, refuses new connections, and exits 0',
    async () => {
      const stage = run(['part3-gateway/apps/streaming.ts', '--port', '0']);
      const [, port] = await stage.waitForOutput(/on http:\/\/127\.0\.0\.1:(\d+)\//);
      const socket = await openSocket(Number(port));
      const whole = readUntilClose(socket);
      socket.write(GET); // 4 chunks, 200 ms apart
      await readUntil(socket, (soFar) => soFar.includes('chunk 1 of 4'));

      stage.child.kill('SIGTERM');
      await stage.waitForOutput(/SIGTERM: stopping/);
      expect(await refusedSoon(Number(port))).toBe(true);

      const [response] = parseResponses((await whole).toString('latin1'));
      expect(response.status).toBe(200);
      expect(
        response.body
          .split('\n')
          .filter(Boolean)
          .map((line) => line.slice(0, 'chunk 4 of 4'.length)),
      ).toEqual(['chunk 1 of 4', 'chunk 2 of 4', 'chunk 3 of 4', 'chunk 4 of 4']);
      expect(await stage.exited).toEqual({ code: 0, signal: null });
      expect(stage.stderr()).toBe('');
    },
  );
});

if (process.platform === 'win32') {
  console.log(
    'Skipped the SIGTERM test: Windows cannot send a signal another process can catch (child.kill() terminates it outright).',
  );
}
