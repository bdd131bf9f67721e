// A dispatcher: one application that hosts several, each under its own path prefix, like
// Rack's URLMap or a WSGI "DispatcherMiddleware". It is itself just an Application, so it
// runs on either server, and the apps it hosts never learn they were mounted:
//
//   GET /micro/entries.json  →  micro app sees  SCRIPT_NAME '/micro'  PATH_INFO '/entries.json'
//
// shiftPathInfo (part3-gateway/util.ts) moves the first path segment from PATH_INFO to
// SCRIPT_NAME; an app that builds its links from SCRIPT_NAME then works under any prefix.
import type { Application, Environ } from '../part3-gateway/contract.ts';
import { shiftPathInfo } from '../part3-gateway/util.ts';

/** Mount points by their first path segment: `{ micro: microApp, mvc: mvcApp }`. */
export type Mounts = Record<string, Application>;

/**
 * Route each request to the app mounted at its first path segment. `fallback` answers the rest
 * (an index page at `/`, a 404 elsewhere).
 */
export function dispatcher(mounts: Mounts, fallback: Application = notFound): Application {
  for (const name of Object.keys(mounts)) {
    if (name === '' || name.includes('/'))
      throw new Error(
        `Mount point "${name}" must be one path segment, e.g. "blog", without slashes.`,
      );
  }
  return (environ, startResponse) => {
    const scriptName = environ.SCRIPT_NAME;
    const pathInfo = environ.PATH_INFO;
    const name = shiftPathInfo(environ);
    const app = name === null ? undefined : Object.hasOwn(mounts, name) ? mounts[name] : undefined;
    if (app === undefined) {
      // Not ours: give the fallback the environ as it came.
      environ.SCRIPT_NAME = scriptName;
      environ.PATH_INFO = pathInfo;
      return fallback(environ, startResponse);
    }
    if (environ.PATH_INFO === '') {
      // `/micro` → `/micro/`: the app's pages use relative links, which need the slash
      // (as Apache's DirectorySlash and Django's APPEND_SLASH do).
      const query = environ.QUERY_STRING === '' ? '' : `?${environ.QUERY_STRING}`;
      startResponse('301 Moved Permanently', [
        ['Location', `${encodeURI(environ.SCRIPT_NAME)}/${query}`],
        ['Content-Type', 'text/plain; charset=utf-8'],
      ]);
      return [Buffer.from(`Moved to ${environ.SCRIPT_NAME}/\n`)];
    }
    return app(environ, startResponse);
  };
}

const notFound: Application = (environ: Environ, startResponse) => {
  startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
  const path = environ.SCRIPT_NAME + environ.PATH_INFO;
  return [Buffer.from(`Not found: nothing is mounted at ${JSON.stringify(path)}.\n`)];
};
