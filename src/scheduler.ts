/**
 * node-cron, with the bot's rules: a task never overlaps itself (a slow refresh makes the next tick skip,
 * not pile up), a failing task is logged and tried again at its next tick, and `stop()` waits for no one.
 */
import cron, { type ScheduledTask } from 'node-cron';
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
      await Promise.all(tasks.map((t) => t.stop()));
      tasks.length = 0;
    },
  };
}
