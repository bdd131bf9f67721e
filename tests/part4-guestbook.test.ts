// The guestbook, one behavioural suite run against both frameworks' versions, in process and
// mounted under a prefix (SCRIPT_NAME '/book') so every URL it writes is checked for it. Then
// the model's own rules, and a script of requests that both versions must answer identically.
import { describe, expect, it } from 'vitest';
import type { Application } from '../part3-gateway/contract.ts';
import { createGuestbookStore, MAX_ENTRIES } from '../part4-frameworks/guestbook-model.ts';
import { createGuestbook as createMicroGuestbook } from '../part4-frameworks/micro/guestbook.ts';
import { createGuestbook as createMvcGuestbook } from '../part4-frameworks/mvc/guestbook.ts';
import { callApp, type AppRequest } from './helpers/call-app.ts';

const GUESTBOOKS: Array<{ framework: string; create: () => Application }> = [
  { framework: 'micro', create: () => createMicroGuestbook() },
  { framework: 'mvc', create: () => createMvcGuestbook() },
];

describe.each(GUESTBOOKS)('guestbook on $framework', ({ create }) => {
  /** A fresh guestbook mounted at /book, and a way to send it requests. */
  function mounted() {
    const app = create();
    return (request: AppRequest) => callApp(app, { scriptName: '/book', ...request });
  }

  it('shows an empty page with a form that posts to the mounted /entries', async () => {
    const response = await mounted()({ path: '/' });
    expect(response.status).toBe(200);
    expect(response.header('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.text).toMatch(/No entries yet/);
    expect(response.text).toMatch(/<form method="post" action="\/book\/entries">/);
  });

  it('answers HEAD for the page', async () => {
    expect((await mounted()({ method: 'HEAD', path: '/' })).status).toBe(200);
  });

  it('adds a form entry and redirects back with 303 (POST-redirect-GET), then lists it', async () => {
    const send = mounted();
    const posted = await send({ method: 'POST', path: '/entries', form: { name: 'Ada', message: 'Hello, world' } });
    expect(posted.statusLine).toBe('303 See Other');
    expect(posted.header('Location')).toBe('/book/');
    const page = await send({ path: '/' });
    expect(page.text).toMatch(/<strong>Ada<\/strong>: Hello, world/);
  });

  it('redirects to / when mounted at the root', async () => {
    const posted = await callApp(create(), { method: 'POST', path: '/entries', form: { name: 'Ada', message: 'Hi' } });
    expect(posted.header('Location')).toBe('/');
  });

  it('escapes entries on the page', async () => {
    const send = mounted();
    await send({ method: 'POST', path: '/entries', form: { name: '<script>alert(1)</script>', message: '"quotes" & <b>tags</b>' } });
    const page = await send({ path: '/' });
    expect(page.text).not.toMatch(/<script>alert/);
    expect(page.text).toMatch(/&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    expect(page.text).toMatch(/&quot;quotes&quot; &amp; &lt;b&gt;tags&lt;\/b&gt;/);
  });

  it('accepts a JSON entry with 201, its Location and the entry', async () => {
    const send = mounted();
    const created = await send({ method: 'POST', path: '/entries', json: { name: '  Grace ', message: 'Hopper' } });
    expect(created.statusLine).toBe('201 Created');
    expect(created.header('Location')).toBe('/book/entries/1');
    expect(JSON.parse(created.text)).toEqual({ id: 1, name: 'Grace', message: 'Hopper', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const one = await send({ path: '/entries/1' });
    expect(JSON.parse(one.text)).toEqual(JSON.parse(created.text));
  });

  it('lists entries as JSON, newest first', async () => {
    const send = mounted();
    await send({ method: 'POST', path: '/entries', json: { name: 'A', message: 'first' } });
    await send({ method: 'POST', path: '/entries', form: { name: 'B', message: 'second' } });
    const list = await send({ path: '/entries' });
    expect(list.header('Content-Type')).toBe('application/json');
    expect(JSON.parse(list.text).entries.map((entry: { message: string }) => entry.message)).toEqual(['second', 'first']);
  });

  it('answers 404 for an entry that does not exist or an id that is not a number', async () => {
    const send = mounted();
    const missing = await send({ path: '/entries/99' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ error: 'There is no entry with that id.' });
    expect((await send({ path: '/entries/abc' })).status).toBe(404);
    expect((await send({ path: '/entries/ 1' })).status).toBe(404);
  });

  it('refuses an invalid form with 400, re-showing the form with the errors and what was typed', async () => {
    const send = mounted();
    const response = await send({ method: 'POST', path: '/entries', form: { name: '', message: 'Keep <me>' } });
    expect(response.statusLine).toBe('400 Bad Request');
    expect(response.header('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.text).toMatch(/name is required \(1 to 80 characters\)\./);
    expect(response.text).toMatch(/Keep &lt;me&gt;<\/textarea>/);
    expect(JSON.parse((await send({ path: '/entries' })).text).entries).toEqual([]);
  });

  it('refuses invalid JSON entries with 400 and every error, limits stated', async () => {
    const send = mounted();
    const response = await send({ method: 'POST', path: '/entries', json: { name: 'x'.repeat(81), message: 'y'.repeat(1001) } });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({
      errors: ['name is too long: 81 characters, at most 80 allowed.', 'message is too long: 1001 characters, at most 1000 allowed.'],
    });
    const wrongTypes = await send({ method: 'POST', path: '/entries', json: { name: 7, message: '   ' } });
    expect(JSON.parse(wrongTypes.text).errors).toEqual(['name must be text (1 to 80 characters).', 'message is required (1 to 1000 characters).']);
    const notAnObject = await send({ method: 'POST', path: '/entries', json: ['Ada', 'Hi'] });
    expect(notAnObject.status).toBe(400);
    expect(JSON.parse(notAnObject.text).errors[0]).toMatch(/Send an object with a name and a message/);
  });

  it('accepts a name of exactly 80 characters, counting an emoji as one', async () => {
    const response = await mounted()({ method: 'POST', path: '/entries', json: { name: '😀'.repeat(80), message: 'ok' } });
    expect(response.status).toBe(201);
  });

  it('answers 400 for malformed JSON and 415 for a body that is neither a form nor JSON', async () => {
    const send = mounted();
    expect((await send({ method: 'POST', path: '/entries', body: '{"name":', headers: { 'Content-Type': 'application/json' } })).status).toBe(400);
    expect((await send({ method: 'POST', path: '/entries', body: 'name=Ada', headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
  });

  it('answers 405 with Allow for methods a route does not take', async () => {
    const send = mounted();
    const onPage = await send({ method: 'POST', path: '/' });
    expect(onPage.status).toBe(405);
    expect(onPage.header('Allow')).toBe('GET, HEAD');
    const onEntries = await send({ method: 'DELETE', path: '/entries' });
    expect(onEntries.header('Allow')).toBe('GET, HEAD, POST');
  });

  it('starts each guestbook made by the factory empty', async () => {
    await mounted()({ method: 'POST', path: '/entries', json: { name: 'A', message: 'B' } });
    expect(JSON.parse((await mounted()({ path: '/entries' })).text).entries).toEqual([]);
  });
});

describe('guestbook: both versions alike', () => {
  it('answer a script of requests with the same statuses, Locations and JSON', async () => {
    const script: AppRequest[] = [
      { path: '/' },
      { method: 'POST', path: '/entries', form: { name: 'Ada', message: 'Hi' } },
      { method: 'POST', path: '/entries', json: { name: 'Bob', message: 'Yo' } },
      { method: 'POST', path: '/entries', json: { name: '' } },
      { method: 'POST', path: '/entries', form: { message: 'no name' } },
      { path: '/entries/2' },
      { path: '/entries/3' },
      { method: 'PUT', path: '/entries' },
      { path: '/nowhere' },
    ];
    const transcripts = [];
    for (const { create } of GUESTBOOKS) {
      const app = create();
      const transcript = [];
      for (const request of script) {
        const response = await callApp(app, { scriptName: '/g', ...request });
        const isJson = response.header('Content-Type') === 'application/json';
        transcript.push({ status: response.status, location: response.header('Location'), allow: response.header('Allow'), json: isJson ? JSON.parse(response.text.replace(/"createdAt":"[^"]*"/g, '"createdAt":""')) : null });
      }
      transcripts.push(transcript);
    }
    expect(transcripts[0]).toEqual(transcripts[1]);
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
