// The checks of each stage, and what the checker needs to know to run them: the timeouts the
// stage's server uses by default, and (part 3) the app to start a gateway with.
import { fileURLToPath } from 'node:url';
import { COURSE_LIMITS, type Check, type ServerLimits, type ServerTimeouts } from './check.ts';
import { part1Checks } from './part1.ts';
import { part2Checks } from './part2.ts';
import { part3Checks } from './part3.ts';
import { part4Checks } from './part4.ts';

export interface Stage {
  name: string;
  /** The stage's folder, where its starter.ts is. */
  folder: string;
  /** The name the lesson gives the copy of the starter, inside the folder: `my-server.ts`. */
  copyName: string;
  /** One line: what a server of this stage is. */
  title: string;
  checks: Check[];
  /** What the course's server of this stage uses; `--head-timeout`/`--idle-timeout` override. */
  timeouts: ServerTimeouts;
  /** What the course's server refuses above; `--line-limit`, `--header-limit`, `--body-limit` override. */
  limits: ServerLimits;
  /**
   * Arguments put before `--port P` when the checker starts a file: part 3 starts your gateway
   * with its probe app (`tsx my-gateway.ts tests/checks/probe-app.ts --port P`).
   */
  serverArgs: string[];
}

/** The course's defaults: part2-tcp-http/timeouts.ts, HEAD_TIMEOUT_MS, IDLE_TIMEOUT_MS and BODY_TIMEOUT_MS. */
const HTTP_TIMEOUTS: ServerTimeouts = { headMs: 10_000, idleMs: 5_000, bodyMs: 10_000 };

/**
 * Part 1's echo server has no timeouts; challenge 2 adds an idle timeout, and its solution's
 * IDLE_TIMEOUT_MS (part1-sockets/solutions/challenge-2.ts) is 2 s. headMs is unused in part 1.
 */
const ECHO_TIMEOUTS: ServerTimeouts = { headMs: 10_000, idleMs: 2_000, bodyMs: 10_000 };

export const STAGES: Record<string, Stage> = {
  part1: {
    name: 'part1',
    folder: 'part1-sockets',
    copyName: 'my-echo.ts',
    title: 'a TCP echo server (part1-sockets)',
    checks: part1Checks,
    timeouts: ECHO_TIMEOUTS,
    limits: COURSE_LIMITS,
    serverArgs: [],
  },
  part2: {
    name: 'part2',
    folder: 'part2-tcp-http',
    copyName: 'my-server.ts',
    title: 'an HTTP/1.1 server (part2-tcp-http)',
    checks: part2Checks,
    timeouts: HTTP_TIMEOUTS,
    limits: COURSE_LIMITS,
    serverArgs: [],
  },
  part3: {
    name: 'part3',
    folder: 'part3-gateway',
    copyName: 'my-gateway.ts',
    title: 'a gateway serving the probe app (part3-gateway; with --port, start yours with tests/checks/probe-app.ts)',
    checks: part3Checks,
    timeouts: HTTP_TIMEOUTS,
    limits: COURSE_LIMITS,
    serverArgs: [fileURLToPath(new URL('./probe-app.ts', import.meta.url))],
  },
  part4: {
    name: 'part4',
    folder: 'part4-frameworks',
    copyName: 'my-framework.ts',
    title: 'a guestbook on a framework (part4-frameworks)',
    checks: part4Checks,
    timeouts: HTTP_TIMEOUTS,
    limits: COURSE_LIMITS,
    serverArgs: [],
  },
};
