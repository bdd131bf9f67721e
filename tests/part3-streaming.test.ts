// Streaming bodies: backpressure (a slow client slows the generator instead of filling the
// server's memory) and concurrency without threads (a slow response does not hold up others).
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { bytes, routes, useGateway } from './helpers/gateway.ts';
import { openSocket, readUntil } from './helpers/wire.ts';

const CHUNK_BYTES = 64 * 1024;
const CHUNK_COUNT = 320; // 20 MiB in all
/**
 * How far the generator may run ahead of what the client has read: the socket's own buffer
 * plus the kernel's send and receive buffers (a few MiB on loopback). Without backpressure it
 * would be all 20 MiB within milliseconds.
 */
const MAX_AHEAD_BYTES = 8 * 1024 * 1024;
const SLOW_CHUNKS = 5;
const SLOW_INTERVAL_MS = 100;

let chunksPulled = 0;

const apps: Record<string, Application> = {
  '/big': function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    for (let i = 0; i < CHUNK_COUNT; i++) {
      chunksPulled++;
      yield new Uint8Array(CHUNK_BYTES).fill(i % 256);
    }
  },
  '/slow': async function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    for (let i = 1; i <= SLOW_CHUNKS; i++) {
      yield bytes(`slow ${i}\n`);
      await sleep(SLOW_INTERVAL_MS);
    }
  },
  '/fast': (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes('fast\n')];
  },
  '/wait': async function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    await sleep(200); // an await (a database, a timer) hands the event loop to other requests
    yield bytes('waited\n');
  },
};

const gateway = useGateway(routes(apps));
afterEach(() => {
  expect(gateway.log).toEqual([]);
});

describe('backpressure', () => {
  it('pulls the next chunk of a 20 MiB body only as fast as a slow client reads', async () => {
    chunksPulled = 0;
    const socket = await openSocket(gateway.port);
    let received = 0;
    let mostAhead = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /big HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    // A slow reader: read for 5 ms, stop for 100 ms, a few times over.
    for (let round = 0; round < 5; round++) {
      socket.pause();
      await sleep(100);
      mostAhead = Math.max(mostAhead, chunksPulled * CHUNK_BYTES - received);
      socket.resume();
      await sleep(5);
    }
    expect(chunksPulled).toBeLessThan(CHUNK_COUNT);
    expect(mostAhead).toBeLessThan(MAX_AHEAD_BYTES);
    await closed; // then read at full speed: everything arrives
    expect(chunksPulled).toBe(CHUNK_COUNT);
    expect(received).toBeGreaterThan(CHUNK_COUNT * CHUNK_BYTES);
  });
});

describe('concurrency on one event loop', () => {
  it('answers a fast request on another connection while a slow stream is in the middle of its response', async () => {
    const socket = await openSocket(gateway.port);
    socket.write('GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    let slowDone = false;
    const slow = readUntil(socket, (soFar) => soFar.includes(`slow ${SLOW_CHUNKS}\n`)).then(() => (slowDone = true));
    await readUntil(socket, (soFar) => soFar.includes('slow 1\n'));
    const started = Date.now();
    const fast = await request(`${gateway.url}/fast`);
    expect(await fast.body.text()).toBe('fast\n');
    expect(Date.now() - started).toBeLessThan(SLOW_INTERVAL_MS);
    expect(slowDone).toBe(false);
    await slow;
    socket.destroy();
  });

  it('serves twenty requests that each wait 200 ms in about 200 ms, not twenty times that', async () => {
    const started = Date.now();
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await request(`${gateway.url}/wait`);
        return response.body.text();
      }),
    );
    expect(bodies).toEqual(Array(20).fill('waited\n'));
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
