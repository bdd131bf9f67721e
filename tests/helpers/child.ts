// Runs a stage's entry file in a child process, the way `npm run partN -- args` would (`node
// --import tsx`), but without npm in between, so the PID the test holds is the server's own and
// a signal sent to it is the one a learner's Ctrl-C would send.
//
//   const stage = runStage(['part3-gateway/main.ts', '--port', '0']);
//   const [, port] = await stage.waitForOutput(/http:\/\/127\.0\.0\.1:(\d+)\//);
//   stage.child.kill('SIGTERM');
//   expect(await stage.exited).toEqual({ code: 0, signal: null });
//
// The test owns the child: kill it (by its PID, `stage.child.kill()`) in afterEach if it is
// still running.
import { spawn, type ChildProcess } from 'node:child_process';

export interface StageRun {
  child: ChildProcess;
  /** Everything printed on standard output so far. */
  stdout(): string;
  /** Everything printed on standard error so far. */
  stderr(): string;
  /** Resolves with the match once stdout matches `pattern`; rejects on exit or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code (null if a signal ended it) and that signal, once the output is all in. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `node --import tsx <args>` in the repository root; PORT and TRACE from the test's
 * environment are cleared. tsx's loader runs in the stage's own process, so a signal the test
 * sends reaches the stage alone, exactly once.
 */
export function runStage(args: string[], env: NodeJS.ProcessEnv = {}): StageRun {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, PORT: '', TRACE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': at 'exit' the pipes may still hold the last lines (a one-line error),
    // and a test reading stderr() right after would miss them.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
  });

  function waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stdout);
        if (match === null) return;
        finish();
        resolve(match);
      };
      const onExit = (): void => {
        finish();
        reject(
          new Error(
            `the process exited before printing ${pattern}; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`,
          ),
        );
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `no ${pattern} on stdout within ${timeoutMs} ms; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`,
          ),
        );
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.off('exit', onExit);
      };
      // Registered after the accumulating listener above, so `stdout` already holds the chunk.
      child.stdout?.on('data', check);
      child.once('exit', onExit);
      check();
    });
  }

  return { child, stdout: () => stdout, stderr: () => stderr, waitForOutput, exited };
}
