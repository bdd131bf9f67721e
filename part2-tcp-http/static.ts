// Static files: `GET /static/<path>` answers with the file `public/<path>`, its Content-Type
// chosen by extension. The one rule that matters: no request may reach a file outside the
// folder, however the path is spelled (`..`, `%2e%2e`, `..%2f`, `\`, `%00`, `//etc/passwd`).
//
// The defence, in order: the site decodes the path exactly once (site.ts); here we refuse bytes
// that no file name of ours contains (NUL, backslash), let `path.resolve` do all the `..` and
// `/` arithmetic, and then check the *result* is still inside the folder, first as a string
// and then with symlinks resolved. Checking the result, not the input, is what makes it hold:
// there are too many spellings of ".." to list, but only one way to be inside a folder.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError } from './errors.ts';
import type { ResponseWriter } from './response.ts';

/** The folder `GET /static/...` serves from: `part2-tcp-http/public/`. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Content-Type by file extension; anything else is sent as opaque bytes (RFC 9110 §8.3). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
};
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Send `relativePath` (already percent-decoded, e.g. "hello.txt") from `publicDir`.
 * 404 when there is no such file, 403 when the path leads outside the folder.
 */
export async function serveStatic(
  publicDir: string,
  relativePath: string,
  response: ResponseWriter,
): Promise<void> {
  const file = await resolveInside(publicDir, relativePath);
  // Simplification: the whole file is read into memory; the files here are a few hundred
  // bytes. Part 3 streams bodies chunk by chunk, with backpressure.
  const bytes = await readFile(file);
  response.sendWhole(
    200,
    [
      ['Content-Type', CONTENT_TYPES[extname(file).toLowerCase()] ?? DEFAULT_CONTENT_TYPE],
      // Browsers must not guess another type (a .txt "sniffed" as HTML could run script).
      ['X-Content-Type-Options', 'nosniff'],
    ],
    bytes,
  );
}

/** The absolute path of a regular file inside `root`, or an HttpError saying why not. */
export async function resolveInside(root: string, relativePath: string): Promise<string> {
  // No file in public/ has these in its name; on Windows a backslash is a separator, so
  // "..\\server.ts" would be another spelling of "../server.ts".
  if (relativePath.includes('\0'))
    throw new HttpError(400, 'A NUL byte in a file path is not allowed.', false);
  if (relativePath.includes('\\'))
    throw new HttpError(400, 'A backslash in a file path is not allowed: use "/".', false);

  const rootPath = resolve(root);
  // resolve() applies every "..", "." and "//", and an absolute path ("/etc/passwd") replaces
  // the root entirely; so the only question left is whether we are still inside.
  const candidate = resolve(rootPath, relativePath);
  if (!isInside(rootPath, candidate)) throw outside();

  let realFile: string;
  try {
    realFile = await realpath(candidate);
  } catch {
    throw new HttpError(404, 'No such file in public/.', false);
  }
  // A symlink inside the folder could still point out of it: compare the real paths too.
  const realRoot = await realpath(rootPath);
  if (!isInside(realRoot, realFile)) throw outside();
  if (!(await stat(realFile)).isFile())
    throw new HttpError(404, 'Not a file: directories are not listed.', false);
  return realFile;
}

/** The folder itself, or anything below it ("/srv/public-old" is not inside "/srv/public"). */
function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function outside(): HttpError {
  return new HttpError(403, 'That path leads outside the public/ folder.', false);
}
