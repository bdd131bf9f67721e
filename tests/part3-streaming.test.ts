// Streaming bodies: backpressure (a slow client slows the generator instead of filling the
// server's memory) and concurrency without threads (a slow response does not hold up others).
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { bytes, routes, useGateway } from './helpers/gateway.ts';
import { openSocket, readUntil } from './helpers/wire.ts';

const CHUNK_BYTES = 64 * 1024;
const CHUNK_COUNT = 1024; // 64 MiB in all
/**
 * How far the generator may run ahead of what the client has read: the socket's own buffer
 * plus the kernel's send and receive buffers on loopback (about 4 MiB on a typical Linux, which
 * lets them grow further: half the body leaves room for that). Without backpressure it would be
 * all 64 MiB, pulled in one go while the client reads nothing.
 */
const MAX_AHEAD_BYTES = 32 * 1024 * 1024;
const SLOW_CHUNKS = 5;
const SLOW_INTERVAL_MS = 100;

/** What the client of the backpressure test has received so far, and how far the app got ahead. */
const progress = { pulled: 0, received: 0, mostAhead: 0 };

const apps: Record<string, Application> = {
  '/big': function* (_environ, startResponse) {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    for (let i = 0; i < CHUNK_COUNT; i++) {
      // Measured at each pull: the promise of backpressure holds at every moment, however fast
      // or slow the machine and the client are.
      progress.pulled++;
      progress.mostAhead = Math.max(progress.mostAhead, progress.pulled * CHUNK_BYTES - progress.received);
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
  it('pulls the next chunk of a 64 MiB body only as fast as a slow client reads', async () => {
    Object.assign(progress, { pulled: 0, received: 0, mostAhead: 0 });
    const socket = await openSocket(gateway.port);
    socket.on('data', (chunk: Buffer) => (progress.received += chunk.length));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /big HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
    // A slow reader: stop reading for 100 ms, read for 5 ms, a few times over. How much it
    // reads in 5 ms depends on the machine; how far the app runs ahead of it must not.
    for (let round = 0; round < 5; round++) {
      socket.pause();
      await sleep(100);
      socket.resume();
      await sleep(5);
    }
    await closed; // then read at full speed: everything arrives
    expect(progress.mostAhead).toBeGreaterThan(0);
    expect(progress.mostAhead).toBeLessThan(MAX_AHEAD_BYTES);
    expect(progress.pulled).toBe(CHUNK_COUNT);
    expect(progress.received).toBeGreaterThan(CHUNK_COUNT * CHUNK_BYTES);
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
