// The vocabulary of HTTP/1.1 messages: which characters may stand where (RFC 9110 §5.6, RFC 9112),
// written once. The parser (head.ts, parser.ts) checks requests with it; the later parts import
// it to check what an app or a framework puts in a response.
import { isIPv6 } from 'node:net';

/** tchar (RFC 9110 §5.6.2): a letter, a digit, or one of !#$%&'*+-.^_`|~ */
const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";

/** token = 1*tchar: methods, field names, transfer codings. */
export const TOKEN = new RegExp(`^${TCHAR}+$`);

/** What a field value may not contain (RFC 9110 §5.5): control characters but HTAB, and DEL. */
export const FORBIDDEN_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A request-target is visible ASCII (RFC 9112 §3.2): no spaces, controls or raw non-ASCII. */
export const TARGET = /^[\x21-\x7e]+$/;

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2), from RFC 3986 §3.2.2-3.2.3: a reg-name
 * (letters, digits, -._~, the sub-delims !$&'()*+,;= and %XX escapes; an IPv4 address is one
 * too), or an IPv6 address in brackets, then optionally a colon and up to five digits.
 * An empty value is valid: RFC 9110 §7.2 has a client send one when the target URI has no
 * authority (e.g. an `OPTIONS *` meant for no host in particular).
 * Simplification: a port above 65535 is refused although the grammar (*DIGIT) allows it: it
 * names no TCP port. IPvFuture (`[v1.x]`) is refused too; nothing sends it.
 */
const HOST =
  /^(?:\[([0-9A-Fa-f:.]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::(\d{0,5}))?$/;

/** Is `value` a valid Host field value (or absolute-form authority)? */
export function isValidHost(value: string): boolean {
  const match = HOST.exec(value);
  if (match === null) return false;
  const [, ipv6, port] = match;
  const portOk = port === undefined || port === '' || Number(port) <= 65535;
  return (ipv6 === undefined || isIPv6(ipv6)) && portOk;
}

/**
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1),
 * a name a token, a value a token or a quoted-string (RFC 9110 §5.6.4: "..." with \-escapes).
 * BWS, "bad" whitespace, is spaces or tabs that no sender should send but a recipient must
 * accept and remove (RFC 9110 §5.6.3): only where the grammar places it, before ";" and around
 * "=". Whitespace after the size with no ";" after it, a ";" with no name, an unclosed quote:
 * each is refused, where lenient parsers guess (and two guesses that differ are how a request
 * gets smuggled).
 */
const BWS = '[ \\t]*';
/** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4) */
const QUOTED_STRING = '"(?:[\\t !#-[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
export const CHUNK_EXTENSIONS = new RegExp(
  `^(?:${BWS};${BWS}${TCHAR}+(?:${BWS}=${BWS}(?:${TCHAR}+|${QUOTED_STRING}))?)*$`,
);

/**
 * Remove OWS (spaces and tabs only, RFC 9110 §5.6.3) from both ends. Not String.trim(): it
 * also removes U+00A0, which here is the byte 0xA0, part of the value (obs-text).
 */
export function trimWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** The elements of a list-valued field (RFC 9110 §5.6.1), lower-cased, empty ones left out. */
export function listTokens(values: string[]): string[] {
  const tokens: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      const token = element.trim().toLowerCase();
      if (token !== '') tokens.push(token);
    }
  }
  return tokens;
}

/** A number's digits without its leading zeros ('' for zero). */
export function significantDigits(digits: string): string {
  let start = 0;
  while (start < digits.length && digits[start] === '0') start++;
  return digits.slice(start);
}

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1): the server that
 * holds the connection alone sets them. An app that set Transfer-Encoding or Connection could
 * break the framing of every response after its own.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Is `name` (any case) a hop-by-hop field: one of HOP_BY_HOP, or any `Proxy-*`? */
export function isHopByHop(name: string): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
}
