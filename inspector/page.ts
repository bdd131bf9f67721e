// The inspector's page, served by the course's own stack: part 4's micro framework answers the
// page and its small API, as a part 3 application on part 3's gateway server; the live feed is
// a part 3 streaming body (an `async function*`) sent as server-sent events, because micro has
// no streaming responses. One Application routes between the two:
//
//   GET  /                               the page (page/index.html, style.css, page.js)
//   GET  /connections                    every connection kept, as JSON
//   GET  /connections/:id/transcript     one connection as text (the page's "copy")
//   POST /clear                          forget what was recorded (every viewer's page clears)
//   GET  /events                         the live feed: text/event-stream, never ending
//
// The feed sends a `snapshot` event (every connection kept) when it starts and after a clear,
// then an `update` event with what changed, at most every FRAME_MS: a burst of traffic makes
// one update, and a slow page gets fewer, larger ones (the gateway pulls the next chunk only
// once the last is sent).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Application, Environ, StartResponse } from '../part3-gateway/contract.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import { micro, reply } from '../part4-frameworks/micro/micro.ts';
import type { Recorder } from './recorder.ts';
import { GAP_MARK_MS, type ConnectionView, type ItemView } from './timeline.ts';
import { title, transcript } from './transcript.ts';

/** The shortest time between two updates of the feed: bursts of traffic are sent as one. */
export const FRAME_MS = 100;
/** With nothing to send, a comment line this often: proxies and browsers keep the stream open. */
export const HEARTBEAT_MS = 15_000;
/** How soon a browser reconnects a feed that ended (SSE's `retry:` field). */
export const RETRY_MS = 1_000;

/** What the page shows in its title bar: where the proxy listens and what it forwards to. */
export interface PageInfo {
  proxy: string;
  server: string;
}

const PAGE_DIR = new URL('./page/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, PAGE_DIR), 'utf8');

/**
 * The page's server: part 3's gateway, with no deadline on an application call (the feed runs
 * as long as a page is open). `stop()` ends every feed, so a shutdown need not wait for them.
 */
export function createPageServer(
  recorder: Recorder,
  info: PageInfo,
): { server: ReturnType<typeof createGatewayServer>; stop: () => Promise<void> } {
  const feeds = new AbortController();
  const server = createGatewayServer(createPageApp(recorder, info, feeds.signal), {
    appTimeoutMs: Infinity,
  });
  return {
    server,
    stop: () => {
      feeds.abort();
      return server.shutdown();
    },
  };
}

export function createPageApp(
  recorder: Recorder,
  info: PageInfo,
  stopping: AbortSignal,
): Application {
  const files = { html: read('index.html'), css: read('style.css'), js: read('page.js') };
  // The page draws bytes from the wire, anyone's: it only ever sets them as text, and this
  // policy forbids any script or style but its own files, should one slip through as markup.
  const policy = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

  const page = micro();
  page.get('/', () =>
    reply({
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': policy,
        'Cache-Control': 'no-store',
      },
      body: files.html,
    }),
  );
  page.get('/style.css', () =>
    reply({ headers: { 'Content-Type': 'text/css; charset=utf-8' }, body: files.css }),
  );
  page.get('/page.js', () =>
    reply({ headers: { 'Content-Type': 'text/javascript; charset=utf-8' }, body: files.js }),
  );
  // Browsers ask for one unprompted; "none" is a fine answer, and keeps their console quiet.
  page.get('/favicon.ico', () => reply({ status: 204 }));
  page.get('/connections', () => ({
    ...about(recorder, info),
    connections: recorder.snapshot().map(present),
  }));
  page.get('/connections/:id/transcript', (request) => {
    const connection = /^\d+$/.test(request.params.id)
      ? recorder.find(Number(request.params.id))
      : undefined;
    if (connection === undefined)
      return reply({
        status: 404,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: 'No such connection: it may have been cleared, or pushed out of the ring.\n',
      });
    return reply({
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: transcript(connection),
    });
  });
  page.post('/clear', () => {
    recorder.clear();
    return { cleared: true };
  });

  const events = liveFeed(recorder, info, stopping);
  return (environ: Environ, startResponse: StartResponse) =>
    environ.PATH_INFO === '/events' && environ.REQUEST_METHOD === 'GET'
      ? events(environ, startResponse)
      : page(environ, startResponse);
}

/** What the page needs besides the connections: its title, and the recorder's rules. */
function about(recorder: Recorder, info: PageInfo): Record<string, unknown> {
  return {
    ...info,
    maxConnections: recorder.maxConnections,
    maxItemsPerConnection: recorder.maxItemsPerConnection,
    gapMarkMs: GAP_MARK_MS,
  };
}

/** A connection as the page gets it: each item with its title, worded as in the transcript. */
function present(
  connection: ConnectionView,
): ConnectionView & { items: Array<ItemView & { title: string }> } {
  return {
    ...connection,
    items: connection.items.map((item) => ({ ...item, title: title(item) })),
  };
}

/**
 * The feed: a part 3 streaming application. Each `yield` is one event, sent (as a chunk of a
 * chunked response) before the generator runs on; it ends when the page leaves
 * (gateway.signal) or the inspector stops.
 */
function liveFeed(recorder: Recorder, info: PageInfo, stopping: AbortSignal): Application {
  return async function* events(environ, startResponse) {
    startResponse('200 OK', [
      ['Content-Type', 'text/event-stream; charset=utf-8'],
      ['Cache-Control', 'no-store'],
    ]);
    const done = AbortSignal.any([environ['gateway.signal'], stopping]);
    yield sse(null, `retry: ${RETRY_MS}`);
    let epoch = -1;
    let sent = 0;
    while (!done.aborted) {
      // Asked before reading the state: a change made while this event is sent is not missed.
      const next = recorder.nextChange();
      if (recorder.epoch !== epoch) {
        epoch = recorder.epoch;
        sent = recorder.seq;
        yield sse(
          'snapshot',
          JSON.stringify({
            ...about(recorder, info),
            connections: recorder.snapshot().map(present),
          }),
        );
      } else if (recorder.seq > sent) {
        const connections = recorder.changesSince(sent).map(present);
        sent = recorder.seq;
        yield sse('update', JSON.stringify({ ids: recorder.ids(), connections }));
      }
      const heartbeat = new AbortController();
      const woke = await Promise.race([
        next.then(() => true),
        sleep(HEARTBEAT_MS, false, { signal: AbortSignal.any([done, heartbeat.signal]) }).catch(
          () => false,
        ),
      ]);
      heartbeat.abort();
      if (done.aborted) return;
      if (!woke) yield sse(null, ': nothing new');
      // Let a burst finish: what arrives meanwhile goes in the same update.
      else await sleep(FRAME_MS, undefined, { signal: done }).catch(() => undefined);
    }
  };
}

/** One server-sent event: `event: name`, one `data:` line (JSON has no newline), a blank line. */
function sse(event: string | null, line: string): Uint8Array {
  return Buffer.from(event === null ? `${line}\n\n` : `event: ${event}\ndata: ${line}\n\n`);
}
