// The guestbook on the mvc framework. Read it beside ../micro/guestbook.ts: the two answer
// every request the same way (same routes, statuses, headers and JSON); what differs is how
// each framework says it. The rules for an entry live in ../guestbook-model.ts, shared.
//
//   GET  /              the page: entries, newest first, and a form to sign
//   POST /entries       a new entry: from the form → 303 back to the page (POST-redirect-GET);
//                       as JSON → 201 with the entry; invalid → 400 saying what to fix
//   GET  /entries       every entry as JSON: {"entries": [{"id", "name", "message", "createdAt"}]}
//   GET  /entries/<id>  one entry as JSON, or 404
//
//   npm run part3 -- part4-frameworks/mvc/guestbook.ts       (serves `app`, an empty guestbook)
//
// Every URL it writes comes from request.reverse(name), which starts from SCRIPT_NAME, so it
// works mounted anywhere. Each request is logged to gateway.errors and timed (Server-Timing).
import type { Application } from '../../part3-gateway/contract.ts';
import {
  createGuestbookStore,
  MESSAGE_MAX_CHARS,
  NAME_MAX_CHARS,
  validateEntry,
  type Entry,
  type GuestbookStore,
} from '../guestbook-model.ts';
import { createApp } from './app.ts';
import { jsonResponse, redirect, type HttpRequest, type HttpResponse } from './http.ts';
import { requestLogger, responseTime } from './middleware.ts';
import { render, template } from './template.ts';
import { path, type MethodViews } from './urls.ts';

/** What the form shows: the errors of the last attempt and what was typed, to fix and resend. */
interface FormState {
  errors: string[];
  name: string;
  message: string;
}

const EMPTY_FORM: FormState = { errors: [], name: '', message: '' };

export function createGuestbook(
  store: GuestbookStore = createGuestbookStore(),
  options: { debug?: boolean } = {},
): Application {
  const index: MethodViews = {
    get: (request) => page(request, store.list(), EMPTY_FORM),
  };

  const entries: MethodViews = {
    get: () => jsonResponse({ entries: store.list() }),
    post: async (request) => {
      if (request.isJson()) {
        const result = validateEntry(await request.json());
        if (!result.ok) return jsonResponse({ errors: result.errors }, { status: 400 });
        const entry = store.add(result.entry);
        return jsonResponse(entry, {
          status: 201,
          headers: [['Location', request.reverse('entry', { id: entry.id })]],
        });
      }
      const form = await request.form();
      const result = validateEntry({ name: form.get('name'), message: form.get('message') });
      if (!result.ok) {
        const typed = { name: form.get('name') ?? '', message: form.get('message') ?? '' };
        return page(request, store.list(), { errors: result.errors, ...typed }, 400);
      }
      store.add(result.entry);
      // 303: the browser follows with a GET, so reloading the page it lands on posts nothing twice.
      return redirect(request.reverse('index'), 303);
    },
  };

  const entry: MethodViews = {
    // <int:id> matched only digits and made a number of them: no check needed here.
    get: (request) => {
      const found = store.find(Number(request.params.id));
      return found
        ? jsonResponse(found)
        : jsonResponse({ error: 'There is no entry with that id.' }, { status: 404 });
    },
  };

  return createApp({
    urls: [
      path('', index, 'index'),
      path('entries', entries, 'entries'),
      path('entries/<int:id>', entry, 'entry'),
    ],
    middleware: [requestLogger(), responseTime()],
    debug: options.debug ?? false,
  });
}

/** The guestbook page. The template escapes every `{{ ... }}`: an entry cannot inject markup. */
const PAGE = template(
  'guestbook page',
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Guestbook (mvc)</title></head>
<body>
<h1>Guestbook</h1>
{% if errors %}<ul class="errors">{% for error in errors %}
<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
<form method="post" action="{{ action }}">
<p><label>Name <input name="name" value="{{ name }}"
  maxlength="{{ nameMax }}" required></label></p>
<p><label>Message <textarea name="message" maxlength="{{ messageMax }}"
  required>{{ message }}</textarea></label></p>
<p><button type="submit">Sign the guestbook</button></p>
</form>
{% if entries %}<ul class="entries">{% for entry in entries %}
<li><strong>{{ entry.name }}</strong>: {{ entry.message }}</li>{% endfor %}</ul>
{% else %}<p>No entries yet: be the first.</p>{% endif %}
<p><a href="{{ json }}">These entries as JSON</a></p>
</body>
</html>
`,
);

function page(request: HttpRequest, entries: Entry[], form: FormState, status = 200): HttpResponse {
  const links = { action: request.reverse('entries'), json: request.reverse('entries') };
  return render(
    PAGE,
    { entries, ...form, ...links, nameMax: NAME_MAX_CHARS, messageMax: MESSAGE_MAX_CHARS },
    { status },
  );
}

/** A fresh guestbook, for `npm run part3 -- part4-frameworks/mvc/guestbook.ts`. */
export const app = createGuestbook();
