// Any bytes, never a crash or a hang: the part 2 parser over twenty thousand generated inputs
// (valid requests mutated, and noise), each delivered in one read and in several. The run
// happens in a child process (parser-fuzz-child.ts) so an endless loop ends in a timeout that
// names the input, not in a test run that never returns.
//
// Reproduce a run: STRESS_SEED=<the printed seed> npm run test:stress -- parser
import { expect, it } from 'vitest';
import { describeInput, generateInput, mulberry32, seedFromEnv, type FuzzInput } from '../helpers/fuzz.ts';
import { runStage } from '../helpers/child.ts';

const INPUTS = 20_000;
/** The whole run takes about 3 s on a 2-core machine; far beyond this, something is looping. */
const RUN_TIMEOUT_MS = 60_000;

/** Input `index` of the run with `seed`, regenerated exactly as the child made it. */
function regenerate(seed: number, index: number): FuzzInput {
  const random = mulberry32(seed);
  let input = generateInput(random);
  for (let i = 0; i < index; i++) input = generateInput(random);
  return input;
}

it(
  `the parser ends every one of ${INPUTS} generated inputs in events or an HttpError of the limits table, the same however the bytes are split`,
  async () => {
    const seed = seedFromEnv();
    console.log(`parser fuzz: seed ${seed} (rerun with STRESS_SEED=${seed})`);
    const child = runStage(['tests/stress/parser-fuzz-child.ts', String(seed), String(INPUTS)]);
    const timer = setTimeout(() => child.child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const exit = await child.exited;
    clearTimeout(timer);

    const lines = child.stdout().trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    if (exit.signal === 'SIGKILL') {
      const at = [...lines].reverse().find((line) => line.startsWith('at '));
      const index = Number(at?.slice(3) ?? 0);
      throw new Error(
        `seed ${seed}: the parser did not finish input ${index} within ${RUN_TIMEOUT_MS} ms: ${describeInput(regenerate(seed, index))}`,
      );
    }
    expect(child.stderr()).toBe('');
    const result = JSON.parse(last) as { ok: boolean };
    if (!result.ok) throw new Error(`seed ${seed}: ${JSON.stringify(result, null, 2)}`);
    expect(exit).toEqual({ code: 0, signal: null });
    console.log(`parser fuzz: ${last}`);
  },
  RUN_TIMEOUT_MS + 10_000,
);
