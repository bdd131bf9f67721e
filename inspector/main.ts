// The inspector: see the wire. The entry point of `npm run inspect`: a TCP proxy in front of any
// server (the course's, or yours in any language), and a live page that draws every connection
// through it as a sequence diagram, its bytes framed as HTTP where they are HTTP. The lesson is
// in README.md next to this file.
//
//   npm run inspect -- --to 8002          proxy 127.0.0.1:8008 → 127.0.0.1:8002,
//                                         page http://127.0.0.1:8009/
//   npm run inspect -- --to 127.0.0.1:9000 --port 7000 --page-port 7100
//   then talk to the proxy instead of the server: curl -v http://127.0.0.1:8008/
//                                                 npm run check -- part2 --port 8008
//
// --to is the server (a port, or HOST:PORT; 8002, part 2's, if not given). --port is the
// proxy's own port (or PORT=N), --page-port the page's (the proxy's port + 1 if not given).
//
// What it deliberately does not do: TLS (it would see only ciphertext), HTTP/2, change a byte,
// time anything out, or keep more than its last connections (README.md, "Limits").
import {
  DEFAULT_HOST,
  gracefulStop,
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
  type CliOptions,
} from '../part1-sockets/cli.ts';
import { createPageServer } from './page.ts';
import { createProxy, type Target } from './proxy.ts';
import { MAX_CONNECTIONS, Recorder } from './recorder.ts';

/** The proxy's port: near the stages' 8001-8004, and not 8000, where many other servers start. */
const DEFAULT_PORT = 8008;
/** The server behind it unless --to says otherwise: part 2's default port. */
const DEFAULT_TARGET: Target = { host: DEFAULT_HOST, port: 8002 };
/** "Cannot reach the server" is printed at most this often, however many clients try. */
const REFUSED_NOTICE_MS = 5_000;

const USAGE =
  'Usage: npm run inspect -- [--to PORT | --to HOST:PORT] [--port N] [--page-port N] [--host H]';

interface InspectCli {
  target: Target;
  pagePort: number | null;
}

function parseInspectArgs(rest: string[]): InspectCli {
  const cli: InspectCli = { target: DEFAULT_TARGET, pagePort: null };
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].includes('=') ? rest[i].split(/=(.*)/s) : [rest[i], undefined];
    if (flag !== '--to' && flag !== '--page-port')
      throw new UsageError(`Unexpected argument "${rest[i]}". ${USAGE}`);
    const value = inline ?? rest[++i];
    if (value === undefined)
      throw new UsageError(
        `${flag} needs a value, e.g. ${flag} ${flag === '--to' ? '8002' : '8009'}`,
      );
    if (flag === '--to') cli.target = parseTarget(value);
    else cli.pagePort = parsePort(value, flag);
  }
  return cli;
}

/** `8002`, `localhost:8002`, `[::1]:8002`. */
function parseTarget(text: string): Target {
  const colon = text.lastIndexOf(':');
  if (colon === -1) return { host: DEFAULT_HOST, port: parsePort(text, '--to') };
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (host === '')
    throw new UsageError(`--to "${text}": name a host before the colon, e.g. --to 127.0.0.1:8002`);
  return { host, port: parsePort(text.slice(colon + 1), '--to') };
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(
      `${flag} "${text}": a port is a whole number from 0 to 65535, e.g. ${flag} 8002`,
    );
  return port;
}

async function main(): Promise<void> {
  const cli = parseCli(DEFAULT_PORT);
  const { target, pagePort } = parseInspectArgs(cli.rest);
  const server = `${target.host}:${target.port}`;
  const recorder = new Recorder();

  let lastNotice = -Infinity;
  const proxy = createProxy(target, recorder, (code) => {
    if (Date.now() - lastNotice < REFUSED_NOTICE_MS) return;
    lastNotice = Date.now();
    console.error(
      `Cannot reach the server at ${server} (${code}): is it running? ` +
        `e.g. npm run part2 -- --port ${target.port}`,
    );
  });
  const stopProxy = gracefulStop(proxy);
  const proxyPort = await listenOrExplain(proxy, cli, 'inspect');

  const page = createPageServer(recorder, { proxy: `${cli.host}:${proxyPort}`, server });
  // The page's port follows the proxy's as asked for (--port 0, any free port: the page's too).
  const pageOptions: CliOptions = {
    ...cli,
    port: pagePort ?? (cli.port === 0 || cli.port === 65535 ? 0 : cli.port + 1),
  };
  // Taken: listenOrExplain suggests another --port. Without --page-port that moves both ports
  // (the page's follows the proxy's); with it, the advice must name --page-port instead.
  const explainPage = (message: string): void => {
    const advice =
      pagePort === null
        ? message
        : message.replace(/--port (\d+)/, '--page-port $1').replace(/ +\(or PORT=\d+\)/, '');
    console.error(`For the page: ${advice}`);
  };
  const boundPagePort = await listenOrExplain(
    page.server,
    { ...pageOptions, rest: withoutPagePort(cli.rest) },
    'inspect',
    explainPage,
  );

  stopOnSignals(async () => {
    await Promise.all([stopProxy(), page.stop()]);
  });

  // Part N listens on 800N: suggest that stage's checks (part 2's for any other port).
  const stage = /^800([1-4])$/.exec(String(target.port))?.[1] ?? '2';
  console.log(
    `Inspector: a proxy on ${cli.host}:${proxyPort} forwarding to ${server} (Ctrl-C to stop).`,
  );
  console.log(
    `  See every connection at http://${cli.host}:${boundPagePort}/ ` +
      `(the last ${MAX_CONNECTIONS} are kept).`,
  );
  console.log(`Send traffic through the proxy instead of to the server, e.g.:`);
  console.log(
    stage === '1'
      ? `  nc ${cli.host} ${proxyPort}`
      : `  curl -v 'http://${cli.host}:${proxyPort}/hello?name=Ada'`,
  );
  console.log(`  npm run check -- part${stage} --port ${proxyPort}`);
}

/** The arguments without `--page-port N`, for a suggested command that sets it anew. */
function withoutPagePort(rest: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--page-port') i++;
    else if (!rest[i].startsWith('--page-port=')) kept.push(rest[i]);
  }
  return kept;
}

runMain(main);
