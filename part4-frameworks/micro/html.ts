// HTML for the micro framework: a tagged template literal that escapes what it interpolates.
//
//   html`<p>Hello, ${name}!</p>`              name = '<b>' → <p>Hello, &lt;b&gt;!</p>
//   html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>`
//   html`<div>${trusted(markdownOutput)}</div>`  the explicit opt-out, for HTML you produced
//
// Flask gets this from Jinja2's autoescaping; here JavaScript's own template literals do the
// templating, and the tag does only the part that matters for safety: every value is text
// unless it says otherwise. Escaping by default turns a forgotten escape (a script injected
// through a guestbook entry) into a visible `&lt;script&gt;` instead of an attack.

/** HTML that is already safe to insert as is: what `html` returns, and what `trusted` marks. */
export class SafeHtml {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

/** What may stand in `${...}`: text (escaped), safe HTML, lists of either, or nothing. */
export type HtmlValue =
  string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

/**
 * Escape the five characters that mean something in HTML text and in quoted attribute values
 * (OWASP's rule #1): `&` first, so the others' entities are not escaped twice.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Mark a string as trusted HTML, inserted without escaping. Never pass it user input. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** The tag: the literal parts are the author's HTML; every interpolated value is escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

function render(value: HtmlValue): string {
  // `cond && html`...`` is a common way to write "maybe": false, null and undefined render nothing.
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}
