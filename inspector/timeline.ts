// The timeline: what the recorder gives the page and the transcript, one connection at a time,
// as plain data (it goes to the browser as JSON). A connection is a list of items in the order
// they began:
//
//   event    something that happened to the connection: open, connected, a FIN, a reset...
//   message  a request (to-server) or a response (to-client): its head and its body, folded
//   raw      bytes that are not HTTP, folded the same way
//
// Times are milliseconds since the client connected (`t`; `tEnd` for the latest byte of a
// message or a raw run).
import type { FoldedView } from './fold.ts';
import type { MessageHead } from './framing.ts';

/** A pause this long between two reads is marked on the page and in the transcript. */
export const GAP_MARK_MS = 100;

/** Which way the bytes go. */
export type Direction = 'to-server' | 'to-client';

export type EventName =
  'open' | 'connected' | 'refused' | 'fin' | 'reset' | 'closed' | 'not-http' | 'recorder-failed';

export interface EventView {
  kind: 'event';
  id: number;
  seq: number;
  t: number;
  event: EventName;
  /** Who sent it (FIN, reset, bytes that are not HTTP); absent for the connection's own events. */
  direction?: Direction;
  text: string;
}

export interface MessageView {
  kind: 'message';
  id: number;
  seq: number;
  direction: Direction;
  /** First and latest byte, ms since the connection opened. */
  t: number;
  tEnd: number;
  /**
   * A request's number on the connection (1, 2, ...); a response: the request it answers (0: none).
   */
  number: number;
  /** Known once the head is complete. */
  head: MessageHead | null;
  headBytes: FoldedView;
  /** The body as on the wire (chunk sizes included). */
  body: FoldedView;
  /** Body bytes without the chunked framing. */
  payload: number;
  /** Arriving: 'head' then 'body'; then complete, cut (the connection ended first), or refused. */
  state: 'head' | 'body' | 'complete' | 'cut' | 'refused';
}

export interface RawView {
  kind: 'raw';
  id: number;
  seq: number;
  direction: Direction;
  t: number;
  tEnd: number;
  bytes: FoldedView;
}

export type ItemView = EventView | MessageView | RawView;

/**
 * How the proxy holds back one direction: it stops reading the sender while the receiver is full.
 */
export interface Backpressure {
  /** Reading from the sender is paused now. */
  paused: boolean;
  /** How many times it was paused. */
  pauses: number;
  /** Bytes the proxy held for the receiver when it last paused. */
  held: number;
}

export interface ConnectionView {
  id: number;
  seq: number;
  /**
   * When the client connected (ms since 1970, for the clock time); item times are relative to it.
   */
  openedAt: number;
  client: string;
  server: string;
  open: boolean;
  bytes: Record<Direction, number>;
  backpressure: Record<Direction, Backpressure>;
  /** Items forgotten at the start of the timeline (past the recorder's limit, or cleared). */
  dropped: number;
  items: ItemView[];
}
