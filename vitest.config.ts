import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most files wait on processes, sockets and timers rather than the CPU: three at once on CI's two cores
    // halves the run (9.7 -> 5 min measured) and keeps concurrency bugs in view.
    maxWorkers: 3,
    // A spawned bot loads every module before it reads its configuration: seconds on a quiet machine, three or
    // four times that on a loaded one (a failing configuration check measured 15 s at load 11).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
