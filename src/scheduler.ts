/**
 * node-cron, with the bot's rules: a task never overlaps itself (a slow refresh makes the next tick skip,
 * not pile up), a failing task is logged and tried again at its next tick, and `stop()` waits for no one.
 * node-cron's own messages go to the bot's logger, never to the console: a process's log is JSON lines only.
 */
import cron, { createTask, type ScheduledTask, type TaskOptions } from 'node-cron';
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
        { name, noOverlap: true, timezone: 'Etc/UTC', logger: cronLogger(logger, name) },
      );
      tasks.push(scheduled);
    },
    async stop() {
      await Promise.all(tasks.map(async (t) => t.stop()));
      tasks.length = 0;
    },
  };
}

/**
 * node-cron's logger for one task, onto the bot's. A tick skipped because the last run is still going is the
 * rule above working (a slow refresh), so it is a debug line; a missed tick (the event loop was blocked) warns.
 */
function cronLogger(logger: Logger, task: string): NonNullable<TaskOptions['logger']> {
  const entry = (level: 'debug' | 'warn' | 'error') => (message: string | Error, err?: Error) => {
    const error = err ?? (message instanceof Error ? message : undefined);
    const text = message instanceof Error ? message.message : message;
    logger[level](error ? { task, err: error } : { task }, `node-cron: ${text}`);
  };
  return {
    info: entry('debug'),
    debug: entry('debug'),
    error: entry('error'),
    warn: (message) =>
      message.includes('overlap')
        ? logger.debug({ task }, 'tick skipped: the previous run is still going')
        : entry('warn')(message),
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
