// Challenge 3 of part 3, solved: two apps of this stage and the app given on the command line,
// each mounted under a path prefix with shiftPathInfo:
//
//   /hello/...   part3-gateway/apps/hello.ts     GET /hello/x → "You asked for /x"
//   /upload      part3-gateway/apps/upload.ts    POST a body → its size, lines and SHA-256
//   /probe/...   the app file given on the command line
//
//   npm run check -- part3 part3-gateway/solutions/challenge-3.ts --challenge 3
//
// The mounted apps never learn where they are: each sees its prefix in SCRIPT_NAME and the rest
// of the path in PATH_INFO. (Part 4's dispatcher.ts is the same idea, grown up.)
import { app as hello } from '../apps/hello.ts';
import { app as upload } from '../apps/upload.ts';
import type { Application } from '../contract.ts';
import { createGatewayServer } from '../server.ts';
import { shiftPathInfo } from '../util.ts';
import { serveFromCommandLine } from './serve.ts';

/** One app made of several, each answering the paths under its first segment; 404 for the rest. */
export function mount(apps: Record<string, Application>): Application {
  return (environ, startResponse) => {
    const segment = shiftPathInfo(environ);
    if (segment !== null && Object.hasOwn(apps, segment))
      return apps[segment](environ, startResponse);
    startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
    return [
      Buffer.from(
        `Nothing is mounted at ${environ.SCRIPT_NAME}; try /hello/, /upload or /probe/.\n`,
      ),
    ];
  };
}

serveFromCommandLine('Gateway (challenge 3: apps mounted with shiftPathInfo)', (app) =>
  createGatewayServer(mount({ hello, upload, probe: app })),
);
