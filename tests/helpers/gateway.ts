// Starts part 3's gateway server in-process on 127.0.0.1:0 around one application, with the
// error log collected into an array (tests assert on it, and the run stays quiet).
//
//   const gateway = await startGateway(app);
//   const response = await request(`${gateway.url}/`);
//   expect(gateway.log.join('')).toContain('answered 500');
//   await gateway.close();
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { HttpServer } from '../../part2-tcp-http/server.ts';
import type { Application } from '../../part3-gateway/contract.ts';
import { createGatewayServer, type GatewayOptions } from '../../part3-gateway/server.ts';
import { start, type RunningServer } from './server.ts';

export interface RunningGateway extends RunningServer {
  /** Every line written to gateway.errors (the app's and the server's). */
  log: string[];
  /** The server itself, for its graceful `shutdown(deadlineMs)`. */
  server: HttpServer;
}

export async function startGateway(app: Application, options: GatewayOptions = {}): Promise<RunningGateway> {
  const log: string[] = [];
  const server = createGatewayServer(app, {
    errors: { write: (text) => void log.push(text), flush: () => {} },
    ...options,
  });
  return { ...(await start(server)), log, server };
}

/**
 * One gateway for a whole test file: started before the first test, closed after the last,
 * its log emptied before each test. The object returned is filled in by beforeAll, so use it
 * inside tests and hooks only.
 */
export function useGateway(app: Application, options: GatewayOptions = {}): RunningGateway {
  const holder: Partial<RunningGateway> = {};
  beforeAll(async () => {
    Object.assign(holder, await startGateway(app, options));
  });
  afterAll(async () => {
    await holder.close?.();
  });
  beforeEach(() => {
    holder.log?.splice(0);
  });
  return holder as RunningGateway;
}

/**
 * One app that hands each request to the app registered for its PATH_INFO (404 otherwise), so a
 * test file can start one server for many small apps. The body is passed through untouched.
 */
export function routes(table: Record<string, Application>): Application {
  return (environ, startResponse) => {
    const app = table[environ.PATH_INFO];
    if (app !== undefined) return app(environ, startResponse);
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return [bytes(`no test app at ${environ.PATH_INFO}\n`)];
  };
}

/** UTF-8 bytes of `text`: what a body chunk must be. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Resolve once `check()` is true (polling every few ms); reject after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 2_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not become true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
