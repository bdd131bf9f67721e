// Hostile request bodies cost a server what the body is worth, not what its framing is: a
// chunked body of a million one-byte chunks is 6 MB on the wire for 1 MB of body, and chunk
// extensions can make the wire a thousand times longer still. Measured on servers in processes
// of their own (fixtures/memory-server.ts), by resident memory; and, in this process, by the
// bytes the gateway copies while an app reads such a body, never by elapsed time.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drained } from '../../part2-tcp-http/socket-writer.ts';
import type { Application } from '../../part3-gateway/contract.ts';
import { runStage, type StageRun } from '../helpers/child.ts';
import { bytes, startGateway } from '../helpers/gateway.ts';
import { parseResponses, type RawResponse } from '../helpers/http-text.ts';
import { measured, MiB } from '../helpers/memory.ts';
import { openSocket, readUntilClose } from '../helpers/wire.ts';

/** The bound on the server's growth: a 1 MiB body may cost a few times its size, not 167 MiB. */
const MEMORY_GROWTH_BOUND_BYTES = 32 * MiB;
/** One-byte chunks in a body: just under the 1 MiB body limit. */
const TINY_CHUNKS = 1_000_000;
/** The extension on each chunk in the extension attack: `1;aaa…a` (RFC 9112 §7.1.1). */
const EXTENSION = `;${'a'.repeat(1_018)}`;

/**
 * Send `head`, then `count` one-byte chunks (each with `extension`) in batches, waiting for the
 * socket to drain, then the last chunk and `then`; stop early when the server closes. Resolves
 * with the responses and the bytes written.
 */
async function sendTinyChunks(
  port: number,
  head: string,
  count: number,
  extension = '',
  then = '',
): Promise<{ responses: RawResponse[]; written: number }> {
  const socket: Socket = await openSocket(port);
  socket.on('error', () => {}); // a refused body ends in a reset when we write on
  const answer = readUntilClose(socket, 60_000);
  socket.write(head);
  const batch = Buffer.from(`1${extension}\r\nX\r\n`.repeat(1_000), 'latin1');
  let written = 0;
  for (let sent = 0; sent < count && socket.writable; sent += 1_000) {
    written += batch.length;
    if (!socket.write(batch)) await drained(socket);
  }
  if (socket.writable) socket.write(`0\r\n\r\n${then}`);
  return { responses: parseResponses((await answer).toString('latin1'), { closed: true }), written };
}

/** `requestLine` is method and target: `POST /echo`. */
const chunked = (requestLine: string, connection = 'close'): string =>
  `${requestLine} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: ${connection}\r\n\r\n`;
const bodiless = (requestLine: string): string =>
  `${requestLine} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;

/** `routes`: a request line whose handler reads the body (and what its answer shows), and one whose handler does not. */
function describeServer(
  name: string,
  args: string[],
  routes: { read: string; readAnswer: string; ignore: string },
): void {
  describe(`${name}, in a process of its own`, () => {
    let stage: StageRun;
    let port = 0;
    beforeAll(async () => {
      stage = runStage(['tests/fixtures/memory-server.ts', ...args]);
      port = Number((await stage.waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    });
    afterAll(async () => {
      if (stage.child.exitCode === null) {
        stage.child.kill('SIGTERM');
        await stage.exited;
      }
    });

    it(`reads a body of ${TINY_CHUNKS} one-byte chunks (${routes.read}) and grows by less than ${MEMORY_GROWTH_BOUND_BYTES / MiB} MiB`, async () => {
      const { result, growth } = await measured(port, () => sendTinyChunks(port, chunked(routes.read), TINY_CHUNKS));
      console.log(`${name}: ${TINY_CHUNKS} one-byte chunks read; RSS grew ${(growth / MiB).toFixed(1)} MiB`);
      expect(result.responses.map((response) => response.status)).toEqual([200]);
      expect(result.responses[0].body).toContain(routes.readAnswer);
      expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
    }, 120_000);

    it(`drains a body of ${TINY_CHUNKS} one-byte chunks that the handler never reads (${routes.ignore}) to reach the request after it, and grows by less than ${MEMORY_GROWTH_BOUND_BYTES / MiB} MiB`, async () => {
      const send = (): ReturnType<typeof sendTinyChunks> =>
        sendTinyChunks(port, chunked(routes.ignore, 'keep-alive'), TINY_CHUNKS, '', bodiless(routes.ignore));
      const { result, growth } = await measured(port, send);
      console.log(`${name}: ${TINY_CHUNKS} one-byte chunks drained; RSS grew ${(growth / MiB).toFixed(1)} MiB`);
      expect(result.responses.map((response) => response.status)).toEqual([200, 200]);
      expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
    }, 120_000);

    it('answers 413 to one-byte chunks with 1 KiB extensions once the extensions pass 16 KiB, having read little of the wire', async () => {
      // 100,000 such chunks would be 100 MB on the wire for 100 KB of body.
      const { result, growth } = await measured(port, () =>
        sendTinyChunks(port, chunked(routes.read), 100_000, EXTENSION),
      );
      console.log(
        `${name}: extension attack refused after ${(result.written / MiB).toFixed(1)} MiB written; RSS grew ${(growth / MiB).toFixed(1)} MiB`,
      );
      expect(result.responses.map((response) => response.status)).toEqual([413]);
      expect(result.responses[0].body).toMatch(/^413 Content Too Large: Chunk extensions too large/);
      expect(growth).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
    }, 120_000);
  });
}

describeServer("part 2's site", ['part2'], {
  read: 'POST /echo',
  readAnswer: 'X'.repeat(TINY_CHUNKS),
  ignore: 'GET /hello',
});
describeServer("part 3's gateway", [], { read: 'POST /read', readAnswer: `${TINY_CHUNKS}\n`, ignore: 'POST /ignore' });

describe("gateway.input's work is linear in the bytes, however small the chunks", () => {
  /** Bytes copied by Buffer.concat and Uint8Array#set while `work` runs, in this process. */
  async function bytesCopiedDuring(work: () => Promise<void>): Promise<number> {
    const { concat } = Buffer;
    const { set } = Uint8Array.prototype;
    let copied = 0;
    Buffer.concat = (list: readonly Uint8Array[], totalLength?: number): Buffer<ArrayBuffer> => {
      const result = concat(list, totalLength);
      copied += result.length;
      return result;
    };
    Uint8Array.prototype.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number): void {
      copied += source.length;
      set.call(this, source, offset);
    };
    try {
      await work();
    } finally {
      Buffer.concat = concat;
      Uint8Array.prototype.set = set;
    }
    return copied;
  }

  const CHUNKS = 100_000;
  const reads: Record<string, (input: Parameters<Application>[0]['gateway.input']) => Promise<number>> = {
    'read()': async (input) => (await input.read()).length,
    'read(1000) in a loop': async (input) => {
      let total = 0;
      for (let piece = await input.read(1000); piece.length > 0; piece = await input.read(1000)) total += piece.length;
      return total;
    },
    'readline() on a body with no newline': async (input) => (await input.readline()).length,
  };

  for (const [how, read] of Object.entries(reads)) {
    it(`copies at most a few times the wire's bytes when an app reads ${CHUNKS} one-byte chunks with ${how}`, async () => {
      const app: Application = async (environ, startResponse) => {
        const length = await read(environ['gateway.input']);
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [bytes(`${length}\n`)];
      };
      const gateway = await startGateway(app);
      let exchanged: { responses: RawResponse[]; written: number } | undefined;
      const copied = await bytesCopiedDuring(async () => {
        exchanged = await sendTinyChunks(gateway.port, chunked('POST /'), CHUNKS);
      });
      await gateway.close();
      console.log(
        `gateway.input ${how}: ${CHUNKS} one-byte chunks, ${exchanged?.written} bytes on the wire, ${copied} bytes copied`,
      );
      expect(exchanged?.responses[0].body).toBe(`${CHUNKS}\n`);
      // Quadratic reading (joining what it holds with every chunk) copied about 5 GB here.
      expect(copied).toBeLessThan(4 * (exchanged?.written ?? 0));
    }, 120_000);
  }
});
