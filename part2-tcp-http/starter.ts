// Part 2, starter: where you begin writing your own HTTP/1.1 server. It listens, accepts
// connections and prints every byte that arrives (\r and \n made visible), and answers nothing:
// that is your job. Work on a copy beside it (the import below is relative, so keep the copy in
// part2-tcp-http/), and run the checks on every save; they tell you what to do next:
//
//   cp part2-tcp-http/starter.ts part2-tcp-http/my-server.ts
//   npm run check -- part2 part2-tcp-http/my-server.ts --watch
//   npx tsx part2-tcp-http/my-server.ts --port 8002
//     then, in another terminal: curl -v http://127.0.0.1:8002/
//
// The lesson is README.md, "Build it yourself"; REFERENCE.md, "The checks", lists every check.
// minimal.ts is one way to pass the core ones, main.ts the full server.
import { createServer, type Socket } from 'node:net';
import {
  gracefulStop,
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
} from '../part1-sockets/cli.ts';

function serveConnection(socket: Socket): void {
  console.log(`${socket.remoteAddress}:${socket.remotePort} connected`);
  socket.on('data', (chunk: Buffer) => {
    console.log(`received ${chunk.length} bytes: ${JSON.stringify(chunk.toString('latin1'))}`);
    // TODO check 1, "answers GET / with 200 and a Content-Length that matches the body":
    // once the head has arrived (it ends with an empty line, "\r\n\r\n"), write a response:
    //   "HTTP/1.1 200 OK\r\n" + "Content-Length: 6\r\n" + "\r\n" + "Hello\n"
    // Content-Length counts the body's bytes. Then check 2: a 404 for other paths.
  });
  socket.on('end', () =>
    console.log(`${socket.remoteAddress}:${socket.remotePort} closed its side`),
  );
  // A client that resets the connection must not take the server down.
  socket.on('error', (error) => console.log(`connection error: ${error.message}`));
}

async function main(): Promise<void> {
  const cli = parseCli(8002);
  const server = createServer(serveConnection);
  // Ctrl-C: stop accepting, close the open connections, exit.
  stopOnSignals(gracefulStop(server));
  const port = await listenOrExplain(server, cli, 'part2');
  console.log(`Your HTTP server is listening on http://${cli.host}:${port}/ (Ctrl-C to stop)`);
}

runMain(main);
