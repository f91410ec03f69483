import { afterEach, describe, expect, it, vi } from 'vitest';
import { createScheduler } from '../src/scheduler.js';
import { recordingLogger } from './helpers/recording-logger.js';

afterEach(() => vi.restoreAllMocks());

describe('the scheduler', () => {
  it("skips a tick while the last run is going, saying so in the bot's log, never on the console", async () => {
    const consoleLines: unknown[][] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args));
    const logger = recordingLogger();
    const scheduler = createScheduler(logger);
    let runs = 0;
    // Every second, a run of 2.5 s: the ticks in between find it going.
    scheduler.every('* * * * * *', 'refresh', async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 2_500));
    });
    await new Promise((r) => setTimeout(r, 3_600));
    await scheduler.stop();

    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    const skipped = logger.lines.filter((l) => l.msg === 'tick skipped: the previous run is still going');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped.every((l) => l.level === 'debug' && l.fields.task === 'refresh')).toBe(true);
    expect(consoleLines).toEqual([]);
  });
});
