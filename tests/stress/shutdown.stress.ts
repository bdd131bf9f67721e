// Graceful shutdown under load: `npm run part3 -- part3-gateway/apps/streaming.ts` in a child
// process (as a learner runs it), a burst of clients each streaming a response, and SIGTERM in
// the middle of it. Every response that had begun completes; no client gets a cut response
// (each gets a whole one or none); connections after the stop are refused; the process exits 0
// well within its deadline.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { SHUTDOWN_DEADLINE_MS } from '../../part2-tcp-http/server.ts';
import { runStage, type StageRun } from '../helpers/child.ts';
import { parseResponses } from '../helpers/http-text.ts';

/** 3 chunks, 200 ms apart (the streaming app's interval): each response takes about 400 ms. */
const REQUEST = 'GET /?count=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
/** A new client this often, for the whole burst. */
const ARRIVAL_EVERY_MS = 5;
const BURST_MS = 1_500;
/** SIGTERM this far into the burst: a hundred or so responses are in flight by then. */
const SIGTERM_AT_MS = 700;

interface Client {
  connectedAt: number | null;
  firstByteAt: number | null;
  received: string;
  error: string | null;
}

/** One client: connect, send the request, read until the server closes. Never rejects. */
function runClient(port: number): Promise<Client> {
  return new Promise((resolve) => {
    const client: Client = { connectedAt: null, firstByteAt: null, received: '', error: null };
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      client.connectedAt = Date.now();
      socket.write(REQUEST);
    });
    socket.on('data', (chunk: Buffer) => {
      client.firstByteAt ??= Date.now();
      client.received += chunk.toString('latin1');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (client.error = error.code ?? String(error)));
    socket.setTimeout(SHUTDOWN_DEADLINE_MS + 5_000, () => socket.destroy(new Error('client timeout')));
    socket.once('close', () => resolve(client));
  });
}

let stage: StageRun | null = null;
afterAll(() => {
  if (stage !== null && stage.child.exitCode === null && stage.child.signalCode === null) stage.child.kill('SIGKILL');
});

it.skipIf(process.platform === 'win32')(
  'on SIGTERM during a burst: responses in flight complete, none is cut, new connections are refused, exit 0 in time',
  async () => {
    stage = runStage(['part3-gateway/main.ts', 'part3-gateway/apps/streaming.ts', '--port', '0']);
    const port = Number((await stage.waitForOutput(/on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

    const started = Date.now();
    const clients: Array<{ startedAt: number; done: Promise<Client> }> = [];
    let sigtermAt = 0;
    while (Date.now() - started < BURST_MS) {
      clients.push({ startedAt: Date.now(), done: runClient(port) });
      if (sigtermAt === 0 && Date.now() - started >= SIGTERM_AT_MS) {
        sigtermAt = Date.now();
        stage.child.kill('SIGTERM');
      }
      await sleep(ARRIVAL_EVERY_MS);
    }
    const exit = await stage.exited;
    const stoppedIn = Date.now() - sigtermAt;
    const results = await Promise.all(clients.map(async ({ startedAt, done }) => ({ startedAt, ...(await done) })));

    const complete = results.filter((client) => {
      const [response] = parseResponses(client.received);
      return (
        response !== undefined &&
        response.status === 200 &&
        response.body.split('\n').filter((line) => line.startsWith('chunk ')).length === 3 &&
        response.raw.length === client.received.length
      );
    });
    const cut = results.filter((client) => client.received !== '' && !complete.includes(client));
    const inFlightAtSigterm = results.filter((client) => client.firstByteAt !== null && client.firstByteAt < sigtermAt);
    // Began well after the stop (the process needs a moment to act on the signal).
    const late = results.filter((client) => client.startedAt > sigtermAt + 200);
    console.log(
      `shutdown: ${results.length} clients, ${inFlightAtSigterm.length} in flight at SIGTERM, ${complete.length} complete, ` +
        `${late.length} started after it (${late.filter((client) => client.error === 'ECONNREFUSED').length} refused), exit after ${stoppedIn} ms`,
    );

    expect(exit).toEqual({ code: 0, signal: null });
    expect(stoppedIn).toBeLessThan(SHUTDOWN_DEADLINE_MS);
    expect(inFlightAtSigterm.length).toBeGreaterThan(20);
    expect(cut.map((client) => client.received.slice(-80))).toEqual([]);
    expect(inFlightAtSigterm.every((client) => complete.includes(client))).toBe(true);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((client) => client.error === 'ECONNREFUSED')).toBe(true);
    expect(stage.stderr()).toBe('');
  },
  30_000,
);
