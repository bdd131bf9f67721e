// What the challenge solutions share: the command line of `npm run part2` (main.ts) around a
// handler that wraps the site's, and the one way a /static/ path is read. Not a lesson in
// itself: read challenge-1.ts, challenge-2.ts or challenge-3.ts first.
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../../part1-sockets/cli.ts';
import { HttpError } from '../errors.ts';
import { createHttpServer, type Handler, type ServerRequest } from '../server.ts';
import { createSiteHandler } from '../site.ts';

const STATIC_PREFIX = '/static/';

/**
 * Start the part 2 site with `wrap` around its handler, on --port N or PORT (8002 if neither),
 * and print `tryIt` with URL replaced by the server's address.
 */
export function serveSolution(
  challenge: number,
  wrap: (site: Handler) => Handler,
  tryIt: string,
): void {
  runMain(async () => {
    const cli = parseCli(8002);
    const file = `part2-tcp-http/solutions/challenge-${challenge}.ts`;
    const usage = `Usage: npx tsx ${file} [--port N] [--host H]`;
    if (cli.rest.length > 0) throw new UsageError(`Unexpected argument "${cli.rest[0]}". ${usage}`);
    const server = createHttpServer(wrap(createSiteHandler()));
    const port = await listenOrExplain(server, cli, 'part2');
    stopOnSignals(() => server.shutdown());
    console.log(
      `Part 2 with challenge ${challenge} solved, listening on http://${cli.host}:${port}/ ` +
        '(Ctrl-C to stop). Try it:',
    );
    console.log(`  ${tryIt.replaceAll('URL', `http://${cli.host}:${port}`)}`);
  });
}

/**
 * For a GET or HEAD of /static/<path>: <path>, percent-decoded once (as the site does), else null.
 * Simplification: origin-form targets only; "http://host/static/..." is left to the site.
 */
export function staticPathOf(request: ServerRequest): string | null {
  const { method, target } = request.head;
  const path = target.split('?')[0];
  if ((method !== 'GET' && method !== 'HEAD') || !path.startsWith(STATIC_PREFIX)) return null;
  try {
    return decodeURIComponent(path.slice(STATIC_PREFIX.length));
  } catch {
    throw new HttpError(
      400,
      'Bad percent-encoding in the path: "%" must be followed by two hex digits of UTF-8.',
      false,
    );
  }
}
