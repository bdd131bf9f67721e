// Finding the application to serve from a command-line argument, the way `gunicorn
// module:app` or `python webserver2.py flaskapp:app` do:
//
//   part3-gateway/apps/hello.ts          the default export, else the export named `app`
//   part3-gateway/apps/hello.ts:app      the export named `app`
//
// A fetch app (Hono's `export default app`) is not one of this contract's: the loader says
// in one line how to run it on part 4 instead.
//
// Every mistake gets one line that says what was expected, not a stack trace.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Application } from './contract.ts';

/** A problem with the app argument; main.ts prints its message and exits with code 2. */
export class LoadError extends Error {}

/** Split `file[:export]`. A colon after a Windows drive letter (`C:\app.ts`) is not a separator. */
export function parseAppSpec(spec: string): { file: string; exportName: string | null } {
  const colon = spec.lastIndexOf(':');
  const isDriveLetter = colon === 1 && /^[A-Za-z]$/.test(spec[0]);
  if (colon === -1 || isDriveLetter) return { file: spec, exportName: null };
  const exportName = spec.slice(colon + 1);
  if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new LoadError(
      `"${exportName}" is not an export name: ` +
        `write path/to/app.ts:exportName, e.g. part3-gateway/apps/hello.ts:app`,
    );
  }
  return { file: spec.slice(0, colon), exportName };
}

/** The export `spec` names (the default export, else `app`, unless named), whatever it is. */
export async function loadExport(
  spec: string,
  cwd = process.cwd(),
): Promise<{ file: string; name: string; value: unknown }> {
  const { file, exportName } = parseAppSpec(spec);
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new LoadError(
      `No such file: ${file} (looked for ${path}). ` +
        `Give the path to a .ts file, e.g. part3-gateway/apps/hello.ts`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new LoadError(
      `Could not load ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const name = exportName ?? ('default' in module ? 'default' : 'app');
  const value = module[name];
  if (value === undefined) {
    const available = Object.keys(module).join(', ') || 'nothing';
    const missing =
      exportName === null
        ? 'no default export and no export named "app"'
        : `no export named "${name}"`;
    throw new LoadError(
      `${file} has ${missing} (it exports: ${available}). ` +
        `Export your app, or name it: ${file}:exportName`,
    );
  }
  return { file, name, value };
}

/** What a fetch host calls, seen from here: part 4's fetch.ts knows it better (FetchHandler). */
export type FetchApp = ((request: Request) => unknown) | { fetch: (request: Request) => unknown };

/**
 * A fetch app, the other contract a TypeScript app may speak: an object with a `fetch(request)`
 * method (Hono's `export default app`, Bun's `export default { fetch }`), or a function of one
 * parameter, a Request (an app of this contract takes two: environ and startResponse).
 */
export function isFetchApp(value: unknown): value is FetchApp {
  if (typeof value === 'function') return value.length === 1;
  return (
    typeof value === 'object' &&
    value !== null &&
    'fetch' in value &&
    typeof value.fetch === 'function'
  );
}

export async function loadApplication(spec: string, cwd = process.cwd()): Promise<Application> {
  const { file, name, value } = await loadExport(spec, cwd);
  if (isFetchApp(value)) {
    // Part 4 has the bridge (fromFetch); this stage does not depend on a later one.
    const what =
      typeof value === 'function'
        ? 'a fetch handler (one parameter, a Request)'
        : 'a fetch app (it has a fetch(request) method)';
    throw new LoadError(
      `${file}'s export "${name}" is ${what}, not an app (environ, startResponse): ` +
        `run it with npm run part4 -- --app ${spec}, ` +
        `or wrap it in the file with fromFetch from part4-frameworks/fetch.ts.`,
    );
  }
  if (typeof value !== 'function') {
    throw new LoadError(
      `${file}'s export "${name}" is a ${typeof value}, not a function. ` +
        `An app is a function (environ, startResponse) => body.`,
    );
  }
  return value as Application;
}
