// Part 2, challenge 1 solved: `GET /static/` serves public/index.html, and any folder under
// /static/ its own index.html, as most static file servers do. Everything else is the part 2
// site, unchanged: this file wraps its handler.
//
//   npx tsx part2-tcp-http/solutions/challenge-1.ts --port 8002
//     then: curl -v http://127.0.0.1:8002/static/
//   npm run check -- part2 part2-tcp-http/solutions/challenge-1.ts --challenge 1
//
// What it leaves out: folders without an index.html are still a 404 (no listing), and
// "/static/public" (no slash at the end) is not redirected to "/static/public/".
import type { Handler } from '../server.ts';
import { PUBLIC_DIR, serveStatic } from '../static.ts';
import { serveSolution, staticPathOf } from './serve.ts';

/** A path ending in "/" names a folder: answer with the index.html inside it. */
function withFolderIndex(site: Handler, publicDir = PUBLIC_DIR): Handler {
  return (request, response) => {
    const path = staticPathOf(request);
    if (path === null || !(path === '' || path.endsWith('/'))) return site(request, response);
    // serveStatic checks the index's path as it checks any other: "/static/../" still gets 403.
    return serveStatic(publicDir, `${path}index.html`, response);
  };
}

serveSolution(1, withFolderIndex, "curl -v 'URL/static/'");
