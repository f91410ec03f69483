/**
 * node-cron, with the bot's rules: a task never overlaps itself (a slow refresh makes the next tick skip,
 * not pile up), a failing task is logged and tried again at its next tick, and `stop()` waits for no one.
 */
import cron, { createTask, type ScheduledTask } from 'node-cron';
import type { Logger } from './core/logger.js';

export interface Scheduler {
  every(expression: string, name: string, task: () => Promise<unknown>): void;
  stop(): Promise<void>;
}

export function createScheduler(logger: Logger): Scheduler {
  const tasks: ScheduledTask[] = [];
  return {
    every(expression, name, task) {
      const scheduled = cron.schedule(
        expression,
        async () => {
          try {
            await task();
          } catch (err) {
            logger.error({ err, task: name }, 'scheduled task failed');
          }
        },
        { name, noOverlap: true, timezone: 'Etc/UTC' },
      );
      tasks.push(scheduled);
    },
    async stop() {
      await Promise.all(tasks.map(async (t) => t.stop()));
      tasks.length = 0;
    },
  };
}

/** The longest wait between two of the next `runs` runs of a cron expression (UTC), for staleness limits. */
export function longestGapMs(expression: string, runs = 50): number {
  const task = createTask(expression, () => {}, { timezone: 'Etc/UTC' });
  try {
    const times = task.getNextRuns(runs).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
    return gap;
  } finally {
    void task.destroy();
  }
}

/**
 * How many times `expression` runs in 30 days (UTC), from the mean spacing of its next `runs` runs: 8,640 for
 * every 5 minutes, 720 hourly. What the CoinGecko budget is projected from.
 */
export function runsPerMonth(expression: string, runs = 500): number {
  const task = createTask(expression, () => {}, { timezone: 'Etc/UTC' });
  try {
    const times = task.getNextRuns(runs).map((d) => d.getTime());
    if (times.length < 2) return times.length;
    const meanGapMs = (times[times.length - 1]! - times[0]!) / (times.length - 1);
    return Math.round((30 * 86_400_000) / meanGapMs);
  } finally {
    void task.destroy();
  }
}
