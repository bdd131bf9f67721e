// Part 1, a tiny echo client: what `nc` does, for machines without nc or telnet (Windows).
// It connects, sends what you type, and prints whatever comes back.
//
// Run it:   npm run part1 -- client             (to 127.0.0.1:8001; --port N to change)
//           echo hello | npm run part1 -- client
// Stop it:  Ctrl-D (Windows: Ctrl-Z, then Enter) ends your input: the client sends its FIN,
//           prints the rest of the echo, and exits when the server closes. Ctrl-C quits at once.
//
// What it deliberately does not do: frame messages. A terminal hands over one line at a time,
// so it looks line-based, but TCP carries a byte stream: a reply may come back in pieces.
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface EchoClientOptions {
  host: string;
  port: number;
  /** What to send: process.stdin from main.ts. Its end is the end of what we send. */
  input: Readable;
  /** Where replies go: process.stdout from main.ts. */
  output: Writable;
  /** Messages about the connection itself (not the echoed bytes). Defaults to console.error. */
  log?: (line: string) => void;
}

/** Resolves when the server has closed the connection; rejects if it cannot be reached. */
export function runEchoClient(options: EchoClientOptions): Promise<void> {
  const { host, port, input, output } = options;
  const log = options.log ?? console.error;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });

    socket.once('connect', () => {
      log(
        `Connected to ${host}:${port}. ` +
          'Type a line and press Enter; Ctrl-D (Windows: Ctrl-Z, Enter) to finish.',
      );
      // pipe() handles backpressure both ways, and when input ends it calls socket.end(): our
      // FIN. The socket stays readable, so the rest of the echo still arrives after that.
      input.pipe(socket);
      // end: false, because stdout must outlive this connection (and is never closed by Node).
      socket.pipe(output, { end: false });
    });

    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        reject(
          new Error(
            `Nothing is listening on ${host}:${port}: ` +
              'start the echo server first (npm run part1) in another terminal.',
          ),
        );
      } else {
        reject(new Error(`Connection to ${host}:${port} failed: ${error.code ?? error.message}`));
      }
    });

    socket.once('close', (hadError: boolean) => {
      // Stop reading input, so a terminal waiting for the next line does not keep us running.
      input.unpipe(socket);
      input.pause();
      if (!hadError) {
        log('The server closed the connection.');
        resolve();
      }
    });
  });
}
