// What the challenges' solutions share: the command line of `npm run part3` (an app file, then
// --port N) around a server each solution builds its own way.
//
//   npx tsx part3-gateway/solutions/challenge-1.ts part3-gateway/apps/demo.ts --port 8003
import type { Server } from 'node:net';
import {
  gracefulStop,
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../../part1-sockets/cli.ts';
import type { Application } from '../contract.ts';
import { loadApplication, LoadError } from '../loader.ts';

export function serveFromCommandLine(what: string, makeServer: (app: Application) => Server): void {
  runMain(async () => {
    const options = parseCli(8003);
    const [file] = options.rest;
    if (file === undefined)
      throw new UsageError(`Usage: npx tsx ${process.argv[1]} path/to/app.ts [--port N]`);
    const app = await loadApplication(file).catch((error: unknown) => {
      throw error instanceof LoadError ? new UsageError(error.message) : error;
    });
    const server = makeServer(app);
    // Ctrl-C or SIGTERM: stop accepting, close the open connections, exit.
    stopOnSignals(gracefulStop(server));
    const port = await listenOrExplain(server, options, 'part3');
    console.log(`${what}: serving ${file} on http://${options.host}:${port}/`);
  });
}
