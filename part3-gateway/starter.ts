// Part 3, where you begin: a gateway that loads an app and listens, and does nothing else yet.
// Your job is to make it keep the contract of contract.ts, check by check. Work on a copy beside
// it (the imports below are relative, so keep the copy in part3-gateway/):
//
//   cp part3-gateway/starter.ts part3-gateway/my-gateway.ts
//   npm run check -- part3 part3-gateway/my-gateway.ts --watch
//
// The checker starts your file as `tsx part3-gateway/my-gateway.ts tests/checks/probe-app.ts
// --port P`, with its own app, the probe, which reports what it received. The lesson is
// README.md, "Build it yourself"; REFERENCE.md, "The checks", lists every check. The HTTP side is
// part 2's server: you write the gateway's half only. When you are stuck, part3-gateway/minimal.ts
// is one way to do it, and server.ts, environ.ts and handler.ts are the full one.
//
// What part 2's server gives your handler (part2-tcp-http/server.ts and response.ts):
//
//   request.head            { method, target, version, headers: [{ name, value }, ...] }
//   request.body            await request.body.read(): the next piece of the body (a Buffer,
//                           de-chunked, of any size), or null at its end
//   request.signal          an AbortSignal, aborted when the connection closes mid-response
//   request.remoteAddress, remotePort, localAddress, localPort
//   response.writeHead(status, headers, knownLength?, reason?)
//                           the head; `knownLength` becomes Content-Length, else the body is
//                           chunked. headers: [name, value] pairs, in order
//   response.write(chunk)   a piece of the body; returns false when the socket is full: then
//                           `await response.drained()` before the next. Once the client is gone
//                           it returns true and drops the bytes: look at response.clientGone
//   response.end()          the body is complete
//   response.abort()        cut the connection: for a response that cannot be completed (a
//                           handler that throws after the head does the same)
//   response.headSent, response.clientGone, response.sendWhole(status, headers, body)
//
// The socket itself is not in the request: createHttpServer returns a net.Server, whose
// 'connection' event gives each socket (request.remoteAddress and remotePort tell which is a
// request's). Only challenge 2 needs it.
import {
  listenOrExplain,
  parseCli,
  runMain,
  stopOnSignals,
  UsageError,
} from '../part1-sockets/cli.ts';
import type { ResponseWriter } from '../part2-tcp-http/response.ts';
import { createHttpServer, type ServerRequest } from '../part2-tcp-http/server.ts';
import type { Application } from './contract.ts';
import { loadApplication, LoadError } from './loader.ts';

function handle(app: Application, request: ServerRequest, response: ResponseWriter): void {
  // TODO (check 1, "calls the app for a request and sends what it answers"):
  //   1. build the environ from `request` (REQUEST_METHOD, PATH_INFO, QUERY_STRING, HTTP_*...),
  //   2. call app(environ, startResponse), where startResponse keeps the status and headers,
  //   3. send the status, the headers and every chunk of the body the app returns
  //      (response.writeHead, response.write, response.end: see above). The app's status is
  //      text, '200 OK': writeHead wants the number and the reason apart (200, 'OK').
  // A first version may build a few keys and send an array body; the next checks ask for more.
  void app;
  response.sendWhole(
    501,
    [['Content-Type', 'text/plain; charset=utf-8']],
    `TODO: call the app for ${request.head.method} ${request.head.target}\n`,
  );
}

async function main(): Promise<void> {
  const options = parseCli(8003);
  const [file] = options.rest;
  if (file === undefined)
    throw new UsageError('Usage: npx tsx part3-gateway/starter.ts path/to/app.ts [--port N]');
  // The app file's default export, else its export named `app` (loader.ts).
  const app = await loadApplication(file).catch((error: unknown) => {
    throw error instanceof LoadError ? new UsageError(error.message) : error;
  });
  const server = createHttpServer((request, response) => handle(app, request, response));
  // Ctrl-C or SIGTERM: stop accepting, let the responses in progress finish, exit.
  stopOnSignals(() => server.shutdown());
  const port = await listenOrExplain(server, options, 'part3');
  console.log(`Your gateway serves ${file} on http://${options.host}:${port}/ (Ctrl-C to stop)`);
}

runMain(main);
