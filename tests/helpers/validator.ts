// Running apps under validator() in tests: a log of every violation it found (thrown or only
// reported), and an assertion that an app breaks one named rule with a message giving the fix.
//
//   const found = new ViolationLog();
//   await callApp(found.validated(app));
//   expect(found.rules()).toEqual([]);
import { expect } from 'vitest';
import type { Application } from '../../part3-gateway/contract.ts';
import { ContractError, validator } from '../../part3-gateway/validator.ts';
import { callApp, type AppRequest } from './call-app.ts';
import { bytes } from './gateway.ts';

/** A close() deadline short enough for tests, long enough for a server that keeps the contract. */
export const TEST_CLOSE_GRACE_MS = 20;

export const TEXT: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8']];

// TypeScript already refuses most of the mistakes these tests make, at compile time; the
// validator is there for what it cannot see (plain JavaScript apps, values from JSON, `any`
// upstream). To make such a mistake in a test, one value at a time is let past the type
// checker, here only.
export function smuggle<T>(value: unknown): T {
  return value as T;
}

export class ViolationLog {
  private found: ContractError[] = [];

  /** `app` under the validator, reporting into this log. */
  validated(app: Application): Application {
    const found = this.found; // a report that comes after reset() stays with its own test
    return validator(app, { onViolation: (error) => found.push(error), closeGraceMs: TEST_CLOSE_GRACE_MS });
  }

  rules(): string[] {
    return this.found.map((error) => error.rule);
  }

  messages(): string[] {
    return this.found.map((error) => error.message);
  }

  reset(): void {
    this.found = [];
  }
}

/** Run `app` under the validator and expect it to fail with `rule`, its message matching `fix`. */
export async function expectViolation(
  log: ViolationLog,
  app: Application,
  rule: string,
  fix: RegExp,
  request: AppRequest = {},
): Promise<void> {
  const failure: unknown = await callApp(log.validated(app), request).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(ContractError);
  expect(failure).toMatchObject({ rule });
  expect(String(failure)).toMatch(fix);
  expect(log.rules()).toContain(rule);
}

/** An app that calls startResponse with these (possibly ill-typed) arguments and returns `body`. */
export function answering(status: unknown, headers: unknown, body: string[] = ['ok']): Application {
  return (_environ, startResponse) => {
    startResponse(smuggle<string>(status), smuggle<[string, string][]>(headers));
    return body.map(bytes);
  };
}
