// `npm run check`: run a stage's checks against your server and say where you are.
//
//   npm run check -- part2 --port 8002              a server already listening (any language)
//   npm run check -- part2 my-server.ts             start it (PORT=P and --port P), check, stop
//   npm run check -- part2 my-server.ts --watch     again on every save (Ctrl-C to stop)
//   npm run check -- part2 my-server.ts --all       every check, not just up to the first failure
//   npm run check -- part2 my-server.ts --challenge 1
//   npm run check -- part3 my-gateway.ts            starts "my-gateway.ts <probe app> --port P"
//   npm run check -- part4 --port 8004 --base /micro/   an app mounted below / (default /)
//   npm run check -- part2 my-server.ts --check 7   one check, by its number
//
// It stops at the first failing check (the next thing to do) unless --all. The last line is
// exactly "N passed, M failed"; the exit code is 0 only when every check run passed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { runChecks, selectChecks, summaryLine, type CheckResult, type Group, type ServerTimeouts } from './check.ts';
import { launch, LaunchError, type LaunchedServer } from './launch.ts';
import { formatResult, type ReportStyle } from './report.ts';
import { STAGES, type Stage } from './stages.ts';

const USAGE = `Usage: npm run check -- <${Object.keys(STAGES).join('|')}> (--port N | path/to/server.ts) [--all] [--watch] [--challenge N] [--group core|hardening] [--check N] [--base /path/] [--head-timeout MS] [--idle-timeout MS]`;
const HELP = `${USAGE}

  --port N          check a server already listening on 127.0.0.1:N (written in any language)
  path/to/server.ts start that file (PORT=P, --port P), check it, stop it (.ts, .js, .py)
  --all             run every check, not only up to the first failure
  --watch           check again whenever a file in the server's folder changes (Ctrl-C to stop)
  --group G         only the core or only the hardening checks (both by default)
  --challenge N     only the checks of the stage README's challenge N
  --check N         only check number N
  --base /path/     part 4: the guestbook is mounted at /path/ (default /)
  --head-timeout MS, --idle-timeout MS
                    the timeouts your server uses, if not the course's (10000 and 5000)

The last line is "N passed, M failed"; the exit code is 0 only if every check run passed.`;

/** After a failed check, how long to wait for a crashed server's exit to be noticed. */
const EXIT_GRACE_MS = 200;
/** How often --watch looks for changed files (polling works on every file system, WSL's /mnt too). */
const WATCH_INTERVAL_MS = 500;

interface CheckCli {
  stage: Stage;
  port: number | null;
  file: string | null;
  all: boolean;
  watch: boolean;
  groups: Group[];
  timeouts: ServerTimeouts;
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
    file: null,
    all: false,
    watch: false,
    groups: ['core', 'hardening'],
    timeouts: { ...stage.timeouts },
    base: '/',
    only: null,
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
    else if (arg === '--base') cli.base = basePath(value());
    else if (arg.startsWith('--')) throw new UsageError(`Unknown option ${arg}. ${USAGE}`);
    else if (cli.file === null) cli.file = arg;
    else throw new UsageError(`One server at a time: got "${cli.file}" and "${arg}".`);
  }
  if ((cli.port === null) === (cli.file === null))
    throw new UsageError(`Give either --port N (a server already running) or the server's file. ${USAGE}`);
  if (cli.file !== null && !existsSync(cli.file)) {
    throw new UsageError(
      `No such file: ${cli.file}. Give the path of your server's file, e.g. a copy of the starter: cp ${stage.folder}/starter.ts ${stage.folder}/my-server.ts`,
    );
  }
  if (cli.watch && cli.file === null)
    throw new UsageError("--watch needs the server's file, to restart it on every change.");
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

/** One run: start the file if given, run the checks, print each, stop the file. True if all passed. */
async function checkOnce(cli: CheckCli, style: ReportStyle): Promise<boolean> {
  const selected =
    cli.only === null
      ? selectChecks(cli.stage.checks, { groups: cli.groups })
      : [{ number: cli.only, check: cli.stage.checks[cli.only - 1] }];
  let server: LaunchedServer | null = null;
  if (cli.file !== null) {
    try {
      server = await launch(cli.file, cli.stage.serverArgs, { echo: (line) => console.log(`  [your server] ${line}`) });
    } catch (error) {
      if (!(error instanceof LaunchError)) throw error;
      console.log(`✗ ${error.message}`);
      console.log(summaryLine([]).replace(/^0 passed, 0 failed$/, `0 passed, ${selected.length} failed`));
      return false;
    }
  }
  const port = server?.port ?? cli.port ?? 0;
  const what = cli.file === null ? `the server on 127.0.0.1:${port}` : `${cli.file} (started on 127.0.0.1:${port})`;
  const where = cli.base === '/' ? '' : `, the app mounted at ${cli.base}`;
  const which =
    cli.only !== null
      ? `check ${cli.only}`
      : `${cli.groups.join(' and ')} checks${cli.all ? '' : ', stopping at the first failure'}`;
  console.log(`Checking ${what}${where} as ${cli.stage.title}: ${which}.\n`);
  let results: CheckResult[] = [];
  let crashed: { how: string; during: number } | null = null;
  try {
    results = await runChecks(selected, {
      port,
      timeouts: cli.timeouts,
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
  } else if (failed !== undefined && cli.file !== null) {
    console.log(
      `To run a Reproduce command yourself, start your server on that port first (the checker has stopped it): npx tsx ${cli.file} ${cli.stage.serverArgs.map((arg) => relative(process.cwd(), arg)).join(' ')} --port ${port}`.replace(
        / {2,}/g,
        ' ',
      ),
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
  if (cli.groups.includes('hardening') && cli.groups.includes('core'))
    return "Every check passed: your server survives what the course's does. Try the challenges: --challenge 1.";
  if (cli.groups.includes('hardening'))
    return "The hardening checks pass. With the core ones too (no --group), that is everything the course's server survives.";
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
  const folder = dirname(cli.file ?? '.');
  for (;;) {
    const seen = newestChange(folder);
    await checkOnce(cli, style);
    console.log(`\nWatching ${relative(process.cwd(), folder) || '.'} for changes (Ctrl-C to stop)...`);
    while (newestChange(folder) === seen) await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    console.log('\nA file changed: checking again.\n');
  }
}

async function main(): Promise<void> {
  // Piped into `head`, which stops reading: end quietly instead of with an EPIPE stack trace.
  process.stdout.on('error', () => process.exit(process.exitCode ?? 1));
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
