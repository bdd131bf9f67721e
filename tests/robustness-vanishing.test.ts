// Clients that vanish (the contract's cleanup rules in part3-gateway/contract.ts, at every stage of a request): before the head is
// complete, in the middle of the body upload, in the middle of a streamed response, each by a
// polite close (FIN) and by a reset (RST). Afterwards the app's iterator has been closed, the
// abort signal has fired, no socket and no app call is left, and the server serves on; on both
// servers that run the contract.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import { bytes, eventually, routes } from './helpers/gateway.ts';
import { exchangeResponses, statuses } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { openSocket, readUntil } from './helpers/wire.ts';

/** What the apps report: calls still running, signals fired, body reads failed, bodies closed. */
const track = { inFlight: 0, aborted: 0, readFailed: 0, closed: 0, called: 0 };

/** Counts itself in and out, and the abort signal. */
function tracked(app: Application): Application {
  return async (environ, startResponse) => {
    track.called++;
    track.inFlight++;
    environ['gateway.signal'].addEventListener('abort', () => track.aborted++);
    try {
      return await app(environ, startResponse);
    } finally {
      track.inFlight--;
    }
  };
}

const apps: Record<string, Application> = {
  '/upload': tracked(async (environ, startResponse) => {
    let total = 0;
    try {
      for await (const chunk of environ['gateway.input']) total += chunk.length;
    } catch (error) {
      track.readFailed++;
      throw error;
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes(`${total}\n`)];
  }),
  '/stream': tracked((_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    // The generator is in flight until the server closes it: count it like the call.
    track.inFlight++;
    return (async function* () {
      try {
        for (;;) {
          yield bytes('tick\n'.repeat(100));
          await sleep(5);
        }
      } finally {
        track.closed++;
        track.inFlight--;
      }
    })();
  }),
  '/fine': (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes('fine\n')];
  },
};

interface Stage {
  what: string;
  /** Bytes sent; then wait for `until` (if any) in what comes back, then vanish. */
  send: string;
  until?: string;
  /** Whether the app is called at all, and whether its body is a stream to close. */
  called: boolean;
  streams: boolean;
}

/**
 * How the app learns that its client left. Mid-upload, a FIN only says "no more bytes": the
 * client may still read, so part 3 fails the app's read and answers 400 rather than aborting
 * (node:http aborts); either way the app learns it.
 */
function learned(stage: Stage): number {
  return stage.what.includes('upload') ? Math.min(1, track.aborted + track.readFailed) : track.aborted;
}

const STAGES: Stage[] = [
  {
    what: 'before the head is complete',
    send: 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Le',
    called: false,
    streams: false,
  },
  {
    what: 'in the middle of the body upload',
    send: `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(5_000)}`,
    called: true,
    streams: false,
  },
  {
    what: 'in the middle of a streamed response',
    send: 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n',
    until: 'tick\n',
    called: true,
    streams: true,
  },
];

const servers: Array<{ name: string; server: RunningServer }> = [];
beforeAll(async () => {
  const options = { errors: { write: () => {}, flush: () => {} } };
  servers.push({ name: 'part 3 gateway', server: await start(createGatewayServer(routes(apps), options)) });
  servers.push({ name: 'node:http adapter', server: await start(createNodeGatewayServer(routes(apps), options)) });
});
afterAll(() => Promise.all(servers.map(({ server }) => server.close())));
beforeEach(() => {
  Object.assign(track, { inFlight: 0, aborted: 0, readFailed: 0, closed: 0, called: 0 });
});

function vanish(socket: Socket, how: 'FIN' | 'RST'): void {
  if (how === 'RST') socket.resetAndDestroy();
  else socket.destroy(); // close() without reading: FIN, or RST if unread bytes are left
}

describe.each(['part 3 gateway', 'node:http adapter'])('a client vanishing, on the %s', (name) => {
  const server = (): RunningServer => servers.find((entry) => entry.name === name)?.server ?? expect.fail(`no ${name}`);

  for (const stage of STAGES) {
    for (const how of ['FIN', 'RST'] as const) {
      it(`${stage.what} (${how}): nothing is left running or open, and the server serves on`, async () => {
        const socket = await openSocket(server().port);
        const answer =
          stage.until === undefined ? null : readUntil(socket, (soFar) => soFar.includes(stage.until ?? ''));
        socket.write(stage.send);
        if (answer !== null) await answer;
        else
          await eventually(
            () => track.called === (stage.called ? 1 : 0),
            1_000,
            'the request reaching the app (or not)',
          );
        await sleep(20);
        vanish(socket, how);

        await eventually(
          () => track.inFlight === 0 && server().openSockets() === 0,
          2_000,
          'no app call and no socket left',
        );
        expect(track.called).toBe(stage.called ? 1 : 0);
        expect(learned(stage)).toBe(stage.called ? 1 : 0);
        expect(track.closed).toBe(stage.streams ? 1 : 0);
        expect(
          statuses(
            await exchangeResponses(server().port, 'GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
          ),
        ).toEqual([200]);
      });
    }
  }
});
