// Stage checks: what a check is, how a list of them runs against a server, and how a failure is
// reported. The same checks serve the course's own tests (vitest runs them against the
// reference servers) and `npm run check` (which runs them against yours).
//
// A failure is a lesson, not a stack trace: the command that reproduces it, the bytes sent and
// received with \r\n made visible, what was expected and what came, a caret under the first
// wrong byte where that helps, and a hint naming the concept, the README section and the
// function of the reference server that does it.
import type { Transcript } from './wire.ts';

export type Group = 'core' | 'hardening' | `challenge ${number}`;

/** Where to learn what a check asks for. */
export interface Hint {
  /** The idea in one or two sentences, e.g. "Content-Length is the body's length in bytes". */
  concept: string;
  /** A file of the course and a section of it: `part2-tcp-http/README.md#break-it`. */
  readme: string;
  /** The function of the reference that does it: `part2-tcp-http/parser.ts → decideFraming`. */
  reference: string;
}

/** Timing the server under test is configured with, so checks know how long to wait. */
export interface ServerTimeouts {
  /** A request head must be complete within this (→ 408). */
  headMs: number;
  /** An idle keep-alive connection is closed after this. */
  idleMs: number;
  /** A request body that stops arriving for this long is given up (→ 408, or a close). */
  bodyMs: number;
}

/**
 * The sizes the server under test refuses above (course policy: the RFCs leave each limit to the
 * server). The course's are part 2's MAX_REQUEST_LINE_BYTES, MAX_HEADER_BYTES and MAX_BODY_BYTES;
 * `--line-limit`, `--header-limit` and `--body-limit` give the checker an attendee's own.
 */
export interface ServerLimits {
  requestLineBytes: number;
  headerBytes: number;
  bodyBytes: number;
}

/** Part 2's defaults (part2-tcp-http/parser.ts). */
export const COURSE_LIMITS: ServerLimits = {
  requestLineBytes: 8 * 1024,
  headerBytes: 16 * 1024,
  bodyBytes: 1024 * 1024,
};

export interface CheckContext {
  host: string;
  port: number;
  timeouts: ServerTimeouts;
  limits: ServerLimits;
  /** Where the app under test is mounted, '/' or e.g. '/micro/' (part 4's `--base`); ends with '/'. */
  base: string;
  /** Every connection the check opened, recorded; the report shows them on failure. */
  transcripts: Transcript[];
  /** Set by a check when a `curl` command says it better than printf | nc. */
  reproduce(command: string): void;
}

export interface Check {
  group: Group;
  /** One line, a sentence about behaviour: "answers 404 for a path it does not know". */
  name: string;
  hint: Hint;
  /**
   * Set when what the check asks is the course's own choice, not a rule of the RFCs or of the
   * contract (a limit, a timeout): said in the check's name ("course policy") and, on failure,
   * this sentence, which names the option that gives the checker another value.
   */
  policy?: string;
  run(context: CheckContext): Promise<void>;
}

/** A check's verdict on the server: what was expected, what was seen, and advice. */
export class CheckFailure extends Error {
  readonly expected: string;
  readonly seen: string;
  readonly advice?: string;
  /** An offset into the last connection's received bytes: a caret goes under it. */
  readonly caretAt?: number;

  constructor(details: { expected: string; seen: string; advice?: string; caretAt?: number }) {
    super(`expected ${details.expected}; saw ${details.seen}`);
    this.name = 'CheckFailure';
    this.expected = details.expected;
    this.seen = details.seen;
    this.advice = details.advice;
    this.caretAt = details.caretAt;
  }
}

/** Fail the check unless `condition` holds. */
export function expectThat(
  condition: boolean,
  expected: string,
  seen: string | (() => string),
  advice?: string,
): asserts condition {
  if (!condition) throw new CheckFailure({ expected, seen: typeof seen === 'string' ? seen : seen(), advice });
}

export interface CheckResult {
  number: number;
  check: Check;
  passed: boolean;
  failure?: CheckFailure;
  transcripts: Transcript[];
  /** A `curl` (or other) command the check named; else one is made from the bytes sent. */
  reproduce?: string;
}

export interface RunOptions {
  host?: string;
  port: number;
  timeouts: ServerTimeouts;
  /** The server's size limits: the course's unless given. */
  limits?: ServerLimits;
  /** Where the app under test is mounted: '/' unless given (part 4's `--base /micro/`). */
  base?: string;
  /** Keep going after a failure (else stop at the first: the next thing to do). */
  all?: boolean;
  /** Called as each check finishes, e.g. to print it at once. */
  onResult?: (result: CheckResult) => void | Promise<void>;
  /** Asked after each check: true stops the run (the server under test has exited). */
  stopIf?: () => boolean;
}

/** Which checks of a stage's list to run: numbered from 1 in list order. */
export function selectChecks(checks: Check[], which: { groups: Group[] }): Array<{ number: number; check: Check }> {
  return checks
    .map((check, index) => ({ number: index + 1, check }))
    .filter(({ check }) => which.groups.includes(check.group));
}

/** Run checks in order. A check that throws anything but CheckFailure is reported as failed too. */
export async function runChecks(
  checks: Array<{ number: number; check: Check }>,
  options: RunOptions,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const { number, check } of checks) {
    const transcripts: Transcript[] = [];
    let reproduce: string | undefined;
    const context: CheckContext = {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      timeouts: options.timeouts,
      limits: options.limits ?? COURSE_LIMITS,
      base: options.base ?? '/',
      transcripts,
      reproduce: (command) => (reproduce = command),
    };
    let failure: CheckFailure | undefined;
    try {
      await check.run(context);
    } catch (error) {
      failure =
        error instanceof CheckFailure
          ? error
          : new CheckFailure({
              expected: 'the check to run to its end',
              seen: `the checker itself failed: ${error instanceof Error ? error.message : String(error)}`,
            });
    }
    // Every connection a check opened is closed when it ends, passed or failed.
    for (const transcript of transcripts) transcript.close?.();
    const result: CheckResult = { number, check, passed: failure === undefined, failure, transcripts, reproduce };
    results.push(result);
    await options.onResult?.(result);
    if (failure !== undefined && !options.all) break;
    if (options.stopIf?.() === true) break;
  }
  return results;
}

/** The closing line, exactly `N passed, M failed`. */
export function summaryLine(results: CheckResult[]): string {
  const passed = results.filter((result) => result.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
}
