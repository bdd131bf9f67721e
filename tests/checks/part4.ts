// Part 4's checks: the guestbook's behaviour, asked over a raw socket of any server hosting one.
// The guestbook may be alone at / (`npm run part4 -- --framework mvc`) or mounted below it
// (`npm run part4` puts one at /micro/ and one at /mvc/: run the checker with --base /micro/).
// Every path below is relative to that base:
//
//   GET  /              200, the page (HTML): entries, newest first, and a form to sign
//   POST /entries       a form → 303 to the page; JSON → 201, Location and the entry;
//                       invalid → 400 saying what to fix (the form again, or {"errors": [...]})
//   GET  /entries       {"entries": [{"id", "name", "message", "createdAt"}, ...]}, newest first
//   GET  /entries/:id   one entry as JSON, or 404
//
// A server keeps its entries between checks, so every check makes its own, with a random word
// in them, and finds them by that word; none assumes the guestbook starts empty. A check's
// reproduce command replays its setup too (the entry it added first, keeping the new id in $id),
// so it shows the same thing on a fresh server.
//
// Core: what the stage teaches (routing, the request's form and JSON, responses, escaping).
// Hardening: what the course's frameworks guarantee beyond that. Challenges: the README's.
import { CheckFailure, expectThat, type Check, type CheckContext, type Hint } from './check.ts';
import {
  expectBodyContains,
  expectFramed,
  expectHeader,
  expectStatus,
  open,
  randomWord,
  requestBytes,
  statusAdvice,
} from './http.ts';
import { header, type HttpResponse } from './wire.ts';

const README = 'part4-frameworks/README.md';
/** A hint; `reference` is in part4-frameworks/ unless it names another stage's folder. */
const hint = (concept: string, readme: string, reference: string): Hint => ({
  concept,
  readme: `${README}, section "${readme}"`,
  reference: /^part\d-/.test(reference) ? reference : `part4-frameworks/${reference}`,
});

/** The default body limit of both servers (part 2's MAX_BODY_BYTES). */
const BODY_LIMIT = 1024 * 1024;

interface Sent {
  form?: Record<string, string>;
  json?: unknown;
  /** A body sent as is, with `type` as its Content-Type. */
  body?: string;
  type?: string;
  headers?: Array<[string, string]>;
  /** The path as the reproduce command writes it, if not as sent: '/entries/$id' for the id a setup step kept. */
  shown?: string;
}

/**
 * What a request is to the reproduce command. 'final' (the default): the command becomes the
 * setup so far, then this request as `curl -i`. 'setup': the same, and later requests of the
 * check replay it first, silently (`curl -s -o /dev/null`). 'cleanup' (undoing a setup, after a
 * failure too): replayed by later requests, but it does not replace the command shown.
 */
type Role = 'final' | 'setup' | 'cleanup';

/** Each check's setup commands so far, in order. */
const setups = new WeakMap<CheckContext, string[]>();

/** `path` inside the guestbook: 'entries' → '/micro/entries' under --base /micro/. */
function pathOf(context: CheckContext, path: string): string {
  return `${context.base}${path.replace(/^\//, '')}`;
}

/** A shell word: 'it'\''s'. */
function quote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** The request as a curl command: showing the answer (`curl -i`), or silent, for a setup step. */
function curl(
  context: CheckContext,
  method: string,
  target: string,
  headers: Array<[string, string]>,
  body: string | undefined,
  output: 'show' | 'silent',
): string {
  const words = [output === 'silent' ? 'curl -s -o /dev/null' : method === 'HEAD' ? 'curl -I' : 'curl -i'];
  if (method !== 'HEAD' && method !== (body === undefined ? 'GET' : 'POST')) words.push(`-X ${method}`);
  for (const [name, value] of headers) words.push(`-H ${quote(`${name}: ${value}`)}`);
  if (body !== undefined) words.push(`--data-binary ${quote(body)}`);
  const url = `http://${context.host}:${context.port}${target}`;
  // A path with $id in it is double-quoted, so the shell puts in the id a setup step kept.
  words.push(target.includes('$') ? `"${url}"` : quote(url));
  return words.join(' ');
}

/** The reproduce command: the check's setup so far, then `command`. */
function withSetup(context: CheckContext, command: string): string {
  return [...(setups.get(context) ?? []), command].join(' && ');
}

function addSetup(context: CheckContext, command: string): void {
  setups.set(context, [...(setups.get(context) ?? []), command]);
}

/**
 * One request on a new connection, its answer read in full. The check's reproduce command
 * becomes its setup so far and this request as curl, so a failing step is the one shown, and
 * what it depends on comes first (see Role).
 */
async function send(
  context: CheckContext,
  method: string,
  path: string,
  sent: Sent = {},
  role: Role = 'final',
): Promise<HttpResponse> {
  let body = sent.body;
  let type = sent.type;
  if (sent.form !== undefined) {
    body = new URLSearchParams(sent.form).toString();
    type = 'application/x-www-form-urlencoded';
  } else if (sent.json !== undefined) {
    body = JSON.stringify(sent.json);
    type = 'application/json';
  }
  const target = path.startsWith('/') ? path : pathOf(context, path);
  const headers: Array<[string, string]> = [
    ...(type === undefined ? [] : [['Content-Type', type] as [string, string]]),
    ...(sent.headers ?? []),
  ];
  const shown = sent.shown ?? target;
  if (role !== 'cleanup') context.reproduce(withSetup(context, curl(context, method, shown, headers, body, 'show')));
  const conversation = await open(context, `${method} ${target}`);
  conversation.send(
    requestBytes(method, target, {
      host: `${context.host}:${context.port}`,
      headers,
      body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
    }),
  );
  const response = await conversation.readResponse({ method });
  if (role !== 'final') addSetup(context, curl(context, method, shown, headers, body, 'silent'));
  return response;
}

/** The body as UTF-8 text. */
function text(response: HttpResponse): string {
  return response.body.toString('utf8');
}

/** The body parsed as JSON, after checking it is declared so. */
function json(response: HttpResponse, what: string): unknown {
  expectHeader(
    response,
    'Content-Type',
    (value) => value !== undefined && /^application\/json\b/i.test(value),
    'Content-Type: application/json',
    `${what} is JSON: say so, or a client will not parse it.`,
  );
  try {
    return JSON.parse(text(response));
  } catch (error) {
    throw new CheckFailure({
      expected: `${what} as valid JSON`,
      seen: `${error instanceof Error ? error.message : String(error)} in ${JSON.stringify(text(response).slice(0, 200))}`,
    });
  }
}

/** An entry as the JSON API gives it: {"id", "name", "message", "createdAt"}. */
type EntryJson = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** GET /entries, checked: the list of entries. */
async function listEntries(context: CheckContext): Promise<EntryJson[]> {
  const response = await send(context, 'GET', 'entries');
  expectStatus(response, 200, 'GET /entries lists every entry as JSON.');
  const list = json(response, 'GET /entries');
  if (!isObject(list) || !Array.isArray(list.entries) || !list.entries.every(isObject)) {
    throw new CheckFailure({
      expected: 'an object {"entries": [{"id": 1, "name": "...", "message": "..."}, ...]}',
      seen: text(response).slice(0, 200),
    });
  }
  return list.entries.filter(isObject);
}

/** Where a Location points, resolved against the request's URL (a relative one too, RFC 9110 §10.2.2). */
function resolveLocation(context: CheckContext, response: HttpResponse, requestPath: string): URL {
  const location = header(response, 'Location');
  if (location === undefined)
    throw new CheckFailure({
      expected: 'a Location header',
      seen: `no Location in a ${response.status} response`,
      advice: 'A redirect and a 201 Created say where to go (or where the new thing is) in Location.',
    });
  try {
    return new URL(location, `http://${context.host}:${context.port}${pathOf(context, requestPath)}`);
  } catch {
    throw new CheckFailure({ expected: 'a Location that is a URL or a path', seen: `Location: ${location}` });
  }
}

/**
 * Add an entry by JSON, as a setup step: its id, the path its Location names, and that path as
 * a reproduce command writes it. With `keepId`, the setup step keeps the new id in $id (a fresh
 * server numbers it differently), and the path is written with $id.
 */
async function addByJson(
  context: CheckContext,
  name: string,
  message: string,
  keepId = false,
): Promise<{ id: number; path: string; shown: string; response: HttpResponse }> {
  const response = await send(context, 'POST', 'entries', { json: { name, message } }, keepId ? 'final' : 'setup');
  expectStatus(response, 201, 'A JSON entry is created with 201 Created.');
  const entry = json(response, 'The created entry');
  const path = resolveLocation(context, response, 'entries').pathname;
  expectThat(
    isObject(entry) && typeof entry.id === 'number',
    'the entry as JSON, with a numeric "id"',
    text(response).slice(0, 200),
  );
  const id = Number(entry.id);
  if (!keepId) return { id, path, shown: path, response };
  const post = curl(
    context,
    'POST',
    pathOf(context, 'entries'),
    [['Content-Type', 'application/json']],
    JSON.stringify({ name, message }),
    'show',
  ).replace(/^curl -i/, 'curl -s');
  addSetup(context, `id=$(${post} | sed 's/.*"id": *\\([0-9]*\\).*/\\1/')`);
  return { id, path, shown: path.endsWith(`/${id}`) ? `${path.slice(0, -String(id).length)}$id` : path, response };
}

/** The status must be one of `statuses`. */
function expectOneOf(response: HttpResponse, statuses: number[], advice: string): void {
  if (!statuses.includes(response.status)) {
    throw new CheckFailure({
      expected: `status ${statuses.join(' or ')}`,
      seen: `status ${response.status} ${response.reason}`,
      advice: statusAdvice(response, statuses, advice),
      caretAt: response.start + 9,
    });
  }
}

/**
 * The part of the page where `word` (a check's random word, in the entry it added) should be:
 * around it if it is there, else the page's list (<ul>, <ol>, <table>), else the page's end.
 */
function pageExcerpt(page: string, word: string): string {
  const cut = (from: number, to: number): string =>
    `${from > 0 ? '...' : ''}${page.slice(Math.max(0, from), to)}${to < page.length ? '...' : ''}`;
  const at = page.indexOf(word);
  if (at !== -1)
    return `the page around "${word}" (character ${at} of ${page.length}): ${JSON.stringify(cut(at - 120, at + 120))}`;
  const list = /<(ul|ol|table)\b[\s\S]*?<\/\1>/i.exec(page);
  if (list !== null)
    return `no "${word}" on the page; its list (character ${list.index} of ${page.length}) reads ${JSON.stringify(cut(list.index, list.index + 300))}`;
  return `no "${word}" on the page, and no list (<ul>, <ol>) on it; the page (${page.length} characters) ends ${JSON.stringify(cut(page.length - 300, page.length))}`;
}

/** The page must contain `expected`; if not, the failure shows where it should have been (pageExcerpt). */
function expectOnPage(page: HttpResponse, expected: string, word: string, advice: string): void {
  const body = text(page);
  expectThat(
    body.includes(expected),
    `the page to contain ${JSON.stringify(expected)}`,
    () => pageExcerpt(body, word),
    advice,
  );
}

/** The Allow header must name exactly these methods, in any order (RFC 9110 §10.2.1). */
function expectAllow(response: HttpResponse, methods: string[], advice: string): void {
  const allow = header(response, 'Allow');
  const named = new Set(
    (allow ?? '')
      .split(',')
      .map((method) => method.trim())
      .filter((method) => method !== ''),
  );
  const same = named.size === methods.length && methods.every((method) => named.has(method));
  expectThat(
    same,
    `Allow: ${methods.join(', ')} (in any order)`,
    allow === undefined ? 'no Allow header' : `Allow: ${allow}`,
    advice,
  );
}

function expectMissing(entries: EntryJson[], word: string, why: string): void {
  const found = entries.find((entry) => entry.message === word || entry.name === word);
  expectThat(
    found === undefined,
    `no entry with "${word}" in GET /entries (${why})`,
    `the entry ${JSON.stringify(found)} was stored`,
    'Validate (and refuse) before storing anything.',
  );
}

// ---- the checks --------------------------------------------------------------------------------

export const part4Checks: Check[] = [
  // ---- core -------------------------------------------------------------------------------------
  {
    group: 'core',
    name: "answers GET / with 200 and the guestbook's page as HTML",
    hint: hint(
      'A route table maps a method and a path to a handler; the handler for GET / returns the page, served as text/html.',
      'Build it yourself',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      const response = await send(context, 'GET', '');
      expectStatus(response, 200, "Route GET / to a handler that returns the guestbook's page.");
      expectFramed(response);
      expectHeader(
        response,
        'Content-Type',
        (value) => value !== undefined && /^text\/html\b/i.test(value),
        'Content-Type: text/html; charset=utf-8',
        'A page is HTML: say so, and name the charset.',
      );
      expectBodyContains(
        response,
        '<form',
        'The page holds a form to sign the guestbook: <form method="post" action="entries">.',
      );
    },
  },
  {
    group: 'core',
    name: 'lists the entries as JSON at GET /entries: {"entries": [...]}',
    hint: hint(
      'A handler may return data: the framework turns it into JSON with Content-Type: application/json.',
      'Run it',
      'micro/micro.ts → bodyBytes',
    ),
    async run(context) {
      await listEntries(context);
    },
  },
  {
    group: 'core',
    name: 'takes a form POST to /entries with 303 See Other back to the page (POST-redirect-GET)',
    hint: hint(
      'Read the urlencoded body (request.form()), store the entry, then answer 303 with Location: the page, so a reload posts nothing twice (RFC 9110 §15.4.4).',
      'One request, two frameworks',
      'micro/guestbook.ts → createGuestbook',
    ),
    async run(context) {
      const word = randomWord();
      const response = await send(context, 'POST', 'entries', { form: { name: 'Ada', message: word } });
      expectStatus(response, 303, 'After a form POST, answer 303 See Other with Location: the page.');
      const target = resolveLocation(context, response, 'entries');
      expectThat(
        target.pathname === context.base,
        `a Location that leads to the page, ${context.base}`,
        `Location: ${header(response, 'Location')} (leads to ${target.pathname})`,
        'Build the Location from where the app is mounted (SCRIPT_NAME), not a fixed "/".',
      );
    },
  },
  {
    group: 'core',
    name: 'shows a form entry on the page, its text HTML-escaped',
    hint: hint(
      'Everything a visitor typed is text: escape & < > " \' when putting it into HTML, or an entry can add markup (and scripts) to the page.',
      'Break it',
      'micro/html.ts → escapeHtml',
    ),
    async run(context) {
      const word = randomWord();
      const posted = await send(
        context,
        'POST',
        'entries',
        { form: { name: `Tom & <b>${word}</b>`, message: `Hello from ${word}` } },
        'setup',
      );
      expectStatus(posted, 303, 'A form POST stores the entry and answers 303 (check 3).');
      const page = await send(context, 'GET', '');
      expectStatus(page, 200, 'GET / answers the page (check 1).');
      expectOnPage(page, `Hello from ${word}`, word, 'The page lists every entry: its name and its message.');
      const body = text(page);
      expectThat(
        !body.includes(`<b>${word}</b>`),
        'the name shown as text: Tom &amp; &lt;b&gt;...',
        () => `the markup <b>${word}</b> inserted as is, in ${pageExcerpt(body, word)}`,
        'Escape what the visitor typed: & → &amp;, < → &lt;, > → &gt; (and quotes).',
      );
      expectOnPage(
        page,
        `Tom &amp; &lt;b&gt;${word}&lt;/b&gt;`,
        word,
        'Escape & first, then < and >: "Tom & <b>" becomes "Tom &amp; &lt;b&gt;".',
      );
    },
  },
  {
    group: 'core',
    name: 'takes a JSON entry with 201 Created, a Location and the entry; the Location serves it',
    hint: hint(
      'A JSON POST creates a resource: 201 Created, Location: where it now lives (/entries/7), and the entry as JSON.',
      'Run it',
      'micro/micro.ts → Request.json',
    ),
    async run(context) {
      const word = randomWord();
      const { path, shown } = await addByJson(context, 'Grace', word, true);
      const one = await send(context, 'GET', path, { shown });
      expectStatus(one, 200, 'GET on the Location of a new entry answers that entry as JSON.');
      const entry = json(one, 'One entry');
      expectThat(
        isObject(entry) && entry.name === 'Grace' && entry.message === word,
        `{"id": ..., "name": "Grace", "message": "${word}", ...}`,
        text(one).slice(0, 200),
      );
    },
  },
  {
    group: 'core',
    name: 'lists entries newest first, however they came (form or JSON)',
    hint: hint(
      'One store behind both ways in: entries listed newest first, on the page and in GET /entries.',
      'One request, two frameworks',
      'guestbook-model.ts → createGuestbookStore',
    ),
    async run(context) {
      const older = `first ${randomWord()}`;
      const newer = `second ${randomWord()}`;
      await addByJson(context, 'A', older);
      const posted = await send(context, 'POST', 'entries', { form: { name: 'B', message: newer } }, 'setup');
      expectStatus(posted, 303, 'A form POST stores the entry and answers 303 (check 3).');
      const messages = (await listEntries(context)).map((entry) => entry.message);
      const a = messages.indexOf(older);
      const b = messages.indexOf(newer);
      expectThat(
        a !== -1 && b !== -1,
        'both new entries in GET /entries',
        `the list ${JSON.stringify(messages.slice(0, 5))}`,
      );
      expectThat(
        b < a,
        `in GET /entries, the newer entry ("${newer}", by form) before the older ("${older}", by JSON)`,
        `"${newer}" is entry ${b + 1} of the list, "${older}" entry ${a + 1} (entry 1 is listed first, and should be the newest)`,
        'List the entries newest first.',
      );
      const page = await send(context, 'GET', '');
      expectStatus(page, 200, 'GET / answers the page (check 1).');
      const body = text(page);
      const at = { older: body.indexOf(older), newer: body.indexOf(newer) };
      expectThat(
        at.older !== -1 && at.newer !== -1,
        'both new entries on the page',
        () => pageExcerpt(body, at.older === -1 ? older : newer),
        'The page lists every entry (check 4).',
      );
      expectThat(
        at.newer < at.older,
        `on the page, the newer entry ("${newer}") before the older ("${older}")`,
        `"${newer}" at character ${at.newer} of the page, "${older}" at character ${at.older}: the older one comes first`,
        'Show the entries newest first on the page too, in the order GET /entries gives them.',
      );
    },
  },
  {
    group: 'core',
    name: 'refuses a form without a name with 400, saying "name is required", and stores nothing',
    hint: hint(
      'Validate before storing, and say everything wrong at once: 400 Bad Request (422 also fits) with the form again and its errors, such as validateEntry\'s "name is required (1 to 80 characters)."',
      'Break it',
      'guestbook-model.ts → validateEntry',
    ),
    async run(context) {
      const word = randomWord();
      const response = await send(context, 'POST', 'entries', { form: { name: '', message: word } }, 'setup');
      expectOneOf(
        response,
        [400, 422],
        "An empty name is the client's mistake: 400 (or 422), not a stored entry and not a 500.",
      );
      // Not just "name": the form's own <input name="name"> has that.
      expectBodyContains(
        response,
        'name is required',
        'Show the errors with the form again: validateEntry (guestbook-model.ts) returns them, e.g. "name is required (1 to 80 characters).".',
      );
      expectMissing(await listEntries(context), word, 'the form was refused');
    },
  },
  {
    group: 'core',
    name: 'refuses a JSON entry without a name with 400 and {"errors": [...]}',
    hint: hint(
      'A JSON client gets JSON errors: {"errors": ["name is required (1 to 80 characters)."]}, with 400 (or 422).',
      'Break it',
      'guestbook-model.ts → validateEntry',
    ),
    async run(context) {
      const word = randomWord();
      const response = await send(context, 'POST', 'entries', { json: { name: '', message: word } }, 'setup');
      expectOneOf(response, [400, 422], "An empty name is the client's mistake: 400 (or 422).");
      const body = json(response, 'The errors');
      expectThat(
        isObject(body) &&
          Array.isArray(body.errors) &&
          body.errors.length > 0 &&
          body.errors.every((error) => typeof error === 'string'),
        '{"errors": ["..."]}, a list of messages',
        text(response).slice(0, 200),
      );
      expectMissing(await listEntries(context), word, 'the entry was refused');
    },
  },
  {
    group: 'core',
    name: 'answers 404 for a path it does not have, and for an entry that does not exist',
    hint: hint(
      'No route matches: 404. A route matches but its thing does not exist (/entries/999999999): 404 too, from the handler.',
      'Break it',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      const missing = await send(context, 'GET', `nowhere-${randomWord()}`);
      expectStatus(missing, 404, 'A path no route matches is 404 Not Found.');
      const entry = await send(context, 'GET', 'entries/999999999');
      expectStatus(
        entry,
        404,
        'An id with no entry is 404 Not Found: the handler says so (abort(404) or reply({ status: 404 })).',
      );
    },
  },
  {
    group: 'core',
    name: 'answers 405 with Allow for a method a route does not take',
    hint: hint(
      'RFC 9110 §15.5.6: the path exists but not for this method → 405 Method Not Allowed, with Allow listing the methods that work (GET brings HEAD).',
      'Break it',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      const onEntries = await send(context, 'DELETE', 'entries');
      expectStatus(onEntries, 405, 'DELETE /entries: the path has routes, none for DELETE.');
      expectAllow(
        onEntries,
        ['GET', 'HEAD', 'POST'],
        'Allow lists every method some route at this path takes; GET implies HEAD.',
      );
      const onPage = await send(context, 'POST', '', { form: { name: 'x', message: 'y' } });
      expectStatus(onPage, 405, 'POST / : the page answers GET (and HEAD) only.');
      expectAllow(onPage, ['GET', 'HEAD'], 'Allow lists every method some route at this path takes; GET implies HEAD.');
    },
  },
  {
    group: 'core',
    name: "answers HEAD with GET's status and headers and no body",
    hint: hint(
      'RFC 9110 §9.3.2: HEAD is GET without the body; a GET route answers it, returning the GET body, and the server drops the body (Content-Length stays): part3-gateway/contract.ts says so, "What the server does with the body".',
      'Break it',
      'micro/micro.ts → takes',
    ),
    async run(context) {
      const target = pathOf(context, '');
      context.reproduce(`curl -I http://${context.host}:${context.port}${target}`);
      const conversation = await open(context);
      const host = `${context.host}:${context.port}`;
      conversation.send(Buffer.concat([requestBytes('HEAD', target, { host }), requestBytes('GET', target, { host })]));
      const head = await conversation.readResponse({ method: 'HEAD' });
      expectStatus(head, 200, 'A GET route answers HEAD too.');
      const get = await conversation.readResponse();
      expectStatus(get, 200, 'GET / answers the page (check 1).');
      expectHeader(
        head,
        'Content-Length',
        (value) => value === undefined || value === String(get.body.length),
        `no Content-Length, or ${get.body.length}: what GET sends (RFC 9110 §9.3.2 lets a server leave it out of a HEAD answer, not send another)`,
      );
    },
  },

  // ---- hardening --------------------------------------------------------------------------------
  {
    group: 'hardening',
    name: 'answers 400, not 500, to a JSON body that does not parse',
    hint: hint(
      "A body that is not JSON is the client's mistake: catch JSON.parse's error and answer 400, not a crash's 500.",
      'Break it',
      'micro/micro.ts → Request.json',
    ),
    async run(context) {
      const response = await send(context, 'POST', 'entries', { body: '{"name":', type: 'application/json' });
      expectStatus(
        response,
        400,
        'JSON.parse throws on a broken body: turn that into 400 Bad Request ("The body is not valid JSON").',
      );
    },
  },
  {
    group: 'hardening',
    name: 'answers 415 to a body that is neither a form nor JSON, and stores nothing',
    hint: hint(
      'Read a body only as what its Content-Type says: text/plain is not a form, even if it looks like one → 415 Unsupported Media Type.',
      'Break it',
      'micro/micro.ts → Request.form',
    ),
    async run(context) {
      const word = randomWord();
      const response = await send(
        context,
        'POST',
        'entries',
        { body: `name=Ada&message=${word}`, type: 'text/plain' },
        'setup',
      );
      expectStatus(
        response,
        415,
        'Check the Content-Type before reading the body as a form (application/x-www-form-urlencoded) or JSON.',
      );
      expectMissing(await listEntries(context), word, 'the body was not a form');
    },
  },
  {
    group: 'hardening',
    name: 'takes "Application/JSON; charset=utf-8" as JSON: the media type is read case-insensitively, without its parameters',
    hint: hint(
      'RFC 9110 §8.3.1: Content-Type is a media type and parameters, and the type is case-insensitive; compare the type, lower-cased, without "; charset=...".',
      'Break it',
      'micro/micro.ts → Request.isJson',
    ),
    async run(context) {
      const word = randomWord();
      const response = await send(context, 'POST', 'entries', {
        body: JSON.stringify({ name: 'Ada', message: word }),
        type: 'Application/JSON; charset=utf-8',
      });
      expectStatus(response, 201, 'Split the Content-Type at ";" and lower-case the type before comparing.');
    },
  },
  {
    group: 'hardening',
    name: 'answers 400 to JSON that is valid but not an entry object (an array, null)',
    hint: hint(
      'Valid JSON is not yet a valid entry: check it is an object with text fields before using it.',
      'Break it',
      'guestbook-model.ts → validateEntry',
    ),
    async run(context) {
      for (const body of [['Ada', 'Hi'], null]) {
        const response = await send(context, 'POST', 'entries', { json: body });
        expectOneOf(
          response,
          [400, 422],
          `${JSON.stringify(body)} is not {"name": ..., "message": ...}: refuse it, do not crash on it.`,
        );
      }
    },
  },
  {
    group: 'hardening',
    name: 'enforces the length limits, counting characters as a person does: 80 emoji are a name, 81 letters are not',
    hint: hint(
      'A limit bounds what one entry costs; count code points ([...text].length), not UTF-16 units, or an emoji counts twice.',
      'Break it',
      'guestbook-model.ts → checkText',
    ),
    async run(context) {
      const tooLong = await send(context, 'POST', 'entries', { json: { name: 'x'.repeat(81), message: randomWord() } });
      expectOneOf(tooLong, [400, 422], 'A name is at most 80 characters: refuse 81.');
      const emoji = await send(context, 'POST', 'entries', { json: { name: '😀'.repeat(80), message: randomWord() } });
      expectStatus(
        emoji,
        201,
        "80 emoji are 80 characters (but 160 UTF-16 units: '😀'.length is 2). Count [...name].length.",
      );
    },
  },
  {
    group: 'hardening',
    name: 'takes only digits as an entry id: /entries/%20N, /entries/N.0 and /entries/0xN are 404',
    hint: hint(
      "Number(' 7'), Number('7.0') and Number('0x7') are all 7: match the id with /^\\d+$/ (mvc's <int:id>) before converting it.",
      'Break it',
      'mvc/urls.ts → resolve',
    ),
    async run(context) {
      const { id, path } = await addByJson(context, 'Id', randomWord(), true);
      const match = /^(.*\/)\d+$/.exec(path);
      expectThat(match !== null, 'a Location ending in /<the id>', `Location path ${path}`);
      // Each with how a reproduce command writes it, from the id its setup step kept in $id.
      const variants: Array<[string, string]> = [
        [`%20${id}`, '%20$id'],
        [`${id}.0`, '$id.0'],
        [`0x${id.toString(16)}`, '0x$(printf %x $id)'],
      ];
      for (const [variant, shown] of variants) {
        const response = await send(context, 'GET', `${match[1]}${variant}`, { shown: `${match[1]}${shown}` });
        expectStatus(
          response,
          404,
          `"${decodeURIComponent(variant)}" is not an id, though Number() reads it as ${id}: check the id is digits only.`,
        );
      }
    },
  },
  {
    group: 'hardening',
    name: 'answers 413 to a body over 1 MiB, whether declared (Content-Length) or chunked',
    hint: hint(
      'A body limit bounds the memory one request can take: the server refuses a larger one (413); a chunked one reaches the app, and the read past the limit rejects with an error whose status is 413, which the framework passes on as is.',
      'Break it',
      'part3-gateway/contract.ts → InputStream',
    ),
    async run(context) {
      const target = pathOf(context, 'entries');
      const host = `${context.host}:${context.port}`;
      context.reproduce(
        `head -c 1100000 /dev/zero | tr '\\0' a | curl -i -H 'Content-Type: application/json' --data-binary @- http://${host}${target}`,
      );
      const declared = await open(context, 'declared');
      declared.send(
        requestBytes('POST', target, {
          host,
          headers: [
            ['Content-Type', 'application/json'],
            ['Content-Length', String(BODY_LIMIT + 1024)],
          ],
        }),
      );
      expectStatus(
        await declared.readResponse(),
        413,
        'Content-Length says more than the limit: refuse it before reading.',
      );
      // Chunked, no length known ahead: the limit is crossed while reading. No last chunk is
      // sent: the server must answer once the limit is passed, not wait for the end.
      context.reproduce(
        `head -c 1100000 /dev/zero | tr '\\0' a | curl -i -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @- http://${host}${target}`,
      );
      const chunked = await open(context, 'chunked');
      chunked.send(
        requestBytes('POST', target, {
          host,
          headers: [
            ['Content-Type', 'application/json'],
            ['Transfer-Encoding', 'chunked'],
          ],
        }),
      );
      const piece = `${(64 * 1024).toString(16)}\r\n${'a'.repeat(64 * 1024)}\r\n`;
      chunked.send(piece.repeat(BODY_LIMIT / (64 * 1024) + 1));
      expectStatus(
        await chunked.readResponse({ waitMs: 5_000 }),
        413,
        'A body read past the limit rejects with status 413: answer with that status, not 500.',
      );
    },
  },

  // ---- challenges (README, "Challenges") --------------------------------------------------------
  {
    group: 'challenge 1',
    name: 'PUT /maintenance "on" answers 204; then every request gets 503 with Retry-After until "off"',
    hint: hint(
      'A before hook runs ahead of every handler; one that returns a reply answers instead: 503 Service Unavailable, Retry-After (RFC 9110 §15.6.4).',
      'Challenges',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      const on = await send(context, 'PUT', 'maintenance', { body: 'on', type: 'text/plain' }, 'setup');
      expectOneOf(
        on,
        [200, 204],
        'Add a route PUT /maintenance whose body "on" or "off" sets the flag a before hook reads.',
      );
      try {
        for (const [method, path] of [
          ['GET', ''],
          ['GET', 'entries'],
        ]) {
          const response = await send(context, method, path);
          expectStatus(
            response,
            503,
            'While the flag is on, a before hook answers every request (but PUT /maintenance) with 503.',
          );
          expectHeader(
            response,
            'Retry-After',
            (value) => value !== undefined && /^\d+$/.test(value),
            'Retry-After: <seconds>',
            'Tell clients when to come back.',
          );
        }
      } finally {
        await send(context, 'PUT', 'maintenance', { body: 'off', type: 'text/plain' }, 'cleanup');
      }
      expectStatus(
        await send(context, 'GET', ''),
        200,
        'PUT /maintenance "off" turns the flag off: the page answers again.',
      );
    },
  },
  {
    group: 'challenge 1',
    name: 'a POST during maintenance never reaches the handler: nothing is stored',
    hint: hint(
      'A hook that answers stops the request there: the handler never runs, so nothing it does (storing an entry) happens.',
      'Challenges',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      const word = randomWord();
      expectOneOf(
        await send(context, 'PUT', 'maintenance', { body: 'on', type: 'text/plain' }, 'setup'),
        [200, 204],
        'PUT /maintenance "on" switches maintenance on.',
      );
      try {
        const posted = await send(context, 'POST', 'entries', { form: { name: 'Ada', message: word } }, 'setup');
        expectStatus(posted, 503, 'While the flag is on, the hook answers a POST too.');
      } finally {
        await send(context, 'PUT', 'maintenance', { body: 'off', type: 'text/plain' }, 'cleanup');
      }
      expectMissing(await listEntries(context), word, 'the hook answered before the handler ran');
    },
  },
  {
    group: 'challenge 2',
    name: 'GET /entries carries an ETag; If-None-Match with it answers 304 Not Modified, no body',
    hint: hint(
      'RFC 9110 §8.8.3, §13.1.2: an ETag names one version of a response; a client sends it back in If-None-Match and gets 304 if nothing changed.',
      'Challenges',
      'dispatcher.ts → dispatcher',
    ),
    async run(context) {
      const first = await send(context, 'GET', 'entries');
      expectStatus(first, 200, 'GET /entries lists every entry as JSON (check 2).');
      const etag = header(first, 'ETag');
      expectThat(
        etag !== undefined && /^(W\/)?"[\x21\x23-\x7e]*"$/.test(etag),
        'an ETag header: a quoted string, e.g. ETag: "3f2a9c"',
        etag === undefined ? 'no ETag header' : `ETag: ${etag}`,
        'Hash the body (node:crypto) and send it quoted: ETag: "<hash>".',
      );
      const again = await send(context, 'GET', 'entries', { headers: [['If-None-Match', etag]] });
      expectStatus(again, 304, 'The client already has this version: answer 304 Not Modified, with no body.');
      expectHeader(again, 'ETag', (value) => value === etag, `ETag: ${etag} on the 304 too (RFC 9110 §15.4.5)`);
      const other = await send(context, 'GET', 'entries', { headers: [['If-None-Match', '"not-this-one"']] });
      expectStatus(other, 200, 'A different ETag is a different version: answer 200 with the body.');
    },
  },
  {
    group: 'challenge 2',
    name: 'the ETag changes when an entry is added: the old one then gets 200 and the new list',
    hint: hint(
      'The tag follows the content: a new entry makes a new body, a new hash, and a stale If-None-Match no longer matches.',
      'Challenges',
      'dispatcher.ts → dispatcher',
    ),
    async run(context) {
      const before = header(await send(context, 'GET', 'entries'), 'ETag');
      expectThat(before !== undefined, 'an ETag on GET /entries', 'none');
      const word = randomWord();
      await addByJson(context, 'Etag', word);
      const after = await send(context, 'GET', 'entries', { headers: [['If-None-Match', before]] });
      expectStatus(after, 200, 'The list changed: the old ETag must not match any more.');
      expectBodyContains(after, word);
      expectHeader(after, 'ETag', (value) => value !== undefined && value !== before, `a new ETag (not ${before})`);
    },
  },
  {
    group: 'challenge 3',
    name: 'DELETE /entries/:id answers 204, and the entry is gone (404, and not in the list)',
    hint: hint(
      'RFC 9110 §9.3.5: DELETE removes the resource; 204 No Content says it is done. Then GET of it is 404.',
      'Challenges',
      'micro/guestbook.ts → createGuestbook',
    ),
    async run(context) {
      const word = randomWord();
      const { path, shown } = await addByJson(context, 'Gone', word, true);
      const deleted = await send(context, 'DELETE', path, { shown }, 'setup');
      expectOneOf(deleted, [200, 204], 'Add a DELETE route at /entries/:id that removes the entry.');
      expectStatus(await send(context, 'GET', path, { shown }), 404, 'A deleted entry is not found any more.');
      expectMissing(await listEntries(context), word, 'it was deleted');
    },
  },
  {
    group: 'challenge 3',
    name: 'DELETE of an entry that does not exist is 404, and Allow on /entries/:id reads GET, HEAD, DELETE',
    hint: hint(
      'The route exists for every id, the entry may not: 404 from the handler. And 405s at that path now list DELETE in Allow.',
      'Challenges',
      'micro/micro.ts → dispatch',
    ),
    async run(context) {
      expectStatus(
        await send(context, 'DELETE', 'entries/999999999'),
        404,
        'No entry with that id: 404, as GET would answer.',
      );
      const { path, shown } = await addByJson(context, 'Allow', randomWord(), true);
      const response = await send(context, 'POST', path, { form: { name: 'x', message: 'y' }, shown });
      expectStatus(response, 405, 'POST /entries/:id has no route: 405.');
      expectAllow(
        response,
        ['GET', 'HEAD', 'DELETE'],
        'Allow lists every method some route at this path takes: GET (and so HEAD) and now DELETE.',
      );
    },
  },
];
