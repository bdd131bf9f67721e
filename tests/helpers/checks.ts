// For the workshop tests (tests/workshop-part*.test.ts): which checks failed, the whole report
// to show when a test fails, and `npm run check` run as an attendee runs it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CheckResult } from '../checks/check.ts';
import { formatResult } from '../checks/report.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The names of the checks that failed, in order. */
export function failedNames(results: CheckResult[]): string[] {
  return results.filter((result) => !result.passed).map((result) => result.check.name);
}

/** Every result as the checker prints it, without colours: a failing test's message. */
export function reportOf(results: CheckResult[]): string {
  return results.map((result) => formatResult(result, { color: false })).join('\n');
}

/**
 * `npm run check -- args` without npm in between: `node --import tsx tests/checks/cli.ts` in the
 * repository root, with NO_COLOR (and `env`, which the server it starts inherits). Resolves with
 * the exit code and everything printed.
 */
export function runCheckCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string; lastLine: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/checks/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', PORT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('close', (code) => resolve({ code, output, lastLine: output.trimEnd().split('\n').at(-1) ?? '' }));
  });
}
