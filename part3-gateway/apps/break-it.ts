// An application that goes wrong on purpose, one way per path, to watch the server cope (the
// README's "Break it" section):
//   npm run part3 -- part3-gateway/apps/break-it.ts
//   curl -i http://127.0.0.1:8003/throw
//       throws before its first chunk → a clean 500
//   curl -i http://127.0.0.1:8003/throw-late
//       throws after its first chunk → the connection is cut
//   curl -i http://127.0.0.1:8003/hop-by-hop
//       sets Connection itself → 500 (that header is the server's)
//   curl -s -o /dev/null --limit-rate 2M http://127.0.0.1:8003/big
//       a slow client: the log shows the app slowed down to match
// The details of every failure go to the server's error log (its standard error),
// never to the client.
import type { Application } from '../contract.ts';

/**
 * /big sends this many 64 KiB chunks: 20 MiB,
 * several times what the kernel's socket buffers hold.
 */
export const BIG_CHUNKS = 320;
const CHUNK = new Uint8Array(64 * 1024).fill(0x2e); // '.'

const TEXT: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8']];

export const app: Application = function* (environ, startResponse) {
  switch (environ.PATH_INFO) {
    case '/throw':
      throw new Error('something broke before the first chunk (the client sees a clean 500)');
    case '/throw-late':
      startResponse('200 OK', TEXT);
      yield Buffer.from('The first chunk went out fine...\n');
      throw new Error('something broke after the head was sent (the client sees a cut connection)');
    case '/hop-by-hop':
      startResponse('200 OK', [...TEXT, ['Connection', 'close']]);
      yield Buffer.from('never sent\n');
      return;
    case '/big': {
      // The server pulls the next chunk only when the socket has taken the last: log how far
      // the generator has got, and when, to see it wait for a slow client.
      const started = Date.now();
      const log = environ['gateway.errors'];
      startResponse('200 OK', [
        ['Content-Type', 'application/octet-stream'],
        ['Content-Length', String(BIG_CHUNKS * CHUNK.length)],
      ]);
      for (let i = 1; i <= BIG_CHUNKS; i++) {
        yield CHUNK;
        if (i % 64 === 0)
          log.write(
            `big: ${i / 16} MiB pulled after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
      }
      return;
    }
    default:
      startResponse('404 Not Found', TEXT);
      yield Buffer.from('Try /throw, /throw-late, /hop-by-hop or /big.\n');
  }
};

export default app;
