// Trace mode: print every byte the server receives and sends, in `curl -v` style, so the wire
// can be seen without a packet sniffer. Turn it on with `npm run part2 -- --trace` (or
// TRACE=1). From the client's side, as curl shows it:
//
//   > GET /hello HTTP/1.1\r\n        bytes the client sent (the request)
//   < HTTP/1.1 200 OK\r\n            bytes the server sent (the response)
//
// CR and LF are shown as \r and \n, other control bytes and non-ASCII as \xHH.

/**
 * Is trace mode asked for: a `--trace` argument,
 * or TRACE set to anything but '', '0' or 'false'?
 */
export function traceWanted(args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    args.includes('--trace') || (env.TRACE !== undefined && !['', '0', 'false'].includes(env.TRACE))
  );
}

/** Where trace lines go; console.log by default, a collecting function in tests. */
export type TraceSink = (line: string) => void;

/** Bytes beyond this many per read or write are summarised, so a 1 MiB upload stays readable. */
export const TRACE_MAX_BYTES = 2048;

export function traceBytes(sink: TraceSink, direction: '>' | '<', bytes: Uint8Array): void {
  const shown = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    Math.min(bytes.length, TRACE_MAX_BYTES),
  ).toString('latin1');
  // One output line per wire line: split after each LF, keeping it visible.
  for (const line of shown.split(/(?<=\n)/)) sink(`${direction} ${visible(line)}`);
  if (bytes.length > TRACE_MAX_BYTES)
    sink(`${direction} ... (${bytes.length - TRACE_MAX_BYTES} more bytes)`);
}

function visible(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\xff\\]/g, (char) => {
    if (char === '\r') return '\\r';
    if (char === '\n') return '\\n';
    if (char === '\\') return '\\\\';
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
