// Graceful shutdown of the gateway server, in process (the CLI test sends the real SIGTERM):
// stop accepting, close idle connections now, let in-flight exchanges finish (an upload still
// arriving included), and cut whatever is left at the deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { bytes, routes, startGateway, type RunningGateway } from './helpers/gateway.ts';
import { parseResponses } from './helpers/http-text.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const apps: Record<string, Application> = {
  '/upload': async (environ, startResponse) => {
    const body = await environ['gateway.input'].read();
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes(`got ${body.length} bytes\n`)];
  },
  '/slow': async function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    for (let i = 1; i <= 3; i++) {
      yield bytes(`part ${i}\n`);
      await sleep(100);
    }
  },
  '/endless': async function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    for (;;) {
      yield bytes('more\n');
      await sleep(20);
    }
  },
};

let gateway: RunningGateway | undefined;
afterEach(async () => {
  // Each test shuts its server down; close() is only for one that failed before doing so.
  if (gateway?.server.listening) await gateway.close();
  gateway = undefined;
});

async function started(): Promise<RunningGateway> {
  gateway = await startGateway(routes(apps));
  return gateway;
}

/**
 * Send `requestBytes` on a new connection and wait until `seen` is among the answer's bytes;
 * `wire` then resolves to everything received up to the close. (An object, because an async
 * function returning a promise would wait for it.)
 */
async function inFlight(port: number, requestBytes: string, seen: string): Promise<{ wire: Promise<Buffer> }> {
  const socket = await openSocket(port);
  const wire = readUntilClose(socket);
  socket.write(requestBytes);
  await readUntil(socket, (soFar) => soFar.includes(seen));
  return { wire };
}

describe('shutdown(deadlineMs)', () => {
  it('closes an idle keep-alive connection at once', async () => {
    const { port, server } = await started();
    const socket = await openSocket(port);
    socket.write('GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n');
    await readUntil(socket, (soFar) => soFar.includes('no test app'));
    const closed = readUntilClose(socket, 1_000);
    await server.shutdown(5_000);
    await closed;
  });

  it('lets a streaming response finish, then closes its connection', async () => {
    const { port, server } = await started();
    const { wire } = await inFlight(port, 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n', 'part 1');
    await server.shutdown(5_000);
    const [response] = parseResponses((await wire).toString('latin1'));
    expect(response.body).toBe('part 1\npart 2\npart 3\n');
  });

  it('lets an upload that is still arriving finish, and answers it', async () => {
    const { port, server } = await started();
    const socket = await openSocket(port);
    const wire = readUntilClose(socket);
    socket.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello');
    await sleep(50);
    const stopped = server.shutdown(5_000);
    await sleep(50);
    socket.write('world');
    await stopped;
    const [response] = parseResponses((await wire).toString('latin1'), { closed: true });
    expect(response.status).toBe(200);
    expect(response.body).toBe('got 10 bytes\n');
  });

  it('cuts a response still going at the deadline', async () => {
    const { port, server } = await started();
    const { wire } = await inFlight(port, 'GET /endless HTTP/1.1\r\nHost: t\r\n\r\n', 'more');
    const before = Date.now();
    await server.shutdown(200);
    expect(Date.now() - before).toBeGreaterThanOrEqual(150);
    expect((await wire).toString('latin1')).not.toContain('0\r\n\r\n');
  });
});
