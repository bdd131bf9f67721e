// Part 4: three frameworks on two servers, from the command line.
//
//   npm run part4                                     the guestbooks on the gateway server:
//                                                     /micro/, /mvc/, /hono/, an index page at /
//   npm run part4 -- --server node                    the same, on node:http
//   npm run part4 -- --server node --framework mvc    one pair: that guestbook alone, at /
//   npm run part4 -- --framework micro --port 9000
//   npm run part4 -- --app path/to/app.ts[:export] --server node
//                                                     your app on either server: an app of the
//                                                     contract, or a fetch app (Hono's `export
//                                                     default app`, `export default { fetch }`),
//                                                     wrapped with fromFetch (fetch.ts)
//
// Every combination runs the very same app objects: only the server around them changes.
// Ctrl-C (SIGINT) or SIGTERM stops gracefully: no new connections, in-flight responses finish
// (up to a deadline), then exit 0.
//
// Not here: --workers (part 3's `npm run part3 -- part4-frameworks/micro/guestbook.ts --workers 2`
// hosts a guestbook on several processes, each with its own entries), reloading on changes.
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../part1-sockets/cli.ts';
import { SHUTDOWN_DEADLINE_MS } from '../part2-tcp-http/server.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { LoadError } from '../part3-gateway/loader.ts';
import { loadAnyApp } from './fetch.ts';
import { createSite, FRAMEWORKS, SERVERS, type FrameworkName, type ServerName } from './site.ts';

export const DEFAULT_PORT = 8004;

const USAGE =
  'Usage: npm run part4 -- [--server gateway|node] ' +
  '[--framework micro|mvc|hono | --app app.ts[:export]] [--port N] [--host H]';

const SERVER_NAMES: Record<ServerName, string> = {
  gateway: 'the gateway server (part 3)',
  node: 'node:http (node-server.ts)',
};

const FRAMEWORK_NAMES: Record<FrameworkName, string> = {
  micro: 'micro (Flask style)',
  mvc: 'mvc (Django/Express style)',
  hono: 'hono (a real one, via fetch)',
};

interface Part4Cli {
  server: ServerName;
  /** null: all of them, mounted side by side by the dispatcher. */
  framework: FrameworkName | null;
  /** `--app path/to/app.ts[:export]`: the learner's own app instead of the guestbooks. */
  appSpec: string | null;
}

function parsePart4Args(rest: string[]): Part4Cli {
  const cli: Part4Cli = { server: 'gateway', framework: null, appSpec: null };
  for (let i = 0; i < rest.length; i++) {
    const equals = rest[i].indexOf('=');
    const flag = equals === -1 ? rest[i] : rest[i].slice(0, equals);
    const inline = equals === -1 ? undefined : rest[i].slice(equals + 1);
    if (flag !== '--server' && flag !== '--framework' && flag !== '--app')
      throw new UsageError(`Unknown option ${rest[i]}. ${USAGE}`);
    const value = inline ?? rest[++i];
    if (flag === '--server') cli.server = choose(flag, value, SERVER_NAMES);
    else if (flag === '--framework') cli.framework = choose(flag, value, FRAMEWORK_NAMES);
    else if (value === undefined || value.startsWith('--'))
      throw new UsageError(
        '--app needs a file: --app path/to/app.ts, or path/to/app.ts:exportName',
      );
    else cli.appSpec = value;
  }
  if (cli.appSpec !== null && cli.framework !== null)
    throw new UsageError(
      'Give --app or --framework, not both: --app serves your app instead of a guestbook.',
    );
  return cli;
}

/** `value` if it names one of `choices`; otherwise a one-line UsageError listing them. */
function choose<Name extends string>(
  flag: string,
  value: string | undefined,
  choices: Record<Name, string>,
): Name {
  if (isOneOf(value, choices)) return value;
  const names = Object.keys(choices);
  const got = value === undefined ? 'needs a value' : `does not know "${value}"`;
  const list =
    names.length > 2
      ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`
      : names.join(' or ');
  throw new UsageError(`${flag} ${got}: choose ${list}, e.g. ${flag} ${names[names.length - 1]}`);
}

function isOneOf<Name extends string>(
  value: string | undefined,
  choices: Record<Name, string>,
): value is Name {
  return value !== undefined && Object.hasOwn(choices, value);
}

async function main(): Promise<void> {
  const options = parseCli(DEFAULT_PORT);
  const cli = parsePart4Args(options.rest);
  let own: { app: Application; how: string } | null = null;
  try {
    own = cli.appSpec === null ? null : await loadAnyApp(cli.appSpec);
  } catch (error) {
    if (error instanceof LoadError) throw new UsageError(error.message);
    throw error;
  }
  const app = own?.app ?? (cli.framework === null ? createSite() : FRAMEWORKS[cli.framework]());
  const server = SERVERS[cli.server](app);
  const port = await listenOrExplain(server, options, 'part4');
  const url = `http://${options.host}:${port}/`;

  if (own !== null) {
    console.log(`Serving ${cli.appSpec} (${own.how}) on ${SERVER_NAMES[cli.server]}, at ${url}`);
    console.log(`Try:  curl -i ${url}   (stop with Ctrl-C)`);
    stopOnSignals(() => server.shutdown(SHUTDOWN_DEADLINE_MS));
    return;
  }
  if (cli.framework === null) {
    console.log(`The guestbooks on ${SERVER_NAMES[cli.server]}, index at ${url}`);
    for (const [name, description] of Object.entries(FRAMEWORK_NAMES))
      console.log(`  ${description.padEnd(28)} ${url}${name}/`);
  } else {
    console.log(
      `The ${FRAMEWORK_NAMES[cli.framework]} guestbook on ${SERVER_NAMES[cli.server]}, at ${url}`,
    );
  }
  const book = cli.framework === null ? `${url}micro/` : url;
  console.log(
    `Try:  curl -i -d 'name=Ada&message=Hello' ${book}entries   then  curl -s ${book}entries   ` +
      '(stop with Ctrl-C)',
  );
  stopOnSignals(() => server.shutdown(SHUTDOWN_DEADLINE_MS));
}

runMain(main);
