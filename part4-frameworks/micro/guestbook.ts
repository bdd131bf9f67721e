// The guestbook on the micro framework. Read it beside ../mvc/guestbook.ts: the two answer
// every request the same way (same routes, statuses, headers and JSON); what differs is how
// each framework says it. The rules for an entry live in ../guestbook-model.ts, shared.
//
//   GET  /              the page: entries, newest first, and a form to sign
//   POST /entries       a new entry: from the form → 303 back to the page (POST-redirect-GET);
//                       as JSON → 201 with the entry; invalid → 400 saying what to fix
//   GET  /entries       every entry as JSON: {"entries": [{"id", "name", "message", "createdAt"}]}
//   GET  /entries/:id   one entry as JSON, or 404
//
//   npm run part3 -- part4-frameworks/micro/guestbook.ts     (serves `app`, an empty guestbook)
//
// Every URL it writes starts from SCRIPT_NAME (request.urlFor), so it works mounted anywhere.
import {
  createGuestbookStore,
  MESSAGE_MAX_CHARS,
  NAME_MAX_CHARS,
  validateEntry,
  type Entry,
  type GuestbookStore,
} from '../guestbook-model.ts';
import { html, micro, redirect, reply, type Micro, type Request, type SafeHtml } from './micro.ts';

/** What the form shows: the errors of the last attempt and what was typed, to fix and resend. */
interface FormState {
  errors: string[];
  name: string;
  message: string;
}

const EMPTY_FORM: FormState = { errors: [], name: '', message: '' };

export function createGuestbook(store: GuestbookStore = createGuestbookStore()): Micro {
  const app = micro();

  app.get('/', (request) => page(request, store.list(), EMPTY_FORM));

  app.get('/entries', () => ({ entries: store.list() }));

  app.get('/entries/:id', (request) => {
    // Only digits are an id (mvc's <int:id> converter checks this before the view runs).
    const entry = /^\d+$/.test(request.params.id)
      ? store.find(Number(request.params.id))
      : undefined;
    return entry ?? reply({ status: 404, body: { error: 'There is no entry with that id.' } });
  });

  app.post('/entries', async (request) => {
    if (request.isJson) {
      const result = validateEntry(await request.json());
      if (!result.ok) return reply({ status: 400, body: { errors: result.errors } });
      const entry = store.add(result.entry);
      return reply({
        status: 201,
        headers: { Location: request.urlFor(`/entries/${entry.id}`) },
        body: entry,
      });
    }
    const form = await request.form();
    const result = validateEntry({ name: form.get('name'), message: form.get('message') });
    if (!result.ok) {
      const typed = { name: form.get('name') ?? '', message: form.get('message') ?? '' };
      return reply({
        status: 400,
        body: page(request, store.list(), { errors: result.errors, ...typed }),
      });
    }
    store.add(result.entry);
    // 303: the browser follows with a GET, so reloading the page it lands on posts nothing twice.
    return redirect(request.urlFor('/'), 303);
  });

  return app;
}

/** The guestbook page. `html` escapes every `${...}`: an entry cannot inject markup. */
function page(request: Request, entries: Entry[], form: FormState): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Guestbook (micro)</title></head>
<body>
<h1>Guestbook</h1>
${
  form.errors.length > 0 &&
  html`<ul class="errors">${form.errors.map((error) => html`<li>${error}</li>`)}</ul>`
}
<form method="post" action="${request.urlFor('/entries')}">
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
<p><a href="${request.urlFor('/entries')}">These entries as JSON</a></p>
</body>
</html>
`;
}

/** A fresh guestbook, for `npm run part3 -- part4-frameworks/micro/guestbook.ts`. */
export const app = createGuestbook();
