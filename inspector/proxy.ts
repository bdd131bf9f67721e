// The proxy: a TCP server that, for each client, opens a connection to the server behind it
// and copies bytes both ways, exactly, telling the recorder what it saw. Part 1's lesson, twice
// per connection: read, write, and take care of how a connection ends.
//
//   client ⇄ proxy (127.0.0.1:8008) ⇄ server (127.0.0.1:8002)
//
// What it passes on, besides the bytes:
// - Backpressure: when one side stops reading, the proxy's write to it returns false; it then
//   stops reading the other side (pause) until 'drain' (resume). The sender's own writes then
//   fill up and wait, as they would with no proxy: at most a socket's buffer waits in here.
// - Half-close: a FIN from one side ('end') becomes end() toward the other, which may go on
//   sending (allowHalfOpen on both sockets: Node would otherwise close our side at once).
// - Reset: an error on one side (ECONNRESET, EPIPE) becomes resetAndDestroy() on the other,
//   so each end sees what it would have seen: an abort, not a polite close.
//
// Not here: timeouts (the server behind has its own, and the proxy should not add any), TLS,
// the PROXY protocol or X-Forwarded-For (the proxy changes no byte, so the server sees the
// proxy's address as the client's).
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ConnectionRecord, Recorder } from './recorder.ts';
import type { Direction } from './timeline.ts';

export interface Target {
  host: string;
  port: number;
}

/**
 * A proxy to `target`, recording into `recorder`. Call listen() on it. `onRefused` hears when
 * the server cannot be reached (the client's connection is then reset).
 */
export function createProxy(
  target: Target,
  recorder: Recorder,
  onRefused: (code: string) => void = () => {},
): Server {
  // pauseOnConnect: a client's bytes wait in the kernel until the server is reached. noDelay:
  // each read goes on at once, as it came, not held back to be merged with the next.
  return createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) =>
    link(client, target, recorder, onRefused),
  );
}

/** One client: connect to the server for it, then copy each way until both sides are closed. */
function link(
  client: Socket,
  target: Target,
  recorder: Recorder,
  onRefused: (code: string) => void,
): void {
  const record = recorder.open(
    `${client.remoteAddress}:${client.remotePort}`,
    `${target.host}:${target.port}`,
  );
  const server = connect({
    host: target.host,
    port: target.port,
    allowHalfOpen: true,
    noDelay: true,
  });
  let connected = false;

  server.once('connect', () => {
    connected = true;
    record.connected();
    forward(client, server, 'to-server', record);
    forward(server, client, 'to-client', record);
  });

  // An error ends one socket (Node destroys it); the other is reset, once.
  client.on('error', (error: NodeJS.ErrnoException) => {
    record.reset('to-server', error.code ?? error.message);
    resetIfOpen(server);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? error.message;
    if (connected) {
      record.reset('to-client', code);
    } else {
      record.refused(code);
      onRefused(code);
    }
    resetIfOpen(client);
  });

  // A socket that closes with its peer still writable was destroyed without an error (the
  // inspector stopping): end the peer too, after what it still has to send, or it stays open.
  let open = 2;
  const onClose = (peer: Socket) => (): void => {
    if (!peer.destroyed && !peer.writableEnded) peer.end();
    if (--open === 0) record.closed();
  };
  client.once('close', onClose(server));
  server.once('close', onClose(client));
}

/**
 * Copy `from` → `to`: each chunk is written on before it is recorded (the recorder can only
 * watch), and a full `to` pauses `from` until it drains. `from`'s FIN becomes `to.end()`: it
 * goes after every byte already written, so nothing is lost or reordered.
 */
function forward(from: Socket, to: Socket, direction: Direction, record: ConnectionRecord): void {
  let waiting = false;
  from.on('data', (chunk: Buffer) => {
    // `to` was reset (its error resets `from` too, but a read may already be on its way).
    if (to.destroyed) return;
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      from.pause();
      record.paused(direction, to.writableLength);
      to.once('drain', () => {
        waiting = false;
        record.resumed(direction);
        from.resume();
      });
    }
    record.data(direction, chunk);
  });
  from.on('end', () => {
    record.fin(direction);
    if (!to.destroyed) to.end();
  });
  from.resume();
}

/**
 * Send an RST on `socket` unless it is gone already. A socket still connecting sends it once
 * connected (Node's resetAndDestroy does that by itself).
 */
function resetIfOpen(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
