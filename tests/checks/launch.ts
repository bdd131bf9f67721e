// Start an attendee's server file the way `npm run partN` starts a stage (PORT set, `--port P`
// passed), wait until it accepts connections, and stop it afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * tsx's loader, given to this same Node with --import: one process (tsx's own command starts a
 * second one), no npx, no shell, the same on Windows.
 */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** A server gets this long to start listening (tsx compiles the file first). */
export const START_TIMEOUT_MS = 15_000;
/** After SIGTERM, how long before the checker stops it by force. */
const STOP_TIMEOUT_MS = 3_000;

export interface LaunchedServer {
  port: number;
  process: ChildProcess;
  /** Its output so far (stdout and stderr), for a report when it fails to start. */
  output(): string;
  /** How it ended, if it has: 'code 1', 'SIGSEGV'; null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1, asked of the operating system (bind to 0, read it, let go). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/** The command that runs a file: TypeScript and JavaScript with tsx, Python with python3. */
function commandFor(file: string): { command: string; args: string[] } {
  const extension = extname(file).toLowerCase();
  if (['.ts', '.mts', '.js', '.mjs', '.cjs'].includes(extension))
    return { command: process.execPath, args: ['--import', TSX_LOADER, file] };
  if (extension === '.py') return { command: process.platform === 'win32' ? 'python' : 'python3', args: [file] };
  throw new Error(
    `Do not know how to start a "${extension}" file: start it yourself, then run the checker with --port N.`,
  );
}

export class LaunchError extends Error {}

/**
 * Start `file` with `args` and `--port P`, PORT=P in its environment, and resolve once
 * 127.0.0.1:P accepts a connection. Rejects with the program's own output if it exits first.
 */
export async function launch(
  file: string,
  args: string[],
  options: { echo?: (line: string) => void } = {},
): Promise<LaunchedServer> {
  const port = await freePort();
  const { command, args: base } = commandFor(resolve(file));
  const child = spawn(command, [...base, ...args, '--port', String(port)], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onOutput = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output += text;
    if (options.echo !== undefined) for (const line of text.split('\n')) if (line !== '') options.echo(line);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolveExit();
    });
    child.once('error', (error) => {
      output += `${error.message}\n`;
      exit = { code: null, signal: null };
      resolveExit();
    });
  });

  const stop = async (): Promise<void> => {
    if (exit !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (exit !== null) {
      const { code, signal } = exit;
      // Its output was already shown as it came, when echoed.
      const shown = options.echo === undefined ? ` Its output:\n${indent(output)}` : ' Its output is above.';
      throw new LaunchError(
        `${file} exited (${signal ?? `code ${code}`}) before it listened on port ${port}. A server is a long-running program: did it crash?${shown}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new LaunchError(
        `${file} did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS / 1000} s. It is started with "--port ${port}" and PORT=${port}: does it read one of them? Its output:\n${indent(output)}`,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  const exitedHow = (): string | null => (exit === null ? null : (exit.signal ?? `code ${exit.code}`));
  return { port, process: child, output: () => output, exited: exitedHow, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once('error', () => resolveAccepts(false));
  });
}

function indent(text: string): string {
  const lines = text.trimEnd().split('\n');
  const shown = lines.length > 20 ? ['...', ...lines.slice(-20)] : lines;
  return shown.map((line) => `    | ${line}`).join('\n') || '    | (nothing)';
}
