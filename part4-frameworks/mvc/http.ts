// Request and response objects for the mvc framework, after Django's HttpRequest and
// HttpResponse (and Express's req/res): the environ wrapped in an object with helpers, and a
// response built up as an object and sent once, when the view and the middleware are done.
//
//   async function createEntry(request: HttpRequest): Promise<HttpResponse> {
//     const form = await request.form();
//     ...
//     return redirect(request.reverse('index'), 303);
//   }
//
// Why objects, when the contract is a function and a callback? Because middleware can then
// read and change a response after the view made it (add a header, log its status), which
// startResponse, called once, does not allow.
import type { Environ, ResponseHeader } from '../../part3-gateway/contract.ts';

/**
 * Thrown to answer with an error status: `throw new HttpException(404, 'No such entry.')`.
 * Werkzeug's name for it; Django has Http404, BadRequest, PermissionDenied, where one class
 * with a status does for all. (Not part 2's HttpError, a request the server itself refuses.)
 * The message is shown to the client, so it must not contain secrets.
 */
export class HttpException extends Error {
  readonly status: number;
  readonly headers: ResponseHeader[];

  constructor(status: number, message: string, headers: ResponseHeader[] = []) {
    super(message);
    this.name = 'HttpException';
    this.status = status;
    this.headers = headers;
  }
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The path of a named URL pattern from the app's root, given by the app: urls.ts's reverse()
 * bound to its patterns. A function rather than the patterns, so that this file imports
 * nothing from urls.ts, which imports the request and response from here: no import circle.
 */
export type Reverser = (name: string, params: Record<string, string | number>) => string;

export class HttpRequest {
  readonly method: string;
  /** Where the app is mounted (SCRIPT_NAME): '' at the root, '/mvc' under a prefix. */
  readonly scriptName: string;
  /** The path below the mount point (PATH_INFO): what the URL patterns match. */
  readonly pathInfo: string;
  /** The query string, decoded (Django's request.GET). */
  readonly query: URLSearchParams;
  /** The body's media type without parameters, lower-case (Django's content_type); '' if none. */
  readonly contentType: string;
  /**
   * What the URL pattern captured, converted: `entries/<int:id>` gives `{ id: 7 }`.
   * Set by the app.
   */
  params: Record<string, string | number> = {};
  private bodyBytes: Promise<Buffer> | undefined;
  readonly environ: Environ;
  private readonly reverser: Reverser;

  constructor(environ: Environ, reverser: Reverser) {
    this.environ = environ;
    this.reverser = reverser;
    this.method = environ.REQUEST_METHOD;
    this.scriptName = environ.SCRIPT_NAME;
    this.pathInfo = environ.PATH_INFO;
    this.query = new URLSearchParams(environ.QUERY_STRING);
    this.contentType = environ.CONTENT_TYPE?.split(';')[0].trim().toLowerCase() ?? '';
  }

  /** The whole decoded path, mount point included (Django's request.path). */
  get path(): string {
    return this.scriptName + (this.pathInfo || '/');
  }

  /** A request header by name, any case: `request.header('Accept')`. */
  header(name: string): string | undefined {
    const cgiName = name.toUpperCase().replaceAll('-', '_');
    return cgiName === 'CONTENT_TYPE' || cgiName === 'CONTENT_LENGTH'
      ? this.environ[cgiName]
      : this.environ[`HTTP_${cgiName}`];
  }

  /** The raw body, read from gateway.input on first use and kept. */
  body(): Promise<Buffer> {
    this.bodyBytes ??= readInput(this.environ);
    return this.bodyBytes;
  }

  /** The body as text (UTF-8). */
  async text(): Promise<string> {
    return (await this.body()).toString('utf8');
  }

  /** The fields of an HTML form post (Django's request.POST). 415 for other bodies. */
  async form(): Promise<URLSearchParams> {
    // Simplification: multipart/form-data (file uploads) is not understood.
    if (this.contentType !== FORM_TYPE)
      throw new HttpException(415, `Expected a form (${FORM_TYPE}).`);
    return new URLSearchParams(await this.text());
  }

  /** The body parsed as JSON. 415 unless declared JSON, 400 if it is not valid JSON. */
  async json(): Promise<unknown> {
    if (!this.isJson()) throw new HttpException(415, 'Expected a JSON body (application/json).');
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpException(400, 'The body is not valid JSON.');
    }
  }

  isJson(): boolean {
    return (
      this.contentType === 'application/json' || /^application\/[^/]+\+json$/.test(this.contentType)
    );
  }

  /**
   * The path of a named URL pattern, mount point included (Django's reverse()):
   * `request.reverse('entry', { id: 7 })` → '/mvc/entries/7' when mounted at /mvc.
   */
  reverse(name: string, params: Record<string, string | number> = {}): string {
    const mount = this.scriptName.split('/').map(encodeURIComponent).join('/');
    return mount + this.reverser(name, params);
  }
}

/**
 * The body, chunk by chunk. The server enforces the size limit and rejects the read past it
 * (with a `status` of 413; 400 for a malformed body): we answer with that status, not a 500.
 */
async function readInput(environ: Environ): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of environ['gateway.input']) chunks.push(chunk);
  } catch (error) {
    const status =
      typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
    throw new HttpException(
      typeof status === 'number' ? status : 400,
      error instanceof Error ? error.message : 'Could not read the body.',
    );
  }
  return Buffer.concat(chunks);
}

export interface ResponseOptions {
  status?: number;
  /** The Content-Type; text/html by default, as in Django. */
  contentType?: string;
  headers?: ResponseHeader[];
}

/** A response under construction: views make one, middleware may change it, the app sends it. */
export class HttpResponse {
  status: number;
  headers: ResponseHeader[];
  content: Uint8Array;
  /** Set on a 500 made from a crash: the app passes it to startResponse as its third argument. */
  error: unknown = undefined;

  constructor(content: string | Uint8Array = '', options: ResponseOptions = {}) {
    this.status = options.status ?? 200;
    this.content = typeof content === 'string' ? Buffer.from(content) : content;
    this.headers = [...(options.headers ?? [])];
    // Always a Content-Type, even for an empty body: the contract's validator (like
    // wsgiref.validate) asks for one on every status that may have a body.
    if (this.getHeader('Content-Type') === undefined) {
      this.headers.push(['Content-Type', options.contentType ?? 'text/html; charset=utf-8']);
    }
  }

  getHeader(name: string): string | undefined {
    return this.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  }

  /** Replace every header of this name with one value (use `headers.push` to add a repeat). */
  setHeader(name: string, value: string): void {
    this.headers = this.headers.filter(([key]) => key.toLowerCase() !== name.toLowerCase());
    this.headers.push([name, value]);
  }
}

/** Django's JsonResponse: `data` serialised, with the JSON media type. */
export function jsonResponse(
  data: unknown,
  options: Omit<ResponseOptions, 'contentType'> = {},
): HttpResponse {
  return new HttpResponse(JSON.stringify(data), { ...options, contentType: 'application/json' });
}

/**
 * RFC 9110 §15.4: 303 makes the browser GET `location` (POST-redirect-GET);
 * 302 is Django's default.
 */
export function redirect(
  location: string,
  status: 301 | 302 | 303 | 307 | 308 = 302,
): HttpResponse {
  // The body is for a client that does not follow redirects (RFC 9110 §15.4 suggests a note).
  return new HttpResponse(`Redirecting to ${location}\n`, {
    status,
    contentType: 'text/plain; charset=utf-8',
    headers: [['Location', location]],
  });
}
