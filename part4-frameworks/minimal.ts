// Part 4, minimal: a web framework you can read in one sitting, and the guestbook on it. The
// framework is a route table with :params, a request object (query, form, json) and three
// response helpers, all on the part 3 contract: `app` is an Application, served here by part 3's
// gateway server. The guestbook uses the stage's model (guestbook-model.ts), as both of the
// course's guestbooks do, so its rules and messages are theirs.
//
//   npx tsx part4-frameworks/minimal.ts --port 8004
//     then: curl -i http://127.0.0.1:8004/entries
//   npm run check -- part4 part4-frameworks/minimal.ts --all
//     every core check passes; some hardening checks fail
//
// What it leaves out, on purpose, and what micro/micro.ts adds (README.md, "Build it yourself",
// lists the checks this file fails): errors as answers (a broken JSON body crashes the handler:
// 500, not 400), Content-Type checks (any body is read as a form: no 415), an id that must be
// digits (Number(' 7') is 7), a handler that forgets to return, SCRIPT_NAME re-encoded in URLs,
// bodies other than text, HTML escaping by default (here every value is escaped by hand).
import { STATUS_REASONS } from '../part2-tcp-http/response.ts';
import type { Application, Environ, ResponseHeader } from '../part3-gateway/contract.ts';
import { createGuestbookStore, validateEntry } from './guestbook-model.ts';
import { escapeHtml } from './micro/html.ts';
import { runOnGateway } from './serve.ts';

// ---- The framework -----------------------------------------------------------------------------

interface Request {
  method: string;
  /** The `:name` parts of the route's pattern: `/entries/:id` gives `params.id`. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** True when the body says it is JSON (Content-Type: application/json...). */
  isJson: boolean;
  form(): Promise<URLSearchParams>;
  json(): Promise<unknown>;
  /** A path inside this app, wherever it is mounted: urlFor('/') is '/micro/' under /micro. */
  urlFor(path: string): string;
}

interface Response {
  status: number;
  headers: ResponseHeader[];
  body: string;
}

type Handler = (request: Request) => Response | Promise<Response>;

function reply(status: number, type: string, body: string, more: ResponseHeader[] = []): Response {
  return { status, headers: [['Content-Type', type], ...more], body };
}
const text = (status: number, body: string, headers: ResponseHeader[] = []): Response =>
  reply(status, 'text/plain; charset=utf-8', body, headers);
const html = (body: string, status = 200): Response =>
  reply(status, 'text/html; charset=utf-8', body);
const json = (value: unknown, status = 200, headers: ResponseHeader[] = []): Response =>
  reply(status, 'application/json', JSON.stringify(value), headers);
/** 303 See Other: the browser GETs `location` next (POST-redirect-GET, RFC 9110 §15.4.4). */
const redirect = (location: string): Response =>
  text(303, `See ${location}\n`, [['Location', location]]);

function request(environ: Environ, params: Record<string, string>): Request {
  let decoded: Promise<string> | undefined;
  // The body is read once, however many helpers ask. The gateway enforces its size limit: a
  // read past it rejects with status 413, which the gateway answers as such.
  const body = (): Promise<string> =>
    (decoded ??= environ['gateway.input'].read().then((bytes) => new TextDecoder().decode(bytes)));
  return {
    method: environ.REQUEST_METHOD,
    params,
    query: new URLSearchParams(environ.QUERY_STRING),
    isJson: (environ.CONTENT_TYPE ?? '').toLowerCase().startsWith('application/json'),
    // Simplification: any body is read as a form, whatever its Content-Type (micro answers 415).
    form: async () => new URLSearchParams(await body()),
    // Simplification: a body that is not JSON throws here,
    // and the gateway answers 500 (micro: 400).
    json: async () => {
      const value: unknown = JSON.parse(await body());
      return value;
    },
    urlFor: (path) => environ.SCRIPT_NAME + path,
  };
}

interface Route {
  method: string;
  /** `/entries/:id` → `^/entries/([^/]+)$`, and the names of its groups: ['id']. */
  regex: RegExp;
  names: string[];
  handler: Handler;
}

export function framework(): {
  app: Application;
  get(pattern: string, handler: Handler): void;
  post(pattern: string, handler: Handler): void;
} {
  const routes: Route[] = [];
  const add = (method: string, pattern: string, handler: Handler): void => {
    const names: string[] = [];
    const source = pattern.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
  };

  const app: Application = async (environ, startResponse) => {
    const path = environ.PATH_INFO || '/';
    // RFC 9110 §9.3.2: HEAD is GET without the body; the server leaves the body out.
    const method = environ.REQUEST_METHOD === 'HEAD' ? 'GET' : environ.REQUEST_METHOD;
    const here = routes.filter((route) => route.regex.test(path));
    const route = here.find((candidate) => candidate.method === method);
    let response: Response;
    if (route !== undefined) {
      const match = route.regex.exec(path) ?? [];
      const params = Object.fromEntries(route.names.map((name, i) => [name, match[i + 1]]));
      response = await route.handler(request(environ, params));
    } else if (here.length > 0) {
      // The path exists, not for this method: 405 with the methods that work (RFC 9110 §15.5.6).
      const methods = here.flatMap((other) =>
        other.method === 'GET' ? ['GET', 'HEAD'] : [other.method],
      );
      const allow = [...new Set(methods)].join(', ');
      response = text(405, `Use ${allow}.\n`, [['Allow', allow]]);
    } else {
      response = text(404, 'Not found.\n');
    }
    const reason = STATUS_REASONS[response.status] ?? 'Unknown';
    startResponse(`${response.status} ${reason}`, response.headers);
    return [Buffer.from(response.body)];
  };
  return {
    app,
    get: (pattern, handler) => add('GET', pattern, handler),
    post: (pattern, handler) => add('POST', pattern, handler),
  };
}

// ---- The guestbook -----------------------------------------------------------------------------

const store = createGuestbookStore();
const book = framework();

book.get('/', (request) => page(request, []));

book.get('/entries', () => json({ entries: store.list() }));

book.get('/entries/:id', (request) => {
  // Simplification: Number(' 1'), Number('1.0') and Number('0x1') are all 1 (micro: digits only).
  const entry = store.find(Number(request.params.id));
  return entry === undefined
    ? json({ error: 'There is no entry with that id.' }, 404)
    : json(entry);
});

book.post('/entries', async (request) => {
  if (request.isJson) {
    const result = validateEntry(await request.json());
    if (!result.ok) return json({ errors: result.errors }, 400);
    const entry = store.add(result.entry);
    return json(entry, 201, [['Location', request.urlFor(`/entries/${entry.id}`)]]);
  }
  const form = await request.form();
  const result = validateEntry({ name: form.get('name'), message: form.get('message') });
  if (!result.ok) return page(request, result.errors, 400);
  store.add(result.entry);
  return redirect(request.urlFor('/'));
});

/** The page: errors of a refused form, the form, the entries newest first. Every value escaped. */
function page(request: Request, errors: string[], status = 200): Response {
  const entries = store
    .list()
    .map(
      (entry) =>
        `<li><strong>${escapeHtml(entry.name)}</strong>: ${escapeHtml(entry.message)}</li>`,
    );
  return html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Guestbook (minimal)</title></head>
<body><h1>Guestbook</h1>
${errors.map((error) => `<p class="error">${escapeHtml(error)}</p>`).join('\n')}
<form method="post" action="${escapeHtml(request.urlFor('/entries'))}">
<p><label>Name <input name="name" required></label>
<label>Message <input name="message" required></label>
<button type="submit">Sign</button></p>
</form>
<ul>${entries.join('\n')}</ul>
</body></html>
`,
    status,
  );
}

export const app = book.app;

runOnGateway(import.meta.url, app, 'The minimal guestbook');
