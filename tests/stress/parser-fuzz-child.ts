// Runs the part 2 parser over thousands of generated inputs, in a child process of the stress
// test (parser.stress.ts), so that an input that sends the parser into an endless loop can be
// caught by a timeout and named, instead of hanging the test run.
//
//   node --import tsx tests/stress/parser-fuzz-child.ts SEED COUNT
//
// Prints `at N` before input N, then one JSON line: {"ok":true,...} or the first failure with
// its minimized input. The properties, for every input:
// - each next() returns an event or null, or throws an HttpError with a status of the limits
//   table; never another exception;
// - it consumes the input: at most 3 calls per byte (no loop that returns events forever);
// - events come in order: head, then body pieces, then end; a Content-Length body has exactly
//   that many bytes;
// - delivering the bytes in several reads gives the same events and the same error as one read.
import { HttpError } from '../../part2-tcp-http/errors.ts';
import type { RequestHead } from '../../part2-tcp-http/head.ts';
import { RequestParser, type ParseEvent } from '../../part2-tcp-http/parser.ts';
import { describeInput, generateInput, mulberry32, pieces, shrink, type FuzzInput } from '../helpers/fuzz.ts';

/** Every status the parser may answer with (the limits in part2-tcp-http/README.md, "Limits of this stage"). */
const KNOWN_STATUSES = new Set([400, 413, 414, 417, 431, 501, 505]);

interface Outcome {
  /** What came out, as comparable text; adjacent body pieces joined. */
  events: string[];
  /** The status of the HttpError that ended the parse, or null if it ran out of bytes. */
  status: number | null;
}

/** Feed one input to a fresh parser; the outcome, or a sentence saying which property broke. */
function parse(input: FuzzInput): Outcome | string {
  const parser = new RequestParser();
  const events: string[] = [];
  const callBound = 3 * input.bytes.length + 8;
  let calls = 0;
  let head: RequestHead | null = null;
  let bodyBytes = 0;
  for (const piece of pieces(input)) {
    parser.push(piece);
    for (;;) {
      if (++calls > callBound)
        return `more than ${callBound} calls to next() for ${input.bytes.length} bytes: a loop that consumes nothing`;
      let event: ParseEvent | null;
      try {
        event = parser.next();
      } catch (error) {
        if (!(error instanceof HttpError)) return `next() threw ${String(error)}, not an HttpError`;
        if (!KNOWN_STATUSES.has(error.status))
          return `an HttpError with status ${error.status}, not one of the limits table`;
        return { events, status: error.status };
      }
      if (event === null) break;
      if (event.kind === 'head') {
        if (head !== null) return 'a second head before the end of the first message';
        head = event.head;
        bodyBytes = 0;
        events.push(`head ${JSON.stringify(event.head)}`);
      } else if (head === null) {
        return `a ${event.kind} event outside a message`;
      } else if (event.kind === 'body') {
        if (event.chunk.length === 0) return 'an empty body event';
        if (head.framing.type === 'none') return 'body bytes for a request without a body';
        bodyBytes += event.chunk.length;
        const last = events.length - 1;
        if (events[last].startsWith('body ')) events[last] += event.chunk.toString('latin1');
        else events.push(`body ${event.chunk.toString('latin1')}`);
      } else {
        if (head.framing.type === 'length' && bodyBytes !== head.framing.length)
          return `a body of ${bodyBytes} bytes for Content-Length ${head.framing.length}`;
        events.push(`end ${JSON.stringify(event.trailers)}`);
        head = null;
      }
    }
  }
  return { events, status: null };
}

/** Why this input breaks a property, or null if it does not. */
function failureOf(input: FuzzInput): string | null {
  const split = parse(input);
  if (typeof split === 'string') return split;
  const whole = parse({ bytes: input.bytes, cuts: [] });
  if (typeof whole === 'string') return whole;
  if (JSON.stringify(split) !== JSON.stringify(whole)) {
    return `in ${pieces(input).length} reads the parser gave ${JSON.stringify(split)}, in one read ${JSON.stringify(whole)}`;
  }
  return null;
}

function main(): void {
  const seed = Number(process.argv[2]);
  const count = Number(process.argv[3]);
  const random = mulberry32(seed);
  const statuses: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    process.stdout.write(`at ${i}\n`);
    const input = generateInput(random);
    const failure = failureOf(input);
    if (failure !== null) {
      const minimized = shrink(input, (candidate) => failureOf(candidate) !== null);
      const result = {
        ok: false,
        index: i,
        failure,
        input: describeInput(input),
        minimized: describeInput(minimized),
        minimizedFailure: failureOf(minimized),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const outcome = parse(input);
    const key = typeof outcome === 'string' || outcome.status === null ? 'no error' : String(outcome.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  process.stdout.write(`${JSON.stringify({ ok: true, inputs: count, statuses })}\n`);
}

main();
