// Part 1, the echo server: every byte a client sends comes straight back, unchanged, until the
// client hangs up. The smallest server that still shows the whole life of a connection:
// accept, read, write, close.
//
// Run it:   npm run part1                  (127.0.0.1:8001; --port N or PORT=N to change)
// Try it:   nc 127.0.0.1 8001   or   telnet 127.0.0.1 8001   or   npm run part1 -- client
//
// What it deliberately does not do: understand anything. There are no messages or lines here,
// only bytes in and the same bytes out; part 2 puts HTTP on top of this same read/write loop.
// It has no limits either: no idle timeout, no cap on connections (part 2 adds timeouts).
import { createServer, type Server, type Socket } from 'node:net';

/** Where the server reports what happens to each connection, one line per event. */
export type Log = (line: string) => void;

export interface EchoServerOptions {
  /** Defaults to console.log; tests pass `() => {}` or collect the lines. */
  log?: Log;
}

/**
 * A TCP server that echoes. It is not listening yet: `server.listen(port, host)` asks the
 * operating system to bind the address and listen (main.ts does that), and from then on Node
 * accepts each incoming connection and calls `echo` with its socket.
 */
export function createEchoServer(options: EchoServerOptions = {}): Server {
  const log = options.log ?? console.log;
  // allowHalfOpen: when a client sends its FIN ("I have nothing more to send"), Node leaves our
  // sending side open, so this code decides when to send our FIN (see 'end' below). For an echo
  // the two moments coincide; a server that answers only after reading everything needs the gap.
  return createServer({ allowHalfOpen: true }, (socket) => echo(socket, log));
}

/** One connection, from accept to close. Many of these run at once, interleaved by events. */
function echo(socket: Socket, log: Log): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  log(`${peer} connected`);

  socket.on('data', (chunk: Buffer) => {
    // Only while stopping (Ctrl-C): our side is already ended, there is nowhere left to write.
    if (socket.writableEnded) return;
    // write() queues the bytes and returns false once the queue is full (16 KiB on Node 20,
    // 64 KiB from Node 22): the client sends faster than it reads. Stop reading until the queue
    // has drained, or a client that never reads would make us buffer everything it sends.
    // (`socket.pipe(socket)` does the same.)
    if (!socket.write(chunk)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });

  // The client's FIN: all its bytes are in. end() sends ours after the queued echo is written.
  socket.on('end', () => socket.end());

  // ECONNRESET (the client vanished), EPIPE (it stopped reading and left): this connection is
  // over, the server is not. An 'error' event with no listener would crash the whole process.
  socket.on('error', (error: NodeJS.ErrnoException) =>
    log(`${peer} error: ${error.code ?? error.message}`),
  );

  socket.on('close', () =>
    log(`${peer} closed; bytes in: ${socket.bytesRead}, out: ${socket.bytesWritten}`),
  );
}
