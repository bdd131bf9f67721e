// Part 1's checks: what a TCP echo server must do, asked over a raw socket. Not HTTP: bytes go
// out, the same bytes must come back, and how each connection ends matters as much.
//
// Core: what the stage teaches (echo text and binary exactly, many clients at once, half-close,
// a reset that harms no one). Hardening: a client that does not read its echo (backpressure),
// clients that leave without a word. Challenges: the README's, each a server of its own.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CheckFailure, expectThat, type Check, type CheckContext, type Hint } from './check.ts';
import { randomWord, sleep } from './http.ts';
import { Conversation } from './wire.ts';

const README = 'part1-sockets/README.md';
const hint = (concept: string, section: string, reference: string): Hint => ({
  concept,
  readme: `${README}, section "${section}"`,
  reference: `part1-sockets/${reference}`,
});

const KiB = 1024;
const MiB = 1024 * KiB;
/** How much later than the server's own idle timeout a check still accepts the close. */
const TIMEOUT_SLACK_MS = 1_500;
/** "Nothing came back" is judged after this long: a server that answers too early does so at once. */
const QUIET_MS = 300;

function open(context: CheckContext, label?: string): Promise<Conversation> {
  return Conversation.open(context.host, context.port, context.transcripts, label);
}

const CRASH_ADVICE =
  "Is the server gone? A read or write on a connection the client reset fails (ECONNRESET, EPIPE), and that must end that connection only. Node: if its terminal shows \"Unhandled 'error' event\", it crashed on an 'error' that had no listener: give every socket an 'error' listener.";

/** Open a connection after something that may have killed the server: if none is accepted, say so. */
async function openAfter(context: CheckContext, what: string, label: string): Promise<Conversation> {
  try {
    return await open(context, label);
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    throw new CheckFailure({
      expected: `the server to accept a new connection after ${what}`,
      seen: `no server listening any more (${error.seen})`,
      advice: CRASH_ADVICE,
    });
  }
}

/** A byte as the report shows it: printable ASCII as is, anything else as \xHH. */
function showByte(byte: number | undefined): string {
  if (byte === undefined) return 'nothing';
  return byte >= 0x21 && byte < 0x7f ? `"${String.fromCharCode(byte)}"` : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** An echo that stops coming for this long has stopped. */
const STALL_MS = 2_000;

/**
 * `sent` must have come back, exactly, starting at `from` in the connection's received bytes.
 * Waits for all of it while it keeps coming; fails at the first wrong or missing byte, caret under it.
 */
async function expectEcho(
  conversation: Conversation,
  sent: Buffer,
  options: { from?: number; what: string; advice?: string },
): Promise<void> {
  const from = options.from ?? 0;
  // However long the echo, wait as long as it keeps coming; give up after STALL_MS of nothing.
  let before = -1;
  while (
    conversation.received.length < from + sent.length &&
    conversation.received.length > before &&
    conversation.ended === null
  ) {
    before = conversation.received.length;
    await conversation.waitFor(
      () => conversation.received.length >= from + sent.length || conversation.received.length > before,
      STALL_MS,
    );
  }
  const echoed = conversation.received.subarray(from);
  const shared = Math.min(echoed.length, sent.length);
  let offset = 0;
  while (offset < shared && echoed[offset] === sent[offset]) offset++;
  if (offset === sent.length) {
    if (echoed.length === sent.length) return;
    throw new CheckFailure({
      expected: `the ${sent.length} bytes of ${options.what} back, and nothing more`,
      seen: `${echoed.length - sent.length} bytes more than were sent`,
      caretAt: from + sent.length,
      advice: 'Write back each chunk exactly once, as it came: no added newline, prompt or greeting.',
    });
  }
  if (offset === echoed.length) {
    const end =
      conversation.ended === 'closed'
        ? 'then the server closed the connection'
        : conversation.ended === 'reset'
          ? 'then the connection was reset'
          : `then nothing for ${STALL_MS} ms`;
    const seen =
      echoed.length === 0
        ? conversation.ended === null
          ? `nothing back within ${STALL_MS} ms`
          : `nothing back, ${end}`
        : `only ${echoed.length} of them, ${end}`;
    throw new CheckFailure({
      expected: `the ${sent.length} bytes of ${options.what} back`,
      seen,
      advice:
        options.advice ??
        "Write back every chunk you read, on the connection it came from, and keep the connection open until the client ends it (Node: what each 'data' event brings).",
    });
  }
  const mangled = sent[offset] >= 0x80 && echoed.subarray(offset, offset + 3).equals(Buffer.from([0xef, 0xbf, 0xbd]));
  throw new CheckFailure({
    expected: `the ${sent.length} bytes of ${options.what} back, unchanged`,
    seen: `byte ${offset} differs: sent ${showByte(sent[offset])}, got back ${showByte(echoed[offset])} (the ${offset} bytes before it came back right)`,
    caretAt: from + offset,
    advice: mangled
      ? 'Got back \\xef\\xbf\\xbd, the UTF-8 for "�": the bytes were decoded as text and encoded again. Bytes are not text: write back the Buffer the \'data\' event gave you, never chunk.toString().'
      : 'Write back each chunk as it came, whole, in order: no changes, no fixed-size buffer that drops the rest.',
  });
}

/** Five connections, opened in order, each used in reverse order: a one-at-a-time server cannot answer. */
const CLIENTS = 5;

/**
 * Write `data` in 64 KiB pieces as fast as the socket takes them: the next piece only after
 * 'drain' whenever write() says the queue is full. `handedOver()` is how far it has got.
 */
export function writeAsAccepted(socket: Socket, data: Buffer): { handedOver: () => number; done: Promise<void> } {
  let offset = 0;
  const done = new Promise<void>((resolve) => {
    const writeMore = (): void => {
      while (offset < data.length) {
        const piece = data.subarray(offset, offset + 64 * KiB);
        offset += piece.length;
        if (!socket.write(piece)) {
          socket.once('drain', writeMore);
          return;
        }
      }
      resolve();
    };
    writeMore();
  });
  return { handedOver: () => offset, done };
}

/** Poll `measure` until it has not moved for `quietPolls` polls in a row (or reached `limit`), and return it. */
export async function settled(measure: () => number, limit: number): Promise<number> {
  const pollMs = 250;
  const quietPolls = 3;
  let previous = measure();
  let quiet = 0;
  while (quiet < quietPolls && previous < limit) {
    await sleep(pollMs);
    const now = measure();
    quiet = now === previous ? quiet + 1 : 0;
    previous = now;
  }
  return previous;
}

/** A plain socket, not recorded: 64 MiB of transcript would only drown the report. */
function rawConnect(context: CheckContext): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: context.host, port: context.port });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CheckFailure({
          expected: `a server accepting connections on ${context.host}:${context.port}`,
          seen: `${error.code ?? error.message}: nothing is listening there`,
        }),
      ),
    );
  });
}

/** The shell command that shows backpressure by hand: a client that writes and never reads. */
function nonReaderCommand(context: CheckContext): string {
  return `node -e 'const s = require("net").connect(${context.port}, "${context.host}"); s.pause(); const b = Buffer.alloc(65536); let n = 0; (function w() { while (n < 64 * 2 ** 20) { n += b.length; if (s.write(b) === false) return s.once("drain", w); } })(); setInterval(() => console.log(n / 2 ** 20, "MiB sent, none read"), 500)'`;
}

const BACKPRESSURE_BYTES = 64 * MiB;
export const part1Checks: Check[] = [
  // ---- core ------------------------------------------------------------------------------
  {
    group: 'core',
    name: 'accepts a TCP connection and keeps it open',
    hint: hint(
      "A server listens on an address; each client's connect() is accepted as a new socket, which stays open until one side ends it.",
      'Sockets in six calls',
      'echo-server.ts → createEchoServer',
    ),
    async run(context) {
      const conversation = await open(context);
      await conversation.waitForClose(QUIET_MS);
      expectThat(
        conversation.ended === null,
        'the connection to stay open while the client says nothing',
        `it was ${conversation.ended === 'reset' ? 'reset' : 'closed'} at once`,
        "Accept the connection and keep it open until the client ends it (Node: do not end() or destroy() the socket before its 'end' event).",
      );
    },
  },
  {
    group: 'core',
    name: 'echoes a line of text',
    hint: hint(
      "Each read gives you whatever bytes have arrived; write them back on the same connection (Node: every 'data' event hands you a Buffer; socket.write(chunk)).",
      'Sockets in six calls',
      'echo-server.ts → echo',
    ),
    async run(context) {
      const line = Buffer.from(`hello, ${randomWord()}\n`);
      const conversation = await open(context);
      conversation.send(line);
      await expectEcho(conversation, line, {
        what: 'the line',
        advice:
          "Read from the connection and write each chunk back as it comes (Node: socket.on('data', (chunk) => socket.write(chunk))).",
      });
    },
  },
  {
    group: 'core',
    name: 'echoes binary data exactly: all 256 byte values, then 1 MiB of random bytes',
    hint: hint(
      'TCP carries bytes, not text, in order and without gaps: whatever arrives, in however many chunks, goes back unchanged.',
      'Sockets in six calls',
      'echo-server.ts → echo',
    ),
    async run(context) {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, value) => value));
      context.reproduce(
        `node -e 'process.stdout.write(Buffer.from([...Array(256).keys()]))' | nc -N ${context.host} ${context.port} | od -An -tx1   # 00 01 02 ... ff`,
      );
      const first = await open(context, 'all 256 byte values');
      first.send(everyByte);
      await expectEcho(first, everyByte, { what: 'the 256 byte values' });
      // One connection at a time: this check is about bytes, check 4 about many clients.
      first.close();

      const noise = randomBytes(MiB);
      context.reproduce(
        `head -c 1048576 /dev/urandom > noise.bin; nc -N ${context.host} ${context.port} < noise.bin | cmp - noise.bin && echo 'all 1048576 bytes came back'`,
      );
      const second = await open(context, '1 MiB of random bytes');
      second.send(noise);
      await expectEcho(second, noise, { what: '1 MiB of random bytes' });
    },
  },
  {
    group: 'core',
    name: `serves ${CLIENTS} clients at once, answering them in the reverse order of connecting`,
    hint: hint(
      'There is no thread per client: each connection is its own event handlers, and the event loop runs whichever has bytes waiting.',
      'Sockets in six calls',
      'echo-server.ts → createEchoServer',
    ),
    async run(context) {
      const clients: Conversation[] = [];
      for (let i = 1; i <= CLIENTS; i++) clients.push(await open(context, `client ${i}`));
      // The last one first: a server still busy with client 1 (it has not hung up) cannot answer it.
      for (let i = CLIENTS; i >= 1; i--) {
        const message = Buffer.from(`client ${i} of ${CLIENTS} says ${randomWord()}\n`);
        clients[i - 1].send(message);
        await expectEcho(clients[i - 1], message, {
          what: `client ${i}'s message`,
          advice:
            i === CLIENTS
              ? `Clients 1 to ${CLIENTS - 1} are connected and silent. A server that serves one connection to its end before accepting the next never gets to client ${CLIENTS}: handle each socket in its own handlers (or thread), never wait on one.`
              : undefined,
        });
      }
    },
  },
  {
    group: 'core',
    name: "echoes everything after the client's FIN, then closes its own side (half-close)",
    hint: hint(
      "A FIN ends one direction only: after the client's (a read returns end-of-stream), finish writing the echo, then send yours (Node: on 'end', socket.end()).",
      'Sockets in six calls',
      'echo-server.ts → echo',
    ),
    async run(context) {
      const words = Buffer.from(`my last words: ${randomWord()}\n`);
      const conversation = await open(context);
      conversation.sendAndEnd(words);
      const closed = await conversation.waitForClose(STALL_MS);
      await expectEcho(conversation, words, {
        what: 'the last words',
        advice:
          "After the client's FIN, still write back what came before it, then close your side: a half-close, not an abort (Node: end() after the echo, not destroy()).",
      });
      expectThat(
        closed,
        "the server's FIN after the echo (the client has said it will send nothing more)",
        `the connection still open ${STALL_MS} ms later`,
        "When a read returns end-of-stream (the client's FIN), close your sending side once the echo is written (shutdown(SHUT_WR) in C or Python). Node: on the socket's 'end' event call socket.end(), which sends your FIN after the queued echo (Node does it for you unless the server was made with allowHalfOpen: true).",
      );
      expectThat(
        conversation.ended === 'closed',
        'a FIN: the connection closed in order',
        'a reset (RST): the connection aborted',
        'Close with a FIN after the queued bytes (Node: socket.end()); closing with bytes still unread (Node: destroy()) makes the kernel send a reset.',
      );
    },
  },
  {
    group: 'core',
    name: 'keeps serving after a client resets its connection in the middle of an echo',
    hint: hint(
      "A client may vanish (RST): its socket emits 'error' (ECONNRESET, EPIPE), and with no 'error' listener Node ends the whole process.",
      'Break it',
      'echo-server.ts → echo',
    ),
    async run(context) {
      context.reproduce(
        `node -e 'const s = require("net").connect(${context.port}, "${context.host}", () => { s.write(Buffer.alloc(1 << 20)); setTimeout(() => s.resetAndDestroy(), 100) })'; sleep 1; printf 'still there?\\n' | nc -N ${context.host} ${context.port}`,
      );
      const rude = await open(context, 'the client that resets');
      rude.send(randomBytes(MiB));
      await rude.waitForBytes(1);
      rude.socket.resetAndDestroy();
      await sleep(200);
      const polite = await openAfter(context, 'a client reset its connection', 'the next client');
      const line = Buffer.from(`still there? ${randomWord()}\n`);
      polite.send(line);
      // A server that is dying may still have accepted this connection: then it is cut, unanswered.
      await expectEcho(polite, line, { what: "the next client's line", advice: CRASH_ADVICE });
    },
  },

  // ---- hardening ---------------------------------------------------------------------------
  {
    group: 'hardening',
    name: 'stops reading from a client that does not read its echo, serves others meanwhile, and catches up once it reads',
    hint: hint(
      "write() returns false when the socket's queue is full: pause() reading until 'drain', then resume(), or a client that never reads makes the server hold everything it sends.",
      'Break it',
      'echo-server.ts → echo',
    ),
    async run(context) {
      context.reproduce(`${nonReaderCommand(context)}   # with backpressure the count stops after a few MiB`);
      const data = randomBytes(BACKPRESSURE_BYTES);
      const socket = await rawConnect(context);
      try {
        // Never read (for now): the echo piles up in the kernel's buffers, then in the server.
        socket.pause();
        socket.on('error', () => {});
        const writer = writeAsAccepted(socket, data);
        const stalledAt = await settled(writer.handedOver, data.length);
        expectThat(
          stalledAt < data.length / 2,
          `the server to stop taking bytes once its echo queue is full (a few MiB at most: the kernel's buffers and its own queue)`,
          `it took ${(stalledAt / MiB).toFixed(1)} MiB from a client that read none of its echo${stalledAt === data.length ? ' (all of it)' : ''}, and holds in memory what it could not send`,
          "Stop reading from a client while its echo cannot be sent (its send buffer is full), and read again once it has drained (Node: when socket.write(chunk) returns false, call socket.pause(), and socket.resume() on the next 'drain'). Otherwise the server reads as fast as the client sends, whatever the client reads: one client can fill its memory.",
        );

        const other = await open(context, 'another client, meanwhile');
        const line = Buffer.from(`me too? ${randomWord()}\n`);
        other.send(line);
        await expectEcho(other, line, {
          what: "another client's line, while the first does not read",
          advice:
            'One stalled client must not stall the others: never block (or wait) on a socket whose queue is full; pause it and serve the rest.',
        });

        // Now read: the whole echo must come, then the server's FIN after ours.
        let received = 0;
        let wrongAt = -1;
        socket.on('data', (chunk: Buffer) => {
          if (wrongAt === -1 && !chunk.equals(data.subarray(received, received + chunk.length))) {
            let i = 0;
            while (chunk[i] === data[received + i]) i++;
            wrongAt = received + i;
          }
          received += chunk.length;
        });
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.resume();
        let finished = false;
        void writer.done
          .then(() => socket.end())
          .then(() => closed)
          .then(() => (finished = true));
        // As long as the echo keeps coming; STALL_MS of nothing means the server stopped.
        let lastProgress = { bytes: received, at: Date.now() };
        while (!finished && Date.now() - lastProgress.at < STALL_MS) {
          await sleep(50);
          if (received !== lastProgress.bytes) lastProgress = { bytes: received, at: Date.now() };
        }
        expectThat(
          wrongAt === -1,
          'the echo unchanged once the client reads',
          `byte ${wrongAt} differs from what was sent`,
          'Write back each chunk as it came, in order.',
        );
        expectThat(
          received === data.length && socket.readableEnded,
          `all ${data.length} bytes back, then the server's FIN`,
          `${received} bytes back${socket.readableEnded ? ', then a FIN' : `, then nothing for ${STALL_MS} ms`}`,
          "Once the client reads again, 'drain' fires: resume() reading there, or the server stays paused for ever.",
        );
      } finally {
        socket.destroy();
      }
    },
  },
  {
    group: 'hardening',
    name: 'shrugs off clients that connect and leave without sending a byte',
    hint: hint(
      'A connection may end before any data: the first read is the end of the stream (the FIN), or an error (a reset). Close your side and go on serving.',
      'Sockets in six calls',
      'echo-server.ts → echo',
    ),
    async run(context) {
      const quiet = await open(context, 'a client that sends only its FIN');
      quiet.sendAndEnd();
      const closed = await quiet.waitForClose(STALL_MS);
      expectThat(
        closed,
        "the server to close its side after the client's FIN, having nothing to echo",
        `the connection still open ${STALL_MS} ms later`,
        'A read that returns the end of the stream (0 bytes, the FIN) means the client is done: stop reading and close, do not loop on it.',
      );
      expectThat(
        quiet.received.length === 0,
        'no bytes for a client that sent none',
        () => `${quiet.received.length} bytes`,
      );
      const rude = await openAfter(context, 'a client left without a word', 'a client that resets at once');
      rude.socket.resetAndDestroy();
      await sleep(200);
      const next = await openAfter(context, 'a client reset a connection that had sent nothing', 'the next client');
      const line = Buffer.from(`anyone home? ${randomWord()}\n`);
      next.send(line);
      await expectEcho(next, line, { what: "the next client's line" });
    },
  },

  // ---- challenges (README, "Challenges"): each is a server of its own ---------------------
  {
    group: 'challenge 1',
    name: 'numbers each line: "hel", "lo\\nwor", "ld\\n" come back as "1: hello\\n2: world\\n"',
    hint: hint(
      "Lines are not chunks: keep what follows the last \\n until the next read, answer each complete line, and the unfinished one at the client's FIN.",
      'Challenges',
      'solutions/challenge-1.ts → numberLines',
    ),
    async run(context) {
      const conversation = await open(context);
      conversation.send('hel');
      await sleep(QUIET_MS);
      expectThat(
        conversation.received.length === 0,
        'no answer before the line ends (no \\n yet)',
        () => `${conversation.received.length} bytes back after only "hel"`,
        'Keep the unfinished line between two reads; answer only when its \\n has arrived.',
      );
      await sleep(50);
      conversation.send('lo\nwor');
      await sleep(100);
      conversation.send('ld\n');
      await expectEcho(conversation, Buffer.from('1: hello\n2: world\n'), {
        what: 'the two numbered lines',
        advice: 'Each line comes back once, as "N: " + the line + "\\n", N counting from 1 on each connection.',
      });
      conversation.sendAndEnd('last');
      const closed = await conversation.waitForClose(STALL_MS);
      await expectEcho(conversation, Buffer.from('3: last\n'), {
        from: '1: hello\n2: world\n'.length,
        what: 'the last line, which had no \\n',
        advice:
          "At the client's FIN (Node: 'end'), what is left is a last line without its \\n: answer it, then close your side.",
      });
      expectThat(closed, "the server's FIN after the last line", `the connection still open ${STALL_MS} ms later`);
      const again = await open(context, 'a second connection');
      again.send('again\n');
      await expectEcho(again, Buffer.from('1: again\n'), {
        what: "a new connection's first line",
        advice: 'Count lines per connection: a new client starts at 1.',
      });
    },
  },
  {
    group: 'challenge 2',
    name: 'closes a connection that has been idle for the idle timeout, and not one that keeps talking',
    hint: hint(
      "Close a connection after ms with no bytes either way (Node: socket.setTimeout(ms) fires 'timeout'; end() the socket then, and destroy() it if the client still does not hang up).",
      'Challenges',
      'solutions/challenge-2.ts → createIdleEchoServer',
    ),
    async run(context) {
      const { idleMs } = context.timeouts;
      const quiet = await open(context, 'a quiet client');
      const chatty = await open(context, 'a client that keeps talking');
      const hello = Buffer.from(`hello ${randomWord()}\n`);
      quiet.send(hello);
      const quietClosed = quiet.waitForClose(idleMs + TIMEOUT_SLACK_MS);
      // Meanwhile the other client sends a line every quarter of the timeout, for 1.5 timeouts.
      let expected = Buffer.alloc(0);
      for (let elapsed = 0; elapsed < idleMs * 1.5; elapsed += idleMs / 4) {
        const line = Buffer.from(`still here at ${elapsed} ms\n`);
        expected = Buffer.concat([expected, line]);
        chatty.send(line);
        await sleep(idleMs / 4);
      }
      await expectEcho(chatty, expected, {
        what: 'every line of the talking client',
        advice: `A client that sends something every ${idleMs / 4} ms is not idle: the timer must restart with every byte (Node: socket.setTimeout does that), not run from the connection's start.`,
      });
      expectThat(
        chatty.ended === null,
        `the talking client's connection to stay open`,
        `it was ${chatty.ended === 'reset' ? 'reset' : 'closed'}`,
        'Only a connection with no bytes for the whole timeout is idle.',
      );
      const closed = await quietClosed;
      await expectEcho(quiet, hello, { what: "the quiet client's first line" });
      context.reproduce(
        `time (printf 'hello\\n' | nc ${context.host} ${context.port})   # nc without -N waits for the server to close: ${idleMs / 1000} s`,
      );
      expectThat(
        closed,
        `the quiet client's connection closed by the server within ${idleMs + TIMEOUT_SLACK_MS} ms of its last byte (the idle timeout is ${idleMs} ms)`,
        'it stayed open',
        `Time each connection's silence, and close it after ${idleMs} ms (Node: socket.setTimeout(${idleMs}), and end() it on 'timeout'). If your timeout is not ${idleMs} ms, tell the checker: --idle-timeout MS.`,
      );
      expectThat(
        quiet.ended === 'closed',
        'a FIN (end()), the polite close',
        'a reset (RST)',
        'end() sends a FIN; destroy() with unread bytes makes the kernel send a reset.',
      );
    },
  },
  {
    group: 'challenge 3',
    name: 'the hello server answers once the blank line (\\r\\n\\r\\n) has arrived, however the head is split',
    hint: hint(
      'A request head ends with an empty line: buffer the chunks and look for \\r\\n\\r\\n in all of them together, since it may be split across two.',
      'Challenges',
      'solutions/challenge-3.ts → createPatientHelloServer',
    ),
    async run(context) {
      const conversation = await open(context);
      for (const piece of ['GET / HTTP/1.1\r\nHo', 'st: x\r\n\r']) {
        conversation.send(piece);
        await sleep(QUIET_MS);
        expectThat(
          conversation.received.length === 0,
          'no answer before the head has ended with \\r\\n\\r\\n',
          () =>
            `${conversation.received.length} bytes of answer after only ${JSON.stringify(Buffer.concat(conversation.transcript.sent.map((sent) => sent.bytes)).toString('latin1'))}`,
          'Append each chunk to what came before and look for \\r\\n\\r\\n in the whole; it may be split between two reads (here: \\r\\n\\r, then \\n).',
        );
      }
      conversation.send('\n');
      const response = await conversation.readResponse();
      expectThat(
        response.status === 200,
        'the hello response, status 200',
        `status ${response.status} ${response.reason}`,
      );
      await sleep(QUIET_MS);
      expectThat(
        conversation.unread.length === 0,
        'one response, and nothing after it',
        () => `${conversation.unread.length} more bytes after the response`,
        'Answer once per connection: later chunks are not new requests here.',
      );
    },
  },
];
