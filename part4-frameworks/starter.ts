// Part 4, starter: where you begin writing your own framework, and a guestbook on it. It is
// already a part 3 Application, served by part 3's gateway server, so requests arrive as an
// environ and you answer with startResponse and a body. It answers 404 to everything: routing
// is your job. Work on a copy beside it (the imports below are relative, so keep the copy in
// part4-frameworks/), and run the checks on every save; they tell you what to do next:
//
//   cp part4-frameworks/starter.ts part4-frameworks/my-framework.ts
//   npm run check -- part4 part4-frameworks/my-framework.ts --watch
//   npx tsx part4-frameworks/my-framework.ts --port 8004
//     then, in another terminal: curl -i http://127.0.0.1:8004/
//
// The lesson is README.md, "Build it yourself"; REFERENCE.md, "The checks", lists every check.
// minimal.ts is one way to pass the core ones, micro/micro.ts and micro/guestbook.ts the
// course's own.
import type { Application } from '../part3-gateway/contract.ts';
import { runOnGateway } from './serve.ts';

export const app: Application = (environ, startResponse) => {
  // TODO check 1, "answers GET / with 200 and the guestbook's page as HTML": routing. Keep a
  // table of routes (a method, a pattern such as '/entries/:id', a handler); find the route
  // that matches REQUEST_METHOD and PATH_INFO, call its handler with a request object (params,
  // then query, form() and json() as later checks need them), and turn what it returns into
  // startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]) and [bytes].
  // Begin with one route, GET / → a page with a <form method="post" action="entries">.
  startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [
    Buffer.from(
      `No routes yet: nothing answers ${environ.REQUEST_METHOD} ${environ.PATH_INFO || '/'}.\n`,
    ),
  ];
};

runOnGateway(import.meta.url, app, 'Your framework');
