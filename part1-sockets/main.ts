// Part 1 — sockets. The entry point of `npm run part1`; it only picks which of three small
// programs to run and prints how to try it. The lesson is in README.md next to this file.
//
//   npm run part1                      the echo server on 127.0.0.1:8001     (echo-server.ts)
//   npm run part1 -- client            a tiny client for it: stdin → stdout  (echo-client.ts)
//   npm run part1 -- hello             "hello, browser" on 127.0.0.1:8001    (hello-browser.ts)
//   add --port N (or set PORT=N) to any of them; stop a server with Ctrl-C
//
// What it deliberately does not do: anything a server needs beyond bytes in and bytes out.
// No protocol, no timeouts, no limits: those arrive with HTTP in part 2.
import type { Server } from 'node:net';
import {
  gracefulStop,
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
  type CliOptions,
} from './cli.ts';
import { runEchoClient } from './echo-client.ts';
import { createEchoServer } from './echo-server.ts';
import { createHelloServer } from './hello-browser.ts';

/** Part N listens on 800N. Both servers use it: run one at a time. */
const DEFAULT_PORT = 8001;

const USAGE = 'Usage: npm run part1 -- [echo | client | hello] [--port N] [--host H]';

async function main(): Promise<void> {
  const cli = parseCli(DEFAULT_PORT);
  const [command = 'echo', ...extra] = cli.rest;
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}". ${USAGE}`);

  if (command === 'echo') {
    const port = await serve(createEchoServer(), cli, 'part1');
    console.log(
      `Echo server listening on ${cli.host}:${port} (Ctrl-C to stop). ` +
        'Try it from another terminal:',
    );
    console.log(`  nc ${cli.host} ${port}`);
    console.log(`  telnet ${cli.host} ${port}`);
    console.log(`  npm run part1 -- client --port ${port}`);
  } else if (command === 'hello') {
    const port = await serve(createHelloServer(), cli, 'part1');
    console.log(
      `"Hello, browser" server listening on ${cli.host}:${port} (Ctrl-C to stop). Try it:`,
    );
    console.log(
      `  open http://${cli.host}:${port}/ in a browser, or: curl -v http://${cli.host}:${port}/`,
    );
  } else if (command === 'client') {
    await runClient(cli);
  } else {
    throw new UsageError(`Unknown command "${command}". ${USAGE}`);
  }
}

/** Listen (or explain in one line why not), and stop politely on Ctrl-C. */
async function serve(server: Server, cli: CliOptions, npmScript: string): Promise<number> {
  const stop = gracefulStop(server);
  const port = await listenOrExplain(server, cli, npmScript);
  stopOnSignals(stop);
  return port;
}

async function runClient(cli: CliOptions): Promise<void> {
  try {
    await runEchoClient({
      host: cli.host,
      port: cli.port,
      input: process.stdin,
      output: process.stdout,
    });
  } catch (error) {
    // A refused or broken connection is an everyday event here, not a bug: one line, no stack.
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}

runMain(main);
