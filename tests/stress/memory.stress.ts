// Memory stays bounded, measured on a gateway in a process of its own (fixtures/memory-server.ts,
// which reports process.memoryUsage() at /stats): an upload far beyond the body limit gets 413
// and is never buffered, and a 100 MiB response streamed to a slow reader goes out at the
// reader's pace (backpressure), so the server's memory grows by far less than what passes through.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drained } from '../../part2-tcp-http/socket-writer.ts';
import { runStage, type StageRun } from '../helpers/child.ts';
import { parseResponses } from '../helpers/http-text.ts';
import { measured, MiB } from '../helpers/memory.ts';
import { openSocket, readUntilClose } from '../helpers/wire.ts';

/** The bound: the server's resident memory may grow by at most this while the test runs. */
const MEMORY_GROWTH_BOUND_BYTES = 64 * MiB;
/** What the client tries to upload: four times the bound, 256 times the body limit. */
const UPLOAD_BYTES = 256 * MiB;
const DOWNLOAD_MIB = 100;
/** The slow reader's pace: 100 MiB take about 4 s. */
const READER_BYTES_PER_SECOND = 25 * MiB;

let stage: StageRun;
let port = 0;
beforeAll(async () => {
  stage = runStage(['tests/fixtures/memory-server.ts']);
  port = Number((await stage.waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
});
afterAll(async () => {
  if (stage.child.exitCode === null) {
    stage.child.kill('SIGTERM');
    await stage.exited;
  }
});

/** Write `total` bytes of chunked body, 1 MiB per chunk, waiting for drain; stop when the server closes. Returns the bytes written. */
async function uploadChunked(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(MiB, 'u');
  const frame = Buffer.concat([Buffer.from(`${MiB.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let written = 0;
  while (written < total && socket.writable) {
    written += MiB;
    if (!socket.write(frame)) await drained(socket);
  }
  return written;
}

it(`answers 413 to a ${UPLOAD_BYTES / MiB} MiB chunked upload without buffering it: the server grows by less than ${MEMORY_GROWTH_BOUND_BYTES / MiB} MiB`, async () => {
  const { result, growth } = await measured(port, async () => {
    const socket = await openSocket(port);
    socket.on('error', () => {}); // the server drops the connection once it has answered
    const answer = readUntilClose(socket, 30_000);
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const written = await uploadChunked(socket, UPLOAD_BYTES);
    return { written, responses: parseResponses((await answer).toString('latin1')) };
  });
  console.log(
    `memory: upload refused after the client wrote ${(result.written / MiB).toFixed(0)} MiB; server RSS grew ${(growth / MiB).toFixed(1)} MiB`,
  );
  expect(result.responses.map((response) => response.status)).toEqual([413]);
  expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
}, 60_000);

it(`answers 413 at once to a declared Content-Length of ${UPLOAD_BYTES / MiB} MiB, and reads none of it into memory`, async () => {
  const { result, growth } = await measured(port, async () => {
    const socket = await openSocket(port);
    socket.on('error', () => {});
    const answer = readUntilClose(socket, 30_000);
    socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`);
    const body = Buffer.alloc(MiB, 'u');
    for (let written = 0; written < UPLOAD_BYTES && socket.writable; written += MiB) {
      if (!socket.write(body)) await drained(socket);
    }
    return parseResponses((await answer).toString('latin1'));
  });
  expect(result.map((response) => response.status)).toEqual([413]);
  expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
}, 60_000);

it(`streams ${DOWNLOAD_MIB} MiB to a reader taking ${READER_BYTES_PER_SECOND / MiB} MiB/s with the server growing by less than ${MEMORY_GROWTH_BOUND_BYTES / MiB} MiB`, async () => {
  const { result, growth } = await measured(port, async () => {
    const socket = await openSocket(port);
    const started = Date.now();
    let received = 0;
    let head = '';
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (head.length < 200) head += chunk.toString('latin1', 0, Math.min(chunk.length, 200));
        // Read no faster than the pace: pause until the clock catches up with what we have.
        const aheadMs = (received / READER_BYTES_PER_SECOND) * 1000 - (Date.now() - started);
        if (aheadMs > 0) {
          socket.pause();
          setTimeout(() => socket.resume(), aheadMs);
        }
      });
      socket.once('close', () => resolve());
      socket.once('error', reject);
      socket.write(`GET /big?mib=${DOWNLOAD_MIB} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    return { received, head, seconds: (Date.now() - started) / 1000 };
  });
  console.log(
    `memory: ${DOWNLOAD_MIB} MiB in ${result.seconds.toFixed(1)} s; server RSS grew ${(growth / MiB).toFixed(1)} MiB`,
  );
  expect(result.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(result.head).toContain(`Content-Length: ${DOWNLOAD_MIB * MiB}\r\n`);
  expect(result.received).toBeGreaterThan(DOWNLOAD_MIB * MiB);
  expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
}, 60_000);
