// Writing a response's bytes to a socket without letting them pile up in memory.
//
// socket.write() never refuses bytes: it queues what the kernel cannot take yet, and returns
// false once its queue is full. A writer that goes on regardless holds a whole download in
// memory for a client that reads slowly, or not at all. So: when write() returns false, wait
// for 'drain' before writing more (backpressure), and give up on a client that takes nothing
// for a long time (the send timeout, like nginx's send_timeout).
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { traceBytes, type TraceSink } from './trace.ts';

/**
 * The most handed to the socket at once; a larger write waits in `backlog` and goes a piece at a
 * time. Node reports progress ('drain') only when all it was given has gone to the kernel: one
 * 32 MiB write to a slow reader would look stalled until its very end.
 */
const MAX_WRITE_BYTES = 64 * 1024;
/** Pieces written together up to this size are copied into one buffer; larger ones are not. */
const COPY_BELOW_BYTES = 16 * 1024;

export interface SocketWriterOptions {
  /** Print every byte written, curl -v style (see trace.ts). */
  trace?: TraceSink;
  /** Drop the connection when output waits and the socket takes none of it for this long. */
  sendTimeoutMs?: number;
}

export class SocketWriter {
  /** Bytes not yet handed to the socket: the rest of a large write, in pieces. */
  private backlog: Uint8Array[] = [];
  /** A 'drain' listener is registered: the socket holds bytes the client has not taken. */
  private waitingForDrain = false;
  /** Runs while output waits and the socket takes none of it. */
  private sendTimer: NodeJS.Timeout | null = null;

  private readonly socket: Socket;
  private readonly options: SocketWriterOptions;

  constructor(socket: Socket, options: SocketWriterOptions) {
    this.socket = socket;
    this.options = options;
  }

  /** Send `bytes`; false when they had to wait: call drained() before writing more. */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return true; // the client is gone; drop quietly
    if (this.options.trace) traceBytes(this.options.trace, '<', bytes);
    if (this.backlog.length === 0 && bytes.length <= MAX_WRITE_BYTES) {
      return this.socket.write(bytes) || this.waitForDrain();
    }
    for (let start = 0; start < bytes.length; start += MAX_WRITE_BYTES) {
      this.backlog.push(bytes.subarray(start, start + MAX_WRITE_BYTES));
    }
    return this.sendBacklog();
  }

  /**
   * A head (latin1 text, '' for none) and the body bytes that go with it, as one write: one
   * system call, one TCP segment where they fit. A small message is copied into one buffer; a
   * large one is gathered by the socket (cork, then uncork: a single writev).
   */
  writeMessage(head: string, body: Uint8Array[]): boolean {
    let total = head.length;
    for (const piece of body) total += piece.length;
    if (total <= COPY_BELOW_BYTES) {
      const message = Buffer.allocUnsafe(total);
      let at = message.write(head, 0, 'latin1');
      for (const piece of body) {
        message.set(piece, at);
        at += piece.length;
      }
      return this.write(message);
    }
    this.socket.cork();
    let taken = head === '' || this.write(Buffer.from(head, 'latin1'));
    for (const piece of body) taken = this.write(piece) && taken;
    this.socket.uncork();
    return taken;
  }

  /** True once the connection is closed: nobody reads what is written any more. */
  get closed(): boolean {
    return this.socket.destroyed || !this.socket.writable;
  }

  /** True while written bytes wait for the client (never once it is gone). */
  get backedUp(): boolean {
    if (this.socket.destroyed) return false;
    return this.backlog.length > 0 || this.socket.writableNeedDrain;
  }

  /** Resolves when every byte written has gone to the socket and it can take more (or is gone). */
  async drained(): Promise<void> {
    // Our own 'drain' listener runs first and hands the socket the next piece of the backlog:
    // wait again until the backlog is empty.
    do await drained(this.socket);
    while (this.backlog.length > 0 && !this.socket.destroyed);
  }

  /**
   * Cut the connection now, after handing the socket what it was given. A reset (RST) instead
   * of a plain close when the end of the connection would otherwise look like the end of the
   * body (a body framed by the close).
   */
  cut(reset: boolean): void {
    this.backlog = [];
    // A write() corked until the next tick would be thrown away by destroy(), and the client
    // would not even see the part of the body that was fine: flush it first.
    while (this.socket.writableCorked > 0) this.socket.uncork();
    if (reset) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** Hand the socket pieces of the backlog until it is full (then the next 'drain' goes on). */
  private sendBacklog(): boolean {
    while (this.backlog.length > 0) {
      if (this.socket.destroyed) {
        this.backlog = [];
        return true;
      }
      const piece = this.backlog.shift() ?? new Uint8Array(0);
      if (!this.socket.write(piece)) return this.waitForDrain();
    }
    return true;
  }

  /**
   * The socket holds bytes the client has not taken. Each 'drain' (everything given so far has
   * gone to the kernel: the client is reading) sends more of the backlog and restarts the send
   * timeout; if none comes in time, the client has stopped reading, and would otherwise hold
   * its connection for ever: drop it. (The timer is unref'd: it never keeps the process alive
   * for a socket already closed.)
   */
  private waitForDrain(): false {
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => this.onDrain());
    }
    const ms = this.options.sendTimeoutMs;
    if (this.sendTimer === null && ms !== undefined) {
      this.sendTimer = setTimeout(() => this.socket.destroy(), ms).unref();
    }
    return false;
  }

  private onDrain(): void {
    this.waitingForDrain = false;
    this.sendBacklog();
    if (this.sendTimer === null) return;
    if (this.waitingForDrain) {
      this.sendTimer.refresh(); // progress: the timeout starts again
    } else {
      clearTimeout(this.sendTimer);
      this.sendTimer = null;
    }
  }
}

/** Resolves once `stream` can take more data after write() returned false, or it has closed. */
export function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
