// Challenge 2 of part 3, solved: gateway.signal fires when the client sends FIN while its
// response is in flight, not only when the connection closes.
//
//   npm run check -- part3 part3-gateway/solutions/challenge-2.ts --challenge 2
//
// Part 2 reads a FIN as a half-close ("done sending, still reading": RFC 9112 §9.6 allows it),
// so the course's gateway aborts the signal only when the connection is gone. In practice a
// client that hangs up its side mid-request has left, and Go's server cancels the request's
// context on it. The cost: a client that sends its request and FIN together (printf ... | nc -N)
// gets an aborted signal at once, and an app that honours it answers nobody.
//
// The gateway is the course's own; a middleware app gives each request a signal that also fires
// on its connection's 'end' event. It finds the connection by the client's address and port
// (REMOTE_ADDR, REMOTE_PORT), which are one connection's while it is open.
import type { Socket } from 'node:net';
import type { Application } from '../contract.ts';
import { createGatewayServer } from '../server.ts';
import { serveFromCommandLine } from './serve.ts';

/** An open connection and the controller of the request it is now answering. */
interface Connection {
  socket: Socket;
  current: AbortController | null;
}

const connectionKey = (address: string | undefined, port: number | string | undefined): string =>
  `${address}:${port}`;

/** `app` with environ['gateway.signal'] aborted on the request's FIN as well as on its close. */
export function signalOnFin(app: Application, connections: Map<string, Connection>): Application {
  return (environ, startResponse) => {
    const connection = connections.get(connectionKey(environ.REMOTE_ADDR, environ.REMOTE_PORT));
    if (connection !== undefined) {
      // HTTP/1.1 answers a connection's requests one at a time: this one is its current request.
      const fin = new AbortController();
      connection.current = fin;
      if (connection.socket.readableEnded)
        fin.abort(new Error('The client closed its side of the connection (FIN).'));
      const signal = AbortSignal.any([environ['gateway.signal'], fin.signal]);
      Object.defineProperty(environ, 'gateway.signal', {
        value: signal,
        enumerable: true,
        configurable: true,
      });
    }
    return app(environ, startResponse);
  };
}

serveFromCommandLine('Gateway (challenge 2: gateway.signal on FIN)', (app) => {
  const connections = new Map<string, Connection>();
  const server = createGatewayServer(signalOnFin(app, connections));
  server.on('connection', (socket: Socket) => {
    const key = connectionKey(socket.remoteAddress, socket.remotePort);
    const connection: Connection = { socket, current: null };
    connections.set(key, connection);
    socket.once('end', () =>
      connection.current?.abort(new Error('The client closed its side of the connection (FIN).')),
    );
    socket.once('close', () => connections.delete(key));
  });
  return server;
});
