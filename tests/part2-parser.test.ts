// The incremental parser on its own: however the bytes are cut into reads, the same requests
// come out (RFC 9112 gives no meaning to read boundaries; TCP does not keep them).
import { describe, expect, it } from 'vitest';
import { HttpError } from '../part2-tcp-http/errors.ts';
import { RequestParser, type ParseEvent } from '../part2-tcp-http/parser.ts';

/** Three pipelined requests: no body, a Content-Length body, a chunked body with extensions and trailers. */
const PIPELINE = [
  'GET /hello?name=Ada HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nname=Ada&lang=en!',
  'POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;note="first"\r\nhello\r\n' +
    '7;a=1;b\r\n, world\r\n' +
    '0\r\nChecksum: abc\r\nX-Trailer: yes\r\n\r\n',
].join('');

/** Pull every event available now. */
function drain(parser: RequestParser): ParseEvent[] {
  const events: ParseEvent[] = [];
  for (let event = parser.next(); event !== null; event = parser.next()) events.push(event);
  return events;
}

/** Events as comparable values, with adjacent body pieces joined (a read boundary may split a body). */
function summarise(events: ParseEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    if (event.kind === 'body' && typeof last === 'string') out[out.length - 1] = last + event.chunk.toString('latin1');
    else if (event.kind === 'body') out.push(event.chunk.toString('latin1'));
    else out.push(event);
  }
  return out;
}

function parseInPieces(input: string, pieceSize: number): unknown[] {
  const parser = new RequestParser();
  const events: ParseEvent[] = [];
  const bytes = Buffer.from(input, 'latin1');
  for (let i = 0; i < bytes.length; i += pieceSize) {
    parser.push(bytes.subarray(i, i + pieceSize));
    events.push(...drain(parser));
  }
  return summarise(events);
}

describe('RequestParser', () => {
  it('yields three heads, the bodies and three ends for three pipelined requests in one read', () => {
    const events = parseInPieces(PIPELINE, PIPELINE.length);
    expect(events).toMatchObject([
      {
        kind: 'head',
        head: { method: 'GET', target: '/hello?name=Ada', version: 'HTTP/1.1', framing: { type: 'none' } },
      },
      { kind: 'end', trailers: [] },
      { kind: 'head', head: { method: 'POST', target: '/form', framing: { type: 'length', length: 17 } } },
      'name=Ada&lang=en!',
      { kind: 'end', trailers: [] },
      { kind: 'head', head: { method: 'POST', target: '/echo', framing: { type: 'chunked' } } },
      'hello, world',
      {
        kind: 'end',
        trailers: [
          { name: 'Checksum', value: 'abc' },
          { name: 'X-Trailer', value: 'yes' },
        ],
      },
    ]);
  });

  it('keeps header order, case and duplicates as received', () => {
    const [first] = parseInPieces(PIPELINE, PIPELINE.length);
    expect(first).toMatchObject({
      head: {
        headers: [
          { name: 'Host', value: 'localhost' },
          { name: 'Accept', value: '*/*' },
          { name: 'X-Twice', value: '1' },
          { name: 'x-twice', value: '2' },
        ],
      },
    });
  });

  it('gives the same result when fed one byte at a time as when fed everything at once', () => {
    expect(parseInPieces(PIPELINE, 1)).toEqual(parseInPieces(PIPELINE, PIPELINE.length));
  });

  it('gives the same result for every way of cutting the input into two reads', () => {
    const whole = parseInPieces(PIPELINE, PIPELINE.length);
    for (let cut = 1; cut < PIPELINE.length; cut++) {
      const parser = new RequestParser();
      parser.push(Buffer.from(PIPELINE.slice(0, cut), 'latin1'));
      const events = drain(parser);
      parser.push(Buffer.from(PIPELINE.slice(cut), 'latin1'));
      events.push(...drain(parser));
      expect(summarise(events), `cut at byte ${cut}`).toEqual(whole);
    }
  });

  it('accepts bare LF line endings in the head (RFC 9112 §2.2), as typed into nc', () => {
    const events = parseInPieces('GET / HTTP/1.1\nHost: x\n\n', 1);
    expect(events).toMatchObject([
      { kind: 'head', head: { target: '/', headers: [{ name: 'Host', value: 'x' }] } },
      { kind: 'end' },
    ]);
  });

  it('refuses a bare LF in chunked framing, byte by byte as at once', () => {
    const input = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n';
    for (const pieceSize of [1, input.length]) {
      expect(() => parseInPieces(input, pieceSize)).toThrow(HttpError);
    }
  });

  it('waits for more bytes instead of failing on a head that is merely incomplete', () => {
    const parser = new RequestParser();
    parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'));
    expect(parser.next()).toBeNull();
    expect(parser.isIdle).toBe(false);
  });
});
