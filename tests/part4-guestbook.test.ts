// The server × framework matrix (part4-frameworks/README.md): one behavioural suite for the guestbook, run with
// undici over real HTTP against every pair part4-frameworks/site.ts offers, each guestbook
// alone at / and mounted by the dispatcher beside the others (at /micro/, /mvc/ or /hono/), so
// every URL it writes is checked for its mount point too (SCRIPT_NAME; Hono's basePath). Part 3's validator wraps the app in every run, and
// each run ends by checking it found no violation, on either side of the contract.
//
//   gateway × micro   gateway × mvc   gateway × hono   gateway × site (/micro/, /mvc/, /hono/)
//   node    × micro   node    × mvc   node    × hono   node    × site (/micro/, /mvc/, /hono/)
//
// (hono is a real framework, served through part4-frameworks/fetch.ts → fromFetch.)
// Then the site itself (index page, 404, /micro → /micro/), every guestbook answering a script
// alike, and the model's own rule.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { createGuestbookStore, MAX_ENTRIES } from '../part4-frameworks/guestbook-model.ts';
import { createSite, FRAMEWORKS, SERVERS } from '../part4-frameworks/site.ts';
import { chunkedBody } from './helpers/serve-app.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { TEST_CLOSE_GRACE_MS, ViolationLog } from './helpers/validator.ts';

/** A small body limit, so the 413 tests send little; every valid entry fits well below it. */
const LIMIT = 4096;

type Serve = (typeof SERVERS)[keyof typeof SERVERS];
const SERVER_LIST = Object.entries(SERVERS).map(([server, serve]) => ({ server, serve }));
const FRAMEWORK_LIST = Object.entries(FRAMEWORKS).map(([framework, create]) => ({ framework, create }));

interface Cell {
  server: string;
  serve: Serve;
  framework: string;
  /** Where the guestbook is: '' alone at the root, '/micro' or '/mvc' inside the site. */
  mount: string;
  create: () => Application;
}

const CELLS: Cell[] = SERVER_LIST.flatMap(({ server, serve }) => [
  ...FRAMEWORK_LIST.map(({ framework, create }) => ({ server, serve, framework, mount: '', create })),
  ...FRAMEWORK_LIST.map(({ framework }) => ({ server, serve, framework, mount: `/${framework}`, create: createSite })),
]);

/**
 * Serve a fresh app from `create` with `serve`, inside the validator, before each test; close it
 * after, and fail the test if the validator or the server's error log found something.
 */
function servedEachTest(serve: Serve, create: () => Application): { current(): RunningServer } {
  const violations = new ViolationLog();
  const failures: string[] = [];
  let running: RunningServer | null = null;
  beforeEach(async () => {
    // Lines from the mvc request logger are expected; '[gateway] …' ones report a 500 or a cut.
    const errors = {
      write: (text: string) => {
        if (text.startsWith('[gateway]')) failures.push(text);
      },
      flush: () => {},
    };
    running = await start(serve(violations.validated(create()), { errors, maxBodyBytes: LIMIT }));
  });
  afterEach(async () => {
    await running?.close();
    running = null;
    expect(violations.messages()).toEqual([]);
    expect(failures).toEqual([]);
  });
  afterAll(async () => {
    // A body never closed is reported TEST_CLOSE_GRACE_MS after its last use: wait for it.
    await sleep(TEST_CLOSE_GRACE_MS * 3);
    expect(violations.messages()).toEqual([]);
  });
  return {
    current() {
      if (running === null) throw new Error('no server is running outside a test');
      return running;
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request through undici (which follows no redirect by itself), read to the end. */
async function send(
  url: string,
  options: { method?: string; form?: Record<string, string>; json?: unknown; body?: string; type?: string } = {},
): Promise<Answer> {
  let body = options.body;
  let type = options.type;
  if (options.form !== undefined) {
    body = new URLSearchParams(options.form).toString();
    type = 'application/x-www-form-urlencoded';
  } else if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    type = 'application/json';
  }
  const response = await request(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    body,
    headers: type === undefined ? {} : { 'content-type': type },
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

describe.each(CELLS)(
  'guestbook on $framework, served by $server, at "$mount/"',
  ({ serve, server, framework, mount, create }) => {
    const served = servedEachTest(serve, create);
    /** The URL of `path` inside this guestbook: '/entries' → http://127.0.0.1:PORT/micro/entries. */
    const at = (path: string): string => `${served.current().url}${mount}${path}`;
    const entries = async (): Promise<Array<{ name: string; message: string }>> =>
      JSON.parse((await send(at('/entries'))).text).entries;

    it('shows an empty page whose form posts to its own /entries, mount point included', async () => {
      const page = await send(at('/'));
      expect(page.status).toBe(200);
      // Lower-cased: Hono spells it charset=UTF-8, and charset names are case-insensitive.
      expect(String(page.headers['content-type']).toLowerCase()).toBe('text/html; charset=utf-8');
      expect(page.text).toMatch(/No entries yet/);
      expect(page.text).toContain(`<form method="post" action="${mount}/entries">`);
      expect(page.text).toContain(`<a href="${mount}/entries">`);
    });

    it('answers HEAD for the page with the GET head and no body', async () => {
      const get = await send(at('/'));
      const head = await send(at('/'), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      // A Response's body is a stream, whose length is known only once it has been read. On
      // node:http, Hono's HEAD answer leaves Content-Length out (RFC 9110 §9.3.2 allows it);
      // the gateway's writer counts what the stream gave within the turn, as it does for the
      // arrays micro and mvc return.
      expect(head.headers['content-length']).toBe(
        framework === 'hono' && server === 'node' ? undefined : String(Buffer.byteLength(get.text)),
      );
      expect(head.headers['transfer-encoding']).toBeUndefined();
      expect(head.text).toBe('');
    });

    it('takes a form entry with 303 to its own page (POST-redirect-GET), where the entry is listed', async () => {
      const posted = await send(at('/entries'), { form: { name: 'Ada', message: 'Hello, world' } });
      expect(posted.status).toBe(303);
      expect(posted.headers.location).toBe(`${mount}/`);
      const page = await send(new URL(String(posted.headers.location), served.current().url).href);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<strong>Ada<\/strong>: Hello, world/);
    });

    it('lists entries escaped, so an entry cannot add markup to the page', async () => {
      await send(at('/entries'), { form: { name: '<script>alert(1)</script>', message: '"quotes" & <b>tags</b>' } });
      const page = await send(at('/'));
      expect(page.text).not.toMatch(/<script>alert/);
      expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.text).toContain('&quot;quotes&quot; &amp; &lt;b&gt;tags&lt;/b&gt;');
    });

    it('takes a JSON entry with 201, its Location and the entry, trimmed; the Location serves it', async () => {
      const created = await send(at('/entries'), { json: { name: '  Grace ', message: 'Hopper' } });
      expect(created.status).toBe(201);
      expect(created.headers.location).toBe(`${mount}/entries/1`);
      expect(JSON.parse(created.text)).toEqual({
        id: 1,
        name: 'Grace',
        message: 'Hopper',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const one = await send(new URL(String(created.headers.location), served.current().url).href);
      expect(one.headers['content-type']).toBe('application/json');
      expect(JSON.parse(one.text)).toEqual(JSON.parse(created.text));
    });

    it('lists entries as JSON, newest first, whichever way they came', async () => {
      await send(at('/entries'), { json: { name: 'A', message: 'first' } });
      await send(at('/entries'), { form: { name: 'B', message: 'second' } });
      const list = await send(at('/entries'));
      expect(list.headers['content-type']).toBe('application/json');
      expect((await entries()).map((entry) => entry.message)).toEqual(['second', 'first']);
    });

    it('answers 404 for an entry that does not exist, an id that is not a number, and a path it does not have', async () => {
      const missing = await send(at('/entries/99'));
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text)).toEqual({ error: 'There is no entry with that id.' });
      expect((await send(at('/entries/abc'))).status).toBe(404);
      expect((await send(at('/entries/%201'))).status).toBe(404);
      expect((await send(at('/nowhere'))).status).toBe(404);
    });

    it('refuses an invalid form with 400, showing the form again with the errors and what was typed', async () => {
      const refused = await send(at('/entries'), { form: { name: '', message: 'Keep <me>' } });
      expect(refused.status).toBe(400);
      expect(String(refused.headers['content-type']).toLowerCase()).toBe('text/html; charset=utf-8');
      expect(refused.text).toContain('name is required (1 to 80 characters).');
      expect(refused.text).toContain('Keep &lt;me&gt;</textarea>');
      expect(await entries()).toEqual([]);
    });

    it('refuses invalid JSON entries with 400 and every error at once, limits stated', async () => {
      const tooLong = await send(at('/entries'), { json: { name: 'x'.repeat(81), message: 'y'.repeat(1001) } });
      expect(tooLong.status).toBe(400);
      expect(JSON.parse(tooLong.text)).toEqual({
        errors: [
          'name is too long: 81 characters, at most 80 allowed.',
          'message is too long: 1001 characters, at most 1000 allowed.',
        ],
      });
      const wrongTypes = await send(at('/entries'), { json: { name: 7, message: '   ' } });
      expect(JSON.parse(wrongTypes.text).errors).toEqual([
        'name must be text (1 to 80 characters).',
        'message is required (1 to 1000 characters).',
      ]);
      const notAnObject = await send(at('/entries'), { json: ['Ada', 'Hi'] });
      expect(notAnObject.status).toBe(400);
      expect(JSON.parse(notAnObject.text).errors[0]).toMatch(/^Send an object with a name and a message/);
    });

    it('counts characters as a person does: a name of 80 emoji is accepted', async () => {
      expect((await send(at('/entries'), { json: { name: '😀'.repeat(80), message: 'ok' } })).status).toBe(201);
    });

    it('answers 400 for malformed JSON and 415 for a body that is neither a form nor JSON', async () => {
      expect((await send(at('/entries'), { body: '{"name":', type: 'application/json' })).status).toBe(400);
      expect((await send(at('/entries'), { body: 'name=Ada', type: 'text/plain' })).status).toBe(415);
    });

    it('answers 405 with Allow for a method a route does not take', async () => {
      const onPage = await send(at('/'), { method: 'POST' });
      expect(onPage.status).toBe(405);
      expect(onPage.headers.allow).toBe('GET, HEAD');
      const onEntries = await send(at('/entries'), { method: 'DELETE' });
      expect(onEntries.status).toBe(405);
      expect(onEntries.headers.allow).toBe('GET, HEAD, POST');
    });

    it('answers 413 for a body over the limit, whether its Content-Length says so or a chunked body grows past it', async () => {
      const declared = await send(at('/entries'), { json: { name: 'Ada', message: 'x'.repeat(LIMIT) } });
      expect(declared.status).toBe(413);
      expect(declared.text).toContain(`at most ${LIMIT} bytes`);
      const response = await request(at('/entries'), {
        method: 'POST',
        body: chunkedBody(LIMIT / 512 + 1, 512),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(413);
      expect(await response.body.text()).toContain(`at most ${LIMIT} bytes`);
      expect(await entries()).toEqual([]);
    });
  },
);

describe.each(SERVER_LIST)('the site on $server: every guestbook and an index page', ({ serve }) => {
  const served = servedEachTest(serve, createSite);
  const url = (path: string): string => `${served.current().url}${path}`;

  it('shows an index page at / linking to each guestbook and its JSON', async () => {
    const index = await send(url('/'));
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const href of ['micro/', 'micro/entries', 'mvc/', 'mvc/entries', 'hono/', 'hono/entries'])
      expect(index.text).toContain(`href="${href}"`);
  });

  it('answers 404 for a path no guestbook is mounted at, and 405 for a POST to the index', async () => {
    const missing = await send(url('/nowhere/entries'));
    expect(missing.status).toBe(404);
    expect(missing.text).toMatch(/\/micro\/, \/mvc\/ and \/hono\//);
    expect((await send(url('/'), { method: 'POST', form: {} })).status).toBe(405);
  });

  it('redirects /micro to /micro/ with 301, keeping the query', async () => {
    const bare = await send(url('/micro?x=1'));
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/micro/?x=1');
    expect((await send(url('/mvc'))).headers.location).toBe('/mvc/');
  });

  it('keeps each guestbook its own entries', async () => {
    await send(url('/micro/entries'), { json: { name: 'Ada', message: 'micro only' } });
    expect(JSON.parse((await send(url('/micro/entries'))).text).entries).toHaveLength(1);
    expect(JSON.parse((await send(url('/mvc/entries'))).text).entries).toEqual([]);
  });

  // Content-Type is left out: the frameworks' own 404 and 405 pages differ (micro and Hono
  // answer in plain text, mvc in HTML, as Flask and Django do); everything the guestbooks say is alike.
  it('hosts guestbooks that answer a script of requests with the same statuses, Location, Allow and JSON', async () => {
    const script: Array<[path: string, options: Parameters<typeof send>[1]]> = [
      ['/', {}],
      ['/entries', { form: { name: 'Ada', message: 'Hi' } }],
      ['/entries', { json: { name: 'Bob', message: 'Yo' } }],
      ['/entries', { json: { name: '' } }],
      ['/entries', { form: { message: 'no name' } }],
      ['/entries/2', {}],
      ['/entries/3', {}],
      ['/entries', { method: 'PUT' }],
      ['/nowhere', {}],
    ];
    const transcripts = [];
    for (const { framework } of FRAMEWORK_LIST) {
      const transcript = [];
      for (const [path, options] of script) {
        const answer = await send(url(`/${framework}${path}`), options);
        const location = answer.headers.location?.toString().replace(`/${framework}`, '/BOOK');
        const json =
          answer.headers['content-type'] === 'application/json'
            ? JSON.parse(answer.text.replace(/"createdAt":"[^"]*"/g, '"createdAt":""'))
            : null;
        transcript.push({ status: answer.status, location, allow: answer.headers.allow, json });
      }
      transcripts.push(transcript);
    }
    expect(transcripts).toHaveLength(FRAMEWORK_LIST.length);
    for (const transcript of transcripts.slice(1)) expect(transcript).toEqual(transcripts[0]);
  });
});

describe('guestbook model', () => {
  it('keeps the newest MAX_ENTRIES entries and drops the oldest', () => {
    const store = createGuestbookStore();
    for (let i = 1; i <= MAX_ENTRIES + 1; i++) store.add({ name: 'n', message: String(i) });
    expect(store.list()).toHaveLength(MAX_ENTRIES);
    expect(store.find(1)).toBeUndefined();
    expect(store.list()[0].message).toBe(String(MAX_ENTRIES + 1));
  });
});
