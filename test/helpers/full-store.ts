/**
 * A SQLite store holding every kind of row the bot writes, made the way the bot makes them (the real app,
 * its stores and migrations, a test clock): subscriptions active and paused, thresholds and their shared
 * levels, cooldowns with crossings waiting, payloads, outbox rows sent, given up and waiting, a digest, a fan-out,
 * market history and a source failure, filled chart ranges, inference counts with the indexer's cursor,
 * the explorer's counters and a Discord registration. Values include the awkward ones (unicode, quotes,
 * fractions that do not round, nulls, times past 2^31). The stores are asynchronous ports and awaited.
 */
import type { ChatRef } from '../../src/core/command.js';
import { createChartStore } from '../../src/db/chart-store.js';
import { createDiscordStore } from '../../src/db/discord-store.js';
import { createTelegramUpdateStore } from '../../src/db/telegram-update-store.js';
import { countKey } from '../../src/core/inferences.js';
import { createInferenceStore } from '../../src/db/inference-store.js';
import { createParticipantStore } from '../../src/db/participant-store.js';
import { callerDayKey } from '../../src/core/participants.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { freshSnapshot, marketWithRatio, subscribeWith } from './alerts.js';
import { createTestApp } from './app.js';
import { startCoinGeckoServer, tickerItem } from './coingecko-server.js';
import { createRecordingSink } from './recording-sink.js';
import { tempDbPath } from './temp-dir.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

export const FULL_STORE_CHATS = {
  delivered: { platform: 'telegram', chatId: '-100111', kind: 'supergroup' },
  removed: { platform: 'telegram', chatId: '-100222', kind: 'supergroup' },
  cooling: { platform: 'telegram', chatId: '333', kind: 'private' },
  discord: {
    platform: 'discord',
    chatId: '1200000000000000001',
    kind: 'group',
    threadId: '1200000000000000002',
    guildId: '1100000000000000001',
  },
} as const satisfies Record<string, ChatRef>;

/** Builds the store and closes it; returns the SQLite file's path. */
export async function buildFullStore(): Promise<string> {
  const path = tempDbPath();
  const cg = await startCoinGeckoServer();
  const app = createTestApp({ databasePath: path, env: { COINGECKO_API_URL: cg.url } });
  const { clock } = app;
  const chats = FULL_STORE_CHATS;

  await subscribeWith(app, chats.delivered, [1, 5, 10], 0);
  await app.alerts.setDigest(chats.delivered, 12 * 60 + 20);
  await subscribeWith(app, chats.removed, [1, 7.5], 0);
  await subscribeWith(app, chats.cooling, [0.3, 1], 60);
  await subscribeWith(app, chats.discord, [1, 2.25], 0);

  await app.alerts.evaluate(freshSnapshot(clock, 0.8));
  clock.advance(5 * MIN);
  await app.alerts.evaluate(freshSnapshot(clock, 6.4));
  clock.advance(5 * MIN);
  await app.alerts.evaluate(freshSnapshot(clock, 0.2));

  // Telegram delivers to one group (after a 429), the other removed the bot; Discord has no sink yet, so its rows wait.
  const sink = createRecordingSink('telegram', clock, (target, n) => {
    if (target.chatId === chats.removed.chatId)
      return { status: 'gone', reason: 'Telegram: Forbidden: bot was kicked from the supergroup chat' };
    return n === 1 ? { status: 'retry', retryAfterMs: 3_000, reason: 'Telegram 429' } : { status: 'delivered' };
  });
  app.alerts.registerSink(sink);
  await app.alerts.dispatcher.drain();
  // A moderator resubscribes the removed chat: what it missed is given up (failed rows), not sent late...
  await app.alerts.subscribe(chats.removed, 'tester');

  clock.set(Date.parse('2026-11-23T12:20:10Z'));
  await app.alerts.evaluate(freshSnapshot(clock, 0.9));
  await app.alerts.runDigests();
  // The cooling chat was alerted a minute ago: this crossing waits in alert_pending.
  clock.advance(MIN);
  await app.alerts.evaluate(freshSnapshot(clock, 0.2));
  // ...and the bot is removed again: a paused subscription.
  await app.alerts.pauseChat('telegram', chats.removed.chatId, 'The bot was removed from this chat');
  // A crossing nothing has read the outbox since: its message still waits as a fan-out, not yet split into rows.
  clock.advance(MIN);
  await app.alerts.evaluate(freshSnapshot(clock, 1.5));

  const market = createMarketStore(app.database);
  const now = clock.now();
  for (let i = 0; i < 3; i++) {
    await market.insert({
      source: 'CoinGecko',
      fetchedAtMs: now - i * 5 * MIN,
      data: {
        ...marketWithRatio(0.1 + 0.2 * i),
        name: "OpenGradient “OPG” l'token ✓",
        priceChange24hPct: -3.3333333333333335,
        maxSupply: i === 0 ? null : 1e9,
        sourceUpdatedAtMs: now - i * 5 * MIN - 17_000,
      },
    });
  }
  await market.saveFailure('CoinGecko', { error: 'CoinGecko: HTTP 503 "busy"', failedAtMs: now - MIN });

  await createChartStore(app.database).saveFill(
    'opengradient',
    { days: 90, source: 'CoinGecko market_chart', fetchedAtMs: now, points: 3 },
    [
      { atMs: now - 3 * HOUR, priceUsd: 0.041, marketCapUsd: 41e6, volume24hUsd: 1.7e6 },
      { atMs: now - 2 * HOUR, priceUsd: null, marketCapUsd: 40.5e6, volume24hUsd: null },
      { atMs: now - HOUR, priceUsd: 1e-300, marketCapUsd: 0, volume24hUsd: 123_456_789.125 },
    ],
  );

  // Inference counts and who uses the network, committed with the indexer's cursor as the indexer does:
  // callers by day, a TEE's settlements, registry and task events, and the coverage.
  const participants = createParticipantStore(app.database, 'og-devnet');
  const inferences = createInferenceStore(app.database, participants);
  await inferences.ensureState('og-devnet', 1_000);
  const hour = Math.floor(now / HOUR) * HOUR;
  const day = Math.floor(now / (24 * HOUR)) * 24 * HOUR;
  await inferences.commitChunk(
    {
      network: 'og-devnet',
      fromBlock: 1_000,
      nextBlock: 5_001,
      counts: new Map([
        [countKey(hour - HOUR, 'vanilla', 'llm_chat'), 42],
        [countKey(hour, 'tee', 'ml'), 7],
        [countKey(hour, 'unknown', 'individual_settlement'), 1],
      ]),
      undecodableLogs: 1,
      indexedBlockTimeMs: now - 30_000,
    },
    {
      network: 'og-devnet',
      callerDays: new Map([
        [callerDayKey(day - 24 * HOUR, '0x00000000000000000000000000000000000000aa'), 3],
        [callerDayKey(day, '0x00000000000000000000000000000000000000aa'), 1],
        [callerDayKey(day, '0x00000000000000000000000000000000000000bb'), 2],
      ]),
      teeDays: new Map([[`${day}|0x${'1'.repeat(64)}`, 4]]),
      events: [
        {
          event: {
            type: 'tee-registered',
            registry: '0x4e72238852f3c918f4e4e57aec9280ddb0c80248',
            teeId: `0x${'1'.repeat(64)}`,
            owner: '0x00000000000000000000000000000000000000cc',
            teeType: 0,
          },
          blockTimeMs: now - HOUR,
        },
        {
          event: {
            type: 'heartbeat',
            registry: '0x4e72238852f3c918f4e4e57aec9280ddb0c80248',
            teeId: `0x${'1'.repeat(64)}`,
          },
          blockTimeMs: now - MIN,
        },
        {
          event: {
            type: 'task-registered',
            user: '0x00000000000000000000000000000000000000dd',
            contractAddress: '0x00000000000000000000000000000000000000ee',
            endTimeSec: Number.MAX_SAFE_INTEGER,
            frequency: 3_600,
          },
          blockTimeMs: now - HOUR,
        },
      ],
      coverage: { fromBlock: 1_000, fromBlockTimeMs: now - 2 * 24 * HOUR },
    },
  );
  await inferences.recordHead('og-devnet', 5_013, now - 5_000);
  await inferences.recordRun('og-devnet', now, 'OpenGradient RPC: HTTP 502');
  await inferences.saveNetworkActivity('og-devnet', {
    totalTransactions: 9_007_199_254,
    transactionsToday: 12_345,
    fetchedAtMs: now,
  });

  await createDiscordStore(app.database).saveCommandHash('1234567890:guild:1100000000000000001', 'a'.repeat(64), now);
  // Telegram webhook updates taken (update ids beyond 2^31, as Telegram's grow): one finished, one still running.
  const updates = createTelegramUpdateStore(app.database);
  await updates.claim(2_147_483_648, now - MIN);
  await updates.finish(2_147_483_648, now - MIN + 1_000);
  await updates.claim(2_147_483_649, now);

  // Venues: a first reading (recorded, no alert), a venue appearing (a listing alert per chat taking them),
  // then one leaving (an event the digest reads); one chat has listing alerts off.
  await app.services.listings.setListings(chats.cooling, false);
  cg.setTickers([tickerItem('binance', 'Binance')]);
  await app.markets.refresh();
  clock.advance(HOUR);
  cg.setTickers([
    tickerItem('binance', 'Binance'),
    tickerItem('kraken', 'Kraken', { trust_score: null, cost_to_move_up_usd: null }),
  ]);
  await app.markets.refresh();
  clock.advance(HOUR);
  cg.setTickers([tickerItem('kraken', 'Kraken')]);
  await app.markets.refresh();

  app.close();
  return path;
}
