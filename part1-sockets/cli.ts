// Command-line plumbing shared by every stage's `npm run partN`: which port to use, a clear
// message when it is taken, and a clean stop on Ctrl-C. Later stages import it from here
// (a stage may reuse an earlier one, never a later one).
//
// Not a lesson in itself: read the stage's server first, then this if you are curious.
import type { Server, Socket } from 'node:net';
import { relative } from 'node:path';

/** Bind to loopback only: these are teaching servers, not reviewed for exposure to a network. */
export const DEFAULT_HOST = '127.0.0.1';

export interface CliOptions {
  port: number;
  host: string;
  /** Arguments that were not --port/--host, in order (a stage reads its own from these). */
  rest: string[];
}

/** A mistake on the command line: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {}

/**
 * Read `--port N` (or `--port=N`), `--host H`, and the `PORT` environment variable.
 * The flag wins over the variable; the stage's default port is used when neither is given.
 */
export function parseCli(
  defaultPort: number,
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): CliOptions {
  let portText = env.PORT;
  let host = DEFAULT_HOST;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] =
      arg.startsWith('--') && arg.includes('=') ? splitOnce(arg, '=') : [arg, undefined];
    if (flag === '--port' || flag === '--host') {
      const value = inlineValue ?? argv[++i];
      if (value === undefined)
        throw new UsageError(
          `${flag} needs a value, e.g. ${flag} ${flag === '--port' ? '8080' : '127.0.0.1'}`,
        );
      if (flag === '--port') portText = value;
      else host = value;
    } else {
      rest.push(arg);
    }
  }
  // `npm run part2 --port 9000` (no `--`): npm takes --port for itself and passes on "9000".
  const bare = rest.find((arg) => /^\d{2,5}$/.test(arg));
  if (bare !== undefined && rest[0] === bare) {
    const event = env.npm_lifecycle_event ?? '';
    const script = /^part\d$/.test(event) ? event : 'partN';
    throw new UsageError(
      `"${bare}" on its own is not an argument: ` +
        `did you mean \`npm run ${script} -- --port ${bare}\`? ` +
        `(npm keeps the options before its "--" for itself.)`,
    );
  }
  return {
    port: portText === undefined || portText === '' ? defaultPort : parsePort(portText),
    host,
    rest,
  };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

function parsePort(text: string): number {
  const port = Number(text);
  // Port 0 asks the operating system for any free port; 65535 is the largest TCP port.
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(
      `"${text}" is not a port number: use a whole number from 0 to 65535, e.g. --port 8080`,
    );
  }
  return port;
}

/**
 * Listen on host:port. If the port is taken or not allowed, say so in one line (through
 * `report`: part 3's worker processes hand it to the primary, which says it once) and exit 1,
 * instead of letting Node print an EADDRINUSE stack trace at a learner.
 */
export function listenOrExplain(
  server: Server,
  options: CliOptions,
  npmScript: string,
  report: (message: string) => void = (message) => console.error(message),
): Promise<number> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const another = options.port === 0 ? 8080 : options.port + 10;
      // The same command again, with the learner's own arguments (an app, --workers) kept: the
      // stage's npm script for its main.ts, the file itself for any other (a starter, your own).
      const script = process.argv[1] ?? '';
      const command = /main\.[jt]s$/.test(script)
        ? `npm run ${npmScript} --`
        : `npx tsx ${relative(process.cwd(), script)}`;
      const args = [...options.rest, '--port', String(another)].join(' ');
      const howToPick = `pick another with: ${command} ${args}   (or PORT=${another})`;
      if (error.code === 'EADDRINUSE') {
        report(
          `Port ${options.port} is already in use (is another server still running?); ${howToPick}`,
        );
      } else if (error.code === 'EACCES') {
        report(
          `Not allowed to listen on port ${options.port} ` +
            `(ports below 1024 need extra rights); ${howToPick}`,
        );
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        report(
          `Cannot listen on host "${options.host}": it is not an address of this machine. ` +
            'Try --host 127.0.0.1',
        );
      } else {
        report(`Cannot listen on ${options.host}:${options.port}: ${error.message}`);
      }
      process.exit(1);
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });
}

/** How long a stopping server waits for clients to hang up before it cuts them off. */
export const SHUTDOWN_GRACE_MS = 2_000;

/**
 * Call before listen(). Returns a stop() for stopOnSignals that closes the server politely:
 * stop accepting, end() every open connection (our FIN: "nothing more from me"), destroy the
 * ones still open after `graceMs` (a client may never hang up), and resolve once all are gone.
 */
export function gracefulStop(server: Server, graceMs = SHUTDOWN_GRACE_MS): () => Promise<void> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return async () => {
    const allClosed = [...open].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    // close() stops accepting at once, but calls back only when the last connection is gone.
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of open) socket.end();
    const timer = setTimeout(() => {
      for (const socket of open) socket.destroy();
    }, graceMs);
    // Wait for every socket's own 'close' too: its last log line comes from there.
    await Promise.all([serverClosed, ...allClosed]);
    clearTimeout(timer);
  };
}

/** Signals this close together are one Ctrl-C delivered twice, not a person pressing it again. */
const SAME_SIGNAL_MS = 500;

/**
 * On Ctrl-C (SIGINT) or SIGTERM, run `stop` once and exit 0. A second Ctrl-C while stopping
 * exits at once with code 1, for when something hangs.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stoppingSince: number | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== null) {
      // One Ctrl-C can arrive twice: the terminal sends SIGINT to every process of its group
      // (npm and this one), and npm relays the one it got. A second SIGTERM is likewise
      // often the same request twice. So only a Ctrl-C pressed again, a moment later, forces it.
      if (signal !== 'SIGINT' || Date.now() - stoppingSince < SAME_SIGNAL_MS) return;
      console.error(`\n${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping (press Ctrl-C again to force)...`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Run a stage's main(): a UsageError becomes one line on stderr and exit code 2. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  });
}
