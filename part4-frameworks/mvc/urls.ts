// URL patterns for the mvc framework, after Django's `urls.py`: an ordered list of routes, each
// with a view and a name, matched against PATH_INFO; the first match wins.
//
//   const urls = [
//     path('', index, 'index'),                      // the app's root: '/' (or '' when mounted)
//     path('entries', entries, 'entries'),           // /entries
//     path('entries/<int:id>', entry, 'entry'),      // /entries/7 → request.params.id === 7
//   ];
//
// A route has no leading slash (as in Django) and matches the whole path. `<converter:name>`
// captures one part: the converter says what it may contain and what type the view gets.
// Routes have names so links can be built from them (`request.reverse('entry', { id: 7 })`)
// instead of written out: rename a URL in one place and every link follows.
import type { HttpRequest, HttpResponse } from './http.ts';

/** A view answers a request: Django's function-based view. */
export type View = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/**
 * One view per method, like Django's class-based View: `{ get: showForm, post: saveForm }`.
 * A method it lacks gets 405 with an Allow header; HEAD uses `get` unless given.
 */
export type MethodViews = Partial<
  Record<'get' | 'head' | 'post' | 'put' | 'patch' | 'delete', View>
>;

interface Converter {
  /** What one captured part may look like (a regex source, no anchors). */
  pattern: string;
  /** From the matched text to the value the view receives. */
  toValue: (text: string) => string | number;
}

/** Django's built-in path converters. */
const CONVERTERS: Readonly<Record<string, Converter>> = {
  str: { pattern: '[^/]+', toValue: (text) => text }, // one segment, the default
  int: { pattern: '[0-9]+', toValue: (text) => Number(text) }, // digits; the view gets a number
  slug: { pattern: '[-a-zA-Z0-9_]+', toValue: (text) => text }, // letters, digits, - and _
  path: { pattern: '.+', toValue: (text) => text }, // the rest, slashes and all
};

/** `<int:id>` or `<name>` (str by default). */
const PLACEHOLDER = /<(?:(\w+):)?(\w+)>/g;

export interface UrlPattern {
  /** As written: 'entries/<int:id>'. */
  route: string;
  view: View | MethodViews;
  name: string | undefined;
  regex: RegExp;
  /** One per placeholder, in order: its name and its converter. */
  captures: Array<{ name: string; converter: Converter }>;
}

export function path(route: string, view: View | MethodViews, name?: string): UrlPattern {
  if (route.startsWith('/'))
    throw new Error(
      `URL pattern '${route}' starts with '/': ` +
        `write it without, as Django does: '${route.slice(1)}'.`,
    );
  const captures: UrlPattern['captures'] = [];
  let source = '';
  let last = 0;
  for (const match of route.matchAll(PLACEHOLDER)) {
    const converterName = match[1] ?? 'str';
    const converter = CONVERTERS[converterName];
    if (converter === undefined) {
      throw new Error(
        `URL pattern '${route}': no converter '${converterName}'; ` +
          `use one of ${Object.keys(CONVERTERS).join(', ')}.`,
      );
    }
    captures.push({ name: match[2], converter });
    source += escapeRegex(route.slice(last, match.index)) + `(${converter.pattern})`;
    last = match.index + match[0].length;
  }
  source += escapeRegex(route.slice(last));
  return { route, view, name, regex: new RegExp(`^${source}$`), captures };
}

/** The first pattern matching PATH_INFO, and its converted captures; null if none does. */
export function resolve(
  patterns: readonly UrlPattern[],
  pathInfo: string,
): { pattern: UrlPattern; params: Record<string, string | number> } | null {
  // Django matches the path without its leading slash; '' and '/' both mean the root.
  const relative = pathInfo.replace(/^\//, '');
  for (const pattern of patterns) {
    const match = pattern.regex.exec(relative);
    if (match === null) continue;
    const params: Record<string, string | number> = {};
    pattern.captures.forEach(
      (capture, i) => (params[capture.name] = capture.converter.toValue(match[i + 1])),
    );
    return { pattern, params };
  }
  return null;
}

/**
 * The path of the pattern named `name` with `params` filled in,
 * from the app's root: '/entries/7'.
 */
export function reverse(
  patterns: readonly UrlPattern[],
  name: string,
  params: Record<string, string | number> = {},
): string {
  const pattern = patterns.find((candidate) => candidate.name === name);
  if (pattern === undefined)
    throw new Error(
      `reverse('${name}'): no URL pattern has that name; ` +
        `name one with path(route, view, '${name}').`,
    );
  let index = 0;
  const filled = pattern.route.replace(PLACEHOLDER, () => {
    const { name: param, converter } = pattern.captures[index++];
    const value = params[param];
    if (value === undefined)
      throw new Error(
        `reverse('${name}'): the route '${pattern.route}' needs a value for '${param}'.`,
      );
    // Django refuses a value its converter would not match back (NoReverseMatch): so do we.
    if (!new RegExp(`^(?:${converter.pattern})$`).test(String(value))) {
      throw new Error(
        `reverse('${name}'): ${JSON.stringify(value)} ` +
          `does not fit '${param}' in '${pattern.route}'.`,
      );
    }
    return String(value).split('/').map(encodeURIComponent).join('/');
  });
  return `/${filled}`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
