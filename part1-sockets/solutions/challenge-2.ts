// Part 1, challenge 2, a solution: "Idle timeout". The echo server of echo-server.ts, unchanged,
// plus one rule: a connection with no bytes in either direction for IDLE_TIMEOUT_MS is closed.
// Without it a client that connects and says nothing holds a socket (a file descriptor) for
// ever; enough of them and the server cannot accept anyone (part 2's slowloris lesson).
//
// Run it:    npx tsx part1-sockets/solutions/challenge-2.ts --port 9000
// Check it:  npm run check -- part1 part1-sockets/solutions/challenge-2.ts --challenge 2
//            (the checker expects 2000 ms, this file's IDLE_TIMEOUT_MS;
//            --idle-timeout MS if yours differs)
//
// What it leaves out: a deadline for a whole connection; a client that sends a byte a second is
// never idle. Part 2 adds a deadline for the request head.
import type { Server } from 'node:net';
import { createEchoServer, type Log } from '../echo-server.ts';
import { runIfMain } from './run.ts';

/** Short, so the checker need not wait long; a real server would allow a minute or more. */
export const IDLE_TIMEOUT_MS = 2_000;

export function createIdleEchoServer(options: { idleMs?: number; log?: Log } = {}): Server {
  const idleMs = options.idleMs ?? IDLE_TIMEOUT_MS;
  const log = options.log ?? console.log;
  const server = createEchoServer({ log });
  // A second 'connection' listener, after the echo's own: the echo is not changed, only timed.
  server.on('connection', (socket) => {
    // 'timeout' fires after idleMs without a byte read or written; every byte restarts the wait.
    // It only tells us: closing is up to us.
    socket.setTimeout(idleMs);
    socket.on('timeout', () => {
      if (!socket.writableEnded) {
        log(`${socket.remoteAddress}:${socket.remotePort} idle for ${idleMs} ms: closing`);
        // Our FIN, politely: the client sees the end of the stream and usually closes too.
        socket.end();
      } else {
        // Still open one more idle period after our FIN: the client is not hanging up. Let go.
        socket.destroy();
      }
    });
  });
  return server;
}

runIfMain(
  import.meta.url,
  () => createIdleEchoServer(),
  `Echo server with a ${IDLE_TIMEOUT_MS} ms idle timeout`,
);
