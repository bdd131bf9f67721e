// Framing: where each HTTP message begins and ends in a stream of bytes. The inspector sees the
// bytes of a connection as TCP delivers them, in reads of any size; a framer cuts them into
// messages, and says which bytes are a head, which a body, and where a message ends:
//
//   framer.push(chunk) → [ {kind: 'bytes', part: 'head', bytes}, {kind: 'head', startLine, ...},
//                          {kind: 'bytes', part: 'body', bytes}, {kind: 'end'}, ... ]
//
// Every byte pushed comes out in exactly one 'bytes' or 'raw' piece, in order: the inspector
// draws the wire, so nothing may be dropped or drawn twice.
//
// Requests are framed by part 2's own parser (RequestParser): the same code that decides where
// a request ends for the course's servers decides it here. Responses have no parser in part 2
// (a server only writes them), so ResponseFramer reads the status line and the fields itself,
// and borrows part 2's parser for chunked bodies, whose grammar is the same both ways.
//
// Bytes that are not HTTP (part 1's echo, a request part 2's parser refuses) are passed on as
// 'raw' pieces, with a 'not-http' piece saying why; from there on that direction stays raw.
//
// The framers: request-framer.ts (client → server) and response-framer.ts (server → client).
// This file holds what they share: the pieces they give out, and how a title is kept.
import type { ParserLimits } from '../part2-tcp-http/parser.ts';

/** What a framer says about the bytes pushed into it. */
export type Piece =
  /** Bytes of the current message (a new one begins with the first 'bytes' after an 'end'). */
  | { kind: 'bytes'; part: 'head' | 'body'; bytes: Buffer }
  /** The head of the current message is complete. */
  | { kind: 'head'; head: MessageHead }
  /** Body bytes decoded so far in the current message (chunked framing removed). */
  | { kind: 'payload'; length: number }
  /** The current message is complete; what follows belongs to the next one. */
  | { kind: 'end' }
  /** Bytes that are not HTTP (or no longer framed as HTTP). */
  | { kind: 'raw'; bytes: Buffer }
  /** From here on this direction is raw, and why. */
  | { kind: 'not-http'; reason: string };

export interface MessageHead {
  /** `GET /hello HTTP/1.1` or `HTTP/1.1 200 OK`, as sent (cut past MAX_TITLE_CHARS). */
  startLine: string;
  /** How the body is delimited, in words: `Content-Length: 12`, `chunked`, `no body (HEAD)`. */
  framing: string;
  /** A request's method; for a response, the method of the request it answers ('' if none). */
  method: string;
  /** A response: the status code; a request: 0. */
  status: number;
  /** A response: which request it answers (1 for the first on the connection), 0 if none. */
  answers: number;
  /** A 1xx response other than 101: an interim answer, the final one still to come. */
  interim: boolean;
  /** A 101, or a 2xx to CONNECT: after this head, both directions carry another protocol. */
  switchesProtocols: boolean;
}

/** Both framers offer this. */
export interface Framer {
  push(chunk: Buffer): Piece[];
  /** The sender closed its side (FIN): a body that runs "until the connection closes" ends here. */
  finish(): Piece[];
  /** From now on pass everything as raw (after 101 Switching Protocols, both ways). */
  switchToRaw(reason: string): Piece[];
}

export const CR = 0x0d;
export const LF = 0x0a;
export const EMPTY = Buffer.alloc(0);

/**
 * The recorder's limits for part 2's parser. Bodies are only counted and folded, so any size is
 * framed (part 2's 1 MiB limit is its server's policy, not HTTP's). The head limits stay: they
 * bound what a framer holds while a head is still arriving, and a head past them is drawn raw.
 */
export const RECORDER_LIMITS: Partial<ParserLimits> = {
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxChunkExtensionBytes: Number.MAX_SAFE_INTEGER,
};

/**
 * The longest start line kept as a message's title; its bytes are all in the head. A request line
 * may be 8 KiB (part 2's limit), and the recorder keeps thousands of titles.
 */
export const MAX_TITLE_CHARS = 200;

/** A start line as a title: whole, or cut at MAX_TITLE_CHARS with a mark that it was. */
export function titleOf(line: string): string {
  return ownCopy(line.length <= MAX_TITLE_CHARS ? line : `${line.slice(0, MAX_TITLE_CHARS - 1)}…`);
}

/**
 * The text as a string of its own. A piece cut from a string may keep the whole string alive
 * (JavaScript engines share the memory), here a whole head of up to 24 KiB per message kept.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Why a connection's bytes are raw after a 101 (or a CONNECT's 2xx). */
export const SWITCHED =
  'the server switched this connection to another protocol (101, or a CONNECT tunnel)';
