// Start an attendee's server the way `npm run partN` starts a stage (PORT set, `--port P`
// passed), wait until it accepts connections, and stop it afterwards: a file, by its extension
// (.ts with tsx, .js with node, .py with python3), or any command (`--exec 'go run server.go'`).
//
// What is started is stopped on every way out: its whole process group (a command run by a shell,
// `go run` and the program it builds), whether the checks end, the checker is interrupted
// (Ctrl-C), or the checker's own output is closed (`npm run check ... | head`).
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
/** A file gets this long to start listening (tsx compiles a .ts file first). */
export const START_TIMEOUT_MS = 15_000;
/** A command gets longer: `go run` and `cargo run` may compile first. */
export const EXEC_START_TIMEOUT_MS = 60_000;
/** After SIGTERM, how long before the checker stops it by force. */
const STOP_TIMEOUT_MS = 3_000;
/** After it exits, how long what it started has to finish (and its last output to come). */
const OUTPUT_WAIT_MS = 2_000;
/** Process groups are POSIX: on Windows the child alone is stopped. */
const GROUPS = process.platform !== 'win32';

/** What to start: a server file, or a command of any language. */
export type ServerSource = { file: string } | { exec: string };

export interface LaunchedServer {
  port: number;
  process: ChildProcess;
  /** Its output so far (stdout and stderr), for a report when it fails to start. */
  output(): string;
  /** How it ended, if it has: 'code 1', 'SIGSEGV'; null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

/** Every server started and not yet stopped: what the checker stops on its way out. */
const running = new Set<LaunchedServer>();

/** Stop every server still running, each gracefully (SIGTERM, then SIGKILL after a while). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

/** The last resort, synchronous (for process 'exit'): SIGKILL whatever is still running. */
export function killAllNow(): void {
  for (const server of running) signal(server.process, 'SIGKILL');
  running.clear();
}

/** Send `name` to the child's process group (its shell's children too), or to the child alone. */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (GROUPS) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // Already gone.
  }
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

const TYPESCRIPT = ['.ts', '.mts', '.cts'];
const JAVASCRIPT = ['.js', '.mjs', '.cjs'];
const PYTHON = process.platform === 'win32' ? 'python' : 'python3';

/** How a file is run: TypeScript with tsx's loader, JavaScript with node, Python with python3. */
function commandFor(file: string): { command: string; args: string[] } {
  const extension = extname(file).toLowerCase();
  if (TYPESCRIPT.includes(extension)) return { command: process.execPath, args: ['--import', TSX_LOADER, file] };
  if (JAVASCRIPT.includes(extension)) return { command: process.execPath, args: [file] };
  if (extension === '.py') return { command: PYTHON, args: [file] };
  throw new LaunchError(
    `Do not know how to start a "${extension}" file. Give the command that starts it instead, e.g. --exec 'go run server.go' (the checker adds --port P, and sets PORT=P), or start it yourself and give --port N.`,
  );
}

/** Is this a file the checker knows how to start? */
export function canStart(file: string): boolean {
  return [...TYPESCRIPT, ...JAVASCRIPT, '.py'].includes(extname(file).toLowerCase());
}

/**
 * The command an attendee types to start the same server by hand, on `port`:
 * `npx tsx my-server.ts --port 8002`, `python3 my_server.py --port 8002`,
 * `go run server.go --port 8002`.
 */
export function startCommand(source: ServerSource, args: string[], port: number): string {
  const rest = [...args, '--port', String(port)].map(shellQuote).join(' ');
  if ('exec' in source) return `${source.exec} ${rest}`;
  const extension = extname(source.file).toLowerCase();
  const runner = TYPESCRIPT.includes(extension) ? 'npx tsx' : JAVASCRIPT.includes(extension) ? 'node' : PYTHON;
  return `${runner} ${shellQuote(source.file)} ${rest}`;
}

/** Quote for a POSIX shell only where needed: `a/b.ts` stays, `it's` becomes `'it'\''s'`. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

export class LaunchError extends Error {
  /** What the program printed before it failed, when it ran at all. */
  readonly output: string;
  constructor(message: string, output = '') {
    super(message);
    this.output = output;
  }
}

/**
 * Start the server with `args` and `--port P`, PORT=P in its environment, and resolve once
 * 127.0.0.1:P accepts a connection. Rejects with the program's own output if it exits first.
 * `echo` gets its output line by line, as it comes.
 */
export async function launch(
  source: ServerSource,
  args: string[],
  options: { echo?: (line: string) => void } = {},
): Promise<LaunchedServer> {
  const port = await freePort();
  const name = 'exec' in source ? `"${source.exec}"` : source.file;
  const portArgs = [...args, '--port', String(port)];
  const spawnOptions = {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'] as Array<'ignore' | 'pipe'>,
    // Its own process group, so that stopping it stops what it started (a shell's children).
    detached: GROUPS,
  };
  let child: ChildProcess;
  if ('exec' in source) {
    child = spawn(`${source.exec} ${portArgs.map(shellQuote).join(' ')}`, { ...spawnOptions, shell: true });
  } else {
    const { command, args: base } = commandFor(resolve(source.file));
    child = spawn(command, [...base, ...portArgs], spawnOptions);
  }
  let output = '';
  /** Per stream, the start of a line whose end has not arrived yet: each line is echoed whole. */
  const lineEchoer = (): { onData: (chunk: Buffer) => void; flush: () => void } => {
    let partial = '';
    const show = (line: string): void => {
      if (options.echo !== undefined && line.trim() !== '') options.echo(line.replace(/\r$/, ''));
    };
    return {
      onData: (chunk) => {
        const text = chunk.toString('utf8');
        output += text;
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) show(line);
      },
      // A last line without its newline is shown when the stream ends.
      flush: () => {
        show(partial);
        partial = '';
      },
    };
  };
  for (const stream of [child.stdout, child.stderr]) {
    const { onData, flush } = lineEchoer();
    stream?.on('data', onData);
    stream?.once('end', flush);
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let server: LaunchedServer | null = null;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signalName) => {
      exit = { code, signal: signalName };
      resolveExit();
    });
    child.once('error', (error) => {
      output += `${error.message}\n`;
      exit = { code: null, signal: null };
      resolveExit();
    });
  });

  // 'close' comes once its output is all read (after 'exit', which may come first).
  const closed = new Promise<void>((resolveClose) => child.once('close', () => resolveClose()));
  const stop = async (): Promise<void> => {
    if (server !== null) running.delete(server);
    if (exit === null) {
      signal(child, 'SIGTERM');
      const timer = setTimeout(() => signal(child, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    // Its last lines, shown before the checker's own; what it started (a shell's command) ends
    // too, or is killed: the pipes close once no process of the group holds them.
    await Promise.race([closed, new Promise((resolveWait) => setTimeout(resolveWait, OUTPUT_WAIT_MS))]);
    signal(child, 'SIGKILL');
  };
  const exitedHow = (): string | null => (exit === null ? null : (exit.signal ?? `code ${exit.code}`));
  server = { port, process: child, output: () => output, exited: exitedHow, stop };
  running.add(server);

  const startTimeout = 'exec' in source ? EXEC_START_TIMEOUT_MS : START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeout;
  while (!(await accepts(port))) {
    if (exit !== null) {
      running.delete(server);
      const { code, signal: signalName } = exit;
      // Its output was already shown as it came, when echoed.
      const shown = options.echo === undefined ? ` Its output:\n${indent(output)}` : ' Its output is above.';
      throw new LaunchError(
        `${name} exited (${signalName ?? `code ${code}`}) before it listened on port ${port}. A server is a long-running program: did it crash?${shown}`,
        output,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new LaunchError(
        `${name} did not listen on 127.0.0.1:${port} within ${startTimeout / 1000} s. It is started with "--port ${port}" and PORT=${port}: does it read one of them, and listen on 127.0.0.1 (or 0.0.0.0)?${'exec' in source ? ' If it compiles first, build it first and --exec the program it built.' : ''} Its output:\n${indent(output)}`,
        output,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return server;
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
