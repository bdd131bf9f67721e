// How a check's result is printed: one line when it passes; when it fails, the command that
// reproduces it, the bytes each way with \r\n made visible, expected against seen, a caret under
// the first wrong byte, and the hint.
import type { CheckResult } from './check.ts';
import type { Transcript } from './wire.ts';

/** A connection's bytes shown are cut to about this many lines (the start and the end). */
const MAX_LINES = 16;
/** A displayed line is cut after this many characters. */
const MAX_LINE_CHARS = 110;
/** Bytes sent beyond this are not spelled out in a printf command. */
const MAX_PRINTF_BYTES = 700;
/** Writes shown one by one (a check that splits a request on purpose), at most this many and this large. */
const MAX_WRITES_SHOWN = 8;
const MAX_WRITES_BYTES = 4096;
/** Bytes over this length, more than a fifth of them outside printable ASCII, are summed up, not spelled out. */
const BINARY_FROM_BYTES = 1024;

function looksBinary(bytes: Buffer): boolean {
  if (bytes.length < BINARY_FROM_BYTES) return false;
  let unprintable = 0;
  for (const byte of bytes.subarray(0, 4096))
    if ((byte < 0x20 || byte >= 0x7f) && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) unprintable++;
  return unprintable > Math.min(bytes.length, 4096) / 5;
}

/** A check that kept a connection open this long after its last write gets a `sleep` in its reproduce command. */
const HOLD_OPEN_FROM_MS = 1_000;
/** At most this many connections of one check are shown (the last ones: where it failed). */
const MAX_CONNECTIONS = 3;

export interface ReportStyle {
  /** ANSI colours for a terminal; none when the output is a file or a pipe. */
  color: boolean;
}

export function formatResult(result: CheckResult, style: ReportStyle): string {
  const { check } = result;
  const mark = result.passed ? paint('✓', 'green', style) : paint('✗', 'red', style);
  const title = `${mark} ${String(result.number).padStart(2)} ${check.group.padEnd(11)} ${check.name}`;
  if (result.passed || result.failure === undefined) return title;
  const failure = result.failure;
  const lines = [title, ''];
  const shown = result.transcripts.slice(-MAX_CONNECTIONS);
  const reproduce =
    result.reproduce ??
    reproduceCommand(result.transcripts, result.transcripts.length === 0 ? undefined : result.transcripts.length - 1);
  if (reproduce !== undefined) lines.push(`    Reproduce: ${reproduce}`);
  shown.forEach((transcript, index) => {
    const last = index === shown.length - 1;
    const name = result.transcripts.length > 1 ? ` (${transcript.label})` : '';
    lines.push(`    Sent bytes${name}:`);
    lines.push(...showSent(transcript.sent));
    lines.push(`    Received bytes${name}:`);
    lines.push(...showBytes(transcript.received, '< ', last ? failure.caretAt : undefined));
    if (transcript.resetByChecker === true)
      lines.push('      (the checker reset this connection on purpose: a client vanishing)');
    else if (transcript.closedByChecker === true)
      lines.push('      (the checker closed this connection on purpose: a client leaving)');
    else if (transcript.ended !== null)
      lines.push(`      (${transcript.ended === 'reset' ? 'connection reset' : 'connection closed by the server'})`);
    else if (transcript.openAtEnd === true) lines.push('      (still open when the check ended)');
  });
  lines.push(`    Expected: ${failure.expected}`);
  lines.push(`    Seen:     ${paint(failure.seen, 'red', style)}`);
  if (failure.advice !== undefined) lines.push(`    Advice:   ${failure.advice}`);
  if (check.policy !== undefined) lines.push(`    Policy:   course policy, not an RFC rule: ${check.policy}`);
  lines.push(`    Hint:     ${check.hint.concept}`);
  lines.push(`    Read:     ${check.hint.readme}`);
  const where = check.group.startsWith('challenge')
    ? "where the change goes in the course's server"
    : "how the course's server does it";
  lines.push(`    See:      ${check.hint.reference} (${where})`);
  lines.push('');
  return lines.join('\n');
}

/**
 * What the checker sent. When it sent a few small writes on purpose (a head in two pieces, a body
 * in three), each write is shown on its own, with a line between them: where TCP may split the
 * bytes is what such a check is about.
 */
export function showSent(pieces: Array<{ bytes: Buffer; pauseBeforeMs: number }>): string[] {
  const total = pieces.reduce((sum, piece) => sum + piece.bytes.length, 0);
  if (pieces.length <= 1 || pieces.length > MAX_WRITES_SHOWN || total > MAX_WRITES_BYTES)
    return showBytes(Buffer.concat(pieces.map((piece) => piece.bytes)), '> ', undefined);
  const lines: string[] = [];
  pieces.forEach((piece, index) => {
    if (index > 0)
      lines.push(`      ~ the next write${piece.pauseBeforeMs >= 50 ? `, ${piece.pauseBeforeMs} ms later` : ''} ~`);
    lines.push(...showBytes(piece.bytes, '> ', undefined));
  });
  return lines;
}

/**
 * Bytes as lines, each ending where a \n was, with \r, \n, \t, backslash and every byte outside
 * printable ASCII spelled out (`\x00`), so what is invisible on a terminal is visible here. A
 * caret line goes under the byte at `caretAt`.
 */
export function showBytes(bytes: Buffer, prefix: string, caretAt: number | undefined): string[] {
  if (bytes.length === 0) return [`      ${prefix}(nothing)`];
  if (looksBinary(bytes) && caretAt === undefined) {
    const start = [...bytes.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    return [`      ${prefix}(${bytes.length.toLocaleString('en')} bytes of binary data, starting ${start} ...)`];
  }
  const lines: Array<{ text: string; caret?: number }> = [];
  let text = '';
  let caret: number | undefined;
  for (let i = 0; i < bytes.length; i++) {
    if (i === caretAt) caret = text.length;
    text += escapeByte(bytes[i]);
    if (bytes[i] === 0x0a || i === bytes.length - 1) {
      lines.push({ text, caret });
      text = '';
      caret = undefined;
    }
  }
  const caretLine = lines.findIndex((line) => line.caret !== undefined);
  const keep = pickLines(lines.length, caretLine);
  const out: string[] = [];
  let previous = -1;
  for (const index of keep) {
    if (index > previous + 1) out.push(`      ${prefix}... ${index - previous - 1} lines not shown ...`);
    const line = lines[index];
    const cut =
      line.text.length > MAX_LINE_CHARS
        ? `${line.text.slice(0, MAX_LINE_CHARS)}... (${line.text.length - MAX_LINE_CHARS} more characters)`
        : line.text;
    out.push(`      ${prefix}${cut}`);
    if (line.caret !== undefined && line.caret <= MAX_LINE_CHARS)
      out.push(`      ${' '.repeat(prefix.length + line.caret)}^ here`);
    previous = index;
  }
  if (previous < lines.length - 1) out.push(`      ${prefix}... ${lines.length - 1 - previous} lines not shown ...`);
  return out;
}

/** The first lines, the last two, and the lines around the caret. */
function pickLines(count: number, caretLine: number): number[] {
  if (count <= MAX_LINES) return Array.from({ length: count }, (_, i) => i);
  const keep = new Set<number>();
  for (let i = 0; i < MAX_LINES - 4; i++) keep.add(i);
  keep.add(count - 2).add(count - 1);
  if (caretLine !== -1) for (let i = caretLine - 1; i <= caretLine + 1; i++) if (i >= 0 && i < count) keep.add(i);
  return [...keep].sort((a, b) => a - b);
}

function escapeByte(byte: number): string {
  if (byte === 0x0d) return '\\r';
  if (byte === 0x0a) return '\\n';
  if (byte === 0x09) return '\\t';
  if (byte === 0x5c) return '\\\\';
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * A shell command that sends the same bytes, with the same pauses, on one connection:
 * `printf 'GET / HTTP/1.1\r\n...' | nc -N 127.0.0.1 8002` (OpenBSD netcat's -N closes after the
 * input ends). On Windows, `npm run part1 -- client --port 8002` reads standard input the same way.
 */
export function reproduceCommand(
  transcripts: Transcript[],
  index: number | undefined,
  host = '127.0.0.1',
  port?: number,
): string | undefined {
  if (index === undefined) return undefined;
  const transcript = transcripts[index];
  const total = transcript.sent.reduce((sum, piece) => sum + piece.bytes.length, 0);
  if (transcript.sent.length === 0 || total > MAX_PRINTF_BYTES) return undefined;
  const parts: string[] = [];
  for (const piece of transcript.sent) {
    // Pauses under 50 ms are the checker's own pace, not part of the test.
    if (piece.pauseBeforeMs >= 50) parts.push(`sleep ${(piece.pauseBeforeMs / 1000).toFixed(1)}`);
    parts.push(`printf '${printfEscape(piece.bytes)}'`);
  }
  const target = `${host} ${port ?? transcript.port ?? 'PORT'}`;
  // nc -N closes our side as soon as the input ends, and a server may take that FIN as "no more
  // requests". Where the check waited for the server (a timeout, an idle close), keep the input
  // open as long, and a second more, so the command shows what the check saw.
  const held =
    transcript.lastWriteAt !== undefined && transcript.endedAt !== undefined
      ? transcript.endedAt - transcript.lastWriteAt
      : 0;
  if (held >= HOLD_OPEN_FROM_MS) parts.push(`sleep ${Math.ceil(held / 1000) + 1}`);
  const input = parts.length === 1 ? parts[0] : `(${parts.join('; ')})`;
  return `${input} | nc -N ${target}`;
}

/** `printf '...' | nc -N host port`: the command that sends exactly `bytes` on one connection. */
export function printfCommand(bytes: Buffer | string, host: string, port: number | string): string {
  return `printf '${printfEscape(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)}' | nc -N ${host} ${port}`;
}

/** `bytes` as the argument of printf, inside single quotes: \r, \n, % and quotes escaped. */
export function printfEscape(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x0d) out += '\\r';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x25) out += '%%';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "'\\''";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

type Colour = 'green' | 'red';

function paint(text: string, colour: Colour, style: ReportStyle): string {
  if (!style.color) return text;
  const code = colour === 'green' ? 32 : 31;
  return `\x1b[${code}m${text}\x1b[0m`;
}
