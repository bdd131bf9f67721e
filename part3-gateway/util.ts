// Small helpers every gateway app ends up needing, after Python's wsgiref.util.
import type { Environ } from './contract.ts';

/**
 * Move one path segment from PATH_INFO to SCRIPT_NAME and return it: how a dispatcher mounts
 * an app under a prefix. With SCRIPT_NAME '' and PATH_INFO '/blog/posts/7':
 *
 *   shiftPathInfo(environ) → 'blog'    SCRIPT_NAME '/blog'   PATH_INFO '/posts/7'
 *
 * Returns null (changing nothing) when PATH_INFO has no segment left. Like wsgiref's
 * shift_path_info, empty segments are skipped and a trailing slash is kept on PATH_INFO.
 */
export function shiftPathInfo(environ: Environ): string | null {
  const pathInfo = environ.PATH_INFO;
  // PATH_INFO is '' or starts with '/' (contract.ts); anything else has no segment to shift.
  if (!pathInfo.startsWith('/') || pathInfo === '/') return null;
  const segments = pathInfo.split('/');
  let first = 1;
  while (first < segments.length - 1 && segments[first] === '') first++;
  const name = segments[first];
  if (name === '') return null;
  const rest = segments.slice(first + 1);
  environ.SCRIPT_NAME = `${environ.SCRIPT_NAME.replace(/\/+$/, '')}/${name}`;
  environ.PATH_INFO = rest.length === 0 ? '' : `/${rest.join('/')}`;
  return name;
}

/** Percent-encode a decoded path for a URL, keeping its slashes. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The URL the app is mounted at, e.g. `http://localhost:8003/shop`: scheme, host (from the
 * Host header, else SERVER_NAME and SERVER_PORT) and SCRIPT_NAME.
 */
export function applicationUri(environ: Environ): string {
  const scheme = environ['gateway.url_scheme'];
  let host = environ.HTTP_HOST;
  if (host === undefined) {
    const defaultPort = scheme === 'https' ? '443' : '80';
    host =
      environ.SERVER_PORT === defaultPort
        ? environ.SERVER_NAME
        : `${environ.SERVER_NAME}:${environ.SERVER_PORT}`;
  }
  return `${scheme}://${host}${encodePath(environ.SCRIPT_NAME) || '/'}`;
}

/**
 * The full URL of this request, rebuilt from the environ: applicationUri plus PATH_INFO and,
 * when `includeQuery` is true, `?QUERY_STRING`.
 */
export function requestUri(environ: Environ, includeQuery = true): string {
  const base = applicationUri(environ).replace(/\/$/, '');
  const path = encodePath(environ.PATH_INFO) || (environ.SCRIPT_NAME === '' ? '/' : '');
  const query = includeQuery && environ.QUERY_STRING !== '' ? `?${environ.QUERY_STRING}` : '';
  return `${base}${path}${query}`;
}
