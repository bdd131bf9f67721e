// The inspector's proxy over real sockets: it must be invisible. Every byte both ways, exactly
// and in order (all 256 values, many MiB, pipelined requests); a slow reader slows the far
// writer down instead of filling the proxy's memory; a FIN or a reset on one side reaches the
// other as a FIN or a reset; a server that cannot be reached is a reset, not a crash.
//
// Each test starts its own server behind a proxy on 127.0.0.1:0, and stops both.
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProxy } from '../inspector/proxy.ts';
import { Recorder } from '../inspector/recorder.ts';
import type { ConnectionView, MessageView } from '../inspector/timeline.ts';
import { createEchoServer } from '../part1-sockets/echo-server.ts';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { unusedPort } from './helpers/ports.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { openSocket, readUntilClose } from './helpers/wire.ts';

const MiB = 1024 * 1024;
/** Big enough that the kernel's buffers (a few MiB per socket, four sockets) cannot hide it all. */
const FLOOD_BYTES = 64 * MiB;
/** What the proxy may hold for a receiver that does not read: a socket's queue and one read, not the flood. */
const PROXY_HOLDS_AT_MOST = 1 * MiB;

const running: RunningServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  // The proxies first (they were started after their servers), then the servers behind them.
  for (const server of running.splice(0).reverse()) await server.close();
});

interface Inspected {
  proxy: RunningServer;
  server: RunningServer;
  recorder: Recorder;
}

/** `server` on 127.0.0.1:0, and a proxy to it on another port. */
async function inspect(server: Server): Promise<Inspected> {
  const behind = await start(server);
  running.push(behind);
  const recorder = new Recorder();
  const proxy = await start(createProxy({ host: '127.0.0.1', port: behind.port }, recorder));
  running.push(proxy);
  return { proxy, server: behind, recorder };
}

async function client(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const opened = connect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false });
    opened.once('connect', () => resolve(opened));
    opened.once('error', reject);
  });
  sockets.push(socket);
  return socket;
}

/** Everything `socket` receives until the peer's FIN. */
function readToEnd(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** How `socket` ended: the error code of a reset, or 'FIN' for an orderly close. */
function howItEnds(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let code = 'FIN';
    socket.on('error', (error: NodeJS.ErrnoException) => (code = error.code ?? error.message));
    socket.on('data', () => {});
    socket.once('close', () => resolve(code));
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The accepted side of the one connection `server` will get. */
function nextConnection(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

/**
 * Write `data` as fast as the socket takes it, waiting for 'drain' whenever write() says the
 * queue is full. `handedOver` grows while the reader reads; it stops when nobody does.
 */
function flood(
  socket: Socket,
  data: Buffer,
): { handedOver: () => number; sawFull: () => boolean; done: Promise<void> } {
  let offset = 0;
  let full = false;
  const done = new Promise<void>((resolve) => {
    const writeMore = (): void => {
      while (offset < data.length) {
        const piece = data.subarray(offset, offset + 64 * 1024);
        offset += piece.length;
        if (!socket.write(piece)) {
          full = true;
          socket.once('drain', writeMore);
          return;
        }
      }
      resolve();
    };
    writeMore();
  });
  return { handedOver: () => offset, sawFull: () => full, done };
}

/** Wait until `measure` has not moved for a few polls: the writer is stuck. (A wait, never a verdict.) */
async function settled(measure: () => number): Promise<number> {
  let previous = -1;
  for (let still = 0; still < 3;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = measure();
    still = now === previous ? still + 1 : 0;
    previous = now;
  }
  return previous;
}

function onlyConnection(recorder: Recorder): ConnectionView {
  const [view] = recorder.snapshot();
  if (view === undefined) throw new Error('the recorder has no connection');
  return view;
}

describe('the inspector proxy, byte for byte', () => {
  it('carries all 256 byte values both ways, unchanged, to part 1 echo server and back', async () => {
    const { proxy } = await inspect(createEchoServer({ log: () => {} }));
    const socket = await client(proxy.port);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const echoed = readToEnd(socket);
    socket.end(all);
    expect((await echoed).equals(all)).toBe(true);
  });

  it('carries 16 MiB each way exactly (same SHA-256 back as sent)', async () => {
    const { proxy } = await inspect(createEchoServer({ log: () => {} }));
    const socket = await client(proxy.port);
    const data = randomBytes(16 * MiB);
    const echoed = readToEnd(socket);
    await flood(socket, data).done;
    socket.end();
    const back = await echoed;
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
  });

  it("carries three pipelined requests to part 2's server and its three answers back in order, and records them paired", async () => {
    const { proxy, recorder } = await inspect(createSiteServer());
    const socket = await openSocket(proxy.port);
    sockets.push(socket);
    const answer = readUntilClose(socket);
    socket.write(
      ['Ada', 'Grace', 'Edsger']
        .map(
          (name, i) => `GET /hello?name=${name} HTTP/1.1\r\nHost: x\r\n${i === 2 ? 'Connection: close\r\n' : ''}\r\n`,
        )
        .join(''),
    );
    const text = (await answer).toString('latin1');
    const order = ['Hello, Ada!', 'Hello, Grace!', 'Hello, Edsger!'].map((greeting) => text.indexOf(greeting));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    await vi.waitFor(() => expect(onlyConnection(recorder).open).toBe(false));
    const messages = onlyConnection(recorder).items.filter((item): item is MessageView => item.kind === 'message');
    expect(messages.map((message) => `${message.direction} ${message.number} ${message.head?.startLine}`)).toEqual([
      'to-server 1 GET /hello?name=Ada HTTP/1.1',
      'to-server 2 GET /hello?name=Grace HTTP/1.1',
      'to-server 3 GET /hello?name=Edsger HTTP/1.1',
      'to-client 1 HTTP/1.1 200 OK',
      'to-client 2 HTTP/1.1 200 OK',
      'to-client 3 HTTP/1.1 200 OK',
    ]);
  });
});

describe('the inspector proxy, how connections end', () => {
  it("passes the client's FIN on, and the server can still answer after it (half-close)", async () => {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const heard: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => heard.push(chunk));
      // Only the client's FIN, passed on, makes 'end' fire here.
      socket.on('end', () => socket.end(`you said "${Buffer.concat(heard).toString()}" and then FIN`));
    });
    const { proxy } = await inspect(server);
    const socket = await client(proxy.port, { allowHalfOpen: true });
    const answer = readToEnd(socket);
    socket.end('bye');
    expect((await answer).toString()).toBe('you said "bye" and then FIN');
  });

  it("passes the server's FIN on, and the client can still send after it (half-close the other way)", async () => {
    const server = createServer({ allowHalfOpen: true });
    const { proxy } = await inspect(server);
    const accepted = nextConnection(server);
    const socket = await client(proxy.port, { allowHalfOpen: true });
    const behind = await accepted;
    const heardAfterFin = readToEnd(behind);
    behind.end('the server is done talking');
    expect((await readToEnd(socket)).toString()).toBe('the server is done talking');
    socket.end('but the client was not');
    expect((await heardAfterFin).toString()).toBe('but the client was not');
  });

  it("turns the client's reset into a reset toward the server", async () => {
    const server = createServer();
    const { proxy } = await inspect(server);
    const accepted = nextConnection(server);
    const socket = await client(proxy.port);
    const behind = await accepted;
    const ending = howItEnds(behind);
    socket.write('about to vanish');
    await new Promise((resolve) => behind.once('data', resolve));
    socket.resetAndDestroy();
    expect(await ending).toBe('ECONNRESET');
  });

  it("turns the server's reset into a reset toward the client, and records who reset", async () => {
    const server = createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const { proxy, recorder } = await inspect(server);
    const socket = await client(proxy.port);
    const ending = howItEnds(socket);
    socket.write('hello?');
    expect(await ending).toBe('ECONNRESET');
    await vi.waitFor(() => expect(onlyConnection(recorder).open).toBe(false));
    expect(onlyConnection(recorder).items).toContainEqual(
      expect.objectContaining({
        event: 'reset',
        direction: 'to-client',
        text: expect.stringContaining('server reset'),
      }),
    );
  });

  it('resets the client when the server cannot be reached, says why, and serves the next client', async () => {
    const port = await unusedPort();
    const recorder = new Recorder();
    const refusals: string[] = [];
    const proxy = await start(createProxy({ host: '127.0.0.1', port }, recorder, (code) => refusals.push(code)));
    running.push(proxy);
    for (let i = 0; i < 2; i++) {
      const socket = await client(proxy.port);
      expect(await howItEnds(socket)).toBe('ECONNRESET');
    }
    expect(refusals).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    await vi.waitFor(() => expect(recorder.snapshot().every((view) => !view.open)).toBe(true));
    expect(recorder.snapshot()[0].items.map((item) => (item.kind === 'event' ? item.event : item.kind))).toEqual([
      'open',
      'refused',
      'closed',
    ]);
  });

  it('keeps forwarding bytes that are not HTTP, and records them as such', async () => {
    const { proxy, recorder } = await inspect(createEchoServer({ log: () => {} }));
    const socket = await client(proxy.port);
    const garbage = Buffer.from('\x00\xff GARBAGE \r\n\r\n', 'latin1');
    const echoed = readToEnd(socket);
    socket.end(garbage);
    expect((await echoed).equals(garbage)).toBe(true);
    await vi.waitFor(() => expect(onlyConnection(recorder).open).toBe(false));
    const kinds = onlyConnection(recorder).items.map((item) =>
      item.kind === 'event' ? item.event : `${item.kind} ${item.direction}`,
    );
    expect(kinds).toEqual(expect.arrayContaining(['not-http', 'raw to-server', 'raw to-client']));
  });
});

describe('the inspector proxy, backpressure', () => {
  it('stops reading the server while the client does not read, holds only a socket buffer, and delivers all once it reads', async () => {
    const data = randomBytes(FLOOD_BYTES);
    const server = createServer();
    const { proxy, recorder } = await inspect(server);
    const accepted = nextConnection(server);
    const socket = await client(proxy.port);
    socket.pause(); // the client reads nothing, for now
    const behind = await accepted;
    const writer = flood(behind, data);

    await vi.waitFor(() => expect(onlyConnection(recorder).backpressure['to-client'].paused).toBe(true), {
      timeout: 10_000,
    });
    const stalledAt = await settled(writer.handedOver);
    expect(writer.sawFull()).toBe(true);
    expect(stalledAt).toBeLessThan(data.length / 2);
    expect(onlyConnection(recorder).backpressure['to-client'].held).toBeLessThanOrEqual(PROXY_HOLDS_AT_MOST);

    const hash = createHash('sha256');
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
    });
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    await writer.done;
    behind.end();
    await ended;
    expect(received).toBe(data.length);
    expect(hash.digest('hex')).toBe(sha256(data));
  });

  it('stops reading the client while the server does not read, and delivers all once it reads', async () => {
    const data = randomBytes(FLOOD_BYTES);
    const server = createServer();
    const { proxy, recorder } = await inspect(server);
    const accepted = nextConnection(server);
    const socket = await client(proxy.port);
    const behind = await accepted;
    behind.pause(); // the server reads nothing, for now
    const writer = flood(socket, data);

    await vi.waitFor(() => expect(onlyConnection(recorder).backpressure['to-server'].paused).toBe(true), {
      timeout: 10_000,
    });
    const stalledAt = await settled(writer.handedOver);
    expect(writer.sawFull()).toBe(true);
    expect(stalledAt).toBeLessThan(data.length / 2);
    expect(onlyConnection(recorder).backpressure['to-server'].held).toBeLessThanOrEqual(PROXY_HOLDS_AT_MOST);

    const heard = readToEnd(behind);
    behind.resume();
    await writer.done;
    socket.end();
    const all = await heard;
    expect(all.length).toBe(data.length);
    expect(sha256(all)).toBe(sha256(data));
  });
});
