// Part 4's mix and match in one place: the two servers and the three frameworks that
// `npm run part4` can pair up, and the site that hosts all three guestbooks on one server.
//
//   SERVERS.gateway(app)   part 3's server: part 2's parser, written in this course
//   SERVERS.node(app)      the same contract on node:http (node-server.ts)
//   FRAMEWORKS.micro()     the guestbook on the Flask-style framework (micro/guestbook.ts)
//   FRAMEWORKS.mvc()       the guestbook on the Django/Express-style one (mvc/guestbook.ts)
//   FRAMEWORKS.hono()      the guestbook on Hono, a real framework, through fromFetch
//                          (hono/guestbook.ts)
//   createSite()           the guestbooks, at /micro/, /mvc/ and /hono/, and an index page at /
//
// Any server runs any of these apps unchanged: that is what the part 3 contract buys. The
// tests (tests/part4-guestbook.test.ts) loop over these same two tables, so every pair the
// command line offers is a pair the suite has run.
import type { Server } from 'node:net';
import type { Application, ErrorStream, ResponseHeader } from '../part3-gateway/contract.ts';
import { createGatewayServer } from '../part3-gateway/server.ts';
import { dispatcher } from './dispatcher.ts';
import { fromFetch } from './fetch.ts';
import { createGuestbook as createHonoGuestbook } from './hono/guestbook.ts';
import { createGuestbook as createMicroGuestbook } from './micro/guestbook.ts';
import { createGuestbook as createMvcGuestbook } from './mvc/guestbook.ts';
import { createNodeGatewayServer } from './node-server.ts';

/** What either server can be told; each has more options of its own. */
export interface ServerOptions {
  /** Where `gateway.errors` writes: standard error unless given. */
  errors?: ErrorStream;
  /** The largest request body, in bytes (1 MiB unless given) → 413. */
  maxBodyBytes?: number;
}

/**
 * Both servers are a net.Server that stops gracefully:
 * no new connections, in-flight ones finish.
 */
export type GatewayServer = Server & { shutdown(deadlineMs?: number): Promise<void> };

export type ServerName = 'gateway' | 'node';
export type FrameworkName = 'micro' | 'mvc' | 'hono';

export const SERVERS: Record<
  ServerName,
  (app: Application, options?: ServerOptions) => GatewayServer
> = {
  gateway: (app, { errors, maxBodyBytes } = {}) =>
    createGatewayServer(app, {
      errors,
      limits: maxBodyBytes === undefined ? {} : { maxBodyBytes },
    }),
  node: (app, options = {}) => createNodeGatewayServer(app, options),
};

/** Each call makes a fresh guestbook with an empty store. */
export const FRAMEWORKS: Record<FrameworkName, () => Application> = {
  micro: () => createMicroGuestbook(),
  mvc: () => createMvcGuestbook(),
  hono: () => fromFetch(createHonoGuestbook().fetch),
};

/**
 * One guestbook per framework, each mounted at its name: /micro/, /mvc/ and /hono/. Hono is told
 * its mount point (basePath): a fetch app sees the whole URL, never SCRIPT_NAME (fetch.ts).
 */
export function createSite(): Application {
  const hono = fromFetch(createHonoGuestbook(undefined, '/hono').fetch);
  return dispatcher({ micro: FRAMEWORKS.micro(), mvc: FRAMEWORKS.mvc(), hono }, index);
}

/**
 * The page at `/`, linking to each guestbook; 404 anywhere else the dispatcher did not route.
 * A bare part 3 app, no framework: the links are relative, so it works mounted anywhere too.
 */
const index: Application = (environ, startResponse) => {
  const text: ResponseHeader[] = [['Content-Type', 'text/plain; charset=utf-8']];
  if (environ.PATH_INFO !== '/' && environ.PATH_INFO !== '') {
    startResponse('404 Not Found', text);
    return [Buffer.from('Not found. The guestbooks are at /micro/, /mvc/ and /hono/.\n')];
  }
  if (environ.REQUEST_METHOD !== 'GET' && environ.REQUEST_METHOD !== 'HEAD') {
    startResponse('405 Method Not Allowed', [...text, ['Allow', 'GET, HEAD']]);
    return [Buffer.from('This page only answers GET and HEAD.\n')];
  }
  startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
  return [Buffer.from(INDEX_PAGE)];
};

const INDEX_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Part 4: one guestbook, three frameworks</title></head>
<body>
<h1>One guestbook, three frameworks, one server</h1>
<ul>
<li><a href="micro/">The guestbook on micro</a> (Flask style), and its
<a href="micro/entries">entries as JSON</a></li>
<li><a href="mvc/">The guestbook on mvc</a> (Django/Express style), and its
<a href="mvc/entries">entries as JSON</a></li>
<li><a href="hono/">The guestbook on Hono</a> (a real framework, through fromFetch), and its
<a href="hono/entries">entries as JSON</a></li>
</ul>
<p>All three answer every request alike; part4-frameworks/README.md traces one request
through micro and mvc, and sets WSGI's shape beside fetch's.</p>
</body>
</html>
`;
