// The smallest gateway application: one status, one header, one chunk.
//   npm run part3 -- part3-gateway/apps/hello.ts
import type { Application } from '../contract.ts';

export const app: Application = function* (environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  yield Buffer.from(`Hello, World! You asked for ${environ.PATH_INFO}\n`);
};

export default app;
