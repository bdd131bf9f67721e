// The servers under test, each started in a process of its own (serve.ts) by the bench runner
// (run.ts).
//
// Every one answers `GET /hello/world` with the same response: status 200,
// `Content-Type: text/plain`, the body `Hello, World!\n`, framed by Content-Length. The
// frameworks get there through a route with a path parameter (`/hello/:name`), because
// matching a route is part of what a framework costs; the bare servers answer every path.
//
// node:http, the course's servers and the reference are in course-servers.ts; the peers that
// come from bench/'s own install, Fastify and Express, are here. Each server's modules are
// imported inside its create(), so a server process holds its own server's code and no other.
import { createServer as createNodeHttpServer } from 'node:http';
import { BASELINE_SERVER, COURSE_SERVERS, HELLO, REFERENCE_SERVER, type ServerSpec } from './course-servers.ts';

export { checkSameResponse, PATH, type ServerSpec } from './course-servers.ts';

export const SERVERS: readonly ServerSpec[] = [
  BASELINE_SERVER,
  ...COURSE_SERVERS,
  {
    name: 'fastify',
    label: 'Fastify',
    description: "Fastify 5 on node:http, route '/hello/:name', reply.type().send(), logger off",
    create: async () => {
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false });
      app.get('/hello/:name', (_request, response) => response.type('text/plain').send(HELLO));
      await app.ready();
      return app.server;
    },
  },
  {
    name: 'express',
    label: 'Express',
    description:
      "Express 5 on node:http, route '/hello/:name', res.type().send() (adds ETag and X-Powered-By, as it does by default)",
    create: async () => {
      const { default: express } = await import('express');
      const app = express();
      app.get('/hello/:name', (_request, response) => {
        response.type('text/plain').send(HELLO);
      });
      return createNodeHttpServer(app);
    },
  },
  REFERENCE_SERVER,
];
