// The stress suite (`npm run test:stress`): fuzzing, a thousand connections, slow and vanishing
// clients, memory bounds, shutdown under load. Kept out of `npm test` so that stays fast; CI
// runs both (.ci/run).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/stress/**/*.stress.ts'],
    // One file at a time: each one loads the 2-core machine on its own, and timings (408 at the
    // deadline, prompt answers under slowloris) only mean something without a neighbour.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
