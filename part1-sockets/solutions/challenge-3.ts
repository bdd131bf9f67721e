// Part 1, challenge 3, a solution: "Answer after the blank line". The hello server of
// hello-browser.ts answers the first chunk it receives, whatever it holds; this one waits until
// the request head is complete, that is until the empty line that ends it (\r\n\r\n, RFC 9112
// §2.1). The first step of part 2's parser.
//
// Run it:    npx tsx part1-sockets/solutions/challenge-3.ts --port 9000
//            then: curl -v http://127.0.0.1:9000/
// Check it:  npm run check -- part1 part1-sockets/solutions/challenge-3.ts --challenge 3
//
// What it leaves out: reading the head (method, path, fields) and any body; keep-alive.
import { createServer, type Server } from 'node:net';
import type { Log } from '../echo-server.ts';
import { helloResponse, showBytes } from '../hello-browser.ts';
import { runIfMain } from './run.ts';

const END_OF_HEAD = Buffer.from('\r\n\r\n');
/** A head longer than this is refused by closing; part 2 answers 431 instead. */
const MAX_HEAD_BYTES = 16 * 1024;

export function createPatientHelloServer(options: { log?: Log } = {}): Server {
  const log = options.log ?? console.log;
  return createServer((socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    // Every chunk so far. The end of the head may be split between two chunks ("\r\n\r" then
    // "\n"), so it is looked for in all of them together, never in one chunk alone.
    let head = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (socket.writableEnded) return;
      log(`${peer} sent ${chunk.length} bytes:\n${showBytes(chunk)}`);
      head = Buffer.concat([head, chunk]);
      if (head.includes(END_OF_HEAD)) socket.end(helloResponse());
      // Simplification: a head that does not end is cut off with a close, no answer.
      else if (head.length > MAX_HEAD_BYTES) socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      log(`${peer} error: ${error.code ?? error.message}`),
    );
  });
}

runIfMain(
  import.meta.url,
  () => createPatientHelloServer(),
  '"Hello, browser" server (answers after the blank line)',
);
