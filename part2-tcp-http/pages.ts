// The HTML of the small site: the start page with its forms, and the pages that answer them.
// Plain template strings; every value that came from a request goes through `escapeHtml`
// first, so `/hello?name=<script>` shows the text "<script>" instead of running it.

/** Replace the five characters that mean something in HTML with their character references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
${body}
</body>
</html>
`;
}

/** `GET /`: what the site can do, with a form for each kind of request. */
export function homePage(host: string): string {
  const origin = escapeHtml(`http://${host}`);
  return layout(
    'Part 2: a raw HTTP/1.1 responder',
    `  <h1>Part 2: a raw HTTP/1.1 responder</h1>
  <p>Every byte of this page was written by <code>part2-tcp-http/</code> on a plain TCP socket.</p>

  <h2>A GET with a query string</h2>
  <form method="get" action="/hello">
    <label>Your name <input name="name" value="Ada"></label>
    <button>GET /hello?name=…</button>
  </form>

  <h2>A form POST (application/x-www-form-urlencoded)</h2>
  <form method="post" action="/form">
    <label>Name <input name="name" value="Grace"></label>
    <label>Message <input name="message" value="Hello & welcome"></label>
    <button>POST /form</button>
  </form>

  <h2>See what your browser sends</h2>
  <form method="post" action="/echo">
    <label>Anything <input name="anything" value="a=1&b=2"></label>
    <button>POST /echo</button>
  </form>
  <p><a href="/echo">GET /echo</a> shows the request line and headers the server parsed.</p>

  <h2>A JSON POST</h2>
  <pre>curl -v -H 'Content-Type: application/json' -d '{"name":"Ada"}' ${origin}/api/greeting</pre>

  <h2>More</h2>
  <ul>
    <li><a href="/stream">/stream</a>: a body sent in chunks, its length unknown in advance</li>
    <li><a href="/static/hello.txt">/static/hello.txt</a>,
      <a href="/static/about.html">/static/about.html</a>,
      <a href="/static/data.json">/static/data.json</a>: files from <code>public/</code></li>
    <li><a href="/no/such/page">/no/such/page</a>: a 404</li>
  </ul>`,
  );
}

/** `GET /hello?name=…` */
export function helloPage(name: string): string {
  return layout(
    `Hello, ${name}`,
    `  <h1>Hello, ${escapeHtml(name)}!</h1>
  <p>The name came from the query string, percent-decoded, then HTML-escaped.</p>
  <p><a href="/">Back</a></p>`,
  );
}

/** `POST /form`: every field the form sent, in order. */
export function formResultPage(fields: Array<[name: string, value: string]>): string {
  const rows = fields
    .map(
      ([name, value]) => `    <tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Form received',
    `  <h1>Thank you${fields.length > 0 ? `, ${escapeHtml(fields[0][1])}` : ''}!</h1>
  <p>The server read an <code>application/x-www-form-urlencoded</code>
    body with ${fields.length} field(s):</p>
  <table>
${rows}
  </table>
  <p><a href="/">Back</a></p>`,
  );
}
