/**
 * The cooldown rule (`cooldownOver` in src/core/alert-rules.ts) as SQL, written once for every statement that
 * applies it to many chats at once, on either dialect: the columns come from that dialect's schema and `now`
 * is a bound value or placeholder. A chat with no cooldown row yet (a LEFT JOIN's nulls) has the default 60
 * minutes and has never been alerted. Cooldowns are at most 1,440 minutes, so the milliseconds fit an integer.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

export interface CooldownColumns {
  lastAlertAtMs: SQLWrapper;
  cooldownMinutes: SQLWrapper;
}

const cooldownMs = (c: CooldownColumns): SQL => sql`coalesce(${c.cooldownMinutes}, 60) * 60000`;

/** True when the chat may post at `now`: never alerted, or its cooldown has passed. */
export function cooldownOverSql(c: CooldownColumns, now: SQLWrapper): SQL {
  return sql`(${c.lastAlertAtMs} IS NULL OR ${now} - ${c.lastAlertAtMs} >= ${cooldownMs(c)})`;
}

/** When a message written at `now` may go out: now when the cooldown is over, else when it ends. */
export function sendAtSql(c: CooldownColumns, now: SQLWrapper): SQL {
  return sql`CASE WHEN ${cooldownOverSql(c, now)} THEN ${now} ELSE ${c.lastAlertAtMs} + ${cooldownMs(c)} END`;
}
