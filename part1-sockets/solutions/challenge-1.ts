// Part 1, challenge 1, a solution: "Lines, not chunks". A server that answers each line a client
// sends with its number on this connection: "hello\n" comes back as "1: hello\n". The echo
// server needed no idea of a message; this one does, and TCP does not provide it: a line may
// arrive in pieces ("hel", "lo\n"), and one chunk may hold several ("lo\nwor").
//
// Run it:    npx tsx part1-sockets/solutions/challenge-1.ts --port 9000
// Check it:  npm run check -- part1 part1-sockets/solutions/challenge-1.ts --challenge 1
//
// What it leaves out: a limit on a line's length (a client that never sends \n makes it buffer
// for ever; part 2 caps the request head), and any meaning for \r: "a\r\n" is the line "a\r".
import { createServer, type Server, type Socket } from 'node:net';
import type { Log } from '../echo-server.ts';
import { runIfMain } from './run.ts';

const NEWLINE = 0x0a;

export function createLineServer(options: { log?: Log } = {}): Server {
  const log = options.log ?? console.log;
  // allowHalfOpen, as in echo-server.ts: after the client's FIN we still have a line to answer.
  return createServer({ allowHalfOpen: true }, (socket) => numberLines(socket, log));
}

/** One connection: split its bytes into lines, answer each as "N: line\n". */
export function numberLines(socket: Socket, log: Log): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  // The bytes after the last \n: the start of a line whose end has not arrived yet. Kept as
  // bytes, not a string, so a UTF-8 character split between two chunks is not mangled.
  let partial = Buffer.alloc(0);
  let count = 0;
  const answer = (line: Buffer): void => {
    count++;
    // Same backpressure rule as the echo: a client that does not read its answers is paused.
    if (!socket.write(Buffer.concat([Buffer.from(`${count}: `), line, Buffer.from('\n')]))) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (socket.writableEnded) return;
    let bytes = Buffer.concat([partial, chunk]);
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE)) {
      answer(bytes.subarray(0, end));
      bytes = bytes.subarray(end + 1);
    }
    // Copied, so the (possibly large) chunk it came from is not kept alive by a small view of it.
    partial = Buffer.from(bytes);
  });

  // The client's FIN: what is left is a last line without its \n. Answer it, then our FIN.
  socket.on('end', () => {
    if (partial.length > 0 && !socket.writableEnded) answer(partial);
    socket.end();
  });

  socket.on('error', (error: NodeJS.ErrnoException) =>
    log(`${peer} error: ${error.code ?? error.message}`),
  );
  socket.on('close', () => log(`${peer} closed after ${count} lines`));
}

runIfMain(import.meta.url, () => createLineServer(), 'Numbered-lines server');
