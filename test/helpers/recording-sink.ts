import type { Platform } from '../../src/core/command.js';
import type { Clock } from '../../src/core/clock.js';
import type { Reply } from '../../src/core/reply.js';
import type { AlertTarget, DeliveryResult, Sink } from '../../src/core/sink.js';

export interface Delivery {
  target: AlertTarget;
  reply: Reply;
  atMs: number;
}

/**
 * A sink that records every delivery attempt (with the clock's time) and answers what `answer` says,
 * `delivered` by default. `answer` may return a promise that never settles, to play a process killed mid-send.
 */
export function createRecordingSink(
  platform: Platform,
  clock: Clock,
  answer: (target: AlertTarget, n: number) => DeliveryResult | Promise<DeliveryResult> = () => ({
    status: 'delivered',
  }),
): Sink & { attempts: Delivery[] } {
  const attempts: Delivery[] = [];
  return {
    platform,
    attempts,
    async deliver(target, reply) {
      attempts.push({ target, reply, atMs: clock.now() });
      return answer(target, attempts.length);
    },
  };
}
