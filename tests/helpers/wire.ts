// Raw-socket helpers for tests that must send bytes no well-behaved client would send.
import { connect, type Socket } from 'node:net';

/** Open a TCP connection to 127.0.0.1:port and resolve once it is established. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything the peer sends until it closes the connection (or `timeoutMs` passes: then reject). */
export function readUntilClose(socket: Socket, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `peer did not close within ${timeoutMs} ms; got so far: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', () => {
      // ECONNRESET after the peer wrote its answer still counts as "closed": keep what arrived.
    });
  });
}

/** Read from the socket until `predicate(bytesSoFar)` is true; reject after `timeoutMs`. */
export function readUntil(socket: Socket, predicate: (soFar: Buffer) => boolean, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let soFar = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      soFar = Buffer.concat([soFar, chunk]);
      if (predicate(soFar)) finish();
    };
    const onClose = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      reject(
        new Error(
          `connection closed before the expected bytes arrived; got: ${JSON.stringify(soFar.toString('latin1'))}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
      reject(
        new Error(
          `expected bytes did not arrive within ${timeoutMs} ms; got: ${JSON.stringify(soFar.toString('latin1'))}`,
        ),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(soFar);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Send `bytes` on a fresh connection and return everything received until the server closes it. */
export async function exchange(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<string> {
  const socket = await openSocket(port);
  const done = readUntilClose(socket, timeoutMs);
  socket.write(bytes);
  return (await done).toString('latin1');
}
