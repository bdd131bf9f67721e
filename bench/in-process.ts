// The JavaScript cost of one request through the course's own servers, with no network at all:
//
//   npx tsx bench/in-process.ts [part2 part3 micro mvc]
//
// Each server of servers.ts gets 50 stand-in sockets (FakeSocket) through its 'connection'
// event, as node:net would hand it real ones. The same small GET is fed to each socket, and
// the time until every response has been written is divided by the number of responses. No
// system call, no load generator, no other process: what is left is the parser, the response
// writer, the gateway and the framework, and the garbage they leave. It moves far less from
// run to run than the load test (run.ts), so it is the quicker guide while optimising; the load
// test says what the change is worth next to node:http.
//
// Only the servers built on part 2's connection loop can run here: node:http, Fastify and Express
// need a real socket.
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SERVERS } from './servers.ts';

const CONNECTIONS = 50;
const WARM_UP_REQUESTS = 20_000;
const MEASURED_REQUESTS = 100_000;
const ROUNDS = 5;
const REQUEST = Buffer.from(
  'GET /hello/world HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: in-process\r\nAccept: */*\r\n\r\n',
  'latin1',
);

/** What part 2's Connection uses of a net.Socket, doing nothing but counting the writes. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  writableEnded = false;
  writableNeedDrain = false;
  remoteAddress = '127.0.0.1';
  remotePort = 40_000;
  localAddress = '127.0.0.1';
  localPort = 8080;
  writes = 0;

  write(_bytes: Uint8Array): boolean {
    this.writes++;
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  resume(): void {}
  pause(): void {}
  setNoDelay(): void {}
  cork(): void {}
  uncork(): void {}
}

/** Microseconds per request, one figure per round, for the server called `name`. */
async function measure(name: string): Promise<number[]> {
  const spec = SERVERS.find((server) => server.name === name);
  if (spec === undefined) throw new Error(`No server ${name} in servers.ts.`);
  const server = await spec.create();
  const sockets = Array.from({ length: CONNECTIONS }, () => new FakeSocket());
  for (const socket of sockets) server.emit('connection', socket);
  const written = (): number => sockets.reduce((sum, socket) => sum + socket.writes, 0);

  /** One request on every socket, then wait (a turn of the event loop at a time) for every answer. */
  async function serve(requests: number): Promise<void> {
    for (let done = 0; done < requests; done += CONNECTIONS) {
      const expected = written() + CONNECTIONS;
      for (const socket of sockets) socket.emit('data', Buffer.from(REQUEST));
      // At least one turn per batch, as each read of a real socket is a turn of its own:
      // what a server leaves for the end of the turn (setImmediate, process.nextTick) runs.
      do await nextTurn();
      while (written() < expected);
    }
  }

  await serve(WARM_UP_REQUESTS);
  const perRequest: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = written();
    const started = process.hrtime.bigint();
    await serve(MEASURED_REQUESTS);
    perRequest.push(Number(process.hrtime.bigint() - started) / 1_000 / (written() - before));
  }
  for (const socket of sockets) socket.emit('close', false);
  return perRequest;
}

const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : ['part2', 'part3', 'micro', 'mvc']) {
  const rounds = await measure(name);
  const median = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
  console.log(
    `${name.padEnd(6)} ${median.toFixed(2)} µs per request (median of ${ROUNDS} rounds of ${MEASURED_REQUESTS}: ${rounds.map((us) => us.toFixed(2)).join(', ')})`,
  );
}
