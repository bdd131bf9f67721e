// Part 2 — a raw HTTP/1.1 responder. The entry point of `npm run part2`: starts the small
// site (site.ts) on the HTTP server built from a plain TCP socket (server.ts, parser.ts,
// response.ts), prints its URL and a curl command to try. The lesson is in README.md.
//
//   npm run part2                      http://127.0.0.1:8002/
//   npm run part2 -- --port 9000       or PORT=9000 npm run part2
//   npm run part2 -- --trace           print every byte received (> ) and sent (< ); or TRACE=1
//
// What it deliberately does not do: TLS, HTTP/2, compression, caching, range requests, or
// streaming a request body to the handler as it arrives (see "Limits" in README.md).
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../part1-sockets/cli.ts';
import { createSiteServer } from './site.ts';
import { traceWanted } from './trace.ts';

/** Part N listens on 800N. */
const DEFAULT_PORT = 8002;

const USAGE = 'Usage: npm run part2 -- [--trace] [--port N] [--host H]';

async function main(): Promise<void> {
  const cli = parseCli(DEFAULT_PORT);
  const unknown = cli.rest.find((arg) => arg !== '--trace');
  if (unknown !== undefined) throw new UsageError(`Unexpected argument "${unknown}". ${USAGE}`);
  const trace = traceWanted(cli.rest);

  const server = createSiteServer({ trace: trace ? (line) => console.log(line) : undefined });
  const port = await listenOrExplain(server, cli, 'part2');
  // Ctrl-C: stop accepting, let responses in progress finish, close idle keep-alive connections.
  stopOnSignals(() => server.shutdown());

  const url = `http://${cli.host}:${port}/`;
  const tracing = trace ? ', tracing every byte' : '';
  console.log(`Part 2 HTTP server listening on ${url} (Ctrl-C to stop)${tracing}. Try it:`);
  // Quoted: an unquoted `?` is a wildcard to some shells (zsh: "no matches found").
  console.log(`  curl -v '${url}hello?name=Ada'`);
  console.log(
    `  open ${url} in a browser${trace ? '' : '; see the bytes with: npm run part2 -- --trace'}`,
  );
}

runMain(main);
