// Part 1, the minimal echo server: the one you type first. It passes every core check of
// `npm run check -- part1`, and shows what echo-server.ts adds by the one it fails:
//
//   npm run check -- part1 part1-sockets/minimal.ts --all
//
// Run it:  npx tsx part1-sockets/minimal.ts --port 9000   (or PORT=9000; 8001 without)
//
// What it leaves out, on purpose: backpressure (hardening check 7), a log, a polite Ctrl-C.
import { createServer } from 'node:net';

const portFlag = process.argv.indexOf('--port');
const port = Number(portFlag === -1 ? process.env.PORT || 8001 : process.argv[portFlag + 1]);

createServer((socket) => {
  // Simplification: write() returning false (the client is not reading, the queue is full) is
  // ignored, so this server reads on and holds in memory all that a non-reading client sends.
  socket.on('data', (chunk) => socket.write(chunk));
  // A client that resets makes its socket emit 'error': with no listener, the process would die.
  socket.on('error', () => {});
  // The client's FIN needs no code here: Node ends our side once the echo is written, because
  // allowHalfOpen is false by default.
}).listen(port, '127.0.0.1', () => console.log(`Minimal echo server on 127.0.0.1:${port}`));
