// Serving an application over real HTTP for a test about the wire: part 3's gateway server,
// the app inside part 3's validator, on an ephemeral port, closed after each test.
//
//   const served = serveEachTest();
//   it('...', async () => {
//     const server = await served.start(app);
//     await request(`${server.url}/`);
//   });
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import type { Application } from '../../part3-gateway/contract.ts';
import { createGatewayServer, type GatewayOptions } from '../../part3-gateway/server.ts';
import { validator } from '../../part3-gateway/validator.ts';
import { start, type RunningServer } from './server.ts';

/** Quiet error log: the tests that care read what the client got, not the log. */
const SILENT = { write: () => {}, flush: () => {} };

export function serveEachTest(): { start(app: Application, options?: GatewayOptions): Promise<RunningServer> } {
  const running: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.close()));
  });
  return {
    async start(app, options = {}) {
      const server = await start(createGatewayServer(validator(app), { errors: SILENT, ...options }));
      running.push(server);
      return server;
    },
  };
}

/** A request body of `pieces` chunks of `size` bytes each, sent chunked (no Content-Length). */
export function chunkedBody(pieces: number, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < pieces; i++) yield Buffer.alloc(size, 'a');
    })(),
  );
}
