// The recorder: what the inspector remembers of each connection, and what the page draws. The
// proxy (proxy.ts) tells it what happened on the wire; it frames the bytes (request-framer.ts,
// response-framer.ts) and keeps, for each connection, a timeline of items (timeline.ts):
//
//   event    open, connected, FIN (each way), reset, refused, closed, "not HTTP from here"
//   message  a request or a response: its head, its body folded, how it was framed, when
//   raw      bytes that are not HTTP (part 1's echo), folded the same way
//
// Memory is bounded whatever the traffic: the last MAX_CONNECTIONS connections, the last
// MAX_ITEMS_PER_CONNECTION items of each, every head and body folded (fold.ts). The proxy
// forwards every byte; only the recording is cut short.
//
// Nothing here throws into the proxy: bytes that are not HTTP are recorded as such, and a bug
// in the recorder stops the recording of that one connection, with a note saying so.
import { FoldedBytes } from './fold.ts';
import { SWITCHED, type Framer, type MessageHead, type Piece } from './framing.ts';
import { RequestFramer } from './request-framer.ts';
import { ResponseFramer } from './response-framer.ts';
import type {
  Backpressure,
  ConnectionView,
  Direction,
  EventName,
  EventView,
  MessageView,
  RawView,
} from './timeline.ts';

/** N: how many connections the recorder keeps, the newest; an older one is forgotten whole. */
export const MAX_CONNECTIONS = 100;
/** How many items (messages, events, raw runs) it keeps of one connection, the newest. */
export const MAX_ITEMS_PER_CONNECTION = 50;
/** A body (or a raw run) keeps its first and its last this many bytes; the rest is counted. */
export const BODY_FOLD_BYTES = 256;
/** A head is folded the same way past twice this (a head may be 24 KiB and still be HTTP). */
export const HEAD_FOLD_BYTES = 512;
type Item = EventView | MessageRecord | RawRecord;

class MessageRecord {
  readonly kind = 'message';
  readonly id: number;
  seq = 0;
  readonly direction: Direction;
  readonly t: number;
  tEnd: number;
  number = 0;
  head: MessageHead | null = null;
  readonly headBytes = new FoldedBytes(HEAD_FOLD_BYTES);
  readonly body = new FoldedBytes(BODY_FOLD_BYTES);
  payload = 0;
  state: MessageView['state'] = 'head';

  constructor(id: number, direction: Direction, t: number) {
    this.id = id;
    this.direction = direction;
    this.t = t;
    this.tEnd = t;
  }

  view(): MessageView {
    const { kind, id, seq, direction, t, tEnd, number, head, payload, state } = this;
    return {
      kind,
      id,
      seq,
      direction,
      t,
      tEnd,
      number,
      head,
      headBytes: this.headBytes.view(),
      body: this.body.view(),
      payload,
      state,
    };
  }
}

class RawRecord {
  readonly kind = 'raw';
  readonly id: number;
  seq = 0;
  readonly direction: Direction;
  readonly t: number;
  tEnd: number;
  readonly bytes = new FoldedBytes(BODY_FOLD_BYTES);

  constructor(id: number, direction: Direction, t: number) {
    this.id = id;
    this.direction = direction;
    this.t = t;
    this.tEnd = t;
  }

  view(): RawView {
    const { kind, id, seq, direction, t, tEnd } = this;
    return { kind, id, seq, direction, t, tEnd, bytes: this.bytes.view() };
  }
}

/** One direction of a connection: its framer and the message it is in the middle of. */
interface Side {
  framer: Framer;
  current: MessageRecord | null;
}

/**
 * The framer of a closed connection: nothing more comes. Swapped in at close, so that a record
 * kept in the ring does not keep its framers' buffers (a parser holds on to its last read).
 */
const DONE: Framer = { push: () => [], finish: () => [], switchToRaw: () => [] };

export interface RecorderOptions {
  /** A clock in milliseconds (performance.now() by default; tests pass their own). */
  now?: () => number;
  maxConnections?: number;
  maxItemsPerConnection?: number;
}

/** The ring of recorded connections, and a way to wait for the next change (the page's feed). */
export class Recorder {
  readonly now: () => number;
  readonly maxConnections: number;
  readonly maxItemsPerConnection: number;
  /** Bumped on every change: what a feed has sent is "everything up to seq S". */
  seq = 0;
  /** Bumped when the record is cleared: a feed then starts again from a snapshot. */
  epoch = 0;
  private readonly connections = new Map<number, ConnectionRecord>();
  private nextId = 1;
  private waiting: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(options: RecorderOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
    this.maxItemsPerConnection = options.maxItemsPerConnection ?? MAX_ITEMS_PER_CONNECTION;
  }

  /** A client connected to the proxy, which will connect to `server` for it. */
  open(client: string, server: string): ConnectionRecord {
    const record = new ConnectionRecord(this, this.nextId++, client, server);
    this.connections.set(record.id, record);
    // The ring: the oldest connection goes, open or not (the proxy keeps forwarding it).
    for (const [id, oldest] of this.connections) {
      if (this.connections.size <= this.maxConnections) break;
      this.connections.delete(id);
      oldest.forgotten = true;
    }
    this.changed();
    return record;
  }

  /**
   * Forget every closed connection, and what the open ones said so far
   * (but not a message in progress).
   */
  clear(): void {
    for (const [id, record] of this.connections) {
      if (record.open) record.clearItems();
      else this.connections.delete(id);
    }
    this.epoch++;
    this.changed();
  }

  /** Every connection kept, oldest first. */
  snapshot(): ConnectionView[] {
    return [...this.connections.values()].map((record) => record.view(0));
  }

  /**
   * What changed after `seq`: the connections touched since,
   * each with only its items touched since.
   */
  changesSince(seq: number): ConnectionView[] {
    return [...this.connections.values()]
      .filter((record) => record.seq > seq)
      .map((record) => record.view(seq));
  }

  /** The ids of the connections kept now (a page drops the lanes of any other). */
  ids(): number[] {
    return [...this.connections.keys()];
  }

  find(id: number): ConnectionView | undefined {
    return this.connections.get(id)?.view(0);
  }

  /** Resolves at the next change (anything recorded, or a clear). */
  nextChange(): Promise<void> {
    if (this.waiting === null) {
      let resolve = (): void => {};
      const promise = new Promise<void>((done) => (resolve = done));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** Note a change: returns its sequence number. */
  changed(): number {
    this.seq++;
    if (this.waiting !== null) {
      this.waiting.resolve();
      this.waiting = null;
    }
    return this.seq;
  }
}

/**
 * One connection as the proxy reports it. Every method is safe to call at any time, in any
 * order, after the connection was forgotten too: it records, or does nothing, and never throws.
 */
export class ConnectionRecord {
  readonly id: number;
  readonly client: string;
  readonly server: string;
  readonly openedAt = Date.now();
  seq = 0;
  open = true;
  /** Pushed out of the ring: nothing more is recorded. */
  forgotten = false;
  private failed = false;
  private readonly recorder: Recorder;
  private readonly startedAt: number;
  private items: Item[] = [];
  private nextItemId = 1;
  private dropped = 0;
  private readonly bytes: Record<Direction, number> = { 'to-server': 0, 'to-client': 0 };
  private readonly backpressure: Record<Direction, Backpressure> = {
    'to-server': { paused: false, pauses: 0, held: 0 },
    'to-client': { paused: false, pauses: 0, held: 0 },
  };
  private readonly sides: Record<Direction, Side>;
  private requests = 0;

  constructor(recorder: Recorder, id: number, client: string, server: string) {
    this.recorder = recorder;
    this.id = id;
    this.client = client;
    this.server = server;
    this.startedAt = recorder.now();
    const responses = new ResponseFramer();
    this.sides = {
      'to-server': {
        framer: new RequestFramer((method, number) => responses.expect(method, number)),
        current: null,
      },
      'to-client': { framer: responses, current: null },
    };
    this.addEvent('open', `client ${client} connected to the proxy`);
  }

  /** The proxy reached the server. */
  connected(): void {
    this.guard(() =>
      this.addEvent('connected', `the proxy connected to the server, ${this.server}`),
    );
  }

  /** The proxy could not reach the server; it resets the client's connection. */
  refused(code: string): void {
    this.guard(() =>
      this.addEvent(
        'refused',
        `the proxy could not connect to ${this.server} (${code}): ` +
          `it resets the client's connection`,
      ),
    );
  }

  /** Bytes read from one side, already written to the other. */
  data(direction: Direction, chunk: Buffer): void {
    this.guard(() => {
      this.bytes[direction] += chunk.length;
      this.apply(direction, this.sides[direction].framer.push(chunk));
    });
  }

  /** One side sent its FIN ("nothing more from me"); the proxy passed it on. */
  fin(direction: Direction): void {
    this.guard(() => {
      this.apply(direction, this.sides[direction].framer.finish());
      const [who, other] = direction === 'to-server' ? ['client', 'server'] : ['server', 'client'];
      this.addEvent(
        'fin',
        `${who} FIN: it will send nothing more; passed on to the ${other}`,
        direction,
      );
    });
  }

  /** One side reset the connection (or failed); the proxy reset the other side's. */
  reset(direction: Direction, code: string): void {
    this.guard(() => {
      const [who, other] = direction === 'to-server' ? ['client', 'server'] : ['server', 'client'];
      this.addEvent(
        'reset',
        `${who} reset the connection (${code}); the proxy resets the ${other}'s`,
        direction,
      );
    });
  }

  /**
   * The proxy stopped reading the sender of `direction`:
   * the receiver is not taking bytes (`held` waiting).
   */
  paused(direction: Direction, held: number): void {
    this.guard(() => {
      const state = this.backpressure[direction];
      state.paused = true;
      state.pauses++;
      state.held = held;
      this.touch([]);
    });
  }

  resumed(direction: Direction): void {
    this.guard(() => {
      this.backpressure[direction].paused = false;
      this.touch([]);
    });
  }

  /** Both sockets are closed. */
  closed(): void {
    this.guard(() => {
      const cut: Item[] = [];
      for (const side of Object.values(this.sides)) {
        side.framer = DONE;
        if (side.current === null) continue;
        side.current.state = 'cut';
        cut.push(side.current);
        side.current = null;
      }
      this.touch(cut);
      this.open = false;
      this.backpressure['to-server'].paused = false;
      this.backpressure['to-client'].paused = false;
      this.addEvent('closed', 'connection closed');
    });
  }

  clearItems(): void {
    const inProgress = new Set<Item>();
    for (const side of Object.values(this.sides))
      if (side.current !== null) inProgress.add(side.current);
    const kept = this.items.filter((item) => inProgress.has(item));
    this.dropped += this.items.length - kept.length;
    this.items = kept;
  }

  /** The connection, with only the items changed after `since` (0: all of them). */
  view(since: number): ConnectionView {
    const { id, seq, openedAt, client, server, open, dropped } = this;
    return {
      id,
      seq,
      openedAt,
      client,
      server,
      open,
      bytes: { ...this.bytes },
      backpressure: {
        'to-server': { ...this.backpressure['to-server'] },
        'to-client': { ...this.backpressure['to-client'] },
      },
      dropped,
      items: this.items
        .filter((item) => item.seq > since)
        .map((item) => (item.kind === 'event' ? item : item.view())),
    };
  }

  // ---- Turning a framer's pieces into items ----------------------------------------------

  private apply(direction: Direction, pieces: Piece[]): void {
    const t = this.elapsed();
    const side = this.sides[direction];
    const touched: Item[] = [];
    for (const piece of pieces) {
      switch (piece.kind) {
        case 'bytes': {
          const message = side.current ?? this.startMessage(side, direction, t);
          (piece.part === 'head' ? message.headBytes : message.body).add(t, piece.bytes);
          message.tEnd = t;
          touched.push(message);
          break;
        }
        case 'head': {
          const message = side.current ?? this.startMessage(side, direction, t);
          message.head = piece.head;
          message.number = direction === 'to-server' ? ++this.requests : piece.head.answers;
          message.state = 'body';
          touched.push(message);
          if (piece.head.switchesProtocols)
            this.apply('to-server', this.sides['to-server'].framer.switchToRaw(SWITCHED));
          break;
        }
        case 'payload':
          if (side.current !== null) side.current.payload += piece.length;
          break;
        case 'end':
          if (side.current !== null) {
            side.current.state = 'complete';
            side.current.tEnd = t;
            touched.push(side.current);
            side.current = null;
          }
          break;
        case 'raw': {
          const last = this.items.at(-1);
          const raw =
            last instanceof RawRecord && last.direction === direction
              ? last
              : this.push(new RawRecord(this.nextItemId++, direction, t));
          raw.bytes.add(t, piece.bytes);
          raw.tEnd = t;
          touched.push(raw);
          break;
        }
        case 'not-http':
          if (side.current !== null) {
            side.current.state = 'refused';
            touched.push(side.current);
            side.current = null;
          }
          this.addEvent('not-http', `not HTTP from here on: ${piece.reason}`, direction);
          break;
      }
    }
    this.touch(touched);
  }

  private startMessage(side: Side, direction: Direction, t: number): MessageRecord {
    side.current = this.push(new MessageRecord(this.nextItemId++, direction, t));
    return side.current;
  }

  private addEvent(event: EventName, text: string, direction?: Direction): void {
    const item: EventView = {
      kind: 'event',
      id: this.nextItemId++,
      seq: 0,
      t: this.elapsed(),
      event,
      text,
    };
    if (direction !== undefined) item.direction = direction;
    this.touch([this.push(item)]);
  }

  /** Append an item; past the limit, the oldest goes. */
  private push<T extends Item>(item: T): T {
    this.items.push(item);
    if (this.items.length > this.recorder.maxItemsPerConnection) {
      this.items.shift();
      this.dropped++;
    }
    return item;
  }

  private touch(items: Item[]): void {
    if (this.forgotten) return;
    this.seq = this.recorder.changed();
    for (const item of items) item.seq = this.seq;
  }

  private elapsed(): number {
    return Math.round((this.recorder.now() - this.startedAt) * 10) / 10;
  }

  /** Record, unless recording failed before or this connection was forgotten; never throw. */
  private guard(record: () => void): void {
    if (this.failed || this.forgotten) return;
    try {
      record();
    } catch (error) {
      this.failed = true;
      try {
        const why = error instanceof Error ? error.message : String(error);
        this.addEvent(
          'recorder-failed',
          `the recorder failed (${why}); this connection is still forwarded, no longer recorded`,
        );
      } catch {
        // Nothing more to do: the proxy must not see the recorder's trouble.
      }
    }
  }
}
