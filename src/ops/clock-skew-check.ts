/**
 * Compares this instance's clock with the PostgreSQL server's (one query) and warns past
 * `CLOCK_SKEW_WARN_SECONDS`: outbox leases and Telegram update claims are stamped by each instance's own clock.
 * Nothing on the SQLite file, which one process stamps alone. Runs whether or not the operations endpoint is on
 * (it then also exports the figure as `opg_clock_skew_seconds`).
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

/** Clocks further apart than this are named in the log (`opg_clock_skew_seconds` shows every figure). */
export const CLOCK_SKEW_WARN_SECONDS = 5;

export interface SkewedStore {
  clockSkewMs(clock: Pick<Clock, 'now'>): Promise<number | null>;
  where: string;
}

/** A check to run at start and at each term; `record` receives every figure measured (the metrics gauge). */
export function clockSkewCheck(
  store: SkewedStore,
  clock: Pick<Clock, 'now'>,
  logger: Logger,
  record: (skewSeconds: number) => void = () => {},
): () => Promise<void> {
  return async () => {
    try {
      const skewMs = await store.clockSkewMs(clock);
      if (skewMs === null) return;
      const skewSeconds = Math.round(skewMs) / 1000;
      record(skewSeconds);
      if (Math.abs(skewSeconds) > CLOCK_SKEW_WARN_SECONDS)
        logger.warn(
          { skewSeconds, where: store.where },
          `this instance's clock is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'ahead of' : 'behind'} ` +
            "the PostgreSQL server's: alert outbox leases and Telegram update claims assume synchronised clocks " +
            '(run NTP on every instance)',
        );
    } catch (err) {
      logger.warn({ err }, "could not compare this instance's clock with the PostgreSQL server's");
    }
  };
}
