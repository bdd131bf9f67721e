// An upload application: reads the request body from gateway.input, a piece at a time, and
// reports its size, line count and a SHA-256 digest. Try it with a chunked upload:
//   npm run part3 -- part3-gateway/apps/upload.ts
//   curl -T README.md http://127.0.0.1:8003/            (PUT, Content-Length)
//   curl -H 'Transfer-Encoding: chunked' --data-binary @README.md http://127.0.0.1:8003/
//
// Reading gateway.input is also what sends "100 Continue" to a client that waits for it
// (curl -T sends `Expect: 100-continue` and waits for it; see it with curl -v).
import { createHash } from 'node:crypto';
import type { Application } from '../contract.ts';

export const app: Application = async function* (environ, startResponse) {
  if (environ.REQUEST_METHOD !== 'POST' && environ.REQUEST_METHOD !== 'PUT') {
    startResponse('405 Method Not Allowed', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Allow', 'POST, PUT'],
    ]);
    yield Buffer.from(
      'Send the file with POST or PUT, e.g. curl -T file.txt http://127.0.0.1:8003/\n',
    );
    return;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  for await (const chunk of environ['gateway.input']) {
    hash.update(chunk);
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 0x0a) lines++;
  }
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  yield Buffer.from(JSON.stringify({ bytes, lines, sha256: hash.digest('hex') }) + '\n');
};

export default app;
