// `npm run check`: run a stage's checks against your server and say where you are.
//
//   npm run check -- part2 --port 8002              a server already listening (any language)
//   npm run check -- part2 my-server.ts             start it (PORT=P and --port P), check, stop
//   npm run check -- part2 my_server.py             .ts with tsx, .js with node, .py with python3
//   npm run check -- part2 --exec 'go run server.go'    any other command, PORT and --port alike
//   npm run check -- part2 my-server.ts --watch     again on every save (Ctrl-C to stop)
//   npm run check -- part2 my-server.ts --all       every check, not just up to the first failure
//   npm run check -- part2 my-server.ts --challenge 1
//   npm run check -- part3 my-gateway.ts            starts "my-gateway.ts <probe app> --port P"
//   npm run check -- part4 --port 8004 --base /micro/   an app mounted below / (default /)
//   npm run check -- part2 my-server.ts --check 7   one check, by its number
//
// It stops at the first failing check (the next thing to do) unless --all. The last line is
// exactly "N passed, M failed"; the exit code is 0 only when every check run passed. A server it
// started is stopped on every way out: the end, Ctrl-C, or its own output closed (`| head`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  runChecks,
  selectChecks,
  summaryLine,
  type CheckResult,
  type Group,
  type ServerLimits,
  type ServerTimeouts,
} from './check.ts';
import {
  canStart,
  killAllNow,
  launch,
  LaunchError,
  startCommand,
  stopAll,
  type LaunchedServer,
  type ServerSource,
} from './launch.ts';
import { formatResult, type ReportStyle } from './report.ts';
import { STAGES, type Stage } from './stages.ts';

const USAGE = `Usage: npm run check -- <${Object.keys(STAGES).join('|')}> (--port N | path/to/server.ts | --exec 'COMMAND') [--all] [--watch] [--challenge N] [--group core|hardening] [--check N] [--base /path/] [--head-timeout MS] [--idle-timeout MS] [--body-timeout MS] [--line-limit BYTES] [--header-limit BYTES] [--body-limit BYTES]`;
const HELP = `${USAGE}

  --port N          check a server already listening on 127.0.0.1:N (written in any language)
  path/to/server    start that file (PORT=P, --port P), check it, stop it: .ts with tsx,
                    .js/.mjs with node, .py with python3
  --exec 'COMMAND'  start any other server the same way: 'go run server.go', 'ruby server.rb',
                    './server' (the checker adds --port P and sets PORT=P; 'cargo run --')
  --all             run every check, not only up to the first failure
  --watch           check again whenever a file in the server's folder changes (Ctrl-C to stop)
  --group G         only the core or only the hardening checks (both by default)
  --challenge N     only the checks of the stage README's challenge N
  --check N         only check number N
  --base /path/     part 4: the guestbook is mounted at /path/ (default /)

Course policy (the RFCs leave these to each server): give yours if not the course's.
  --head-timeout MS    a request head must be complete within (10000)
  --idle-timeout MS    an idle keep-alive connection is closed after (5000)
  --body-timeout MS    a request body that stops arriving is given up after (10000)
  --line-limit BYTES   the longest request line served (8192)
  --header-limit BYTES the largest header section served (16384)
  --body-limit BYTES   the largest request body served (1048576)

The last line is "N passed, M failed"; the exit code is 0 only if every check run passed.`;

/** After a failed check, how long to wait for a crashed server's exit to be noticed. */
const EXIT_GRACE_MS = 200;
/** How often --watch looks for changed files (polling works on every file system, WSL's /mnt too). */
const WATCH_INTERVAL_MS = 500;

interface CheckCli {
  stage: Stage;
  port: number | null;
  /** The server to start, if not --port: a file or a command. */
  source: ServerSource | null;
  all: boolean;
  watch: boolean;
  groups: Group[];
  timeouts: ServerTimeouts;
  limits: ServerLimits;
  /** Where the app under test is mounted (part 4): '/' unless --base. */
  base: string;
  /** --check N: only the check with this number, whatever its group. */
  only: number | null;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): CheckCli {
  const [stageName, ...rest] = argv;
  const stage = stageName === undefined ? undefined : STAGES[stageName];
  if (stage === undefined)
    throw new UsageError(stageName === undefined ? USAGE : `Unknown stage "${stageName}". ${USAGE}`);
  const cli: CheckCli = {
    stage,
    port: null,
    source: null,
    all: false,
    watch: false,
    groups: ['core', 'hardening'],
    timeouts: { ...stage.timeouts },
    limits: { ...stage.limits },
    base: '/',
    only: null,
  };
  const setSource = (source: ServerSource): void => {
    if (cli.source !== null) {
      const name = (given: ServerSource): string => ('file' in given ? `"${given.file}"` : `--exec "${given.exec}"`);
      throw new UsageError(`One server at a time: got ${name(cli.source)} and ${name(source)}.`);
    }
    cli.source = source;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value. ${USAGE}`);
      return next;
    };
    const number = (text: string): number => {
      if (!/^\d+$/.test(text)) throw new UsageError(`${arg} needs a whole number, got "${text}". ${USAGE}`);
      return Number(text);
    };
    if (arg === '--port') cli.port = number(value());
    else if (arg === '--exec') setSource({ exec: value() });
    else if (arg === '--all') cli.all = true;
    else if (arg === '--watch') cli.watch = true;
    else if (arg === '--challenge') cli.groups = [`challenge ${number(value())}`];
    else if (arg === '--check') {
      cli.only = number(value());
      if (cli.only < 1 || cli.only > stage.checks.length)
        throw new UsageError(
          `${stage.name}'s checks are numbered 1 to ${stage.checks.length}; got --check ${cli.only}.`,
        );
    } else if (arg === '--group') {
      const group = value();
      if (group !== 'core' && group !== 'hardening')
        throw new UsageError(`--group is core or hardening, got "${group}".`);
      cli.groups = [group];
    } else if (arg === '--head-timeout') cli.timeouts.headMs = number(value());
    else if (arg === '--idle-timeout') cli.timeouts.idleMs = number(value());
    else if (arg === '--body-timeout') cli.timeouts.bodyMs = number(value());
    else if (arg === '--line-limit') cli.limits.requestLineBytes = number(value());
    else if (arg === '--header-limit') cli.limits.headerBytes = number(value());
    else if (arg === '--body-limit') cli.limits.bodyBytes = number(value());
    else if (arg === '--base') cli.base = basePath(value());
    else if (arg.startsWith('--')) throw new UsageError(`Unknown option ${arg}. ${USAGE}`);
    else setSource({ file: arg });
  }
  if ((cli.port === null) === (cli.source === null))
    throw new UsageError(
      `Give either --port N (a server already running), the server's file, or --exec 'COMMAND'. ${USAGE}`,
    );
  const source = cli.source as ServerSource | null;
  if (source !== null && 'file' in source) {
    const copy = `${stage.folder}/${stage.copyName}`;
    if (!existsSync(source.file))
      throw new UsageError(
        `No such file: ${source.file}. Give the path of your server's file, e.g. a copy of the starter, kept in its folder (its imports are relative): cp ${stage.folder}/starter.ts ${copy}`,
      );
    if (!canStart(source.file))
      throw new UsageError(
        `The checker starts .ts, .js, .mjs and .py files; for any other, give the command that starts it: --exec 'go run server.go' (it gets --port P, and PORT=P), or start it yourself and give --port N.`,
      );
  }
  if (cli.watch && cli.source === null)
    throw new UsageError("--watch needs the server's file (or --exec), to restart it on every change.");
  const challenges = stage.checks.filter((check) => cli.groups.includes(check.group));
  if (challenges.length === 0) {
    const known = [
      ...new Set(stage.checks.map((check) => check.group).filter((group) => group.startsWith('challenge'))),
    ];
    throw new UsageError(
      `${stage.name} has no checks in ${cli.groups.join(', ')}; it has: core, hardening, ${known.join(', ')}.`,
    );
  }
  return cli;
}

/** `--base micro`, `/micro` or `/micro/` all mean the path prefix '/micro/'. */
function basePath(text: string): string {
  const trimmed = text.replace(/^\/+|\/+$/g, '');
  if (/[\s?#]/.test(trimmed)) throw new UsageError(`--base is a path such as /micro/, got "${text}".`);
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

/** What the report calls the server: its file, its command, or its port. */
function describe(source: ServerSource | null, port: number): string {
  if (source === null) return `the server on 127.0.0.1:${port}`;
  return `${'file' in source ? source.file : `"${source.exec}"`} (started on 127.0.0.1:${port})`;
}

/**
 * Why a server did not start, where its own output does not say it plainly: a starter's copy
 * outside its stage's folder cannot find what it imports (`../part1-sockets/...` relative to the
 * copy); a .js file run by node cannot import the course's .ts files; a runner not installed.
 */
function startAdvice(cli: CheckCli, output: string): string | null {
  const source = cli.source;
  if (source === null) return null;
  if (/ENOENT/.test(output) && /spawn /.test(output))
    return `The program that runs it was not found (${/spawn (\S+)/.exec(output)?.[1] ?? 'its runner'}): install it, or start your server yourself and give --port N.`;
  if (!('file' in source)) return null;
  if (/ERR_UNKNOWN_FILE_EXTENSION/.test(output) && /\.ts\b/.test(output))
    return `It imports TypeScript, which this node does not run by itself: name your file .ts, or give --exec 'node --import tsx ${source.file}'.`;
  if (!/ERR_MODULE_NOT_FOUND|Cannot find module/.test(output)) return null;
  const folder = resolve(cli.stage.folder);
  if (dirname(resolve(source.file)) === folder) return null;
  return `A module it imports was not found. A copy of ${cli.stage.folder}/starter.ts imports the stage's files by relative paths, so keep the copy in ${cli.stage.folder}/: cp ${cli.stage.folder}/starter.ts ${cli.stage.folder}/${cli.stage.copyName}`;
}

/** One run: start the server if given, run the checks, print each, stop it. True if all passed. */
async function checkOnce(cli: CheckCli, style: ReportStyle): Promise<boolean> {
  const selected =
    cli.only === null
      ? selectChecks(cli.stage.checks, { groups: cli.groups })
      : [{ number: cli.only, check: cli.stage.checks[cli.only - 1] }];
  let server: LaunchedServer | null = null;
  if (cli.source !== null) {
    try {
      server = await launch(cli.source, cli.stage.serverArgs, {
        echo: (line) => console.log(`  [your server] ${line}`),
      });
    } catch (error) {
      if (!(error instanceof LaunchError)) throw error;
      // One failure, as a first failing check reads; nothing else could run.
      console.log(`✗ ${error.message}`);
      const advice = startAdvice(cli, error.output);
      if (advice !== null) console.log(`    Advice:   ${advice}`);
      console.log(
        `(${selected.length} ${selected.length === 1 ? 'check' : 'checks'} not run: the server did not start)`,
      );
      console.log('0 passed, 1 failed');
      return false;
    }
  }
  const port = server?.port ?? cli.port ?? 0;
  const where = cli.base === '/' ? '' : `, the app mounted at ${cli.base}`;
  const which =
    cli.only !== null
      ? `check ${cli.only}`
      : `${cli.groups.join(' and ')} checks${cli.all ? '' : ', stopping at the first failure'}`;
  console.log(`Checking ${describe(cli.source, port)}${where} as ${cli.stage.title}: ${which}.\n`);
  let results: CheckResult[] = [];
  let crashed: { how: string; during: number } | null = null;
  try {
    results = await runChecks(selected, {
      port,
      timeouts: cli.timeouts,
      limits: cli.limits,
      base: cli.base,
      all: cli.all,
      onResult: async (result) => {
        console.log(formatResult(result, style));
        // A server that crashed takes a moment to be reaped after its sockets close.
        if (!result.passed && server !== null) await new Promise((resolve) => setTimeout(resolve, EXIT_GRACE_MS));
        const how = server?.exited() ?? null;
        if (how !== null && crashed === null) crashed = { how, during: result.number };
      },
      // Checks after a crash would only say "connection refused": stop instead.
      stopIf: () => crashed !== null,
    });
  } finally {
    await server?.stop();
  }
  const failed = results.find((result) => !result.passed);
  if (crashed !== null) {
    const { how, during } = crashed;
    console.log(
      `✗ Your server exited (${how}) during check ${during}: the lines marked [your server] above say why (a stack trace?). A server must survive any request; the checks after it were not run.`,
    );
  } else if (failed !== undefined && cli.source !== null) {
    const args = cli.stage.serverArgs.map((arg) => relative(process.cwd(), arg));
    console.log(
      `To run a Reproduce command yourself, start your server on that port first (the checker has stopped it): ${startCommand(cli.source, args, port)}`,
    );
  }
  if (failed !== undefined && !cli.all) {
    const left = selected.length - results.length;
    if (left > 0)
      console.log(
        `(${left} more ${left === 1 ? 'check' : 'checks'} not run: fix this one first, or add --all to see them all)`,
      );
  } else if (failed === undefined && results.length === selected.length) {
    console.log(nextStep(cli));
  }
  console.log(summaryLine(results));
  return failed === undefined;
}

function nextStep(cli: CheckCli): string {
  if (cli.only !== null) return `Check ${cli.only} passes. Run them all again without --check.`;
  // The checks see what they ask, from outside: a pass is that, not a proof of every rule.
  if (cli.groups.includes('hardening') && cli.groups.includes('core'))
    return 'Every core and hardening check passed: your server does all that these checks ask. Try the challenges: --challenge 1.';
  if (cli.groups.includes('hardening'))
    return 'The hardening checks pass. Run the core ones too (no --group) for the whole stage.';
  if (cli.groups.includes('core')) return 'The core works. Next: --group hardening.';
  return 'This challenge is done.';
}

/** The newest modification time among the files of `folder` (one level: your server's files). */
function newestChange(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder)) {
    try {
      newest = Math.max(newest, statSync(join(folder, entry)).mtimeMs);
    } catch {
      // A file removed between the listing and the stat: the next poll sees the new state.
    }
  }
  return newest;
}

async function watch(cli: CheckCli, style: ReportStyle): Promise<never> {
  // A file's folder; for a command, the folder it runs in.
  const source = cli.source;
  const folder = source !== null && 'file' in source ? dirname(source.file) : '.';
  for (;;) {
    const seen = newestChange(folder);
    await checkOnce(cli, style);
    console.log(`\nWatching ${relative(process.cwd(), folder) || '.'} for changes (Ctrl-C to stop)...`);
    while (newestChange(folder) === seen) await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    console.log('\nA file changed: checking again.\n');
  }
}

/**
 * Every way out stops the server the checker started: Ctrl-C (SIGINT), SIGTERM, SIGHUP, and the
 * checker's own output closed (`npm run check ... | head -3`: the next write fails with EPIPE).
 * Gracefully first (SIGTERM, SIGKILL after a while); a second signal, or an exit any other way
 * (an uncaught error), kills what is left at once.
 */
function stopServersOnEveryWayOut(): void {
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) {
      process.exit(code);
      return;
    }
    leaving = true;
    void stopAll().finally(() => process.exit(code));
  };
  process.on('exit', killAllNow);
  process.stdout.on('error', () => leave(typeof process.exitCode === 'number' ? process.exitCode : 1));
  process.on('SIGINT', () => leave(130));
  process.on('SIGTERM', () => leave(143));
  process.on('SIGHUP', () => leave(129));
}

async function main(): Promise<void> {
  stopServersOnEveryWayOut();
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  let cli: CheckCli;
  try {
    cli = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const style: ReportStyle = { color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined };
  if (cli.watch) await watch(cli, style);
  process.exitCode = (await checkOnce(cli, style)) ? 0 : 1;
}

await main();
