// The servers of servers.ts that need nothing outside this repository: node:http (the
// baseline), the course's own, and the no-parser reference. They live apart from Fastify and
// Express so that tests/bench-servers.test.ts can start them under `npm test` (and the root's
// typecheck can follow its imports) without bench/'s own install, which brings those two.
//
// Each server's modules are imported inside its create(), so that a server process holds its
// own server's code and nothing else, as it would in production. (With every module loaded in
// every process, Express and Fastify included, the larger heap alone made the course's servers
// spend up to twice as long per request in bench/in-process.ts: the garbage collector works
// harder in a bigger heap, and the servers that allocate more per request pay more.)
import { createServer as createNodeHttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Application } from '../part3-gateway/contract.ts';

export const HELLO = 'Hello, World!\n';
const HELLO_BYTES = Buffer.from(HELLO);
/** The path every load test asks for. */
export const PATH = '/hello/world';

/**
 * The same response from everyone, or the comparison means nothing: status 200, a text/plain
 * body of `Hello, World!\n`, framed by `Content-Length: 14` (a chunked body is more bytes and
 * more work). The runner checks every server with this before it measures; tests/bench-servers
 * checks the ones that need no dependency of bench/.
 */
export async function checkSameResponse(label: string, port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${PATH}`);
  const body = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const length = response.headers.get('content-length');
  const chunked = response.headers.has('transfer-encoding');
  if (
    response.status !== 200 ||
    body !== HELLO ||
    !type.startsWith('text/plain') ||
    length !== String(HELLO_BYTES.length) ||
    chunked
  ) {
    const framing = chunked ? 'chunked' : `Content-Length: ${length ?? 'none'}`;
    throw new Error(
      `${label} answered ${response.status} (${type}, ${framing}) ${JSON.stringify(body)}; ` +
        `expected 200 text/plain ${JSON.stringify(HELLO)} with Content-Length: ${HELLO_BYTES.length}.`,
    );
  }
}

/** What each server is, in the words the report uses. */
export interface ServerSpec {
  name: string;
  label: string;
  /** One line for the report: what runs, and what it does per request. */
  description: string;
  /** Returns a server that is not yet listening. */
  create: () => Server | Promise<Server>;
}

/** The smallest application the gateway contract allows: one status, one header, one chunk. */
const minimalApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  // An array, not a generator: the server knows the length and sends Content-Length.
  return [HELLO_BYTES];
};

/**
 * The same answer in the form the part 3 README teaches: a generator that calls startResponse
 * and yields its body. It ends at once, so part 2's writer frames it with a Content-Length, as
 * it does an array's (part2-tcp-http/response.ts → flush).
 */
const generatorApp: Application = function* (_environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  yield HELLO_BYTES;
};

/** The baseline every figure is a ratio to. */
export const BASELINE_SERVER: ServerSpec = {
  name: 'node-http',
  label: 'node:http',
  description:
    "Node's own HTTP server (llhttp, a C parser), a handler calling writeHead (with Content-Length) and end: the baseline",
  create: () =>
    createNodeHttpServer((_request, response) => {
      // Content-Length given, as every other server here sends it. Without it, writeHead()
      // fixes the head before end() sees the body, and node:http sends the body chunked:
      // more bytes and a second write, which made the baseline about 12% slower than it is.
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO_BYTES.length });
      response.end(HELLO);
    }),
};

/** The course's servers and frameworks. */
export const COURSE_SERVERS: readonly ServerSpec[] = [
  {
    name: 'part2',
    label: 'part 2 server',
    description:
      'createHttpServer (part2-tcp-http/server.ts) with a one-line handler, sendWhole(); not the part 2 site and its routes',
    create: async () => {
      const { createHttpServer } = await import('../part2-tcp-http/server.ts');
      return createHttpServer((_request, response) => response.sendWhole(200, [['Content-Type', 'text/plain']], HELLO));
    },
  },
  {
    name: 'part3',
    label: 'part 3 gateway',
    description:
      'createGatewayServer (part3-gateway/server.ts): environ, startResponse, an array body, on the part 2 server',
    create: async () => {
      const { createGatewayServer } = await import('../part3-gateway/server.ts');
      return createGatewayServer(minimalApp);
    },
  },
  {
    name: 'part3-generator',
    label: 'part 3, generator app',
    description:
      'createGatewayServer with the app the part 3 README teaches: function* { startResponse(...); yield body }',
    create: async () => {
      const { createGatewayServer } = await import('../part3-gateway/server.ts');
      return createGatewayServer(generatorApp);
    },
  },
  {
    name: 'micro',
    label: 'part 4 micro',
    description: "the micro framework on the part 3 gateway: route '/hello/:name', Request object, reply()",
    create: async () => {
      const { createGatewayServer } = await import('../part3-gateway/server.ts');
      const { micro, reply } = await import('../part4-frameworks/micro/micro.ts');
      return createGatewayServer(
        micro().get('/hello/:name', () => reply({ headers: { 'Content-Type': 'text/plain' }, body: HELLO })),
      );
    },
  },
  {
    name: 'mvc',
    label: 'part 4 mvc',
    description:
      "the mvc framework on the part 3 gateway: URL pattern 'hello/<name>', HttpRequest, a view, no middleware",
    create: async () => {
      const { createGatewayServer } = await import('../part3-gateway/server.ts');
      const { createApp } = await import('../part4-frameworks/mvc/app.ts');
      const { HttpResponse } = await import('../part4-frameworks/mvc/http.ts');
      const { path } = await import('../part4-frameworks/mvc/urls.ts');
      return createGatewayServer(
        createApp({ urls: [path('hello/<name>', () => new HttpResponse(HELLO, { contentType: 'text/plain' }))] }),
      );
    },
  },
  {
    name: 'node-gateway',
    label: 'part 4 node-server',
    description: 'the part 3 minimal app on node:http through the adapter (part4-frameworks/node-server.ts)',
    create: async () => {
      const { createNodeGatewayServer } = await import('../part4-frameworks/node-server.ts');
      return createNodeGatewayServer(minimalApp);
    },
  },
];

/** Not a server: the ceiling for JavaScript on node:net. */
export const REFERENCE_SERVER: ServerSpec = {
  name: 'net-minimal',
  label: 'node:net, no parser (reference)',
  description:
    'not a real server: finds the end of each head, looks for "close", writes a canned response; the ceiling for JavaScript on node:net',
  create: () => createNetServer(answerWithoutParsing),
};

// ---- The reference: what is left when a server gives up everything ---------------------------

const CANNED_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n';
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Answers every request with the same bytes. It validates nothing, has no limits, no timeouts,
 * no Date header, no request body support, and would answer "GARBAGE\r\n\r\n" with a 200:
 * this is the distance a real parser and a real response writer travel.
 */
function answerWithoutParsing(socket: Socket): void {
  socket.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let headEnd = pending.indexOf(HEAD_END);
    while (headEnd !== -1) {
      const close = pending.subarray(0, headEnd).toString('latin1').toLowerCase().includes('connection: close');
      socket.write(`${CANNED_HEAD}${close ? 'Connection: close\r\n' : ''}\r\n${HELLO}`);
      if (close) {
        socket.end();
        return;
      }
      pending = pending.subarray(headEnd + HEAD_END.length);
      headEnd = pending.indexOf(HEAD_END);
    }
  });
  socket.on('error', () => socket.destroy());
}
