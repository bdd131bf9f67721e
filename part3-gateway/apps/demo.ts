// The demo application the gateway hosts when given no app (like wsgiref's demo_app): a page
// showing the environ it received, key by key, with a form that POSTs back to it so you can
// see CONTENT_TYPE, CONTENT_LENGTH and the body read from gateway.input. Any other path is a
// 404, as a real app would answer.
//   npm run part3      then open http://127.0.0.1:8003/
import type { Application, Environ } from '../contract.ts';

/**
 * Body bytes shown on the page at most;
 * the server's own limit (1 MiB) still applies to reading.
 */
export const SHOWN_BODY_BYTES = 4096;

export const app: Application = async function* (environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path !== '/' && path !== '') {
    startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
    yield Buffer.from(
      `Not found: this demo app only answers at / (you asked for ${JSON.stringify(path)}).\n`,
    );
    return;
  }
  if (
    environ.REQUEST_METHOD !== 'GET' &&
    environ.REQUEST_METHOD !== 'HEAD' &&
    environ.REQUEST_METHOD !== 'POST'
  ) {
    startResponse('405 Method Not Allowed', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Allow', 'GET, HEAD, POST'],
    ]);
    yield Buffer.from('Use GET to see the environ, or POST to send it a body.\n');
    return;
  }
  const body = environ.REQUEST_METHOD === 'POST' ? await environ['gateway.input'].read() : null;
  startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
  yield Buffer.from(page(environ, body));
};

export default app;

function page(environ: Environ, body: Uint8Array | null): string {
  const rows = Object.keys(environ)
    .sort()
    .map(
      (key) =>
        `<tr><th>${escapeHtml(key)}</th>` +
        `<td><code>${escapeHtml(show(environ[key]))}</code></td></tr>`,
    )
    .join('\n');
  let bodySection = '';
  if (body !== null) {
    const shown = Buffer.from(body.subarray(0, SHOWN_BODY_BYTES)).toString('utf8');
    const more = body.length > SHOWN_BODY_BYTES ? '\n…' : '';
    bodySection =
      `<h2>The body, read from gateway.input (${body.length} bytes)</h2>\n` +
      `<pre>${escapeHtml(shown)}${more}</pre>`;
  }
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Gateway demo: your environ</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em}
th{text-align:left;padding-right:1em;vertical-align:top}
code,pre{background:#f4f4f4}
</style></head>
<body>
<h1>The environ your request became</h1>
<p>Every key below was built by the gateway server from the bytes of your request.
Try a query string: <a href="?colour=blue&amp;n=3">?colour=blue&amp;n=3</a>.</p>
<form method="post"><input name="message" value="hello, gateway"> <button>POST it</button></form>
${bodySection}
<table>
${rows}
</table>
</body>
</html>
`;
}

/** How a value looks on the page: strings as they are, objects by their type. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return JSON.stringify(value);
  if (value instanceof AbortSignal) return `AbortSignal (aborted: ${value.aborted})`;
  if (typeof value === 'object' && value !== null) return `${value.constructor.name} object`;
  return String(value);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
