// Slow clients do not starve fast ones. Hundreds of connections trickle a request head one byte
// at a time (slowloris), a hundred more send nothing but empty lines (which a server may skip
// before a request, RFC 9112 §2.2), while a normal client keeps making requests: it is answered
// promptly throughout; the slow ones get 408 at the head deadline, and those that ignore the 408
// and never close are dropped once the linger time is over.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Application } from '../../part3-gateway/contract.ts';
import { bytes, eventually, startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { exchangeResponses } from '../helpers/http-text.ts';

const HEAD_TIMEOUT_MS = 3_000;
const LINGER_TIMEOUT_MS = 1_000;
/** One byte per slow connection this often: the head below would take 20 s to arrive. */
const TRICKLE_MS = 250;
const SLOW = 300;
/** Of the slow ones, how many ignore the 408 and the server's FIN, and keep sending. */
const STUBBORN = 100;
const BLANK = 100;
/**
 * What "promptly" means for the normal client while all of that goes on: well before the slow
 * ones time out. A server that served connections one at a time would keep it waiting until
 * then; the bound is loose so that a busy machine (CI, a second test run) does not fail it.
 */
const PROMPT_MS = HEAD_TIMEOUT_MS / 2;
/** How late a deadline may fire on a busy 2-core machine. */
const SLACK_MS = 2_000;

const SLOW_HEAD = 'GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\nAccept: */*\r\n\r\n';

const app: Application = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes('fast\n')];
};

let gateway: RunningGateway;
beforeAll(async () => {
  gateway = await startGateway(app, { headTimeoutMs: HEAD_TIMEOUT_MS, lingerTimeoutMs: LINGER_TIMEOUT_MS });
});
afterAll(() => gateway.close());

interface Trickler {
  socket: Socket;
  startedAt: number;
  /** When the first byte of an answer came, and what it was. */
  answeredAt: number | null;
  answer: string;
  closedAt: number | null;
}

/** A connection that sends `text` one byte every TRICKLE_MS (repeating it if `repeat`), until the connection closes. */
function trickle(text: string, options: { repeat: boolean; stubborn: boolean }): Promise<Trickler> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: gateway.port, allowHalfOpen: options.stubborn });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // the stubborn ones are reset in the end: expected
      const state: Trickler = { socket, startedAt: Date.now(), answeredAt: null, answer: '', closedAt: null };
      let at = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return clearInterval(timer);
        if (at === text.length && !options.repeat) return;
        socket.write(text[at % text.length]);
        at++;
      }, TRICKLE_MS);
      socket.on('data', (chunk: Buffer) => {
        state.answeredAt ??= Date.now();
        state.answer += chunk.toString('latin1');
      });
      socket.once('close', () => {
        clearInterval(timer);
        state.closedAt = Date.now();
      });
      socket.write(text[at++]);
      resolve(state);
    });
  });
}

it(`answers a normal client within ${PROMPT_MS} ms while ${SLOW} slow heads and ${BLANK} empty-line senders are connected, and answers each of those 408 at the deadline`, async () => {
  const slow = await Promise.all(
    Array.from({ length: SLOW }, (_, i) => trickle(SLOW_HEAD, { repeat: false, stubborn: i < STUBBORN })),
  );
  const blank = await Promise.all(
    Array.from({ length: BLANK }, () => trickle('\r\n', { repeat: true, stubborn: false })),
  );
  await eventually(
    () => gateway.server.connectionCount === SLOW + BLANK,
    5_000,
    'the server accepting every slow connection',
  );

  // The normal client: a fresh connection every 50 ms until every slow one has its answer.
  const latencies: number[] = [];
  const deadline = Date.now() + HEAD_TIMEOUT_MS + SLACK_MS;
  while (Date.now() < deadline) {
    const started = Date.now();
    const [response] = await exchangeResponses(
      gateway.port,
      'GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    latencies.push(Date.now() - started);
    expect(response.body).toBe('fast\n');
    await sleep(50);
  }
  console.log(`slowloris: normal client ${latencies.length} requests, slowest ${Math.max(...latencies)} ms`);
  expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);

  for (const client of [...slow, ...blank]) {
    expect(client.answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const waited = (client.answeredAt ?? Infinity) - client.startedAt;
    expect(waited).toBeGreaterThanOrEqual(HEAD_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(HEAD_TIMEOUT_MS + SLACK_MS);
  }

  // The stubborn ones never close their side; the server drops them after the linger time.
  await eventually(
    () => gateway.openSockets() === 0,
    LINGER_TIMEOUT_MS + SLACK_MS,
    'the server dropping every slow connection',
  );
  // They learn it at their next byte, which the server answers with a reset.
  await eventually(
    () => slow.slice(0, STUBBORN).every((client) => client.closedAt !== null),
    TRICKLE_MS * 4,
    'every stubborn client seeing the connection gone',
  );
}, 30_000);
