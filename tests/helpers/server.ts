// Starts any stage's server in-process on 127.0.0.1:0 (an ephemeral port) and gives the test
// its address and a close() that resolves only when the listener and every socket are gone.
//
//   const server = await start(createEchoServer());
//   ... talk to server.port / server.url ...
//   await server.close();
import type { Server, Socket } from 'node:net';

export interface RunningServer {
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` — handy for undici; meaningless for part 1's echo server. */
  url: string;
  /** How many sockets the server still holds open (accepted and not yet closed). */
  openSockets(): number;
  /** Stop listening, destroy every open socket, resolve when the server has fully closed. */
  close(): Promise<void>;
}

export async function start(server: Server): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('expected a TCP address from server.address()');
  }
  const host = '127.0.0.1';
  const port = address.port;

  return {
    host,
    port,
    url: `http://${host}:${port}`,
    openSockets: () => sockets.size,
    close: async () => {
      // The server's close callback can run before the sockets' own 'close' events (Node
      // counts a connection gone when it is destroyed, not when its handle has closed): wait
      // for both, so openSockets() is 0 once close() resolves.
      const socketsClosed = [...sockets].map(
        (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
      );
      const serverClosed = new Promise<void>((resolve, reject) => {
        // server.close() stops accepting at once but calls back only after the last
        // connection has closed; destroying the rest makes that happen now.
        server.close((error) => (error ? reject(error) : resolve()));
      });
      for (const socket of sockets) socket.destroy();
      await Promise.all([serverClosed, ...socketsClosed]);
    },
  };
}
