import Database from 'better-sqlite3';
import { and, count, eq, isNotNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { App } from '../../src/app.js';
import { prepareFanoutSplit } from '../../src/db/alert-outbox.js';
import type { Crossing } from '../../src/core/alert-rules.js';
import type { Clock } from '../../src/core/clock.js';
import type { ChatRef } from '../../src/core/command.js';
import type { MarketData, Snapshot } from '../../src/core/snapshot.js';
import { alertOutbox, alertPayloads, alertSubscriptions } from '../../src/db/schema/index.js';

/** The market cap of every ratio fixture (`marketItemWithRatio` in coingecko-server.ts uses it too). */
export const MARKET_CAP_USD = 40_000_000;

/** Market data whose volume / market cap is `ratio`. */
export function marketWithRatio(ratio: number): MarketData {
  return {
    coinId: 'opengradient',
    symbol: 'opg',
    name: 'OpenGradient',
    priceUsd: 0.04,
    priceChange24hPct: 1.5,
    marketCapUsd: MARKET_CAP_USD,
    marketCapRank: 800,
    fdvUsd: 400_000_000,
    volume24hUsd: ratio * MARKET_CAP_USD,
    high24hUsd: 0.05,
    low24hUsd: 0.03,
    circulatingSupply: 1e9,
    totalSupply: 1e9,
    maxSupply: 1e9,
    sourceUpdatedAtMs: null,
  };
}

/** A fresh snapshot, fetched now, with this ratio. */
export function freshSnapshot(clock: Clock, ratio: number): Snapshot {
  return {
    market: {
      source: 'CoinGecko',
      data: marketWithRatio(ratio),
      fetchedAtMs: clock.now(),
      error: null,
      failedAtMs: null,
    },
  };
}

export interface OutboxEntry {
  id: number;
  kind: 'alert' | 'digest' | 'listing';
  createdAtMs: number;
  nextAttemptAtMs: number;
  sentAtMs: number | null;
  failedAtMs: number | null;
  lastError: string | null;
  crossings: Crossing[];
  replyJson: string;
}

/** Every outbox row of one chat, oldest first, as the dispatcher would read them (fan-outs split first). */
export function outboxOf(app: App, chat: Pick<ChatRef, 'platform' | 'chatId'>): OutboxEntry[] {
  prepareFanoutSplit(app.database!)();
  const [o, s, p] = [alertOutbox, alertSubscriptions, alertPayloads];
  const rows = app
    .database!.db.select({
      id: o.id,
      kind: sql<OutboxEntry['kind']>`${o.kind}`,
      createdAtMs: o.createdAtMs,
      nextAttemptAtMs: o.nextAttemptAtMs,
      sentAtMs: o.sentAtMs,
      failedAtMs: o.failedAtMs,
      lastError: o.lastError,
      crossingsJson: p.crossingsJson,
      replyJson: p.replyJson,
    })
    .from(o)
    .innerJoin(s, eq(s.id, o.subscriptionId))
    .innerJoin(p, eq(p.id, o.payloadId))
    .where(and(eq(s.platform, chat.platform), eq(s.chatId, chat.chatId)))
    .orderBy(o.payloadId, o.id)
    .all();
  return rows.map(({ crossingsJson, ...r }) => ({ ...r, crossings: JSON.parse(crossingsJson) as Crossing[] }));
}

/**
 * Delivered outbox rows per platform in the SQLite file of a running bot process (read-only, so the process
 * under test keeps its own handle): what the bot recorded as accepted, e.g. before it is killed.
 */
export function sentOutboxIn(databasePath: string): { count(platform: ChatRef['platform']): number; close(): void } {
  const sqlite = new Database(databasePath, { readonly: true, fileMustExist: true });
  const [o, s] = [alertOutbox, alertSubscriptions];
  const sent = drizzle(sqlite)
    .select({ n: count() })
    .from(o)
    .innerJoin(s, eq(s.id, o.subscriptionId))
    .where(and(eq(s.platform, sql.placeholder('platform')), isNotNull(o.sentAtMs)))
    .prepare();
  return { count: (platform) => sent.get({ platform })!.n, close: () => void sqlite.close() };
}

/** Subscribes `chat` with exactly these thresholds and this cooldown. */
export async function subscribeWith(
  app: App,
  chat: ChatRef,
  thresholds: readonly number[],
  cooldownMinutes: number,
): Promise<void> {
  const { view } = await app.alerts.subscribe(chat, 'tester');
  for (const t of view.thresholds) await app.alerts.removeThreshold(chat, t.ratio);
  for (const t of thresholds) await app.alerts.addThreshold(chat, t);
  await app.alerts.setCooldown(chat, cooldownMinutes);
}
