// Ports for tests about ports: one held busy (to see a server fail to listen), or one that
// nobody listens on (to see a client be refused).
import { createServer } from 'node:net';

export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/** Listen on a free 127.0.0.1 port and keep it busy until release(). */
export async function holdPort(): Promise<HeldPort> {
  const holder = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(0, '127.0.0.1', () => resolve());
  });
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address from server.address()');
  return {
    port: address.port,
    release: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}

/** A port nobody listens on: hold one, note it, let it go. (Another process could take it in between; on loopback in a test run, nobody does.) */
export async function unusedPort(): Promise<number> {
  const held = await holdPort();
  await held.release();
  return held.port;
}
