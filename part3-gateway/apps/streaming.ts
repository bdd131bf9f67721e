// A streaming application: the response goes out chunk by chunk as it is produced, with
// chunked transfer coding because its length is not known in advance.
//   npm run part3 -- part3-gateway/apps/streaming.ts
//   curl -N 'http://127.0.0.1:8003/?count=5'      (-N: print each chunk as it arrives)
//
// While it sleeps between chunks, the same server keeps answering other requests: the await
// hands the event loop back. It stops early if the client leaves (gateway.signal).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Application } from '../contract.ts';

/** Most chunks one request may ask for, so `?count=` cannot keep a response open for ever. */
export const MAX_COUNT = 100;
export const INTERVAL_MS = 200;

/** A streaming app sending `?count=` chunks (10 by default), `intervalMs` apart. */
export function createStreamingApp(intervalMs = INTERVAL_MS): Application {
  return async function* (environ, startResponse) {
    const requested = Number(new URLSearchParams(environ.QUERY_STRING).get('count') ?? '10');
    const count =
      Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_COUNT) : 10;
    const signal = environ['gateway.signal'];
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    for (let i = 1; i <= count; i++) {
      yield Buffer.from(`chunk ${i} of ${count} at ${new Date().toISOString()}\n`);
      if (i < count) await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return; // the client left: stop producing
    }
  };
}

export const app = createStreamingApp();

export default app;
