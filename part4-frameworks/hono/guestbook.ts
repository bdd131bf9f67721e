// The guestbook on Hono (https://hono.dev), a real framework from npm, written the way Hono's
// own docs write apps. Hono speaks the fetch contract, not ours: fromFetch (../fetch.ts) serves
// it on our servers. Read it beside ../micro/guestbook.ts and ../mvc/guestbook.ts: the same
// routes, statuses and JSON, over the same model (../guestbook-model.ts).
//
//   GET  /              the page: entries, newest first, and a form to sign
//   POST /entries       a new entry: from the form → 303 back to the page (POST-redirect-GET);
//                       as JSON → 201 with the entry; invalid → 400 saying what to fix
//   GET  /entries       every entry as JSON: {"entries": [{"id", "name", "message", "createdAt"}]}
//   GET  /entries/:id   one entry as JSON, or 404
//
//   npm run part4 -- --app part4-frameworks/hono/guestbook.ts   (its `export default app`)
//
// What differs from the other two, because a fetch app sees a Request and not an environ:
// - Mounting: a Request has no SCRIPT_NAME, so the app is told where it is mounted, `basePath`
//   (site.ts mounts it at /hono), and writes its links from that (fetch.ts says why).
// - Content-Type says `charset=UTF-8`, Hono's spelling (charset names are case-insensitive).
// - HEAD gets no Content-Length (RFC 9110 §9.3.2 allows that): a Response's body is a stream,
//   whose length nobody knows before it has been read. micro and mvc return an array, which the
//   server counts (fetch.ts → requestFrom says how HEAD is passed on).
// - A body over the server's limit comes as an error thrown by the body read, with a `status`
//   (413): Hono catches every error itself, so app.onError answers with that status.
import { Hono } from 'hono';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  createGuestbookStore,
  MESSAGE_MAX_CHARS,
  NAME_MAX_CHARS,
  validateEntry,
  type Entry,
  type GuestbookStore,
} from '../guestbook-model.ts';

/** What the form shows: the errors of the last attempt and what was typed, to fix and resend. */
interface FormState {
  errors: string[];
  name: string;
  message: string;
}

const EMPTY_FORM: FormState = { errors: [], name: '', message: '' };

/** A guestbook app; `basePath` is where it is mounted ('/hono'), '' at the root. */
export function createGuestbook(store: GuestbookStore = createGuestbookStore(), basePath = '') {
  // strict: false lets `/hono/` match the page route, which basePath makes `/hono`.
  const app = new Hono({ strict: false }).basePath(basePath || '/');
  const url = (path: string): string => `${basePath}${path}`;

  // 405 with Allow when a route has the path but not the method (404 is Hono's default).
  app.use(methodNotAllowed({ app }));

  app.get('/', (c) => c.html(page(url, store.list(), EMPTY_FORM)));

  app.get('/entries', (c) => c.json({ entries: store.list() }));

  // {[0-9]+}: only digits are an id; anything else matches no route (404).
  app.get('/entries/:id{[0-9]+}', (c) => {
    const entry = store.find(Number(c.req.param('id')));
    return entry ? c.json(entry) : c.json({ error: 'There is no entry with that id.' }, 404);
  });

  app.post('/entries', async (c) => {
    const type = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
    if (
      type === 'application/json' ||
      (type.startsWith('application/') && type.endsWith('+json'))
    ) {
      const result = validateEntry(await readJson(c.req.json()));
      if (!result.ok) return c.json({ errors: result.errors }, 400);
      const entry = store.add(result.entry);
      return c.json(entry, 201, { Location: url(`/entries/${entry.id}`) });
    }
    // Simplification: multipart/form-data (file uploads) is refused, as micro and mvc do.
    if (type !== 'application/x-www-form-urlencoded') {
      throw new HTTPException(415, {
        message: 'Send the form as application/x-www-form-urlencoded.',
      });
    }
    const form = await c.req.parseBody();
    const result = validateEntry({ name: form.name, message: form.message });
    if (!result.ok) {
      const typed = { name: String(form.name ?? ''), message: String(form.message ?? '') };
      return c.html(page(url, store.list(), { errors: result.errors, ...typed }), 400);
    }
    store.add(result.entry);
    // 303: the browser follows with a GET, so reloading the page it lands on posts nothing twice.
    return c.redirect(url('/'), 303);
  });

  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    // The server fails a body read with the status the client earned (413: over its body
    // limit; 400: a malformed body), on the error it throws.
    if (
      'status' in error &&
      typeof error.status === 'number' &&
      error.status >= 400 &&
      error.status < 500
    ) {
      return c.text(`${error.message}\n`, error.status as ContentfulStatusCode);
    }
    // Anything else is a bug: thrown on, the server logs it and answers 500.
    throw error;
  });

  return app;
}

/** The parsed JSON body; 400 if it does not parse. */
async function readJson(parsing: Promise<unknown>): Promise<unknown> {
  try {
    return await parsing;
  } catch (error) {
    // A failed read (413) goes to onError as it is.
    if (!(error instanceof SyntaxError)) throw error;
    throw new HTTPException(400, { message: `The body is not valid JSON (${error.message}).` });
  }
}

/** The guestbook page. Hono's `html` escapes every `${...}`: an entry cannot inject markup. */
function page(url: (path: string) => string, entries: Entry[], form: FormState) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Guestbook (hono)</title></head>
<body>
<h1>Guestbook</h1>
${
  form.errors.length > 0
    ? html`<ul class="errors">${form.errors.map((error) => html`<li>${error}</li>`)}</ul>`
    : ''
}
<form method="post" action="${url('/entries')}">
<p><label>Name <input name="name" value="${form.name}"
  maxlength="${NAME_MAX_CHARS}" required></label></p>
<p><label>Message <textarea name="message" maxlength="${MESSAGE_MAX_CHARS}"
  required>${form.message}</textarea></label></p>
<p><button type="submit">Sign the guestbook</button></p>
</form>
${
  entries.length > 0
    ? html`<ul class="entries">${entries.map(
        (entry) => html`<li><strong>${entry.name}</strong>: ${entry.message}</li>`,
      )}</ul>`
    : html`<p>No entries yet: be the first.</p>`
}
<p><a href="${url('/entries')}">These entries as JSON</a></p>
</body>
</html>
`;
}

/** A fresh guestbook at the root: `npm run part4 -- --app part4-frameworks/hono/guestbook.ts`. */
export default createGuestbook();
