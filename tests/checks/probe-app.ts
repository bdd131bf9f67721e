// The probe application: the app `npm run check -- part3` starts your gateway with
// (`tsx my-gateway.ts tests/checks/probe-app.ts --port P`). A plain contract app (only the types
// of part3-gateway/contract.ts, no server code), so it runs on any gateway that keeps the
// contract. Each path reports what the app received, or exercises one rule of the contract:
//
//   /hello?name=Ada         200 "Hello, Ada!" (an array body), with X-Probe-App: part3 (check 1
//                           tells the probe from another app by it)
//   /environ...             200, the environ as JSON (CGI keys, HTTP_* keys, gateway.* types)
//   /input                  reads gateway.input with read(size) until it is empty; its length and text
//   /read-sizes?size=7      reads with read(7) until it is empty; the length of each read, and the text
//   /readlines              reads with readline() until it is empty; each line, and whether [] came
//   /status?code=&reason=   startResponse with that status
//   /headers                Set-Cookie twice and an order of its own
//   /chunks                 an array of three chunks (the server computes Content-Length)
//   /stream?id=             a generator: a first piece, then waits for /release?id= before the rest
//                           (or 5 s), so a gateway that holds the first piece shows it
//   /write                  the legacy write() from startResponse, then a returned body
//   /fail-before            throws before startResponse
//   /fail-after-start       calls startResponse, then throws before its first chunk
//   /fail-mid-stream        yields a piece, then throws
//   /hop-by-hop             sets Connection: close itself
//   /close-tracking?id=     a hand-made body whose return() and close() are counted (/report?id=)
//   /endless?id=            yields until its client leaves; /report?id= says whether it stopped
//   /big?id=                32 MiB in 64 KiB chunks; /report?id= says how many were pulled
//   /wait-signal?id=        never writes until gateway.signal fires (or 5 s pass); /report?id=
//   /wrong-length?declared= an array of 11 bytes with Content-Length: declared (the app's bug)
//   /no-start-response      returns a body without ever calling startResponse
//   /string-body            a generator that yields a string, not bytes
//
// State shared between requests (what /report answers) lives in this module, keyed by an id the
// check makes up: two checks never see each other's counts.
import type { Application, Body, Environ, StartResponse } from '../../part3-gateway/contract.ts';

const TEXT: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];
const JSON_TYPE: Array<[string, string]> = [['Content-Type', 'application/json']];
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** The header /hello answers with: a response that lacks it did not come from the probe. */
export const PROBE_MARKER: [string, string] = ['X-Probe-App', 'part3'];
/** How many reads /read-sizes and /readlines make at most, so a stream that never ends does not hold them. */
const MAX_READS = 1_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** /big's size: more than the kernel's socket buffers hold on both sides, so a server that waits for drain cannot pull it all. */
export const BIG_CHUNK_BYTES = 64 * 1024;
export const BIG_CHUNKS = 512;
/** How long /endless and /wait-signal go on at most, so a server that never stops them frees them in the end. */
const GIVE_UP_MS = 5_000;

/** What the probe has seen of one id's request. */
interface Report {
  returned: number;
  closed: number;
  pulled: number;
  stopped: boolean;
  released: boolean;
  signalled: string | null;
}

const reports = new Map<string, Report>();
/** Ids are made up by the checks; keep only the last few hundred. */
const MAX_REPORTS = 500;

function reportFor(id: string): Report {
  let report = reports.get(id);
  if (report === undefined) {
    report = { returned: 0, closed: 0, pulled: 0, stopped: false, released: false, signalled: null };
    reports.set(id, report);
    if (reports.size > MAX_REPORTS) reports.delete(reports.keys().next().value ?? id);
  }
  return report;
}

function query(environ: Environ): URLSearchParams {
  return new URLSearchParams(environ.QUERY_STRING);
}

function answer(startResponse: StartResponse, status: string, value: unknown): Body {
  startResponse(status, JSON_TYPE);
  return [bytes(`${JSON.stringify(value)}\n`)];
}

/** The environ as JSON: every string key as it came, and what the gateway.* objects are. */
function describeEnviron(environ: Environ): Record<string, unknown> {
  const described: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environ)) {
    if (typeof value === 'string') described[key] = value;
  }
  const input = environ['gateway.input'] as Partial<Environ['gateway.input']> | undefined;
  const errors = environ['gateway.errors'] as Partial<Environ['gateway.errors']> | undefined;
  described['gateway.version'] = environ['gateway.version'];
  described['gateway.url_scheme'] = environ['gateway.url_scheme'];
  described['typeof gateway.input.read'] = typeof input?.read;
  described['typeof gateway.errors.write'] = typeof errors?.write;
  described.keys = Object.keys(environ);
  return described;
}

/** A body whose iterator and close() count their calls: did the server finish with it? */
function trackedBody(report: Report): Body {
  const chunks = [bytes('tracked '), bytes('body\n')];
  return {
    [Symbol.iterator]: () => {
      let next = 0;
      return {
        next: () => (next < chunks.length ? { done: false, value: chunks[next++] } : { done: true, value: undefined }),
        return: () => {
          report.returned++;
          return { done: true, value: undefined };
        },
      };
    },
    close: () => {
      report.closed++;
    },
  };
}

async function* stream(report: Report): AsyncGenerator<Uint8Array> {
  yield bytes('first piece\n');
  // The second piece is made only when the checker says so (/release): a server that holds the
  // first until the body ends would hold it until then.
  for (let waited = 0; !report.released && waited < GIVE_UP_MS; waited += 10) await sleep(10);
  yield bytes('second piece\n');
  yield bytes('last piece\n');
}

async function* endless(report: Report): AsyncGenerator<Uint8Array> {
  const started = Date.now();
  try {
    while (Date.now() - started < GIVE_UP_MS) {
      yield bytes(`${'still streaming '.repeat(64)}\n`);
      await sleep(5);
    }
  } finally {
    report.stopped = true;
  }
}

function* big(report: Report): Generator<Uint8Array> {
  const chunk = new Uint8Array(BIG_CHUNK_BYTES).fill(0x2e);
  for (let i = 0; i < BIG_CHUNKS; i++) {
    report.pulled++;
    yield chunk;
  }
}

async function* waitForSignal(environ: Environ, report: Report): AsyncGenerator<Uint8Array> {
  const signal = environ['gateway.signal'];
  const started = Date.now();
  while (!signal.aborted && Date.now() - started < GIVE_UP_MS) await sleep(10);
  report.signalled = signal.aborted ? String(signal.reason) : 'not aborted';
  yield bytes(`signal: ${report.signalled}\n`);
}

const probe: Application = (environ, startResponse) => {
  const params = query(environ);
  const report = reportFor(params.get('id') ?? '');
  const route = `/${environ.PATH_INFO.split('/')[1] ?? ''}`;
  switch (route) {
    case '/hello':
      startResponse('200 OK', [...TEXT, PROBE_MARKER]);
      return [bytes(`Hello, ${params.get('name') ?? 'World'}!\n`)];
    case '/environ':
      return answer(startResponse, '200 OK', describeEnviron(environ));
    case '/input':
      return (async function* () {
        const parts: Uint8Array[] = [];
        for (
          let part = await environ['gateway.input'].read(4096);
          part.length > 0;
          part = await environ['gateway.input'].read(4096)
        )
          parts.push(part);
        const body = Buffer.concat(parts);
        startResponse('200 OK', JSON_TYPE);
        yield bytes(`${JSON.stringify({ length: body.length, text: body.toString('latin1') })}\n`);
      })();
    case '/read-sizes':
      return (async function* () {
        const size = Number(params.get('size') ?? '7');
        const sizes: number[] = [];
        const parts: Uint8Array[] = [];
        for (
          let part = await environ['gateway.input'].read(size);
          part.length > 0 && sizes.length < MAX_READS;
          part = await environ['gateway.input'].read(size)
        ) {
          sizes.push(part.length);
          parts.push(part);
        }
        startResponse('200 OK', JSON_TYPE);
        yield bytes(`${JSON.stringify({ sizes, text: Buffer.concat(parts).toString('latin1') })}\n`);
      })();
    case '/readlines':
      return (async function* () {
        const lines: string[] = [];
        let ended = false;
        while (!ended && lines.length < MAX_READS) {
          const line = await environ['gateway.input'].readline();
          if (line.length === 0) ended = true;
          else lines.push(Buffer.from(line).toString('latin1'));
        }
        startResponse('200 OK', JSON_TYPE);
        yield bytes(`${JSON.stringify({ lines, ended })}\n`);
      })();
    case '/status':
      startResponse(`${params.get('code') ?? '200'} ${params.get('reason') ?? 'OK'}`, TEXT);
      return [bytes(`status ${params.get('code')}\n`)];
    case '/headers':
      startResponse('200 OK', [
        ['X-Probe-First', 'one'],
        ['Set-Cookie', 'a=1'],
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'b=2'],
        ['X-Probe-Last', 'z'],
      ]);
      return [bytes('headers\n')];
    case '/chunks':
      startResponse('200 OK', TEXT);
      return [bytes('one '), bytes('two '), bytes('three\n')];
    case '/stream':
      startResponse('200 OK', TEXT);
      return stream(report);
    case '/release':
      report.released = true;
      return answer(startResponse, '200 OK', { released: true });
    case '/wrong-length':
      // The contract: an array's declared length is checked before anything is sent (a 500).
      startResponse('200 OK', [
        ...TEXT,
        ['Content-Length', params.get('declared') ?? '99'],
        ['X-Probe-Head', 'the app set this'],
      ]);
      return [bytes('eleven byte')];
    case '/no-start-response':
      return [bytes('a body, and startResponse never called\n')];
    case '/string-body':
      return (function* () {
        startResponse('200 OK', [...TEXT, ['X-Probe-Head', 'the app set this']]);
        // The contract's Body holds bytes only: this is the app's mistake, on purpose.
        yield 'a string, not bytes\n' as unknown as Uint8Array;
      })();
    case '/write': {
      const write = startResponse('200 OK', TEXT);
      write(bytes('written, '));
      return [bytes('then returned\n')];
    }
    case '/fail-before':
      throw new Error('the probe app fails before startResponse (on purpose)');
    case '/fail-after-start':
      return (function* () {
        startResponse('200 OK', TEXT);
        throw new Error('the probe app fails after startResponse, before its first chunk (on purpose)');
      })();
    case '/fail-mid-stream':
      return (function* () {
        startResponse('200 OK', TEXT);
        yield bytes('a first piece that went out fine\n');
        throw new Error('the probe app fails after its first chunk (on purpose)');
      })();
    case '/hop-by-hop':
      startResponse('200 OK', [...TEXT, ['Connection', 'close']]);
      return [bytes('the app set Connection itself\n')];
    case '/close-tracking':
      startResponse('200 OK', TEXT);
      return trackedBody(report);
    case '/endless':
      startResponse('200 OK', TEXT);
      return endless(report);
    case '/big':
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return big(report);
    case '/wait-signal':
      startResponse('200 OK', TEXT);
      return waitForSignal(environ, report);
    case '/report':
      return answer(startResponse, '200 OK', report);
    default:
      startResponse('404 Not Found', TEXT);
      return [bytes(`The probe app has no ${environ.PATH_INFO}\n`)];
  }
};

export default probe;
