// Part 1's echo server and client, tested on the wire: raw node:net sockets against a server
// started in-process on 127.0.0.1:0.
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runEchoClient } from '../part1-sockets/echo-client.ts';
import { createEchoServer } from '../part1-sockets/echo-server.ts';
import { settled, writeAsAccepted } from './checks/part1.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { unusedPort } from './helpers/ports.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const MiB = 1024 * 1024;

let server: RunningServer;
let serverClosed: boolean;
let logLines: string[];
const clients: Socket[] = [];

beforeEach(async () => {
  logLines = [];
  serverClosed = false;
  server = await start(createEchoServer({ log: (line) => logLines.push(line) }));
});

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  if (!serverClosed) await server.close();
});

async function connect(): Promise<Socket> {
  const socket = await openSocket(server.port);
  clients.push(socket);
  return socket;
}

function closeServer(): Promise<void> {
  serverClosed = true;
  return server.close();
}

function sameBytes(actual: Buffer, expected: Buffer): boolean {
  // Buffer.equals rather than toEqual: a failed toEqual on a MiB prints a MiB.
  return actual.length === expected.length && actual.equals(expected);
}

describe('the echo server', () => {
  it('sends back what a client sends', async () => {
    const socket = await connect();
    socket.write('hello\n');
    const echo = await readUntil(socket, (soFar) => soFar.length >= 6);
    expect(echo.toString()).toBe('hello\n');
  });

  it('echoes 1 MiB of random binary data byte for byte while the client is still writing', async () => {
    const data = randomBytes(MiB);
    const socket = await connect();
    const received = readUntilClose(socket);
    socket.end(data);
    expect(sameBytes(await received, data)).toBe(true);
  });

  it('serves 50 clients at once, each receiving only its own bytes', async () => {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connect()));
    const first = sockets.map((_, i) => Buffer.from(`client ${i}, part one|`));
    const second = sockets.map((_, i) => Buffer.from(`client ${i}, part two, the end`));

    // Every client has written before any echo is awaited, and none has hung up: a server that
    // served one connection to the end before accepting the next would never answer client 1.
    sockets.forEach((socket, i) => socket.write(first[i]));
    const firstEchoes = await Promise.all(
      sockets.map((socket, i) => readUntil(socket, (soFar) => soFar.length >= first[i].length)),
    );
    expect(firstEchoes.map(String)).toEqual(first.map(String));

    const rest = sockets.map((socket) => readUntilClose(socket));
    sockets.forEach((socket, i) => socket.end(second[i]));
    expect((await Promise.all(rest)).map(String)).toEqual(second.map(String));
  });

  it('stops reading from a client that does not read its echo, and catches up once it does', async () => {
    // More than the kernel buffers on both ends can hold (a few MiB each), so a server that
    // stops reading makes this client stop writing long before the end.
    const data = randomBytes(64 * MiB);
    const socket = await connect();
    socket.pause();
    const writer = writeAsAccepted(socket, data);

    const stalledAt = await settled(writer.handedOver, data.length);
    // A server that ignored write() returning false would have read all 64 MiB into memory.
    expect(stalledAt).toBeLessThan(data.length / 2);

    const received = readUntilClose(socket, 30_000);
    socket.resume();
    await writer.done;
    socket.end();
    expect(sameBytes(await received, data)).toBe(true);
  }, 30_000);

  it('keeps serving after a client resets its connection in the middle of an echo', async () => {
    const rude = await connect();
    const rudePort = rude.localPort;
    const echoStarted = readUntil(rude, (soFar) => soFar.length > 0);
    rude.write(randomBytes(MiB));
    await echoStarted;
    rude.resetAndDestroy();
    await vi.waitFor(() => expect(logLines.some((line) => line.startsWith(`127.0.0.1:${rudePort} closed`))).toBe(true));

    const polite = await connect();
    polite.write('still there?');
    const echo = await readUntil(polite, (soFar) => soFar.length >= 12);
    expect(echo.toString()).toBe('still there?');
  });

  it('finishes the echo after the client half-closes, then closes its own side with a FIN', async () => {
    const socket = await connect();
    let sawFin = false;
    socket.on('end', () => (sawFin = true));
    const received = readUntilClose(socket);
    socket.end('my last words');
    expect((await received).toString()).toBe('my last words');
    // 'end' is the server's FIN; a reset would have skipped it.
    expect(sawFin).toBe(true);
  });

  it('logs the client address and the bytes in and out when a connection closes', async () => {
    const socket = await connect();
    const clientPort = socket.localPort;
    const received = readUntilClose(socket);
    socket.end('12345');
    await received;
    await vi.waitFor(() => expect(logLines).toContain(`127.0.0.1:${clientPort} closed; bytes in: 5, out: 5`));
    expect(logLines).toContain(`127.0.0.1:${clientPort} connected`);
  });

  it('leaves no socket open after close()', async () => {
    const sockets = await Promise.all([connect(), connect(), connect()]);
    for (const socket of sockets) {
      socket.write('ping');
      await readUntil(socket, (soFar) => soFar.length >= 4);
    }
    expect(server.openSockets()).toBe(3);
    const allClosed = sockets.map((socket) => readUntilClose(socket));
    await closeServer();
    expect(server.openSockets()).toBe(0);
    await Promise.all(allClosed);
  });
});

describe('the echo client', () => {
  it('sends its input, prints the echo, and returns when the server closes after its FIN', async () => {
    const input = new PassThrough();
    let printed = '';
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        printed += chunk.toString();
        done();
      },
    });
    const messages: string[] = [];
    const finished = runEchoClient({
      host: server.host,
      port: server.port,
      input,
      output,
      log: (line) => messages.push(line),
    });
    input.end('hello\nworld\n');
    await finished;
    expect(printed).toBe('hello\nworld\n');
    expect(messages.at(-1)).toBe('The server closed the connection.');
  });

  it('says to start the server first when nothing is listening on the port', async () => {
    const port = await unusedPort();
    const run = runEchoClient({
      host: '127.0.0.1',
      port,
      input: new PassThrough(),
      output: new PassThrough(),
      log: () => {},
    });
    await expect(run).rejects.toThrow(
      `Nothing is listening on 127.0.0.1:${port}: start the echo server first (npm run part1)`,
    );
  });

  it('reports a connection the server resets, naming the error', async () => {
    const rude = createServer((socket) => socket.resetAndDestroy());
    const held = await start(rude);
    try {
      const run = runEchoClient({
        host: held.host,
        port: held.port,
        input: new PassThrough(),
        output: new PassThrough(),
        log: () => {},
      });
      await expect(run).rejects.toThrow(`Connection to 127.0.0.1:${held.port} failed: ECONNRESET`);
    } finally {
      await held.close();
    }
  });
});
