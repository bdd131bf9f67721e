// Part 4, challenge 1 solved: before hooks for micro (Flask's before_request), and a maintenance
// switch made of one. A hook sees each request before any handler does; returning a reply()
// answers it there, and the handler never runs. Returning nothing lets the request through.
//
//   npx tsx part4-frameworks/solutions/challenge-1.ts --port 8004
//   curl -i -X PUT --data-binary on http://127.0.0.1:8004/maintenance
//     then: curl -i http://127.0.0.1:8004/
//   npm run check -- part4 part4-frameworks/solutions/challenge-1.ts --challenge 1
//
// Done from outside micro.ts, so the reference stays as it is: withBeforeHooks wraps the app
// (itself an Application) and runs the hooks first. Inside micro.ts, the same list would be
// run by serve() before dispatch(), and hooks could then answer with every kind of reply body.
import { STATUS_REASONS } from '../../part2-tcp-http/response.ts';
import type { Application, ResponseHeader } from '../../part3-gateway/contract.ts';
import { createGuestbook } from '../micro/guestbook.ts';
import { abort, Request, reply, type Reply } from '../micro/micro.ts';
import { runOnGateway } from '../serve.ts';

/** Runs before every request: a Reply answers it instead of the app; undefined lets it through. */
export type BeforeHook = (request: Request) => Reply | undefined | Promise<Reply | undefined>;

/**
 * `app` with `hooks` run first, in order; the first that returns a Reply answers.
 * Simplification: a hook must not read the body (the app reads it after, from the same input),
 * and its reply's body is sent as text (text/plain unless it names a Content-Type).
 */
export function withBeforeHooks(app: Application, hooks: BeforeHook[]): Application {
  return async (environ, startResponse) => {
    const request = new Request(environ, {});
    for (const hook of hooks) {
      const answer = await hook(request);
      if (answer === undefined) continue;
      const headers: ResponseHeader[] = Object.entries(answer.headers);
      if (!headers.some(([name]) => name.toLowerCase() === 'content-type'))
        headers.push(['Content-Type', 'text/plain; charset=utf-8']);
      startResponse(
        `${answer.status} ${STATUS_REASONS[answer.status] ?? 'Unknown Status'}`,
        headers,
      );
      return [Buffer.from(String(answer.body))];
    }
    return app(environ, startResponse);
  };
}

/** The guestbook, with PUT /maintenance ("on" or "off") and a hook that answers 503 while on. */
export function createMaintainedGuestbook(): Application {
  let maintenance = false;
  const book = createGuestbook();
  // Simplification: anyone may flip the switch; a real one would ask who is asking (another hook).
  book.put('/maintenance', async (request) => {
    const wanted = (await request.text()).trim();
    if (wanted !== 'on' && wanted !== 'off') abort(400, 'Send "on" or "off".');
    maintenance = wanted === 'on';
    return reply({ status: 204 });
  });
  const closedForMaintenance: BeforeHook = (request) => {
    if (!maintenance || request.path === '/maintenance') return undefined;
    // RFC 9110 §15.6.4: 503 is "not now"; Retry-After says when to come back, in seconds.
    return reply({
      status: 503,
      headers: { 'Retry-After': '60' },
      body: 'The guestbook is closed for maintenance: try again in a minute.\n',
    });
  };
  return withBeforeHooks(book, [closedForMaintenance]);
}

export const app = createMaintainedGuestbook();

runOnGateway(
  import.meta.url,
  app,
  'The micro guestbook with a maintenance switch (PUT /maintenance on|off)',
);
