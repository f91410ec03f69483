import Database from 'better-sqlite3';
import type { App } from '../../src/app.js';
import { prepareFanoutSplit } from '../../src/db/alert-outbox.js';
import type { Crossing } from '../../src/core/alert-rules.js';
import type { Clock } from '../../src/core/clock.js';
import type { ChatRef } from '../../src/core/command.js';
import type { MarketData, Snapshot } from '../../src/core/snapshot.js';

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
  const rows = app
    .database!.sqlite.prepare(
      `SELECT o.id, o.kind, o.created_at_ms AS createdAtMs, o.next_attempt_at_ms AS nextAttemptAtMs,
              o.sent_at_ms AS sentAtMs, o.failed_at_ms AS failedAtMs, o.last_error AS lastError,
              p.crossings_json AS crossingsJson, p.reply_json AS replyJson
       FROM alert_outbox o JOIN alert_subscriptions s ON s.id = o.subscription_id
         JOIN alert_payloads p ON p.id = o.payload_id
       WHERE s.platform = ? AND s.chat_id = ? ORDER BY o.payload_id, o.id`,
    )
    .all(chat.platform, chat.chatId) as Array<Omit<OutboxEntry, 'crossings'> & { crossingsJson: string }>;
  return rows.map(({ crossingsJson, ...r }) => ({ ...r, crossings: JSON.parse(crossingsJson) as Crossing[] }));
}

/**
 * Delivered outbox rows per platform in the SQLite file of a running bot process (read-only, so the process
 * under test keeps its own handle): what the bot recorded as accepted, e.g. before it is killed.
 */
export function sentOutboxIn(databasePath: string): { count(platform: ChatRef['platform']): number; close(): void } {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  const sent = db.prepare(
    `SELECT count(*) AS n FROM alert_outbox o JOIN alert_subscriptions s ON s.id = o.subscription_id
     WHERE s.platform = ? AND o.sent_at_ms IS NOT NULL`,
  );
  return { count: (platform) => (sent.get(platform) as { n: number }).n, close: () => void db.close() };
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
