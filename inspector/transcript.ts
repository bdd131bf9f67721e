// A connection as plain text: what the page's "copy transcript" button copies, to paste into an
// issue, a chat, or a test. The same timeline as the page draws, one item after another:
//
//   Connection 3: client 127.0.0.1:51234 → proxy → server 127.0.0.1:8002
//      0.0 ms  client 127.0.0.1:51234 connected to the proxy
//      1.2 ms  → request 1: GET /hello HTTP/1.1 (no body)
//              | GET /hello HTTP/1.1\r\n
//              | Host: 127.0.0.1:8008\r\n
//              | \r\n
//      3.4 ms  ← response to request 1: HTTP/1.1 200 OK (Content-Length: 13)
//              ...
//            ⋯ 5.00 s, nothing sent ⋯
import type { FoldedView, Segment } from './fold.ts';
import { GAP_MARK_MS, type ConnectionView, type ItemView, type MessageView } from './timeline.ts';

const INDENT = ' '.repeat(12);
const BAR = `${INDENT}| `;

export function transcript(connection: ConnectionView): string {
  const lines: string[] = [
    `Connection ${connection.id}: client ${connection.client} ` +
      `→ proxy → server ${connection.server}`,
    `opened ${new Date(connection.openedAt).toISOString()}; times are since then` +
      (connection.open ? '; still open' : ''),
    `${connection.bytes['to-server']} bytes to the server, ` +
      `${connection.bytes['to-client']} to the client`,
  ];
  if (connection.dropped > 0) lines.push(`(${connection.dropped} earlier items not kept)`);
  lines.push('');
  let quietSince: number | null = null;
  for (const item of connection.items) {
    if (quietSince !== null && item.t - quietSince >= GAP_MARK_MS)
      lines.push(`${INDENT}⋯ ${duration(item.t - quietSince)}, nothing sent ⋯`);
    lines.push(`${time(item.t)}  ${title(item)}`);
    if (item.kind === 'message') {
      lines.push(...bytesLines(item.headBytes));
      if (item.body.total > 0) lines.push(...bytesLines(item.body));
    } else if (item.kind === 'raw') {
      lines.push(...bytesLines(item.bytes));
    }
    const end = item.kind === 'event' ? item.t : item.tEnd;
    quietSince = Math.max(quietSince ?? end, end);
  }
  return `${lines.join('\n')}\n`;
}

/** The one-line title of an item, as the page shows it above the bytes. */
export function title(item: ItemView): string {
  if (item.kind === 'event') return item.text;
  const arrow = item.direction === 'to-server' ? '→' : '←';
  if (item.kind === 'raw') return `${arrow} ${item.bytes.total} bytes, not HTTP`;
  return `${arrow} ${messageTitle(item)}${stateNote(item)}`;
}

function messageTitle(message: MessageView): string {
  const { head } = message;
  if (message.direction === 'to-server') {
    if (head === null) return 'a request (its head still arriving)';
    return `request ${message.number}: ${head.startLine} (${bodyNote(head.framing, message)})`;
  }
  if (head === null) return 'a response (its head still arriving)';
  const to =
    message.number === 0
      ? 'a response, to no request'
      : `${head.interim ? 'interim response' : 'response'} to request ${message.number}`;
  return `${to}: ${head.startLine} (${bodyNote(head.framing, message)})`;
}

function bodyNote(framing: string, message: MessageView): string {
  if (framing === 'chunked' || framing.startsWith('until')) {
    const soFar = message.state === 'body' ? ' so far' : '';
    return `${framing}: ${message.payload} bytes of data${soFar}`;
  }
  return framing;
}

function stateNote(message: MessageView): string {
  if (message.state === 'cut') return ' — cut short: the connection ended first';
  if (message.state === 'refused') return ' — refused: see below';
  return '';
}

/** The bytes of a folded run, one wire line per text line, with pauses and folds marked. */
function bytesLines(folded: FoldedView): string[] {
  const text =
    joinSegments(folded.start) +
    (folded.omitted > 0 ? `\n⋯ ${folded.omitted} bytes not shown ⋯\n` : '') +
    joinSegments(folded.end);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => `${BAR}${line}`);
}

/**
 * Reads one after another; a pause of GAP_MARK_MS or more between two
 * is marked on a line of its own.
 */
function joinSegments(segments: Segment[]): string {
  let text = '';
  let previous: Segment | null = null;
  for (const segment of segments) {
    if (previous !== null && segment.t - previous.t >= GAP_MARK_MS) {
      if (text !== '' && !text.endsWith('\n')) text += '\n';
      text += `⋯ ${duration(segment.t - previous.t)} later ⋯\n`;
    }
    text += segment.text;
    previous = segment;
  }
  return text;
}

function time(ms: number): string {
  return `${ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`}`.padStart(10);
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
