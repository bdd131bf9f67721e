// How long a connection may stay in each phase of its life, and the one clock that checks.
//
// A connection is always in one phase (connection.ts). Entering a phase sets its deadline from
// the table below; a phase whose time runs out ends the way the table says. A timeout is a
// number per connection, not a timer of Node's: the server's clock looks at every connection a
// few times a second.

/** A keep-alive connection with no request in progress is closed after this long, quietly. */
export const IDLE_TIMEOUT_MS = 5_000;
/** A connection with a partial request head must complete it within this time. → 408 */
export const HEAD_TIMEOUT_MS = 10_000;
/** While a request body is awaited, the longest silence between two reads. → 408 */
export const BODY_TIMEOUT_MS = 10_000;
/**
 * Once we have sent our last byte and closed our side (FIN), how long the client has to close
 * its side before we drop the connection. Closing at once could turn bytes still in flight into
 * a reset that destroys the response (RFC 9112 §9.6); waiting for ever lets a client that never
 * closes hold the socket.
 */
export const LINGER_TIMEOUT_MS = 2_000;
/**
 * While a response waits for the client, the longest it may go without the socket taking any of
 * it: then the client has stopped reading, and the connection is dropped (socket-writer.ts).
 * A slow client that keeps reading is never cut.
 */
export const SEND_TIMEOUT_MS = 60_000;

/**
 * Where a connection is in its life:
 *
 *   idle ─first byte─▶ head ─parsed─▶ handling ─done─▶ skipping ─body read─▶ writing ─▶ idle …
 *                                       │   ▲          (the rest of            (keep-alive)
 *                         waits for ────▼   │ bytes     the body)                 │
 *                         body bytes   reading                                    ▼
 *                                                             closing ─FIN sent─▶ lingering
 */
export type Phase =
  'idle' | 'head' | 'handling' | 'reading' | 'skipping' | 'writing' | 'closing' | 'lingering';

export interface TimeoutOptions {
  idleTimeoutMs?: number;
  headTimeoutMs?: number;
  bodyTimeoutMs?: number;
  lingerTimeoutMs?: number;
}

/**
 * Each phase's time limit, and what happens when it runs out. Infinity: the phase has none of
 * its own (the handler's time is its own; a client that stops reading meets the send timeout).
 */
export function phaseTimeouts(options: TimeoutOptions): Readonly<Record<Phase, number>> {
  return {
    idle: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS, // then close quietly
    head: options.headTimeoutMs ?? HEAD_TIMEOUT_MS, // then 408 and close
    handling: Infinity,
    reading: options.bodyTimeoutMs ?? BODY_TIMEOUT_MS, // then the handler's read fails: 408
    skipping: options.bodyTimeoutMs ?? BODY_TIMEOUT_MS, // then close
    writing: Infinity,
    closing: Infinity,
    lingering: options.lingerTimeoutMs ?? LINGER_TIMEOUT_MS, // then drop the connection
  };
}

/** Milliseconds on a clock that only moves forward (the wall clock can be set back). */
export const now = (): number => performance.now();

/** What the clock looks at: something with a deadline. */
export interface HasDeadline {
  checkDeadline(time: number): void;
}

/**
 * One clock for every connection of a server: while any is open, an interval looks at each a
 * few times a second and lets it act on a deadline that has passed (node:http checks its
 * connections the same way). So a timeout fires a little late: between its value and a quarter
 * of the shortest one more (a 200 ms head timeout after 200–250 ms). One interval instead of a
 * timer per connection: bench/README.md, item 19.
 */
export class Clock {
  private readonly watched: Set<HasDeadline>;
  private readonly everyMs: number;
  private interval: NodeJS.Timeout | null = null;

  constructor(watched: Set<HasDeadline>, timeouts: Readonly<Record<Phase, number>>) {
    this.watched = watched;
    this.everyMs = Math.max(10, Math.floor(Math.min(...Object.values(timeouts)) / 4));
  }

  /** Something to watch was added: make sure the clock runs. */
  start(): void {
    // unref(): the clock alone does not keep the process alive (the connections do).
    this.interval ??= setInterval(() => this.tick(), this.everyMs).unref();
  }

  /** Something was taken off: with nothing left, nothing needs the clock. */
  stopIfIdle(): void {
    if (this.watched.size > 0 || this.interval === null) return;
    clearInterval(this.interval);
    this.interval = null;
  }

  private tick(): void {
    const time = now();
    for (const item of this.watched) item.checkDeadline(time);
  }
}
