// A tiny template engine after Django's: text with holes, compiled once, rendered per request.
//
//   const page = template('greeting', `
//     <h1>Hello, {{ user.name }}!</h1>                   a variable: HTML-escaped
//     {% if entries %}<ul>                               a condition (an empty list is false)
//       {% for entry in entries %}<li>{{ entry.text }}</li>{% endfor %}
//     </ul>{% else %}<p>Nothing yet.</p>{% endif %}
//     {{ entries|length }} entries                       a filter
//     {{ banner|safe }}                                  the opt-out: trusted HTML, not escaped
//   `);
//   page({ user: { name: '<b>Ada</b>' }, entries: [], banner: '<hr>' })
//
// Escaping is the default because forgetting it is the classic hole (cross-site scripting: a
// guestbook entry that is a <script>). `|safe` is the only way out, and it is visible in the
// template, where a reviewer can ask "is this really trusted?".
//
// Tags: {% if x %} {% if not x %} {% else %} {% endif %}, {% for x in xs %} {% empty %}
// {% endfor %}. Filters: safe, length, upper. Simplification: no expressions, comparisons,
// inheritance or includes; a missing variable renders as '' (as in Django).
import { HttpResponse, type ResponseOptions } from './http.ts';

export type Context = Readonly<Record<string, unknown>>;
export type Template = (context: Context) => string;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'variable'; path: string[]; filters: string[] }
  | { kind: 'if'; path: string[]; negate: boolean; then: Node[]; otherwise: Node[] }
  | { kind: 'for'; name: string; path: string[]; body: Node[]; empty: Node[] };

/** `{{ ... }}` or `{% ... %}`, with what is inside. */
const TOKEN = /\{\{(.*?)\}\}|\{%(.*?)%\}/gs;
const FILTERS = ['safe', 'length', 'upper'];
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Compile `source` (its `name` appears in error messages).
 * Syntax errors throw here, not at render.
 */
export function template(name: string, source: string): Template {
  const nodes = new Parser(name, source).parseAll();
  return (context) => renderNodes(nodes, context);
}

/** Django's render() shortcut: a template filled in, as an HTML response. */
export function render(
  page: Template,
  context: Context,
  options: ResponseOptions = {},
): HttpResponse {
  return new HttpResponse(page(context), options);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

// ---- Compiling: source → a tree of nodes ----------------------------------------------------

class Parser {
  private readonly tokens: Array<
    { text: string } | { variable: string; at: number } | { tag: string; at: number }
  > = [];
  private position = 0;
  private readonly name: string;
  private readonly source: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    let last = 0;
    for (const match of source.matchAll(TOKEN)) {
      if (match.index > last) this.tokens.push({ text: source.slice(last, match.index) });
      if (match[1] !== undefined) this.tokens.push({ variable: match[1].trim(), at: match.index });
      else this.tokens.push({ tag: match[2].trim(), at: match.index });
      last = match.index + match[0].length;
    }
    if (last < source.length) this.tokens.push({ text: source.slice(last) });
  }

  parseAll(): Node[] {
    const { nodes, end } = this.parseUntilEndTag();
    if (end !== null) throw this.error(end.at, `{% ${end.word} %} without a block to end`);
    return nodes;
  }

  /** Nodes up to the next else/endif/empty/endfor tag (consumed and returned), or to the end. */
  private parseUntilEndTag(): { nodes: Node[]; end: { word: string; at: number } | null } {
    const nodes: Node[] = [];
    while (this.position < this.tokens.length) {
      const token = this.tokens[this.position++];
      if ('text' in token) nodes.push({ kind: 'text', text: token.text });
      else if ('variable' in token) nodes.push(this.variable(token.variable, token.at));
      else {
        const [word, ...args] = token.tag.split(/\s+/);
        if (word === 'if') nodes.push(this.ifBlock(args, token.at));
        else if (word === 'for') nodes.push(this.forBlock(args, token.at));
        else if (['else', 'endif', 'empty', 'endfor'].includes(word))
          return { nodes, end: { word, at: token.at } };
        else
          throw this.error(
            token.at,
            `unknown tag {% ${word} %}; the tags are if, else, endif, for, empty, endfor`,
          );
      }
    }
    return { nodes, end: null };
  }

  private variable(expression: string, at: number): Node {
    const [path, ...filters] = expression.split('|').map((part) => part.trim());
    for (const filter of filters) {
      if (!FILTERS.includes(filter))
        throw this.error(at, `unknown filter |${filter}; the filters are ${FILTERS.join(', ')}`);
    }
    return { kind: 'variable', path: this.path(path, at), filters };
  }

  private ifBlock(args: string[], at: number): Node {
    const negate = args[0] === 'not';
    const condition = negate ? args.slice(1) : args;
    if (condition.length !== 1) throw this.error(at, 'write {% if name %} or {% if not name %}');
    const then = this.block(['else', 'endif'], at);
    const otherwise = then.end === 'else' ? this.block(['endif'], at).nodes : [];
    return { kind: 'if', path: this.path(condition[0], at), negate, then: then.nodes, otherwise };
  }

  private forBlock(args: string[], at: number): Node {
    if (args.length !== 3 || args[1] !== 'in')
      throw this.error(at, 'write {% for item in items %}');
    const body = this.block(['empty', 'endfor'], at);
    const empty = body.end === 'empty' ? this.block(['endfor'], at).nodes : [];
    return { kind: 'for', name: args[0], path: this.path(args[2], at), body: body.nodes, empty };
  }

  /** The nodes of a block body, which must end with one of `ends`. */
  private block(ends: string[], openedAt: number): { nodes: Node[]; end: string } {
    const { nodes, end } = this.parseUntilEndTag();
    if (end === null)
      throw this.error(openedAt, `this block is never closed: add {% ${ends[ends.length - 1]} %}`);
    if (!ends.includes(end.word))
      throw this.error(
        end.at,
        `{% ${end.word} %} here, expected ${ends.map((word) => `{% ${word} %}`).join(' or ')}`,
      );
    return { nodes, end: end.word };
  }

  /** `entry.name` → ['entry', 'name']. */
  private path(text: string, at: number): string[] {
    if (!/^[A-Za-z_]\w*(\.\w+)*$/.test(text))
      throw this.error(at, `'${text}' is not a variable name like entry or entry.name`);
    return text.split('.');
  }

  private error(at: number, message: string): Error {
    const line = this.source.slice(0, at).split('\n').length;
    return new SyntaxError(`template ${this.name}, line ${line}: ${message}`);
  }
}

// ---- Rendering: a tree of nodes and a context → text ----------------------------------------

function renderNodes(nodes: Node[], context: Context): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'variable')
      out += renderVariable(lookup(context, node.path), node.filters);
    else if (node.kind === 'if')
      out += renderNodes(
        truthy(lookup(context, node.path)) !== node.negate ? node.then : node.otherwise,
        context,
      );
    else {
      const items = lookup(context, node.path);
      const list = Array.isArray(items) ? items : [];
      if (list.length === 0) out += renderNodes(node.empty, context);
      for (const item of list) out += renderNodes(node.body, { ...context, [node.name]: item });
    }
  }
  return out;
}

function renderVariable(value: unknown, filters: string[]): string {
  let current = value;
  for (const filter of filters) {
    if (filter === 'length')
      current = Array.isArray(current) || typeof current === 'string' ? current.length : 0;
    else if (filter === 'upper') current = String(current ?? '').toUpperCase();
  }
  const text = current === undefined || current === null ? '' : String(current);
  return filters.includes('safe') ? text : escapeHtml(text);
}

/** `['entry', 'name']` → context.entry.name; undefined if any step is missing. */
function lookup(context: Context, path: string[]): unknown {
  let value: unknown = context;
  for (const key of path) {
    // Own properties only: a template cannot wander into `constructor` or `__proto__`.
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Django's truth: empty lists and strings, 0, null and undefined are false. */
function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}
