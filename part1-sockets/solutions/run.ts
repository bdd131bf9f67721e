// What the three challenge solutions share: each file is a module (the course's tests import its
// server factory and start it on port 0) and a program (`npx tsx part1-sockets/solutions/
// challenge-1.ts --port 9000`, or the checker starting it). This file is the program part:
// a port from --port or PORT, a one-line message when it is taken, a polite stop on Ctrl-C.
//
// Not a lesson in itself: read the challenge's own file first.
import type { Server } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gracefulStop, parseCli, runMain, stopOnSignals, UsageError } from '../cli.ts';

/** The solutions are part 1's servers, on part 1's port: run one at a time. */
const DEFAULT_PORT = 8001;

/**
 * If the module at `moduleUrl` is the program being run (`tsx challenge-1.ts`) rather than
 * imported (by a test), start the server `create` makes and serve until Ctrl-C.
 */
export function runIfMain(moduleUrl: string, create: () => Server, what: string): void {
  const program = process.argv[1];
  if (program === undefined || resolve(program) !== fileURLToPath(moduleUrl)) return;
  runMain(async () => {
    const cli = parseCli(DEFAULT_PORT);
    if (cli.rest.length > 0)
      throw new UsageError(
        `Unexpected argument "${cli.rest[0]}". Usage: npx tsx ${program} [--port N] [--host H]`,
      );
    const server = create();
    stopOnSignals(gracefulStop(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      // The usual one, said in a line: another server (part 1's own, often) still holds the port.
      console.error(
        error.code === 'EADDRINUSE'
          ? `Port ${cli.port} is already in use (is another server still running?); ` +
              'pick another with --port N'
          : `Cannot listen on ${cli.host}:${cli.port}: ${error.message}`,
      );
      process.exit(1);
    });
    server.listen(cli.port, cli.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : cli.port;
      console.log(`${what} listening on ${cli.host}:${port} (Ctrl-C to stop).`);
    });
  });
}
