// The inspector's recorder, without sockets: how it frames bytes into HTTP messages (requests
// with part 2's parser, on the same inputs as tests/part2-parser.test.ts; responses by RFC 9112
// §6.3), that every byte comes out once and in order however the reads are cut, that what is
// not HTTP is kept raw and never thrown, and that memory stays bounded (the ring of N
// connections, folded bodies).
import { describe, expect, it } from 'vitest';
import { FoldedBytes, MAX_SEGMENTS_PER_SIDE, visible } from '../inspector/fold.ts';
import type { Framer, Piece } from '../inspector/framing.ts';
import { BODY_FOLD_BYTES, MAX_CONNECTIONS, MAX_ITEMS_PER_CONNECTION, Recorder } from '../inspector/recorder.ts';
import { RequestFramer } from '../inspector/request-framer.ts';
import { ResponseFramer } from '../inspector/response-framer.ts';
import type { ConnectionView, MessageView } from '../inspector/timeline.ts';
import { transcript } from '../inspector/transcript.ts';

/** tests/part2-parser.test.ts's three pipelined requests: no body, Content-Length, chunked with extensions and trailers. */
const PIPELINE = [
  'GET /hello?name=Ada HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nname=Ada&lang=en!',
  'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;note="first"\r\nhello\r\n' +
    '7;a=1;b\r\n, world\r\n' +
    '0\r\nChecksum: abc\r\nX-Trailer: yes\r\n\r\n',
].join('');

/** Responses to four requests (GET, POST with Expect, HEAD, GET, GET): every way a response body is delimited. */
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server closes',
].join('');
const ASKED = ['GET', 'POST', 'HEAD', 'DELETE', 'GET'];

interface Framed {
  /** Every byte the framer gave out, in order ('bytes' and 'raw' pieces). */
  wire: Buffer;
  /** The pieces without their bytes, adjacent payload counts added up: what a read boundary must not change. */
  summary: unknown[];
}

/** Push `input` cut at `cuts`, then finish (the sender's FIN). */
function frame(framer: Framer, input: string | Buffer, cuts: number[] = []): Framed {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
  const pieces: Piece[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(...framer.push(bytes.subarray(from, cut)));
    from = cut;
  }
  pieces.push(...framer.finish());
  const wire = pieces.flatMap((piece) => (piece.kind === 'bytes' || piece.kind === 'raw' ? [piece.bytes] : []));
  return { wire: Buffer.concat(wire), summary: summarise(pieces) };
}

/**
 * Pieces as comparable values: a run of head (or raw) bytes is one 'head' (or 'raw') however
 * many reads it came in; a message's body is one 'body' and the sum of its payload counts.
 */
function summarise(pieces: Piece[]): unknown[] {
  const out: unknown[] = [];
  let body = false;
  let payload: number | null = null;
  const flushBody = (): void => {
    if (body) out.push('body');
    if (payload !== null) out.push(payload);
    body = false;
    payload = null;
  };
  for (const piece of pieces) {
    if (piece.kind === 'bytes' && piece.part === 'body') body = true;
    else if (piece.kind === 'payload') payload = (payload ?? 0) + piece.length;
    else {
      flushBody();
      const entry =
        piece.kind === 'bytes' ? piece.part : piece.kind === 'raw' ? 'raw' : piece.kind === 'head' ? piece.head : piece;
      if (typeof entry !== 'string' || out.at(-1) !== entry) out.push(entry);
    }
  }
  flushBody();
  return out;
}

function responseFramer(methods: string[] = ASKED): ResponseFramer {
  const framer = new ResponseFramer();
  methods.forEach((method, i) => framer.expect(method, i + 1));
  return framer;
}

function heads(framed: Framed): Array<Record<string, unknown>> {
  return framed.summary.filter(
    (entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && 'startLine' in entry,
  );
}

describe('the request framer (part 2 parser)', () => {
  it('frames three pipelined requests in one read: three heads, their bodies, three ends', () => {
    const framed = frame(new RequestFramer(), PIPELINE);
    expect(framed.wire.toString('latin1')).toBe(PIPELINE);
    expect(framed.summary).toMatchObject([
      'head',
      { startLine: 'GET /hello?name=Ada HTTP/1.1', framing: 'no body' },
      { kind: 'end' },
      'head',
      { startLine: 'POST /form HTTP/1.1', framing: 'Content-Length: 17' },
      'body',
      17,
      { kind: 'end' },
      'head',
      { startLine: 'POST /echo HTTP/1.1', framing: 'chunked' },
      'body',
      12, // "hello, world": the chunk sizes, extensions and trailers are framing, not data
      { kind: 'end' },
    ]);
  });

  it('gives every byte out once, in order, with the same messages, for every way of cutting the input into two reads', () => {
    const whole = frame(new RequestFramer(), PIPELINE);
    for (let cut = 1; cut < PIPELINE.length; cut++) {
      const framed = frame(new RequestFramer(), PIPELINE, [cut]);
      expect(framed.wire.toString('latin1'), `cut at byte ${cut}`).toBe(PIPELINE);
      expect(framed.summary, `cut at byte ${cut}`).toEqual(whole.summary);
    }
  });

  it('gives the same result fed one byte at a time', () => {
    const cuts = Array.from({ length: PIPELINE.length - 1 }, (_, i) => i + 1);
    const framed = frame(new RequestFramer(), PIPELINE, cuts);
    expect(framed.wire.toString('latin1')).toBe(PIPELINE);
    expect(framed.summary).toEqual(frame(new RequestFramer(), PIPELINE).summary);
  });

  it('accepts bare LF line endings in the head, as typed into nc', () => {
    const framed = frame(new RequestFramer(), 'GET / HTTP/1.1\nHost: x\n\n', [1, 5, 15]);
    expect(framed.summary).toMatchObject(['head', { startLine: 'GET / HTTP/1.1' }, { kind: 'end' }]);
  });

  it('shows a head still arriving as head bytes, before it is complete', () => {
    const framer = new RequestFramer();
    expect(framer.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'))).toEqual([
      { kind: 'bytes', part: 'head', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n') },
    ]);
    expect(framer.push(Buffer.from('\r\n')).map((piece) => piece.kind)).toEqual(['bytes', 'head', 'end']);
  });

  it('records a bare LF in chunked framing as part 2 refuses it, then passes the rest on raw, never throwing', () => {
    const input = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n';
    for (const cuts of [[], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
      const framed = frame(new RequestFramer(), input, cuts);
      expect(framed.wire.toString('latin1')).toBe(input);
      expect(framed.summary).toContainEqual({
        kind: 'not-http',
        reason: expect.stringMatching(/^part 2's parser answers 400: Bad chunked body/),
      });
    }
  });

  it("says at once that part 1's echo of typed lines is not HTTP, and keeps it raw", () => {
    const framed = frame(new RequestFramer(), 'hello\nworld\n', [3, 9]);
    expect(framed.summary).toEqual([{ kind: 'not-http', reason: expect.stringContaining('400') }, 'raw']);
    expect(framed.wire.toString()).toBe('hello\nworld\n');
  });

  it('keeps binary bytes that are not HTTP raw, all 256 values', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => (i + 0x80) % 256));
    const framed = frame(new RequestFramer(), all, [100, 200]);
    expect(framed.summary).toEqual([
      { kind: 'not-http', reason: expect.stringContaining('does not begin like an HTTP request') },
      'raw',
    ]);
    expect(framed.wire.equals(all)).toBe(true);
  });

  it("frames a body past part 2's 1 MiB limit (a server's policy, not HTTP's)", () => {
    const body = 'x'.repeat(2 * 1024 * 1024);
    const framed = frame(
      new RequestFramer(),
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      [100, 5000],
    );
    expect(framed.summary).toMatchObject([
      'head',
      { framing: `Content-Length: ${body.length}` },
      'body',
      body.length,
      { kind: 'end' },
    ]);
  });
});

describe('the response framer (RFC 9112 §6.3)', () => {
  it('frames Content-Length, 100 Continue, chunked with trailers, an answer to HEAD, 204, and a body until close', () => {
    const framed = frame(responseFramer(), RESPONSES);
    expect(framed.wire.toString('latin1')).toBe(RESPONSES);
    expect(heads(framed)).toMatchObject([
      { startLine: 'HTTP/1.1 200 OK', framing: 'Content-Length: 5', answers: 1, interim: false },
      { startLine: 'HTTP/1.1 100 Continue', framing: 'no body (100)', answers: 2, interim: true },
      { startLine: 'HTTP/1.1 201 Created', framing: 'chunked', answers: 2, interim: false },
      { startLine: 'HTTP/1.1 200 OK', framing: 'no body (an answer to HEAD)', answers: 3, method: 'HEAD' },
      { startLine: 'HTTP/1.1 204 No Content', framing: 'no body (204)', answers: 4 },
      { startLine: 'HTTP/1.0 200 OK', framing: 'until the connection closes', answers: 5 },
    ]);
    // Six messages, each ended; the last by the server's FIN (finish()).
    expect(
      framed.summary.filter(
        (entry) => typeof entry === 'object' && entry !== null && 'kind' in entry && entry.kind === 'end',
      ),
    ).toHaveLength(6);
    expect(framed.summary.filter((entry) => typeof entry === 'number')).toEqual([
      5,
      3,
      'until the server closes'.length,
    ]);
  });

  it('gives every byte out once, with the same messages, for every way of cutting the responses into two reads', () => {
    const whole = frame(responseFramer(), RESPONSES);
    for (let cut = 1; cut < RESPONSES.length; cut++) {
      const framed = frame(responseFramer(), RESPONSES, [cut]);
      expect(framed.wire.toString('latin1'), `cut at byte ${cut}`).toBe(RESPONSES);
      expect(framed.summary, `cut at byte ${cut}`).toEqual(whole.summary);
    }
  });

  it('gives the same result fed one byte at a time', () => {
    const cuts = Array.from({ length: RESPONSES.length - 1 }, (_, i) => i + 1);
    expect(frame(responseFramer(), RESPONSES, cuts).summary).toEqual(frame(responseFramer(), RESPONSES).summary);
  });

  it('frames a 304 without a body, though it names a Content-Length', () => {
    const framed = frame(
      responseFramer(['GET', 'GET']),
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(heads(framed).map((head) => head.framing)).toEqual(['no body (304)', 'Content-Length: 2']);
  });

  it('switches to raw after 101 Switching Protocols', () => {
    const framed = frame(
      responseFramer(['GET']),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x00\x01binary',
    );
    expect(framed.summary).toMatchObject([
      'head',
      { status: 101, switchesProtocols: true },
      { kind: 'end' },
      { kind: 'not-http' },
      'raw',
    ]);
  });

  it("says at once that part 1's echo of a request is not a response", () => {
    const framed = frame(responseFramer(), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', [2]);
    expect(framed.summary).toEqual([
      { kind: 'not-http', reason: expect.stringContaining('does not begin like an HTTP response') },
      'raw',
    ]);
  });

  it('gives every byte out once when a reply that began like HTTP turns out not to be, however it is cut', () => {
    const input = 'HTXP/1.1 200 OK\r\n\r\n';
    for (let cut = 1; cut < input.length; cut++) {
      const framed = frame(responseFramer(), input, [cut]);
      expect(framed.wire.toString('latin1'), `cut at byte ${cut}`).toBe(input);
      expect(framed.summary).toContainEqual({
        kind: 'not-http',
        reason: expect.stringContaining('does not begin like'),
      });
    }
  });

  it('keeps a response whose head cannot be read raw, and the bytes whole', () => {
    const input = 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\nbody';
    const framed = frame(responseFramer(), input, [10]);
    expect(framed.wire.toString('latin1')).toBe(input);
    expect(framed.summary).toContainEqual({
      kind: 'not-http',
      reason: expect.stringContaining('not a "Name: value" field line'),
    });
  });
});

describe('both framers', () => {
  it('give every byte out exactly once, in order, whatever the bytes and however they are cut', () => {
    let seed = 25;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * below);
    };
    // Valid HTTP, then something broken in it or after it, at a random place.
    const pieces = [
      PIPELINE,
      RESPONSES,
      'GET / HTTP/1.1\r\nHost: x\r\n',
      '\r\n',
      'HTTP/1.1 ',
      '5\r\nhello\r\n',
      '\x00\xff\n',
    ];
    for (let round = 0; round < 300; round++) {
      let input = '';
      for (let i = 0; i < 1 + random(4); i++) {
        const piece = pieces[random(pieces.length)];
        input += random(3) === 0 ? piece.slice(0, random(piece.length)) : piece;
      }
      const bytes = Buffer.from(input, 'latin1');
      const cuts = [
        ...new Set(Array.from({ length: random(6) }, () => 1 + random(Math.max(1, bytes.length - 1)))),
      ].sort((a, b) => a - b);
      for (const framer of [new RequestFramer(), responseFramer()]) {
        expect(
          frame(framer, bytes, cuts).wire.equals(bytes),
          `${JSON.stringify(input)} cut at ${cuts.join(', ')}`,
        ).toBe(true);
      }
    }
  });
});

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 0;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function messages(view: ConnectionView | undefined): MessageView[] {
  return (view?.items ?? []).filter((item): item is MessageView => item.kind === 'message');
}

describe('the recorder', () => {
  it('draws a keep-alive connection: requests paired with their responses, FINs and close', () => {
    const recorder = new Recorder();
    const connection = recorder.open('127.0.0.1:5000', '127.0.0.1:8002');
    connection.connected();
    connection.data('to-server', Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'));
    connection.data('to-client', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA'));
    connection.data('to-server', Buffer.from('HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n'));
    connection.data('to-client', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n'));
    connection.fin('to-server');
    connection.fin('to-client');
    connection.closed();
    const view = recorder.find(connection.id);
    expect(view?.items.map((item) => (item.kind === 'event' ? item.event : `${item.direction} ${item.kind}`))).toEqual([
      'open',
      'connected',
      'to-server message',
      'to-client message',
      'to-server message',
      'to-client message',
      'fin',
      'fin',
      'closed',
    ]);
    expect(messages(view).map((message) => [message.number, message.state, message.head?.startLine])).toEqual([
      [1, 'complete', 'GET /a HTTP/1.1'],
      [1, 'complete', 'HTTP/1.1 200 OK'],
      [2, 'complete', 'HEAD /b HTTP/1.1'],
      [2, 'complete', 'HTTP/1.1 200 OK'],
    ]);
    expect(view?.open).toBe(false);
  });

  it('marks a message the connection ended in the middle of as cut', () => {
    const recorder = new Recorder();
    const connection = recorder.open('c', 's');
    connection.data('to-server', Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'));
    connection.reset('to-server', 'ECONNRESET');
    connection.closed();
    const [request] = messages(recorder.find(connection.id));
    expect(request.state).toBe('cut');
    expect(request.payload).toBe(3);
  });

  it('keeps the last N connections (N = MAX_CONNECTIONS), forgetting the oldest', () => {
    expect(MAX_CONNECTIONS).toBe(100);
    const recorder = new Recorder();
    const records = Array.from({ length: MAX_CONNECTIONS + 5 }, (_, i) => recorder.open(`client ${i + 1}`, 's'));
    expect(recorder.ids()).toEqual(records.slice(5).map((record) => record.id));
    // A forgotten connection may still be forwarded: recording into it does nothing, and never throws.
    records[0].data('to-server', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    records[0].closed();
    expect(recorder.find(records[0].id)).toBeUndefined();
  });

  it('folds a long body to its first and last bytes and a count, and counts every byte', () => {
    const recorder = new Recorder();
    const connection = recorder.open('c', 's');
    const size = 8 * 1024 * 1024;
    connection.data('to-server', Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`));
    const piece = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent < size; sent += piece.length) connection.data('to-server', piece);
    const view = recorder.find(connection.id);
    const [request] = messages(view);
    expect(request.state).toBe('complete');
    expect(request.payload).toBe(size);
    expect(request.body.total).toBe(size);
    expect(request.body.omitted).toBe(size - 2 * BODY_FOLD_BYTES);
    expect(request.body.start.map((segment) => segment.text).join('')).toBe('a'.repeat(BODY_FOLD_BYTES));
    expect(request.body.end.map((segment) => segment.text).join('')).toBe('a'.repeat(BODY_FOLD_BYTES));
    // What the page receives for 8 MiB of traffic: a few KiB.
    expect(JSON.stringify(view).length).toBeLessThan(16 * 1024);
  });

  it('keeps the last MAX_ITEMS_PER_CONNECTION items of a long connection and counts the rest', () => {
    const recorder = new Recorder();
    const connection = recorder.open('c', 's');
    const requests = MAX_ITEMS_PER_CONNECTION + 50;
    connection.data('to-server', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(requests)));
    const view = recorder.find(connection.id);
    expect(view?.items).toHaveLength(MAX_ITEMS_PER_CONNECTION);
    expect(view?.dropped).toBe(requests + 1 - MAX_ITEMS_PER_CONNECTION); // + 1: the open event
    expect(messages(view).at(-1)?.number).toBe(requests);
  });

  it('keeps a bounded number of reads per fold, however the bytes trickle in', () => {
    const folded = new FoldedBytes(BODY_FOLD_BYTES);
    for (let i = 0; i < 10_000; i++) folded.add(i, Buffer.from([0x61 + (i % 26)]));
    const view = folded.view();
    expect(view.start.length).toBeLessThanOrEqual(MAX_SEGMENTS_PER_SIDE);
    expect(view.end.length).toBeLessThanOrEqual(MAX_SEGMENTS_PER_SIDE);
    expect(view.start.map((segment) => segment.text).join('')).toHaveLength(BODY_FOLD_BYTES);
    expect(view.end.map((segment) => segment.text).join('')).toHaveLength(BODY_FOLD_BYTES);
    expect(view.omitted).toBe(10_000 - 2 * BODY_FOLD_BYTES);
  });

  it('never throws, whatever bytes go either way', () => {
    const recorder = new Recorder();
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let c = 0; c < 50; c++) {
      const connection = recorder.open('c', 's');
      for (let i = 0; i < 40; i++) {
        const length = Math.floor(random() * 64);
        const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
        // Sometimes a valid start, so that framing gets going before the garbage.
        const chunk =
          random() < 0.3 ? Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n'), bytes]) : bytes;
        expect(() => connection.data(random() < 0.5 ? 'to-server' : 'to-client', chunk)).not.toThrow();
      }
      expect(() => connection.closed()).not.toThrow();
    }
  });

  it('clears closed connections and what open ones said, and starts every page again from a snapshot', () => {
    const recorder = new Recorder();
    const closed = recorder.open('a', 's');
    closed.closed();
    const open = recorder.open('b', 's');
    open.data('to-server', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /half HTTP/1.1\r\n'));
    const epoch = recorder.epoch;
    recorder.clear();
    expect(recorder.epoch).toBe(epoch + 1);
    expect(recorder.ids()).toEqual([open.id]);
    // The request still arriving stays, so its end has somewhere to go.
    expect(messages(recorder.find(open.id)).map((message) => message.state)).toEqual(['head']);
    open.data('to-server', Buffer.from('Host: x\r\n\r\n'));
    expect(messages(recorder.find(open.id)).map((message) => message.head?.startLine)).toEqual(['GET /half HTTP/1.1']);
  });
});

describe('the transcript', () => {
  it('shows each read with \\r\\n visible, pauses marked, and times since the connection opened', () => {
    const clock = manualClock();
    const recorder = new Recorder({ now: clock.now });
    const connection = recorder.open('127.0.0.1:5000', '127.0.0.1:8002');
    clock.advance(1);
    connection.data('to-server', Buffer.from('GET / HTTP/1.1\r\nHo'));
    clock.advance(300);
    connection.data('to-server', Buffer.from('st: x\r\n\r\n'));
    clock.advance(2000);
    connection.data('to-client', Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
    const text = transcript(recorder.find(connection.id) ?? expect.fail('no connection'));
    expect(text).toContain('    1.0 ms  → request 1: GET / HTTP/1.1 (no body)\n');
    expect(text).toContain(
      '| GET / HTTP/1.1\\r\\n\n            | Ho\n            | ⋯ 300 ms later ⋯\n            | st: x\\r\\n\n            | \\r\\n\n',
    );
    expect(text).toContain(
      '⋯ 2.00 s, nothing sent ⋯\n    2.30 s  ← response to request 1: HTTP/1.1 204 No Content (no body (204))',
    );
  });

  it('makes every byte visible and unambiguous: \\r, \\n, \\t, a backslash, and \\xHH for the rest', () => {
    expect(visible(Buffer.from('a\r\n\t\\r\x00\xff', 'latin1'))).toBe('a\\r\\n\n\\t\\\\r\\x00\\xff');
  });
});
