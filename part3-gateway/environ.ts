// From a request to the `environ` an application receives (contract.ts): CGI's keys, a key per
// header, and the server's own under `gateway.`.
//
//   GET /shop/items?id=7 HTTP/1.1       REQUEST_METHOD 'GET', PATH_INFO '/shop/items',
//   Host: localhost:8003                QUERY_STRING 'id=7', SERVER_NAME 'localhost',
//   User-Agent: curl/8.5.0              SERVER_PORT '8003', HTTP_USER_AGENT 'curl/8.5.0'
//
// Both servers use it: part 3's own (the request parsed by part 2's parser) and part 4's on
// node:http. Each describes its request as a RequestInfo; from there on the environ is built by
// the same code, so an app cannot tell the servers apart.
import type { RequestHead } from '../part2-tcp-http/head.ts';
import { splitTarget } from '../part2-tcp-http/target.ts';
import type { Environ, ErrorStream, InputStream } from './contract.ts';

/**
 * What a server knows about a request before the application runs. Part 2's ServerRequest is
 * one as it is; part 4's node:http server makes one from an IncomingMessage.
 */
export interface RequestInfo {
  /** The request line and header fields, as parsed. */
  head: Pick<RequestHead, 'method' | 'target' | 'version' | 'headers'>;
  remoteAddress: string;
  remotePort: number;
  /** The address and port the connection arrived on (SERVER_NAME and SERVER_PORT without Host). */
  localAddress: string;
  localPort: number;
  /** Aborted when the client goes away; read only if the app asks for gateway.signal. */
  readonly signal: AbortSignal;
}

/** The server's own parts of the environ. */
export interface EnvironExtras {
  input: InputStream;
  errors: ErrorStream;
  /** True when several processes serve the same app (`--workers N`). */
  multiprocess: boolean;
}

export const GATEWAY_VERSION = [1, 0] as const;
/** Where an environ's gateway.signal finds its request (see SIGNAL_GETTER). */
const REQUEST = Symbol('the request');

/**
 * The getter of every environ's `gateway.signal`: the request's signal, read only when the app
 * asks (most never do, and a request makes its signal when first read). One getter for all
 * environs, each finding its own request: a getter written in the literal cost 4 µs a request,
 * the environ built the slow way (bench/README.md, item 8).
 */
const SIGNAL_GETTER = {
  get(this: { [REQUEST]: RequestInfo }): AbortSignal {
    return this[REQUEST].signal;
  },
  enumerable: true,
  configurable: true, // middleware may put a signal of its own in its place
};

export function buildEnviron(request: RequestInfo, extras: EnvironExtras): Environ {
  const { method, target, version, headers } = request.head;
  const { path, query, authority } = splitTarget(target);
  const { name, port } = serverNameAndPort(request, authority);
  const environ = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: percentDecode(path),
    QUERY_STRING: query,
    REQUEST_URI: target,
    SERVER_NAME: name,
    SERVER_PORT: port,
    SERVER_PROTOCOL: version,
    REMOTE_ADDR: request.remoteAddress,
    REMOTE_PORT: String(request.remotePort),
    'gateway.version': GATEWAY_VERSION,
    'gateway.url_scheme': 'http',
    'gateway.input': extras.input,
    'gateway.errors': extras.errors,
    // One event loop serves many requests at once: other requests do run "concurrently" with
    // this one, between its awaits. That is what multithread means to an app: shared state
    // may change under it.
    'gateway.multithread': true,
    'gateway.multiprocess': extras.multiprocess,
    'gateway.run_once': false,
    [REQUEST]: request,
  };
  withSignal(environ);
  for (const field of headers) {
    const key = rememberedEnvironKey(field.name);
    if (key === null) continue;
    const previous = environ[key];
    // RFC 9110 §5.3: repeated fields are one list, joined with ", ".
    // Simplification: Cookie too, though RFC 6265 §5.4 joins cookies with "; " (HTTP/1.1
    // clients send one Cookie line, so this rarely matters; HTTP/2 splits them).
    environ[key] = typeof previous === 'string' ? `${previous}, ${field.value}` : field.value;
  }
  return environ;
}

/** `environ` with its `gateway.signal` getter added: now an Environ, every key there. */
function withSignal<T extends { [REQUEST]: RequestInfo }>(
  environ: T,
): asserts environ is T & Environ {
  Object.defineProperty(environ, 'gateway.signal', SIGNAL_GETTER);
}

/**
 * `User-Agent` → `HTTP_USER_AGENT`; Content-Type and Content-Length lose the prefix (CGI,
 * RFC 3875 §4.1). Names with `_` are dropped (null): after the `-` → `_` mapping,
 * `X_Real_IP` and `X-Real-IP` would become the same key, and a client could forge a header
 * that a proxy in front of us believes it removed.
 */
function environKey(fieldName: string): EnvironKey {
  if (fieldName.includes('_')) return null;
  const upper = fieldName.toUpperCase().replace(/-/g, '_');
  if (upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH') return upper;
  return `HTTP_${upper}`;
}

type EnvironKey = 'CONTENT_TYPE' | 'CONTENT_LENGTH' | `HTTP_${string}` | null;

/**
 * environKey, remembered. Fast path: the same few names come with every request (Host,
 * User-Agent, Accept), and working each key out again was a tenth of part 3's time per request
 * (bench/README.md, item 15). At most KNOWN_KEYS_LIMIT names: a client making up new ones
 * cannot grow the table without end (theirs are worked out each time).
 */
function rememberedEnvironKey(fieldName: string): EnvironKey {
  let key = KNOWN_KEYS.get(fieldName);
  if (key === undefined) {
    key = environKey(fieldName);
    if (KNOWN_KEYS.size < KNOWN_KEYS_LIMIT) KNOWN_KEYS.set(fieldName, key);
  }
  return key;
}

const KNOWN_KEYS = new Map<string, EnvironKey>();
const KNOWN_KEYS_LIMIT = 500;

/**
 * Percent-decode a path as UTF-8: `/caf%C3%A9` → `/café`. Malformed escapes are left as sent
 * rather than refused: the app can still route on them, and 404 is its call. Each run of
 * escapes is decoded on its own, so one bad escape (`/100%zz/caf%C3%A9` → `/100%zz/café`, or a
 * run that is not UTF-8 such as `%E9`) does not keep the rest of the path from being decoded.
 * Simplification (as in WSGI): `%2F` becomes `/`, so an app cannot tell it from a real slash;
 * REQUEST_URI keeps the raw form for apps that care.
 */
function percentDecode(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** SERVER_NAME and SERVER_PORT from Host (`[::1]:8003`, `example.com`), else the socket. */
function serverNameAndPort(
  request: RequestInfo,
  targetAuthority: string | null,
): { name: string; port: string } {
  // RFC 9112 §3.2.2: with an absolute-form target, its authority wins over the Host header.
  const host =
    targetAuthority ??
    request.head.headers.find((field) => field.name.toLowerCase() === 'host')?.value ??
    '';
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (host === '' || match === null)
    return { name: request.localAddress, port: String(request.localPort) };
  return { name: match[1], port: match[2] ?? '80' };
}
