import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most files wait on processes, sockets and timers rather than the CPU: three at once on CI's two cores
    // halves the run (9.7 -> 5 min measured) and keeps concurrency bugs in view.
    maxWorkers: 3,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
