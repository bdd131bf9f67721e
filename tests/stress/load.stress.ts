// Load: a thousand concurrent keep-alive connections, each making a few requests in turn
// (GETs, and POSTs whose body the app reads), against the part 3 gateway. Zero errors, every
// response the right one, and once the clients leave, the server holds no socket.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Application } from '../../part3-gateway/contract.ts';
import { bytes, eventually, startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { parseResponses } from '../helpers/http-text.ts';
import { openSocket } from '../helpers/wire.ts';

const CONNECTIONS = 1_000;
const REQUESTS_PER_CONNECTION = 5;
/** The whole run: about 5 s on a 2-core machine. */
const RUN_BOUND_MS = 45_000;
/** Connections opened at once: the listen backlog (511 by default) drops SYNs beyond it, and a dropped SYN costs the client a 1 s retry. */
const CONNECT_BATCH = 250;

/** Says which request it answers, so a response given to the wrong request shows. */
const app: Application = async (environ, startResponse) => {
  const body = await environ['gateway.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}?${environ.QUERY_STRING} body=${body.length}\n`)];
};

let gateway: RunningGateway;
beforeAll(async () => {
  gateway = await startGateway(app);
});
afterAll(() => gateway.close());

/** A keep-alive client: send a request, wait for its complete response, repeat. */
async function client(socket: Socket, id: number): Promise<string[]> {
  let buffered = '';
  let waiting: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    waiting?.();
  });
  const problems: string[] = [];
  for (let r = 0; r < REQUESTS_PER_CONNECTION; r++) {
    const payload = `payload ${id}/${r}`;
    const request =
      r % 2 === 0
        ? `GET /load?c=${id}&r=${r} HTTP/1.1\r\nHost: x\r\n\r\n`
        : `POST /load?c=${id}&r=${r} HTTP/1.1\r\nHost: x\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`;
    const expected =
      r % 2 === 0 ? `GET /load?c=${id}&r=${r} body=0\n` : `POST /load?c=${id}&r=${r} body=${payload.length}\n`;
    socket.write(request);
    let responses = parseResponses(buffered);
    while (responses.length === 0) {
      if (socket.destroyed) return [...problems, `connection ${id} closed before response ${r}`];
      await new Promise<void>((resolve) => (waiting = resolve));
      responses = parseResponses(buffered);
    }
    const [response] = responses;
    buffered = buffered.slice(response.raw.length);
    if (response.status !== 200 || response.body !== expected)
      problems.push(`connection ${id}, request ${r}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return problems;
}

it(`serves ${CONNECTIONS} concurrent keep-alive connections × ${REQUESTS_PER_CONNECTION} requests with no error, then holds no socket`, async () => {
  const started = Date.now();
  const errors: string[] = [];
  const sockets: Socket[] = [];
  for (let first = 0; first < CONNECTIONS; first += CONNECT_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(CONNECT_BATCH, CONNECTIONS - first) }, () => openSocket(gateway.port)),
    );
    for (const socket of batch) socket.on('error', (error) => errors.push(String(error)));
    sockets.push(...batch);
  }
  // Every connection is open (and accepted by the server) before any request goes out: all of
  // them really are concurrent.
  await eventually(
    () => gateway.server.connectionCount === CONNECTIONS,
    5_000,
    `the server accepting all ${CONNECTIONS} connections`,
  );

  const problems = (await Promise.all(sockets.map((socket, id) => client(socket, id)))).flat();
  const elapsed = Date.now() - started;
  console.log(`load: ${CONNECTIONS * REQUESTS_PER_CONNECTION} requests on ${CONNECTIONS} connections in ${elapsed} ms`);
  expect(problems).toEqual([]);
  expect(errors).toEqual([]);
  expect(elapsed).toBeLessThan(RUN_BOUND_MS);

  // The clients leave: half politely (FIN), half abruptly (RST).
  sockets.forEach((socket, id) => (id % 2 === 0 ? socket.end() : socket.resetAndDestroy()));
  await eventually(
    () => gateway.openSockets() === 0 && gateway.server.connectionCount === 0,
    5_000,
    'every server-side socket closed',
  );
  expect(gateway.log).toEqual([]);
}, 60_000);
