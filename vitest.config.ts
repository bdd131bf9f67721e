// Test runner settings. `npm test` runs every tests/*.test.ts file once (no watch mode).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Servers under test listen on 127.0.0.1:0; a hung socket should fail a test, not the run.
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
