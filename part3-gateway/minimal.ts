// Part 3, the minimal version: the gateway read in one sitting. It loads an app, and for each
// request builds the environ, calls application(environ, startResponse), iterates the body and
// sends it. The HTTP side is part 2's server (createHttpServer), so this file is the contract
// alone, as the seed article's gateway is.
//
//   npx tsx part3-gateway/minimal.ts part3-gateway/apps/hello.ts --port 8003
//   npm run check -- part3 part3-gateway/minimal.ts --all
//
// It passes every core check, and fails seven hardening ones (REFERENCE.md, "What minimal.ts
// leaves out"): it never calls the body's close() nor, after a complete body, its iterator's
// return(); it lets an app set hop-by-hop headers; it keeps pulling a stream after the client
// left; it ignores backpressure; it trusts an array's Content-Length; it lets a string body
// through to the writer; and one bad escape fails its PATH_INFO. The real gateway (server.ts,
// environ.ts, handler.ts, start-response.ts) is those rules, a deadline per app, `--workers`,
// and an error log.
import { listenOrExplain, parseCli, runMain, UsageError } from '../part1-sockets/cli.ts';
import { HttpError } from '../part2-tcp-http/errors.ts';
import { sendError } from '../part2-tcp-http/errors.ts';
import type { ResponseHeader, ResponseWriter } from '../part2-tcp-http/response.ts';
import { createHttpServer, type ServerRequest } from '../part2-tcp-http/server.ts';
import type { Application, Environ, StartResponse } from './contract.ts';
import { GatewayInput } from './input.ts';
import { loadApplication, LoadError } from './loader.ts';

function buildEnviron(request: ServerRequest): Environ {
  const { method, target, version, headers } = request.head;
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const host = /^([^:]*)(?::(\d+))?$/.exec(
    headers.find((field) => field.name.toLowerCase() === 'host')?.value ?? '',
  );
  const environ: Environ = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    // Simplification: a malformed escape (%zz) would throw; the real one leaves it as sent.
    PATH_INFO: decodeURIComponent(path),
    QUERY_STRING: mark === -1 ? '' : target.slice(mark + 1),
    REQUEST_URI: target,
    SERVER_NAME: host?.[1] || request.localAddress,
    SERVER_PORT: host?.[2] ?? String(request.localPort),
    SERVER_PROTOCOL: version,
    REMOTE_ADDR: request.remoteAddress,
    REMOTE_PORT: String(request.remotePort),
    'gateway.version': [1, 0],
    'gateway.url_scheme': 'http',
    'gateway.input': new GatewayInput(() => request.body.read()),
    'gateway.errors': { write: (text) => void process.stderr.write(text), flush: () => {} },
    'gateway.multithread': true,
    'gateway.multiprocess': false,
    'gateway.run_once': false,
    'gateway.signal': request.signal,
  };
  for (const { name, value } of headers) {
    // CGI (RFC 3875 §4.1): Content-Type and Content-Length lose the HTTP_ prefix.
    const key = name.toUpperCase().replace(/-/g, '_');
    const environKey = key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH' ? key : `HTTP_${key}`;
    const previous = environ[environKey];
    environ[environKey] = typeof previous === 'string' ? `${previous}, ${value}` : value;
  }
  return environ;
}

async function handle(
  app: Application,
  request: ServerRequest,
  response: ResponseWriter,
): Promise<void> {
  // startResponse only keeps the status and headers: the head goes with the first chunk, so an
  // app that fails before it can still get a 500.
  let started: { status: number; reason: string; headers: ResponseHeader[] } | null = null;
  const sendHead = (length?: number): void => {
    if (started === null) throw new Error('The app sent a body before calling startResponse.');
    if (!response.headSent)
      response.writeHead(started.status, started.headers, length, started.reason);
  };
  const startResponse: StartResponse = (status, headers) => {
    const space = status.indexOf(' ');
    started = { status: Number(status.slice(0, space)), reason: status.slice(space + 1), headers };
    return (chunk) => {
      sendHead();
      response.write(chunk);
    };
  };
  try {
    const body = await app(buildEnviron(request), startResponse);
    // An array is known in full: one write, with its Content-Length.
    const length = Array.isArray(body)
      ? body.reduce((sum: number, chunk: Uint8Array) => sum + chunk.length, 0)
      : undefined;
    for await (const chunk of body) {
      if (chunk.length === 0) continue;
      sendHead(length);
      // Simplification: write() returning false (the socket is full) is not waited for.
      response.write(chunk);
    }
    sendHead(length ?? 0);
    response.end();
  } catch (error) {
    // Before the head: a clean 500. After it, too late: part 2 cuts the connection.
    if (response.headSent) throw error;
    console.error(`${request.head.method} ${request.head.target}: answered 500:`, error);
    sendError(response, new HttpError(500, 'The application failed.'));
  }
}

async function main(): Promise<void> {
  const options = parseCli(8003);
  const [file] = options.rest;
  if (file === undefined)
    throw new UsageError('Usage: npx tsx part3-gateway/minimal.ts path/to/app.ts [--port N]');
  // The app file's default export, else its export named `app` (loader.ts).
  const app = await loadApplication(file).catch((error: unknown) => {
    throw error instanceof LoadError ? new UsageError(error.message) : error;
  });
  const server = createHttpServer((request, response) => handle(app, request, response), {
    serverName: 'minimal-gateway',
  });
  const port = await listenOrExplain(server, options, 'part3');
  console.log(`Minimal gateway serving ${file} on http://${options.host}:${port}/`);
}

runMain(main);
