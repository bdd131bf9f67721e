// The wsgiref.util-style helpers (shiftPathInfo, applicationUri, requestUri) and the loader
// that finds an app from `path/to/app.ts[:export]`, each with the message a mistake earns.
import { describe, expect, it } from 'vitest';
import type { Environ } from '../part3-gateway/contract.ts';
import { GatewayInput } from '../part3-gateway/input.ts';
import { loadApplication, LoadError, parseAppSpec } from '../part3-gateway/loader.ts';
import { applicationUri, requestUri, shiftPathInfo } from '../part3-gateway/util.ts';

/** An environ with just what the helpers read; `keys` overrides or adds. */
function environWith(keys: Partial<Environ>): Environ {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    REQUEST_URI: '/',
    SERVER_NAME: 'example.com',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    'gateway.version': [1, 0],
    'gateway.url_scheme': 'http',
    'gateway.input': new GatewayInput(async () => null),
    'gateway.errors': { write: () => {}, flush: () => {} },
    'gateway.multithread': true,
    'gateway.multiprocess': false,
    'gateway.run_once': false,
    'gateway.signal': new AbortController().signal,
    ...keys,
  };
}

/** Shift once; what came back and where SCRIPT_NAME and PATH_INFO stand after. */
function shift(scriptName: string, pathInfo: string): [string | null, string, string] {
  const environ = environWith({ SCRIPT_NAME: scriptName, PATH_INFO: pathInfo });
  const name = shiftPathInfo(environ);
  return [name, environ.SCRIPT_NAME, environ.PATH_INFO];
}

describe('shiftPathInfo', () => {
  it.each([
    ['', '/blog/posts/7', ['blog', '/blog', '/posts/7']],
    ['/blog', '/posts/7', ['posts', '/blog/posts', '/7']],
    ['', '/blog', ['blog', '/blog', '']],
    ['', '/blog/', ['blog', '/blog', '/']], // the trailing slash stays with PATH_INFO
    ['', '//blog//7', ['blog', '/blog', '//7']], // empty segments before the name are skipped
    ['/app/', '/blog', ['blog', '/app/blog', '']],
  ])('SCRIPT_NAME %j, PATH_INFO %j → %j', (scriptName, pathInfo, expected) => {
    expect(shift(scriptName, pathInfo)).toEqual(expected);
  });

  it.each(['', '/', '///', 'no-leading-slash'])('returns null and changes nothing when PATH_INFO is %j', (pathInfo) => {
    expect(shift('/app', pathInfo)).toEqual([null, '/app', pathInfo]);
  });
});

describe('applicationUri and requestUri', () => {
  const mounted = environWith({
    HTTP_HOST: 'example.com:8003',
    SCRIPT_NAME: '/shop',
    PATH_INFO: '/items/café',
    QUERY_STRING: 'id=7',
  });

  it('rebuild the URL from the Host header, SCRIPT_NAME, PATH_INFO (re-encoded) and the raw query', () => {
    expect(applicationUri(mounted)).toBe('http://example.com:8003/shop');
    expect(requestUri(mounted)).toBe('http://example.com:8003/shop/items/caf%C3%A9?id=7');
    expect(requestUri(mounted, false)).toBe('http://example.com:8003/shop/items/caf%C3%A9');
  });

  it('use SERVER_NAME and SERVER_PORT without a Host header, leaving out the default port', () => {
    expect(applicationUri(environWith({ SERVER_PORT: '80' }))).toBe('http://example.com/');
    expect(applicationUri(environWith({ SERVER_PORT: '8003' }))).toBe('http://example.com:8003/');
  });

  it('give the root for an app at the root with an empty PATH_INFO, and no slash after a mount point', () => {
    expect(requestUri(environWith({ PATH_INFO: '' }))).toBe('http://example.com/');
    expect(requestUri(environWith({ SCRIPT_NAME: '/shop', PATH_INFO: '' }))).toBe('http://example.com/shop');
    expect(requestUri(environWith({ SCRIPT_NAME: '/shop', PATH_INFO: '/' }))).toBe('http://example.com/shop/');
  });
});

describe('parseAppSpec', () => {
  it.each([
    ['apps/hello.ts', { file: 'apps/hello.ts', exportName: null }],
    ['apps/hello.ts:app', { file: 'apps/hello.ts', exportName: 'app' }],
    ['C:\\apps\\hello.ts', { file: 'C:\\apps\\hello.ts', exportName: null }],
    ['C:\\apps\\hello.ts:myApp', { file: 'C:\\apps\\hello.ts', exportName: 'myApp' }],
    ['d:/apps/hello.ts', { file: 'd:/apps/hello.ts', exportName: null }],
  ])('splits %j into file and export name, a Windows drive letter not being a separator', (spec, expected) => {
    expect(parseAppSpec(spec)).toEqual(expected);
  });

  it.each(['app.ts:', 'app.ts:my-app', 'app.ts:1st'])(
    'refuses %j: not an export name, with an example of one',
    (spec) => {
      expect(() => parseAppSpec(spec)).toThrow(LoadError);
      expect(() => parseAppSpec(spec)).toThrow(/is not an export name: write path\/to\/app\.ts:exportName/);
    },
  );
});

describe('loadApplication', () => {
  it('loads the default export, else the export named app, else the one named after the colon', async () => {
    expect(typeof (await loadApplication('part3-gateway/apps/hello.ts'))).toBe('function');
    expect(typeof (await loadApplication('tests/fixtures/pid-app.ts'))).toBe('function');
    expect(typeof (await loadApplication('tests/fixtures/loader-cases.ts:other'))).toBe('function');
  });

  it.each([
    [
      'a missing file',
      'tests/fixtures/nowhere.ts',
      /^No such file: tests\/fixtures\/nowhere\.ts \(looked for .*nowhere\.ts\)\. Give the path to a \.ts file/,
    ],
    ['a directory', 'tests/fixtures', /^No such file: tests\/fixtures /],
    [
      'a module that throws on import',
      'tests/fixtures/throws-on-load.ts',
      /^Could not load tests\/fixtures\/throws-on-load\.ts: this app is broken at import time/,
    ],
    [
      'no default and no app export',
      'tests/fixtures/loader-cases.ts',
      /has no default export and no export named "app" \(it exports: notAnApp, other\)/,
    ],
    [
      'a missing named export',
      'tests/fixtures/loader-cases.ts:missing',
      /has no export named "missing" \(it exports: notAnApp, other\)/,
    ],
    [
      'an export that is not a function',
      'tests/fixtures/loader-cases.ts:notAnApp',
      /export "notAnApp" is a number, not a function\. An app is a function \(environ, startResponse\) => body\./,
    ],
  ])('explains %s in one line', async (_what, spec, message) => {
    const error = await loadApplication(spec).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).message).toMatch(message);
    expect((error as LoadError).message).not.toContain('\n');
  });
});
