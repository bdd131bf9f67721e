// Run one application on the gateway server (part 3's, on part 2's parser) from the command
// line, as `npm run part4` does: the few lines that starter.ts, minimal.ts and each file in
// solutions/ would otherwise repeat.
//
//   runOnGateway(import.meta.url, app, 'The minimal guestbook');
//     then: npx tsx that-file.ts --port 8004
//
// It reads --port N, --host H and PORT (8004 by default), and stops gracefully on Ctrl-C. Its
// start line names the file it runs from (import.meta.url), so a copy names itself. It
// runs only when that file is the program (`npx tsx that-file.ts`): a test or another file that
// imports it gets its `app` and no server.
import { realpathSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../part1-sockets/cli.ts';
import { SHUTDOWN_DEADLINE_MS } from '../part2-tcp-http/server.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';

export function runOnGateway(moduleUrl: string, app: Application, what: string): void {
  if (!isProgram(moduleUrl)) return;
  runMain(async () => {
    const cli = parseCli(8004);
    if (cli.rest.length > 0)
      throw new UsageError(
        `Unknown argument ${cli.rest[0]}: this file takes only --port N and --host H.`,
      );
    const server = createGatewayServer(app);
    const port = await listenOrExplain(server, cli, 'part4');
    stopOnSignals(() => server.shutdown(SHUTDOWN_DEADLINE_MS));
    const file = relative(process.cwd(), fileURLToPath(moduleUrl));
    console.log(
      `${what} (${file}), on the gateway server, at http://${cli.host}:${port}/ (Ctrl-C to stop)`,
    );
  });
}

/** True when the module at `moduleUrl` is the file Node was asked to run (process.argv[1]). */
function isProgram(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(resolve(entry));
  } catch {
    return false;
  }
}
