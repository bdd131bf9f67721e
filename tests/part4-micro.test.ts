// The micro framework's own features, in process through callApp (what the app asks of
// startResponse, including the error behind a 500), and over real HTTP where the test is about
// the wire (percent-decoded params, HEAD, the server's body limit), inside part 3's validator.
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { abort, html, micro, redirect, reply, trusted } from '../part4-frameworks/micro/micro.ts';
import { callApp } from './helpers/call-app.ts';
import { chunkedBody, serveEachTest } from './helpers/serve-app.ts';

function helloApp() {
  const app = micro();
  app.get('/', () => 'home');
  app.get('/hello/:name', (req) => html`<p>Hello, ${req.params.name}!</p>`);
  app.get('/files/:dir/:file', (req) => ({ dir: req.params.dir, file: req.params.file }));
  app.post('/things', () => reply({ status: 201, headers: { Location: '/things/1' }, body: { id: 1 } }));
  app.put('/things/:id', (req) => `put ${req.params.id}`);
  app.delete('/things/:id', (req) => `deleted ${req.params.id}`);
  app.route('/both', ['GET', 'POST'], (req) => req.method);
  app.get('/version.json', () => ({ version: 1 }));
  return app;
}

describe('micro: routing', () => {
  it('routes a GET to its handler and sends a returned string as text/html', async () => {
    const response = await callApp(helloApp(), { path: '/' });
    expect(response.status).toBe(200);
    expect(response.header('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.text).toBe('home');
  });

  it('treats an empty PATH_INFO (an app mounted at /micro, asked for /micro) as /', async () => {
    const response = await callApp(helloApp(), { scriptName: '/micro', path: '' });
    expect(response.text).toBe('home');
  });

  it('fills path parameters by name, one segment each', async () => {
    const response = await callApp(helloApp(), { path: '/files/docs/a.txt' });
    expect(JSON.parse(response.text)).toEqual({ dir: 'docs', file: 'a.txt' });
    expect((await callApp(helloApp(), { path: '/files/docs' })).status).toBe(404);
    expect((await callApp(helloApp(), { path: '/files/a/b/c' })).status).toBe(404);
  });

  it('matches pattern text literally: a dot is a dot, not "any character"', async () => {
    expect((await callApp(helloApp(), { path: '/version.json' })).status).toBe(200);
    expect((await callApp(helloApp(), { path: '/versionxjson' })).status).toBe(404);
  });

  it('routes POST, PUT, DELETE and a route() with several methods', async () => {
    const app = helloApp();
    expect((await callApp(app, { method: 'PUT', path: '/things/7' })).text).toBe('put 7');
    expect((await callApp(app, { method: 'DELETE', path: '/things/7' })).text).toBe('deleted 7');
    expect((await callApp(app, { method: 'GET', path: '/both' })).text).toBe('GET');
    expect((await callApp(app, { method: 'POST', path: '/both' })).text).toBe('POST');
  });

  it('answers 404 in plain text when no route matches the path', async () => {
    const response = await callApp(helloApp(), { path: '/nowhere' });
    expect(response.statusLine).toBe('404 Not Found');
    expect(response.header('Content-Type')).toBe('text/plain; charset=utf-8');
  });

  it('answers 405 with an Allow header listing HEAD wherever GET is allowed', async () => {
    const response = await callApp(helloApp(), { method: 'PATCH', path: '/things/7' });
    expect(response.statusLine).toBe('405 Method Not Allowed');
    expect(response.header('Allow')).toBe('PUT, DELETE');
    const withGet = await callApp(helloApp(), { method: 'DELETE', path: '/both' });
    expect(withGet.header('Allow')).toBe('GET, HEAD, POST');
  });

  it('refuses a pattern without a leading slash or with a nameless parameter', () => {
    expect(() => micro().get('hello', () => '')).toThrow(/must start with '\/'/);
    expect(() => micro().get('/hello/:', () => '')).toThrow(/':' and a name/);
  });
});

describe('micro: what handlers return', () => {
  it('sends an object as JSON', async () => {
    const response = await callApp(helloApp(), { path: '/version.json' });
    expect(response.header('Content-Type')).toBe('application/json');
    expect(JSON.parse(response.text)).toEqual({ version: 1 });
  });

  it('sends reply({ status, headers, body }) with that status and those headers', async () => {
    const response = await callApp(helloApp(), { method: 'POST', path: '/things' });
    expect(response.statusLine).toBe('201 Created');
    expect(response.header('Location')).toBe('/things/1');
    expect(JSON.parse(response.text)).toEqual({ id: 1 });
  });

  it('keeps a Content-Type given in reply() headers', async () => {
    const app = micro().get('/', () => reply({ headers: { 'Content-Type': 'text/plain' }, body: 'plain' }));
    expect((await callApp(app)).header('Content-Type')).toBe('text/plain');
  });

  it('sends bytes as application/octet-stream', async () => {
    const app = micro().get('/', () => new Uint8Array([1, 2, 3]));
    const response = await callApp(app);
    expect(response.header('Content-Type')).toBe('application/octet-stream');
    expect([...response.body]).toEqual([1, 2, 3]);
  });

  it('redirects with redirect(location, status), with a plain-text note', async () => {
    const app = micro().post('/', () => redirect('/done', 303));
    const response = await callApp(app, { method: 'POST' });
    expect(response.statusLine).toBe('303 See Other');
    expect(response.header('Location')).toBe('/done');
    expect(response.text).toBe('Redirecting to /done\n');
  });

  it('turns abort(status, message) into that status with the message in plain text', async () => {
    const app = micro().get('/', () => abort(403, 'Members only.'));
    const response = await callApp(app);
    expect(response.statusLine).toBe('403 Forbidden');
    expect(response.text).toBe('403 Forbidden: Members only.\n');
  });
});

describe('micro: the request view', () => {
  it('parses the query string', async () => {
    const app = micro().get('/search', (req) => ({ q: req.query.get('q'), tags: req.query.getAll('tag') }));
    const response = await callApp(app, { path: '/search', query: 'q=caf%C3%A9+au+lait&tag=a&tag=b' });
    expect(JSON.parse(response.text)).toEqual({ q: 'café au lait', tags: ['a', 'b'] });
  });

  it('reads headers by their HTTP name in any case, Content-Type included', async () => {
    const app = micro().post('/', (req) => ({
      agent: req.header('user-agent'),
      type: req.header('Content-Type'),
      missing: req.header('X-Nope') ?? null,
    }));
    const response = await callApp(app, {
      method: 'POST',
      headers: { 'User-Agent': 'test/1', 'Content-Type': 'text/plain' },
      body: 'x',
    });
    expect(JSON.parse(response.text)).toEqual({ agent: 'test/1', type: 'text/plain', missing: null });
  });

  it('gives the handler the environ itself', async () => {
    const app = micro().get('/', (req) => ({ protocol: req.environ.SERVER_PROTOCOL }));
    expect(JSON.parse((await callApp(app)).text)).toEqual({ protocol: 'HTTP/1.1' });
  });

  it('builds URLs from SCRIPT_NAME with urlFor, encoding it again', async () => {
    const app = micro().get('/', (req) => req.urlFor('/entries'));
    expect((await callApp(app, { scriptName: '' })).text).toBe('/entries');
    expect((await callApp(app, { scriptName: '/my book' })).text).toBe('/my%20book/entries');
  });

  it('parses a urlencoded form with form(), and lets json() and form() share one read', async () => {
    const app = micro().post('/', async (req) => ({
      name: (await req.form()).get('name'),
      again: (await req.form()).get('name'),
    }));
    const response = await callApp(app, { method: 'POST', form: { name: 'Ada Lovelace' } });
    expect(JSON.parse(response.text)).toEqual({ name: 'Ada Lovelace', again: 'Ada Lovelace' });
  });

  it('answers 415 when form() is asked of a body that is not a form', async () => {
    const app = micro().post('/', async (req) => ({ form: String(await req.form()) }));
    const response = await callApp(app, { method: 'POST', json: { name: 'Ada' } });
    expect(response.statusLine).toBe('415 Unsupported Media Type');
  });

  it('parses a JSON body with json(), accepting application/*+json too', async () => {
    const app = micro().post('/', async (req) => ({ got: await req.json() }));
    const response = await callApp(app, {
      method: 'POST',
      json: [1, 'two'],
      headers: { 'Content-Type': 'application/vnd.api+json; charset=utf-8' },
    });
    expect(JSON.parse(response.text)).toEqual({ got: [1, 'two'] });
  });

  it('answers 400 for a body that is not valid JSON, and 415 for one not declared JSON', async () => {
    const app = micro().post('/', async (req) => ({ got: await req.json() }));
    const bad = await callApp(app, {
      method: 'POST',
      body: '{"name": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.statusLine).toBe('400 Bad Request');
    expect(bad.text).toMatch(/not valid JSON/);
    const undeclared = await callApp(app, { method: 'POST', body: '{}', headers: { 'Content-Type': 'text/plain' } });
    expect(undeclared.statusLine).toBe('415 Unsupported Media Type');
  });

  it('answers with the status of a body read the server refused (413), not a 500', async () => {
    const app = micro().post('/', async (req) => ({ got: await req.json() }));
    const tooLarge = Object.assign(new Error('Request body too large: at most 64 bytes.'), { status: 413 });
    const response = await callApp(app, { method: 'POST', json: {}, inputError: tooLarge });
    expect(response.statusLine).toBe('413 Content Too Large');
    expect(response.text).toMatch(/at most 64 bytes/);
    expect(response.error).toBeUndefined();
  });

  it('answers 400 for a body read that failed without a status', async () => {
    const app = micro().post('/', async (req) => ({ got: await req.json() }));
    const response = await callApp(app, { method: 'POST', json: {}, inputError: new Error('socket hang up') });
    expect(response.statusLine).toBe('400 Bad Request');
    expect(response.text).not.toMatch(/socket/);
  });
});

describe('micro: errors in handlers', () => {
  it('turns a throwing handler into a 500 through startResponse(status, headers, error)', async () => {
    const failure = new Error('database password is hunter2');
    const app = micro().get('/', () => {
      throw failure;
    });
    const response = await callApp(app);
    expect(response.statusLine).toBe('500 Internal Server Error');
    expect(response.error).toBe(failure);
    expect(response.text).not.toMatch(/hunter2/);
    expect(response.log).toMatch(/\[micro\] GET \/: Error: database password is hunter2\n\s+at /);
  });

  it('turns a rejected async handler into a 500 the same way', async () => {
    const app = micro().get('/', async () => {
      await Promise.resolve();
      throw new TypeError('late failure');
    });
    const response = await callApp(app);
    expect(response.status).toBe(500);
    expect(response.error).toBeInstanceOf(TypeError);
  });

  it('explains a handler that returned nothing', async () => {
    const app = micro().get('/', () => JSON.parse('null') as object);
    const response = await callApp(app);
    expect(response.status).toBe(500);
    expect(response.log).toMatch(/The handler for GET \/ returned null: return a string, an object, or reply/);
  });
});

describe('micro: html', () => {
  it('escapes every interpolated value, lists included, and renders false and null as nothing', () => {
    const items = ['<b>', '"quoted"'];
    const out = html`<ul>${items.map((item) => html`<li title="${item}">${item}</li>`)}</ul>${false}${null}`;
    expect(String(out)).toBe(
      '<ul><li title="&lt;b&gt;">&lt;b&gt;</li><li title="&quot;quoted&quot;">&quot;quoted&quot;</li></ul>',
    );
  });

  it('inserts trusted() HTML as it is', () => {
    expect(String(html`<div>${trusted('<hr>')}</div>`)).toBe('<div><hr></div>');
  });
});

describe('micro: over HTTP', () => {
  const served = serveEachTest();

  it('receives path parameters percent-decoded', async () => {
    const server = await served.start(helloApp());
    const response = await request(`${server.url}/hello/caf%C3%A9%20%3Cb%3E`);
    expect(await response.body.text()).toBe('<p>Hello, café &lt;b&gt;!</p>');
  });

  it('answers HEAD with the GET handler, its headers and no body', async () => {
    const server = await served.start(helloApp());
    const response = await request(`${server.url}/hello/ada`, { method: 'HEAD' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String('<p>Hello, ada!</p>'.length));
    expect(await response.body.text()).toBe('');
  });

  it('answers 413 when a chunked body goes past the server body limit', async () => {
    const app = micro().post('/', async (req) => ({ length: (await req.text()).length }));
    const server = await served.start(app, { limits: { maxBodyBytes: 64 } });
    const response = await request(`${server.url}/`, {
      method: 'POST',
      body: chunkedBody(10, 16),
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBe(413);
    expect(await response.body.text()).toMatch(/at most 64 bytes/);
  });
});
