// From a parsed request to the `environ` object an application receives (see contract.ts),
// and the `gateway.input` stream it reads the body from.
//
// Used by both servers: part 3's own (request parsed by part 2's parser) and part 4's adapter
// on node:http (request parsed by Node). Each turns its request into a `RequestInfo`; from there
// on the environ is built by the same code, so an app cannot tell the servers apart.
import { splitTarget, type HeaderField } from '../part2-tcp-http/head.ts';
import { ByteQueue } from '../part2-tcp-http/byte-queue.ts';
import type { Environ, ErrorStream, InputStream } from './contract.ts';

/** What a server knows about a request before the application runs. */
export interface RequestInfo {
  method: string;
  /** The request-target as sent: `/path?query`, `http://host/path`, or `*`. */
  target: string;
  protocol: 'HTTP/1.0' | 'HTTP/1.1';
  headers: HeaderField[];
  remoteAddress: string;
  remotePort: number;
  /** The address and port the connection arrived on (fallback for SERVER_NAME/PORT). */
  localAddress: string;
  localPort: number;
}

export interface EnvironExtras {
  input: InputStream;
  errors: ErrorStream;
  /** The request's AbortSignal, or a function that gives it, called when an app first reads it. */
  signal: AbortSignal | (() => AbortSignal);
  /** True when several processes serve the same app (`--workers N`). */
  multiprocess: boolean;
}

/**
 * For EnvironExtras.signal: a function that reads `source.signal` only when an app first reads
 * gateway.signal (part 2's request and an AbortController both make their signal on demand).
 * Written as a returned arrow, not `signal: () => source.signal` in an object literal: tsx names
 * such a function after its key, with a property definition per request.
 */
export function signalOnDemand(source: { readonly signal: AbortSignal }): () => AbortSignal {
  return () => source.signal;
}

/**
 * gateway.signal is read only when an app asks: a server can make the signal lazily (part 2's
 * request.signal does: an AbortSignal per request is costly, and most apps never read it).
 * Fast path: one getter, shared by every environ and defined after the object literal, finds
 * its request's signal (or the function that makes it) under a symbol key. The plain way, a
 * `get 'gateway.signal'()` inside the literal, made V8 build every environ the slow way, as a
 * dictionary: about 2.5 µs a request, counting the garbage collection.
 */
const SIGNAL_SOURCE = Symbol('gateway.signal source');

interface SignalSource {
  [SIGNAL_SOURCE]: EnvironExtras['signal'];
}

const SIGNAL_PROPERTY = {
  get(this: SignalSource): AbortSignal {
    const source = this[SIGNAL_SOURCE];
    return typeof source === 'function' ? source() : source;
  },
  enumerable: true,
  configurable: true,
};

export const GATEWAY_VERSION = [1, 0] as const;

export function buildEnviron(request: RequestInfo, extras: EnvironExtras): Environ {
  const { path, query, authority } = splitTarget(request.target);
  const { name, port } = serverNameAndPort(request, authority);
  const fields: Partial<Environ> & SignalSource = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: '',
    PATH_INFO: percentDecode(path),
    QUERY_STRING: query,
    REQUEST_URI: request.target,
    SERVER_NAME: name,
    SERVER_PORT: port,
    SERVER_PROTOCOL: request.protocol,
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
    [SIGNAL_SOURCE]: extras.signal,
  };
  // Every key is there now, gateway.signal included.
  const environ = Object.defineProperty(fields, 'gateway.signal', SIGNAL_PROPERTY) as Environ;
  for (const { name: fieldName, value } of request.headers) {
    const key = environKey(fieldName);
    if (key === null) continue;
    const previous = environ[key];
    // RFC 9110 §5.3: repeated fields are one list, joined with ", ".
    // Simplification: Cookie too, though RFC 6265 §5.4 joins cookies with "; " (HTTP/1.1
    // clients send one Cookie line, so this rarely matters; HTTP/2 splits them).
    environ[key] = typeof previous === 'string' ? `${previous}, ${value}` : value;
  }
  return environ;
}

/**
 * `User-Agent` → `HTTP_USER_AGENT`; Content-Type and Content-Length lose the prefix (CGI,
 * RFC 3875 §4.1). Names with `_` are dropped (null): after the `-` → `_` mapping,
 * `X_Real_IP` and `X-Real-IP` would become the same key, and a client could forge a header
 * that a proxy in front of us believes it removed.
 */
function environKey(fieldName: string): EnvironKey {
  let key = KNOWN_KEYS.get(fieldName);
  if (key === undefined) {
    key = keyFor(fieldName);
    if (KNOWN_KEYS.size < KNOWN_KEYS_LIMIT) KNOWN_KEYS.set(fieldName, key);
  }
  return key;
}

type EnvironKey = 'CONTENT_TYPE' | 'CONTENT_LENGTH' | `HTTP_${string}` | null;

/**
 * Fast path: the same few field names come with every request (Host, User-Agent, Accept), so
 * each one's key is worked out once and remembered. A bounded number of them: a client that
 * makes up new names cannot grow the table without end (the rest are worked out each time).
 */
const KNOWN_KEYS = new Map<string, EnvironKey>();
const KNOWN_KEYS_LIMIT = 500;

function keyFor(fieldName: string): EnvironKey {
  if (fieldName.includes('_')) return null;
  const upper = fieldName.toUpperCase().replace(/-/g, '_');
  if (upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH') return upper;
  return `HTTP_${upper}`;
}

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

/** SERVER_NAME and SERVER_PORT from the Host header (`[::1]:8003`, `example.com`), else the socket. */
function serverNameAndPort(
  request: RequestInfo,
  targetAuthority: string | null,
): { name: string; port: string } {
  // RFC 9112 §3.2.2: with an absolute-form target, its authority wins over the Host header.
  const host =
    targetAuthority ??
    request.headers.find((field) => field.name.toLowerCase() === 'host')?.value ??
    '';
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (host === '' || match === null)
    return { name: request.localAddress, port: String(request.localPort) };
  return { name: match[1], port: match[2] ?? '80' };
}

/**
 * `gateway.input` over a source of body chunks (part 2's RequestBody, or a node:http
 * IncomingMessage). It hands out exactly the bytes asked for, keeping the rest for the next
 * read, and reports the end of the body as an empty array. What it keeps waits in a ByteQueue,
 * so every read is linear in the bytes, however small the pieces the body came in.
 */
export class GatewayInput implements InputStream {
  private readonly pending = new ByteQueue();
  private ended = false;

  private readonly nextChunk: () => Promise<Uint8Array | null>;

  /** `nextChunk` resolves to the next piece of the body, or null at its end. */
  constructor(nextChunk: () => Promise<Uint8Array | null>) {
    this.nextChunk = nextChunk;
  }

  async read(size?: number): Promise<Uint8Array> {
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
      throw new RangeError(
        `read(size): size must be a whole number of bytes or omitted, got ${size}.`,
      );
    }
    const wanted = size ?? Infinity;
    while (this.pending.length < wanted && (await this.fill()));
    return this.pending.take(wanted);
  }

  async readline(size?: number): Promise<Uint8Array> {
    const limit = size ?? Infinity;
    // Where the search for \n resumes: each byte is looked at once, however the line arrives.
    let searched = 0;
    for (;;) {
      const newline = this.pending.indexOf(0x0a, searched);
      if (newline !== -1 && newline < limit) return this.pending.take(newline + 1);
      if (this.pending.length >= limit) return this.pending.take(limit);
      searched = this.pending.length;
      if (!(await this.fill())) return this.pending.take(this.pending.length);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.pending.length > 0) yield this.pending.take(this.pending.length);
    for (let chunk = await this.nextChunk(); chunk !== null; chunk = await this.nextChunk())
      yield chunk;
    this.ended = true;
  }

  /** Pull one more chunk into `pending`; false at the end of the body. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const chunk = await this.nextChunk();
    if (chunk === null) {
      this.ended = true;
      return false;
    }
    this.pending.push(chunk);
    return true;
  }
}
