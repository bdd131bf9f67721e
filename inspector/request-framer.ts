// Requests, client → server: framed by part 2's own parser (RequestParser), so the code that
// decides where a request ends for the course's servers decides it here too. See framing.ts for
// the pieces a framer gives out.
import { HttpError } from '../part2-tcp-http/errors.ts';
import { RequestParser } from '../part2-tcp-http/parser.ts';
import {
  CR,
  EMPTY,
  LF,
  RECORDER_LIMITS,
  titleOf,
  ownCopy,
  type Framer,
  type Piece,
} from './framing.ts';

/** token characters (RFC 9110 §5.6.2): what a request (its method) must begin with. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

/**
 * Client → server. The parser says what it found, not where: the bytes it has taken are
 * whatever it no longer holds (`bufferedBytes`), so each event's bytes are the difference.
 */
export class RequestFramer implements Framer {
  private parser = new RequestParser(RECORDER_LIMITS);
  private raw = false;
  /** Bytes pushed and not yet given out as the head or body of a message whose part is known. */
  private pending: Buffer = EMPTY;
  /** How many of `pending` were already given out as head bytes (a head still arriving). */
  private shown = 0;
  /** Between a head and its end: bytes taken are body bytes. */
  private inBody = false;
  /** The first line of the current message was checked (see checkRequestLine). */
  private lineChecked = false;
  private requests = 0;
  /** Told of each request head, in order: the response framer pairs its answers with them. */
  private readonly onRequest: (method: string, number: number) => void;

  constructor(onRequest: (method: string, number: number) => void = () => {}) {
    this.onRequest = onRequest;
  }

  push(chunk: Buffer): Piece[] {
    if (this.raw) return [{ kind: 'raw', bytes: chunk }];
    const pieces: Piece[] = [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.parser.push(chunk);
    try {
      this.checkRequestLine();
      for (let event = this.parser.next(); event !== null; event = this.parser.next()) {
        const taken = this.take();
        if (event.kind === 'head') {
          this.show(pieces, 'head', taken);
          const { method, target, version, framing } = event.head;
          this.requests++;
          this.onRequest(method, this.requests);
          pieces.push({
            kind: 'head',
            head: {
              startLine: titleOf(`${method} ${target} ${version}`),
              framing:
                framing.type === 'length'
                  ? `Content-Length: ${framing.length}`
                  : framing.type === 'chunked'
                    ? 'chunked'
                    : 'no body',
              method: ownCopy(method),
              status: 0,
              answers: 0,
              interim: false,
              switchesProtocols: false,
            },
          });
          this.inBody = true;
        } else if (event.kind === 'body') {
          this.show(pieces, 'body', taken);
          pieces.push({ kind: 'payload', length: event.chunk.length });
        } else {
          this.show(pieces, 'body', taken);
          pieces.push({ kind: 'end' });
          this.inBody = false;
          this.lineChecked = false;
          this.checkRequestLine();
        }
      }
      // The parser may have taken bytes with no event yet (a chunk-size line): body bytes.
      if (this.inBody) this.show(pieces, 'body', this.take());
      else this.showPartialHead(pieces);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // What was shown of this message stays; the bytes not shown yet are drawn raw.
      pieces.push(...this.switchToRaw(`part 2's parser answers ${error.status}: ${error.message}`));
    }
    return pieces;
  }

  /**
   * The client's FIN: a request is never delimited by it, but a first line still waiting for its
   * LF (held back by showPartialHead) is given out now, as the head of a message cut short.
   */
  finish(): Piece[] {
    if (this.raw || this.pending.length === this.shown) return [];
    const rest = this.pending.subarray(this.shown);
    this.shown = this.pending.length;
    return [{ kind: 'bytes', part: 'head', bytes: rest }];
  }

  switchToRaw(reason: string): Piece[] {
    if (this.raw) return [];
    this.raw = true;
    // Bytes not yet shown (after a head part 2 refused, say) are shown as they are.
    const rest = this.pending.subarray(this.shown);
    this.pending = EMPTY;
    this.shown = 0;
    const pieces: Piece[] = [{ kind: 'not-http', reason }];
    if (rest.length > 0) pieces.push({ kind: 'raw', bytes: rest });
    return pieces;
  }

  /** The bytes the parser took since the last event: the front of `pending`. */
  private take(): Buffer {
    const length = this.pending.length - this.parser.bufferedBytes;
    const taken = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return taken;
  }

  /**
   * Give out `bytes` as part of the message, minus what was given out already as a partial head.
   */
  private show(pieces: Piece[], part: 'head' | 'body', bytes: Buffer): void {
    const fresh = bytes.subarray(Math.min(this.shown, bytes.length));
    this.shown = Math.max(0, this.shown - bytes.length);
    if (fresh.length > 0) pieces.push({ kind: 'bytes', part, bytes: fresh });
  }

  /**
   * A head still arriving is shown as it comes (the bytes the parser holds are its start), once
   * its first line has passed checkRequestLine: until then they may turn out not to be HTTP.
   */
  private showPartialHead(pieces: Piece[]): void {
    if (!this.lineChecked) return;
    const fresh = this.pending.subarray(this.shown);
    if (fresh.length > 0) pieces.push({ kind: 'bytes', part: 'head', bytes: fresh });
    this.shown = this.pending.length;
  }

  /**
   * Part 2's parser judges a request line only once the whole head is in, so an echo of typed
   * lines (part 1) would be drawn as a head that never ends. Ask it sooner: does the message
   * begin as a request may (a token character), and is its first line, with a head made up
   * around it, one the parser takes? If not, this direction is not HTTP: throw its answer.
   */
  private checkRequestLine(): void {
    if (this.lineChecked) return;
    const bytes = this.pending;
    let start = 0;
    // RFC 9112 §2.2: empty lines before a request line are ignored (the parser skips them).
    while (bytes[start] === CR || bytes[start] === LF) start++;
    if (start === bytes.length) return;
    if (!TCHAR.test(String.fromCharCode(bytes[start])))
      throw new HttpError(400, 'this does not begin like an HTTP request (a method such as GET).');
    const lineEnd = bytes.indexOf(LF, start);
    if (lineEnd === -1) return;
    this.lineChecked = true;
    const line = bytes.toString('latin1', start, bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd);
    const probe = new RequestParser(RECORDER_LIMITS);
    probe.push(Buffer.from(`${line}\r\nHost: inspector\r\n\r\n`, 'latin1'));
    probe.next(); // throws the HttpError the real head would earn for this line
  }
}
