// The request-target: the second word of the request line, what the client asks for (RFC 9112
// §3.2). Four forms, each with its method:
//
//   origin-form     /where?query              every method; what browsers send
//   absolute-form   http://host:port/where    every method; what a client sends to a proxy
//   asterisk-form   *                         OPTIONS only: the server as a whole
//   authority-form  host:port                 CONNECT only: a tunnel, which we do not open
//
// head.ts checks the target with checkTarget as it reads the request line; the stages that
// route a request take it apart with splitTarget.
import { HttpError } from './errors.ts';
import { isValidHost, TARGET } from './grammar.ts';

/** The answer to CONNECT, on every server of this course. */
export const NO_TUNNEL =
  'This server does not tunnel: CONNECT is for proxies. Send your request to the server itself.';

/**
 * Is `target` a request-target this server takes with `method`? Throws the HttpError to answer
 * with if not. RFC 9112 §3.2: origin-form `/path?q`, absolute-form `http://host/path`,
 * asterisk-form `*` (OPTIONS only), authority-form `host:port` (CONNECT only).
 */
export function checkTarget(method: string, target: string): void {
  if (!TARGET.test(target)) {
    const message =
      'Malformed request target: it must be visible ASCII without spaces ' +
      '(percent-encode the rest).';
    throw new HttpError(400, message);
  }
  // A fragment (#...) stays in the browser: it is never part of a request-target (§3.2).
  if (target.includes('#')) {
    const message =
      'Malformed request target: a "#fragment" is never sent; leave it out ' +
      '(or percent-encode "#" as %23).';
    throw new HttpError(400, message);
  }
  if (method === 'CONNECT') {
    // §3.2.3: CONNECT takes the authority-form, host:port, and no other method does. RFC 9110
    // §9.3.6: CONNECT asks for a tunnel, which a proxy opens; we are not one, for no target
    // (501, not 405, which would name the methods a resource of ours allows). Closed: a client
    // may send the bytes meant for the tunnel right behind its request.
    if (!/:\d+$/.test(target) || !isValidHost(target)) {
      const message =
        'Malformed request target: CONNECT takes host:port, ' +
        'e.g. "CONNECT example.com:443 HTTP/1.1".';
      throw new HttpError(400, message);
    }
    throw new HttpError(501, NO_TUNNEL);
  }
  if (target.startsWith('/') || (target === '*' && method === 'OPTIONS')) return;
  const { authority } = splitTarget(target);
  if (authority === null) {
    const message =
      'Malformed request target: expected a path starting with "/" ' +
      '(or an absolute http:// URL).';
    throw new HttpError(400, message);
  }
  // §3.2.2: the authority of an absolute-form target stands in for Host, so it obeys Host's
  // rules; an http URI has a host, and no userinfo (RFC 9110 §4.2.1, §4.2.4).
  if (authority === '' || !isValidHost(authority)) {
    const message =
      'Malformed request target: the host of an absolute URL must be a host name or address ' +
      'and an optional port, e.g. "http://example.com:8080/".';
    throw new HttpError(400, message);
  }
}

/** A request-target's parts, from `splitTarget`. */
export interface TargetParts {
  /** `host:port` of an absolute-form target (`http://host:port/path`); null for the others. */
  authority: string | null;
  /** The path, still percent-encoded: `/a/b`; '/' for `http://host`, '' for `*`. */
  path: string;
  /** After the first '?', raw; '' when there is none. */
  query: string;
}

/** `/a/b?x=1` → path `/a/b`, query `x=1`; `http://host:8080/a` → authority `host:8080` too. */
export function splitTarget(target: string): TargetParts {
  if (target === '*') return { authority: null, path: '', query: '' };
  let authority: string | null = null;
  let pathAndQuery = target;
  const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
  if (absolute !== null) {
    authority = absolute[1];
    pathAndQuery = target.slice(absolute[0].length);
    if (!pathAndQuery.startsWith('/')) pathAndQuery = `/${pathAndQuery}`;
  }
  const mark = pathAndQuery.indexOf('?');
  if (mark === -1) return { authority, path: pathAndQuery, query: '' };
  return { authority, path: pathAndQuery.slice(0, mark), query: pathAndQuery.slice(mark + 1) };
}
