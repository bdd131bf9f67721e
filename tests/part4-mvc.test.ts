// The mvc framework's own features, in process through callApp: URL patterns and reverse(),
// method views (405 + Allow), the middleware chain and its order, the two built-in middleware,
// the request helpers, the template engine, and error pages in and out of debug mode; then
// over real HTTP (inside part 3's validator) where the test is about the wire.
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createApp, type Middleware } from '../part4-frameworks/mvc/app.ts';
import { HttpException, HttpResponse, jsonResponse, redirect } from '../part4-frameworks/mvc/http.ts';
import { requestLogger, responseTime } from '../part4-frameworks/mvc/middleware.ts';
import { render, template } from '../part4-frameworks/mvc/template.ts';
import { path, reverse, type View } from '../part4-frameworks/mvc/urls.ts';
import { callApp } from './helpers/call-app.ts';
import { chunkedBody, serveEachTest } from './helpers/serve-app.ts';

/** A view that answers with its params as JSON. */
const echoParams: View = (request) => jsonResponse(request.params);

describe('mvc: URL patterns', () => {
  const urls = [
    path('', () => new HttpResponse('home'), 'index'),
    path('entries/<int:id>', echoParams, 'entry'),
    path('tags/<slug:tag>', echoParams, 'tag'),
    path('users/<name>', echoParams, 'user'),
    path('files/<path:rest>', echoParams, 'file'),
  ];
  const app = createApp({ urls });

  it('matches the root for PATH_INFO "/" and "" (mounted without a trailing slash)', async () => {
    expect((await callApp(app, { path: '/' })).text).toBe('home');
    expect((await callApp(app, { scriptName: '/mvc', path: '' })).text).toBe('home');
  });

  it('converts <int:id> to a number and matches digits only', async () => {
    expect(JSON.parse((await callApp(app, { path: '/entries/42' })).text)).toEqual({ id: 42 });
    expect((await callApp(app, { path: '/entries/4x' })).status).toBe(404);
  });

  it('matches str (one segment), slug and path (slashes and all)', async () => {
    expect(JSON.parse((await callApp(app, { path: '/users/Ada Lovelace' })).text)).toEqual({ name: 'Ada Lovelace' });
    expect((await callApp(app, { path: '/users/a/b' })).status).toBe(404);
    expect(JSON.parse((await callApp(app, { path: '/tags/web-dev_2' })).text)).toEqual({ tag: 'web-dev_2' });
    expect((await callApp(app, { path: '/tags/a.b' })).status).toBe(404);
    expect(JSON.parse((await callApp(app, { path: '/files/a/b/c.txt' })).text)).toEqual({ rest: 'a/b/c.txt' });
  });

  it('reverses a named pattern, encoding its values', () => {
    expect(reverse(urls, 'index')).toBe('/');
    expect(reverse(urls, 'entry', { id: 7 })).toBe('/entries/7');
    expect(reverse(urls, 'user', { name: 'Ada Lovelace' })).toBe('/users/Ada%20Lovelace');
    expect(reverse(urls, 'file', { rest: 'a b/c' })).toBe('/files/a%20b/c');
  });

  it('prefixes request.reverse() with SCRIPT_NAME, encoded', async () => {
    const mounted = createApp({
      urls: [
        path('', (request) => new HttpResponse(request.reverse('index') + ' ' + request.reverse('entry', { id: 3 }))),
        path('e/<int:id>', echoParams, 'entry'),
        path('x', echoParams, 'index'),
      ],
    });
    expect((await callApp(mounted, { scriptName: '/my book', path: '/' })).text).toBe('/my%20book/x /my%20book/e/3');
  });

  it('explains a reverse() it cannot do', () => {
    expect(() => reverse(urls, 'nope')).toThrow(/no URL pattern has that name/);
    expect(() => reverse(urls, 'entry')).toThrow(/needs a value for 'id'/);
    expect(() => reverse(urls, 'entry', { id: 'seven' })).toThrow(/does not fit 'id'/);
  });

  it('refuses a route with a leading slash or an unknown converter', () => {
    expect(() => path('/entries', echoParams)).toThrow(/without, as Django does: 'entries'/);
    expect(() => path('entries/<float:x>', echoParams)).toThrow(
      /no converter 'float'; use one of str, int, slug, path/,
    );
  });
});

describe('mvc: views and methods', () => {
  const app = createApp({
    urls: [
      path('things', { get: () => new HttpResponse('list'), post: () => new HttpResponse('created', { status: 201 }) }),
      path('any', (request) => new HttpResponse(request.method)),
    ],
  });

  it('calls the view of the request method', async () => {
    expect((await callApp(app, { path: '/things' })).text).toBe('list');
    expect((await callApp(app, { method: 'POST', path: '/things' })).status).toBe(201);
  });

  it('answers HEAD with the get view', async () => {
    const response = await callApp(app, { method: 'HEAD', path: '/things' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('list'); // the server, not the framework, drops a HEAD body
  });

  it('answers 405 with Allow (HEAD included) for a method the views lack', async () => {
    const response = await callApp(app, { method: 'DELETE', path: '/things' });
    expect(response.statusLine).toBe('405 Method Not Allowed');
    expect(response.header('Allow')).toBe('GET, HEAD, POST');
  });

  it('gives a plain view function every method', async () => {
    expect((await callApp(app, { method: 'PATCH', path: '/any' })).text).toBe('PATCH');
  });

  it('answers 404 with a generic page, listing the patterns tried only in debug mode', async () => {
    const quiet = await callApp(app, { path: '/missing' });
    expect(quiet.statusLine).toBe('404 Not Found');
    expect(quiet.text).not.toMatch(/things/);
    const debug = createApp({ urls: [path('things', echoParams)], debug: true });
    expect((await callApp(debug, { path: '/<missing>' })).text).toMatch(
      /No URL pattern matches &#39;\/&lt;missing&gt;&#39;. Tried, in order: &#39;things&#39;/,
    );
  });
});

describe('mvc: responses', () => {
  it('sends jsonResponse as application/json and redirect with Location and a plain-text note', async () => {
    const app = createApp({
      urls: [path('j', () => jsonResponse({ a: 1 }, { status: 201 })), path('r', () => redirect('/there', 303))],
    });
    const json = await callApp(app, { path: '/j' });
    expect(json.statusLine).toBe('201 Created');
    expect(json.header('Content-Type')).toBe('application/json');
    const moved = await callApp(app, { path: '/r' });
    expect(moved.statusLine).toBe('303 See Other');
    expect(moved.header('Location')).toBe('/there');
    expect(moved.text).toBe('Redirecting to /there\n');
  });

  it('defaults to text/html and keeps a Content-Type given in headers', () => {
    expect(new HttpResponse('x').getHeader('content-type')).toBe('text/html; charset=utf-8');
    expect(new HttpResponse('x', { headers: [['Content-Type', 'text/csv']] }).headers).toEqual([
      ['Content-Type', 'text/csv'],
    ]);
  });
});

describe('mvc: middleware', () => {
  it('runs middleware in list order on the way in and in reverse on the way out', async () => {
    const trace: string[] = [];
    const tracer =
      (name: string): Middleware =>
      async (_request, next) => {
        trace.push(`${name} in`);
        const response = await next();
        trace.push(`${name} out`);
        return response;
      };
    const app = createApp({
      urls: [
        path('', () => {
          trace.push('view');
          return new HttpResponse('ok');
        }),
      ],
      middleware: [tracer('outer'), tracer('inner')],
    });
    await callApp(app);
    expect(trace).toEqual(['outer in', 'inner in', 'view', 'inner out', 'outer out']);
  });

  it('lets a middleware answer by itself without calling next()', async () => {
    let viewCalled = false;
    const gate: Middleware = async () => new HttpResponse('go away', { status: 403 });
    const view: View = () => {
      viewCalled = true;
      return new HttpResponse('secret');
    };
    const app = createApp({ urls: [path('', view)], middleware: [gate] });
    const response = await callApp(app);
    expect(response.status).toBe(403);
    expect(viewCalled).toBe(false);
  });

  it('requestLogger writes one line per request to gateway.errors, or to the log it is given', async () => {
    const urls = [path('', () => new HttpResponse('ok'))];
    const toErrors = await callApp(createApp({ urls, middleware: [requestLogger()] }), { path: '/', query: 'a=1' });
    expect(toErrors.log).toMatch(/^GET \/\?a=1 200 \d+\.\dms\n$/);
    const lines: string[] = [];
    await callApp(createApp({ urls, middleware: [requestLogger((line) => lines.push(line))] }), { path: '/nope' });
    expect(lines).toEqual([expect.stringMatching(/^GET \/nope 404 /)]);
  });

  it('responseTime adds a Server-Timing header', async () => {
    const app = createApp({ urls: [path('', () => new HttpResponse('ok'))], middleware: [responseTime()] });
    expect((await callApp(app)).header('Server-Timing')).toMatch(/^app;dur=\d+\.\d\d$/);
  });

  it('hands outer middleware a 500 response, not an exception, when a view crashes', async () => {
    const lines: string[] = [];
    const app = createApp({
      urls: [path('', () => Promise.reject(new Error('boom')))],
      middleware: [requestLogger((line) => lines.push(line)), responseTime()],
    });
    const response = await callApp(app);
    expect(response.status).toBe(500);
    expect(response.header('Server-Timing')).toBeDefined();
    expect(lines).toEqual([expect.stringMatching(/^GET \/ 500 /)]);
  });

  it('turns a crash inside a middleware into a 500 for the layers outside it', async () => {
    const lines: string[] = [];
    const broken: Middleware = async () => {
      throw new Error('middleware bug');
    };
    const app = createApp({
      urls: [path('', () => new HttpResponse('ok'))],
      middleware: [requestLogger((line) => lines.push(line)), broken],
    });
    const response = await callApp(app);
    expect(response.status).toBe(500);
    expect(response.log).toMatch(/middleware bug/);
    expect(lines).toEqual([expect.stringMatching(/^GET \/ 500 /)]);
  });
});

describe('mvc: errors', () => {
  const crash = new Error('secret <token> leaked');
  const urls = [
    path('crash', () => {
      throw crash;
    }),
    path('teapot', () => {
      throw new HttpException(403, 'Members <only>.');
    }),
    path('nothing', () => JSON.parse('null') as HttpResponse),
  ];

  it('shows a generic 500 page without debug, logs the stack, and passes the error to startResponse', async () => {
    const response = await callApp(createApp({ urls }), { path: '/crash' });
    expect(response.statusLine).toBe('500 Internal Server Error');
    expect(response.text).toMatch(/the details are in its log/);
    expect(response.text).not.toMatch(/secret|at /);
    expect(response.error).toBe(crash);
    expect(response.log).toMatch(/\[mvc\] GET \/crash: Error: secret <token> leaked\n\s+at /);
  });

  it('shows the stack trace, escaped, on the 500 page in debug mode', async () => {
    const response = await callApp(createApp({ urls, debug: true }), { path: '/crash' });
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/<h1>Error at GET \/crash<\/h1><p>secret &lt;token&gt; leaked<\/p>/);
    expect(response.text).toMatch(/<pre>Error: secret &lt;token&gt; leaked\n\s+at /);
    expect(response.error).toBe(crash);
  });

  it('answers an HttpException with its status and escaped message, and logs nothing', async () => {
    const response = await callApp(createApp({ urls }), { path: '/teapot' });
    expect(response.statusLine).toBe('403 Forbidden');
    expect(response.text).toMatch(/<p>Members &lt;only&gt;.<\/p>/);
    expect(response.error).toBeUndefined();
    expect(response.log).toBe('');
  });

  it("explains a view that didn't return an HttpResponse", async () => {
    const response = await callApp(createApp({ urls }), { path: '/nothing' });
    expect(response.status).toBe(500);
    expect(response.log).toMatch(
      /The view for 'nothing' didn't return an HttpResponse object. It returned object instead./,
    );
  });
});

describe('mvc: the request', () => {
  const app = createApp({
    urls: [
      path('form', async (request) => jsonResponse({ name: (await request.form()).get('name') })),
      path('json', async (request) => jsonResponse({ got: await request.json() })),
      path('info', (request) =>
        jsonResponse({
          q: request.query.get('q'),
          agent: request.header('User-Agent'),
          path: request.path,
          type: request.contentType,
        }),
      ),
    ],
  });

  it('reads the query, headers, the full path and the media type', async () => {
    const response = await callApp(app, {
      scriptName: '/mvc',
      path: '/info',
      query: 'q=a+b',
      headers: { 'User-Agent': 'ua/1', 'Content-Type': 'Text/Plain; charset=utf-8' },
    });
    expect(JSON.parse(response.text)).toEqual({ q: 'a b', agent: 'ua/1', path: '/mvc/info', type: 'text/plain' });
  });

  it('parses a form, and answers 415 for a body that is not one', async () => {
    expect(JSON.parse((await callApp(app, { method: 'POST', path: '/form', form: { name: 'Ada' } })).text)).toEqual({
      name: 'Ada',
    });
    expect((await callApp(app, { method: 'POST', path: '/form', json: { name: 'Ada' } })).status).toBe(415);
  });

  it('parses JSON, and answers 400 for invalid JSON and 415 for a body not declared JSON', async () => {
    expect(JSON.parse((await callApp(app, { method: 'POST', path: '/json', json: { a: [1] } })).text)).toEqual({
      got: { a: [1] },
    });
    expect(
      (
        await callApp(app, {
          method: 'POST',
          path: '/json',
          body: '{',
          headers: { 'Content-Type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect((await callApp(app, { method: 'POST', path: '/json', form: { a: '1' } })).status).toBe(415);
  });

  it('answers with the status of a body read the server refused (413), not a 500', async () => {
    const tooLarge = Object.assign(new Error('Request body too large: at most 64 bytes.'), { status: 413 });
    const response = await callApp(app, { method: 'POST', path: '/json', json: {}, inputError: tooLarge });
    expect(response.statusLine).toBe('413 Content Too Large');
    expect(response.text).toMatch(/at most 64 bytes/);
  });
});

describe('mvc: templates', () => {
  it('escapes variables by default and lets |safe opt out', () => {
    const page = template('t', '<p title="{{ v }}">{{ v }}</p>{{ trustedHtml|safe }}');
    expect(page({ v: `<script>"x" & 'y'</script>`, trustedHtml: '<hr>' })).toBe(
      '<p title="&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;">&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;</p><hr>',
    );
  });

  it('looks up dotted names and renders a missing one as nothing', () => {
    const page = template(
      't',
      '{{ entry.author.name }}|{{ entry.missing.deeper }}|{{ nothing }}|{{ entry.constructor }}',
    );
    expect(page({ entry: { author: { name: 'Ada' } } })).toBe('Ada|||');
  });

  it('loops with for, and renders empty for an empty list', () => {
    const page = template('t', '{% for x in xs %}[{{ x }}]{% empty %}none{% endfor %}');
    expect(page({ xs: ['a', '<b>'] })).toBe('[a][&lt;b&gt;]');
    expect(page({ xs: [] })).toBe('none');
  });

  it('branches with if, if not and else, an empty list counting as false', () => {
    const page = template('t', '{% if xs %}some{% else %}none{% endif %}/{% if not flag %}off{% endif %}');
    expect(page({ xs: [1], flag: true })).toBe('some/');
    expect(page({ xs: [], flag: false })).toBe('none/off');
  });

  it('applies the length and upper filters', () => {
    expect(template('t', '{{ xs|length }} {{ name|upper }}')({ xs: [1, 2, 3], name: 'ada' })).toBe('3 ADA');
  });

  it('reports syntax errors when compiling, with the template name and line', () => {
    expect(() => template('page', 'a\n{% fore x in y %}')).toThrow('template page, line 2: unknown tag {% fore %}');
    expect(() => template('page', '{% if x %}\nno end')).toThrow(
      'template page, line 1: this block is never closed: add {% endif %}',
    );
    expect(() => template('page', '{% for x in y %}{% endif %}')).toThrow(
      '{% endif %} here, expected {% empty %} or {% endfor %}',
    );
    expect(() => template('page', '{% endfor %}')).toThrow('{% endfor %} without a block to end');
    expect(() => template('page', '{{ x|bold }}')).toThrow('unknown filter |bold; the filters are safe, length, upper');
    expect(() => template('page', '{{ x + 1 }}')).toThrow("'x + 1' is not a variable name");
  });

  it('render() makes an HTML response of a template', () => {
    const response = render(template('t', '<b>{{ x }}</b>'), { x: 1 }, { status: 201 });
    expect(response.status).toBe(201);
    expect(Buffer.from(response.content).toString()).toBe('<b>1</b>');
  });
});

describe('mvc: over HTTP', () => {
  const served = serveEachTest();

  it('answers HEAD through the get view with its headers and no body', async () => {
    const app = createApp({
      urls: [path('', { get: () => new HttpResponse('<p>hi</p>') })],
      middleware: [responseTime()],
    });
    const server = await served.start(app);
    const response = await request(`${server.url}/`, { method: 'HEAD' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe('9');
    expect(response.headers['server-timing']).toMatch(/^app;dur=/);
    expect(await response.body.text()).toBe('');
  });

  it('answers 413 when a chunked body goes past the server body limit', async () => {
    const app = createApp({ urls: [path('', async (req) => jsonResponse({ length: (await req.text()).length }))] });
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
