/**
 * How far this instance's clock is from the PostgreSQL server's. Instances sharing a store stamp leases with
 * their own clocks (an outbox row's `claimed_until_ms`, a Telegram update's `claimed_at_ms`), so two clocks
 * that disagree by more than a lease's margin let a row go out twice: the store cannot stop that, but the
 * operator can see it coming (`opg_clock_skew_seconds`, and a warning in the log).
 */
import { sql } from 'drizzle-orm';
import type { Clock } from '../core/clock.js';
import { pgRows } from './pg-statement.js';
import type { PgStoreDb } from './postgres.js';

/**
 * This instance's clock minus the server's, in ms (positive: this one is ahead), taken at the middle of one
 * round trip, so the network's delay counts for at most half of it. `clock_timestamp()` is the server's time
 * now, not the start of a transaction.
 */
export async function clockSkewMs(db: Pick<PgStoreDb, 'execute'>, clock: Pick<Clock, 'now'>): Promise<number> {
  const before = clock.now();
  const [row] = await pgRows<{ serverMs: number | string }>(
    db,
    sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS "serverMs"`,
  );
  const after = clock.now();
  return (before + after) / 2 - Number(row!.serverMs);
}
