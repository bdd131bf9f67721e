// Any bytes, never a crash or a hang, over real sockets: a few hundred generated inputs sent to a
// live part 3 gateway server, some followed by the client's FIN, some left hanging. Each must end
// in well-framed responses and a closed connection within a bound; afterwards the server still
// answers, holds no socket, and no app call is left running.
//
// Reproduce a run: STRESS_SEED=<the printed seed> npm run test:stress -- server-fuzz
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Application } from '../../part3-gateway/contract.ts';
import {
  describeInput,
  generateInput,
  mulberry32,
  pieces,
  seedFromEnv,
  shrink,
  type FuzzInput,
} from '../helpers/fuzz.ts';
import { bytes, eventually, startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { exchangeResponses, statuses } from '../helpers/http-text.ts';
import { openSocket, readUntilClose } from '../helpers/wire.ts';

const INPUTS = 400;
const CONCURRENCY = 25;
/** The server's timeouts for this run: short, so inputs left hanging end quickly. */
const TIMEOUT_MS = 300;
/**
 * Every input must be answered and closed within this, whatever it holds: a hang would last for
 * ever, so the bound is many server timeouts long, and a busy machine does not reach it.
 */
const BOUND_MS = 10_000;
/** Statuses a response may carry: the app's 200, 100 Continue, and the limits table's. */
const KNOWN_STATUSES = new Set([100, 200, 400, 408, 413, 414, 417, 431, 501, 505]);

interface Case {
  input: FuzzInput;
  /** Send FIN after the bytes (else leave the connection open and let the server time out). */
  endAfter: boolean;
}

let inFlight = 0;
/** Reads the whole body, then says what it got; names the method so HEAD answers can be framed. */
const app: Application = async (environ, startResponse) => {
  inFlight++;
  try {
    const body = await environ['gateway.input'].read();
    startResponse('200 OK', [
      ['Content-Type', 'text/plain'],
      ['X-Method', environ.REQUEST_METHOD === 'HEAD' ? 'HEAD' : 'other'],
    ]);
    return [bytes(`${environ.PATH_INFO} read ${body.length} bytes\n`)];
  } finally {
    inFlight--;
  }
};

let gateway: RunningGateway;
beforeAll(async () => {
  gateway = await startGateway(app, {
    headTimeoutMs: TIMEOUT_MS,
    bodyTimeoutMs: TIMEOUT_MS,
    idleTimeoutMs: TIMEOUT_MS,
  });
});
afterAll(() => gateway.close());

/**
 * Split what came back into complete responses and return their statuses; null if any byte is
 * left over (a response cut short, or bytes that are no response at all). Every response here
 * has a Content-Length (the app's bodies are arrays; error pages are whole), except 100
 * Continue and answers to HEAD, which have no body: X-Method tells which.
 */
function frame(text: string): number[] | null {
  const found: number[] = [];
  let offset = 0;
  while (offset < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return null;
    const head = text.slice(offset, headEnd + 2);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    const length = /\r\nContent-Length: (\d+)\r\n/i.exec(head)?.[1];
    const bodiless = status < 200 || /\r\nX-Method: HEAD\r\n/i.test(head);
    if (Number.isNaN(status) || (length === undefined && !bodiless)) return null;
    const end = headEnd + 4 + (bodiless ? 0 : Number(length));
    if (end > text.length) return null;
    found.push(status);
    offset = end;
  }
  return found;
}

/** Deliver one case over a fresh connection; why it broke a property, or null. */
async function failureOf(testCase: Case): Promise<string | null> {
  const socket = await openSocket(gateway.port);
  socket.setNoDelay(true);
  const started = Date.now();
  const received = readUntilClose(socket, BOUND_MS);
  for (const piece of pieces(testCase.input)) {
    if (socket.destroyed) break;
    socket.write(piece);
    await new Promise((resolve) => setImmediate(resolve)); // a separate read on the server, most of the time
  }
  if (testCase.endAfter && !socket.destroyed) socket.end();
  let text: string;
  try {
    text = (await received).toString('latin1');
  } catch (error) {
    return String(error);
  }
  const found = frame(text);
  if (found === null)
    return `not a sequence of complete responses: ${JSON.stringify(text.length > 2_000 ? `${text.slice(0, 1_000)} … ${text.slice(-1_000)}` : text)}`;
  const unknown = found.filter((status) => !KNOWN_STATUSES.has(status));
  if (unknown.length > 0) return `unexpected status ${unknown.join(', ')} after ${Date.now() - started} ms`;
  return null;
}

it(`a live gateway answers ${INPUTS} generated inputs with well-framed responses, closes each within ${BOUND_MS} ms, and serves on`, async () => {
  const seed = seedFromEnv();
  console.log(`server fuzz: seed ${seed} (rerun with STRESS_SEED=${seed})`);
  const random = mulberry32(seed);
  const cases: Case[] = Array.from({ length: INPUTS }, () => ({
    input: generateInput(random),
    endAfter: random() < 0.5,
  }));

  for (let first = 0; first < cases.length; first += CONCURRENCY) {
    const batch = cases.slice(first, first + CONCURRENCY);
    const failures = await Promise.all(batch.map(failureOf));
    const index = failures.findIndex((failure) => failure !== null);
    if (index === -1) continue;
    const failing = batch[index];
    const minimized = await shrinkAsync(failing, 300);
    throw new Error(
      `seed ${seed}, input ${first + index} (FIN after: ${failing.endAfter}): ${failures[index]}\n` +
        `input: ${describeInput(failing.input)}\nminimized: ${describeInput(minimized.input)}\n` +
        `minimized failure: ${await failureOf(minimized)}`,
    );
  }

  const health = await exchangeResponses(gateway.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(statuses(health)).toEqual([200]);
  await eventually(
    () => gateway.openSockets() === 0 && gateway.server.connectionCount === 0,
    2_000,
    'every socket closed',
  );
  expect(inFlight).toBe(0);
  // Bad input is the client's fault: nothing in the error log (which records app and server failures).
  expect(gateway.log).toEqual([]);
}, 120_000);

/**
 * shrink() needs a synchronous check, and this one needs a connection: so let shrink() list its
 * candidates, try them one by one over the wire, restart from the first that still fails, and
 * stop after `maxTries` connections.
 */
async function shrinkAsync(failing: Case, maxTries: number): Promise<Case> {
  let best = failing;
  let tries = 0;
  let improved = true;
  while (improved && tries < maxTries) {
    improved = false;
    const candidates: FuzzInput[] = [];
    shrink(best.input, (candidate) => candidates.push(candidate) < 0, 64);
    for (const input of candidates) {
      if (tries++ >= maxTries) break;
      if ((await failureOf({ input, endAfter: best.endAfter })) !== null) {
        best = { input, endAfter: best.endAfter };
        improved = true;
        break;
      }
    }
  }
  return best;
}
