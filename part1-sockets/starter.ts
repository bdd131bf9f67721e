// Part 1, the starter: where you begin your own echo server. It runs, listens and accepts
// connections, and does nothing else yet. Work on a copy beside it, and let the checks say what
// to do next; they restart your copy on every save:
//
//   cp part1-sockets/starter.ts part1-sockets/my-echo.ts
//   npm run check -- part1 part1-sockets/my-echo.ts --watch
//
// Run it by hand:  npx tsx part1-sockets/my-echo.ts --port 9000   (or PORT=9000; 8001 without)
// Try it:          nc 127.0.0.1 9000, or npm run part1 -- client --port 9000
// The lesson is README.md, "Build it yourself"; REFERENCE.md, "The checks", lists every check.
import { createServer } from 'node:net';

// The checker starts this file with --port P (and PORT=P): listen where it says.
const portFlag = process.argv.indexOf('--port');
const port = Number(portFlag === -1 ? process.env.PORT || 8001 : process.argv[portFlag + 1]);

const server = createServer((socket) => {
  // A client has connected: `socket` is this one connection, both ways.
  console.log(`${socket.remoteAddress}:${socket.remotePort} connected`);

  // TODO (check 2, "echoes a line of text"): send back every byte this client sends. Bytes
  // arrive in the socket's 'data' events, a Buffer at a time; socket.write(bytes) sends.
});

// server.address() is where it really listens (with port 0 the system picks a free port).
server.listen(port, '127.0.0.1', () =>
  console.log('Listening (Ctrl-C to stop):', server.address()),
);
