// Part 3: the gateway server, from the command line.
//
//   npm run part3                                      the demo app (shows your environ)
//   npm run part3 -- part3-gateway/apps/hello.ts       an app: default export, or `app`
//   npm run part3 -- path/to/app.ts:myApp              a named export
//   npm run part3 -- app.ts --port 9000 --trace --workers 2
//
// --workers N pre-forks N processes with node:cluster that share the listening port, like
// gunicorn's workers (workers.ts). Ctrl-C (SIGINT) or SIGTERM stops gracefully: no new
// connections, in-flight responses finish (up to a deadline), then exit 0.
//
// Not here: reloading on file changes, logging each request (an app or middleware's job).
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../part1-sockets/cli.ts';
import { SHUTDOWN_DEADLINE_MS } from '../part2-tcp-http/server.ts';
import { traceWanted } from '../part2-tcp-http/trace.ts';
import { app as demoApp } from './apps/demo.ts';
import type { Application } from './contract.ts';
import { loadApplication, LoadError } from './loader.ts';
import { createGatewayServer } from './server.ts';
import { superviseWorkers } from './workers.ts';

export const DEFAULT_PORT = 8003;

interface GatewayCli {
  appSpec: string | null;
  workers: number;
  trace: boolean;
}

function parseGatewayArgs(rest: string[]): GatewayCli {
  const cli: GatewayCli = { appSpec: null, workers: 1, trace: traceWanted(rest) };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--trace')
      continue; // read by traceWanted above
    else if (arg === '--workers' || arg.startsWith('--workers=')) {
      const text = arg.includes('=') ? arg.slice('--workers='.length) : rest[++i];
      const workers = Number(text);
      const most = availableParallelism() * 4;
      if (!Number.isInteger(workers) || workers < 1 || workers > most)
        throw new UsageError(`--workers needs a whole number from 1 to ${most}, e.g. --workers 2`);
      cli.workers = workers;
    } else if (arg.startsWith('--'))
      throw new UsageError(
        `Unknown option ${arg}. Usage: npm run part3 -- ` +
          `[app.ts[:export]] [--port N] [--host H] [--workers N] [--trace]`,
      );
    else if (cli.appSpec === null) cli.appSpec = arg;
    else throw new UsageError(`One app at a time: got "${cli.appSpec}" and "${arg}".`);
  }
  return cli;
}

async function main(): Promise<void> {
  const options = parseCli(DEFAULT_PORT);
  const cli = parseGatewayArgs(options.rest);
  let app: Application;
  try {
    app = cli.appSpec === null ? demoApp : await loadApplication(cli.appSpec);
  } catch (error) {
    if (error instanceof LoadError) throw new UsageError(error.message);
    throw error;
  }
  if (cli.workers > 1 && cluster.isPrimary)
    return superviseWorkers(cli.workers, (port) => {
      const app = cli.appSpec ?? 'the demo app';
      console.log(
        `Gateway serving ${app} with ${cli.workers} worker processes ` +
          `on http://${options.host}:${port}/`,
      );
      printTryIt(options.host, port);
    });

  const server = createGatewayServer(app, {
    multiprocess: cli.workers > 1,
    trace: cli.trace ? (line) => console.log(line) : undefined,
  });
  // A worker that cannot listen tells the primary, which says it once for all of them.
  const report = cluster.isWorker
    ? (message: string) => process.send?.({ listenError: message })
    : undefined;
  const port = await listenOrExplain(server, options, 'part3', report);
  const stop = (): Promise<void> => server.shutdown(SHUTDOWN_DEADLINE_MS);
  if (cluster.isWorker) {
    // Ctrl-C reaches every process of the terminal's group, but the primary coordinates the
    // stop: it disconnects each worker (see superviseWorkers). SIGTERM sent to one worker
    // still stops that worker gracefully.
    process.on('SIGINT', () => {});
    process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
    process.on('disconnect', () => void stop().then(() => process.exit(0)));
    process.send?.({ listening: port });
  } else {
    console.log(
      `Gateway serving ${cli.appSpec ?? 'the demo app'} on http://${options.host}:${port}/`,
    );
    printTryIt(options.host, port);
    stopOnSignals(stop);
  }
}

function printTryIt(host: string, port: number): void {
  console.log(`Try:  curl -v http://${host}:${port}/        (stop with Ctrl-C)`);
}

runMain(main);
