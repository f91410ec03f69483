import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/pglite';
import { migrate as migratePg } from 'drizzle-orm/pglite/migrator';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Crossing } from '../../src/core/alert-rules.js';
import type { ChatRef } from '../../src/core/command.js';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/db/open.js';
import { createPgTelegramUpdateStore } from '../../src/db/pg-telegram-update-store.js';
import * as pgSchema from '../../src/db/pg-schema/index.js';
import { PG_MIGRATIONS_FOLDER, type PgStoreDb } from '../../src/db/postgres.js';
import { createTelegramUpdateStore } from '../../src/db/telegram-update-store.js';
import { freshSnapshot, outboxOf } from '../helpers/alerts.js';
import { createTestApp } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { tempDir } from '../helpers/temp-dir.js';

const MIN = 60_000;

/** A database migrated only up to (and including) the migration tagged `lastTag`, as an older release left it. */
function databaseAt(lastTag: string): { path: string; sqlite: Sqlite.Database } {
  const dir = tempDir();
  const folder = join(dir, 'drizzle');
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  expect(last).toBeGreaterThanOrEqual(0);
  journal.entries = journal.entries.slice(0, last + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  const path = join(dir, 'opg-bot.sqlite');
  const sqlite = new Sqlite(path);
  sqlite.pragma('foreign_keys = ON');
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  return { path, sqlite };
}

describe('migrations', () => {
  it(
    'upgrading a store from before shared threshold levels keeps every subscription, ' +
      'its state and its undelivered alerts',
    async () => {
      const clock = createTestClock();
      const t0 = clock.now();
      const { path, sqlite } = databaseAt('0004_alerts');
      const waiting: Crossing[] = [{ threshold: 1, direction: 'up', atMs: t0 - 5 * MIN, ratio: 1.2 }];
      const insertSub = sqlite.prepare(
        `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status, pause_reason,
         paused_at_ms, cooldown_minutes, digest_minute, last_alert_at_ms, pending_json)
         VALUES (?, ?, 'admin', ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const group = Number(
        insertSub.run(
          'telegram',
          '-100111',
          t0 - 60 * MIN,
          'active',
          null,
          null,
          30,
          9 * 60,
          t0 - 10 * MIN,
          JSON.stringify(waiting),
        ).lastInsertRowid,
      );
      const channel = Number(
        insertSub.run('discord', '555', t0 - 60 * MIN, 'active', null, null, 60, null, null, null).lastInsertRowid,
      );
      const removed = Number(
        insertSub.run(
          'telegram',
          '-100222',
          t0 - 60 * MIN,
          'paused',
          'The bot was removed from this chat',
          t0 - 30 * MIN,
          60,
          null,
          null,
          null,
        ).lastInsertRowid,
      );
      const insertThreshold = sqlite.prepare(
        `INSERT INTO alert_thresholds (subscription_id, ratio, side, last_crossed_at_ms) VALUES (?, ?, ?, ?)`,
      );
      insertThreshold.run(group, 1, 'above', t0 - 10 * MIN);
      insertThreshold.run(group, 5, 'below', null);
      insertThreshold.run(group, 10, null, null);
      insertThreshold.run(channel, 1, 'above', t0 - 40 * MIN);
      insertThreshold.run(channel, 5, 'below', null);
      insertThreshold.run(removed, 1, 'above', null);
      insertThreshold.run(removed, 7, 'below', null);
      const payload = sqlite
        .prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, ?, ?)`)
        .run('{"title":"earlier alert","lines":[]}', '[]', t0 - 10 * MIN).lastInsertRowid;
      sqlite
        .prepare(
          `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms)
           VALUES (?, 'alert', ?, ?, ?)`,
        )
        .run(group, payload, t0 - 10 * MIN, t0 - 10 * MIN);
      sqlite.close();

      const app = createTestApp({ databasePath: path, clock });
      const groupChat: ChatRef = { platform: 'telegram', chatId: '-100111', kind: 'supergroup' };
      const channelChat: ChatRef = { platform: 'discord', chatId: '555', kind: 'group' };
      const removedChat: ChatRef = { platform: 'telegram', chatId: '-100222', kind: 'supergroup' };

      expect(await app.alerts.view(groupChat)).toMatchObject({
        status: 'active',
        thresholds: [
          { ratio: 1, side: 'above' },
          { ratio: 5, side: 'below' },
          { ratio: 10, side: null },
        ],
        cooldownMinutes: 30,
        digestMinute: 9 * 60,
        lastAlertAtMs: t0 - 10 * MIN,
      });
      expect(await app.alerts.view(channelChat)).toMatchObject({
        status: 'active',
        cooldownMinutes: 60,
        lastAlertAtMs: null,
      });
      expect(await app.alerts.view(removedChat)).toMatchObject({
        status: 'paused',
        pauseReason: 'The bot was removed from this chat',
        pausedAtMs: t0 - 30 * MIN,
      });
      expect((await app.alerts.view(removedChat))!.thresholds.map((t) => t.ratio)).toEqual([1, 7]);
      // The alert that was waiting for delivery is still waiting.
      expect(outboxOf(app, groupChat).map((r) => r.sentAtMs)).toEqual([null]);

      // 5x crossed inside the group's cooldown: the channel is told now, the group keeps it with the older 1x.
      clock.advance(5 * MIN);
      await app.alerts.evaluate(freshSnapshot(clock, 6));
      expect(outboxOf(app, channelChat).map((r) => r.crossings.map((c) => [c.threshold, c.direction]))).toEqual([
        [[5, 'up']],
      ]);
      expect(outboxOf(app, groupChat)).toHaveLength(1);
      expect(outboxOf(app, removedChat)).toEqual([]);

      // Once the cooldown is over the group gets both crossings in one message; 10x was only observed.
      clock.advance(20 * MIN);
      await app.alerts.evaluate(freshSnapshot(clock, 6.1));
      const latest = outboxOf(app, groupChat).at(-1)!;
      expect(latest.crossings.map((c) => [c.threshold, c.direction])).toEqual([
        [1, 'up'],
        [5, 'up'],
      ]);
      expect((await app.alerts.view(groupChat))!.thresholds.map((t) => t.side)).toEqual(['above', 'above', 'below']);
    },
  );

  it(
    'upgrading a store from before the by-subscription threshold index keeps every setting, ' +
      'side, waiting crossing and undelivered alert',
    async () => {
      const clock = createTestClock();
      const t0 = clock.now();
      const { path, sqlite } = databaseAt('0005_alert_levels');
      const waiting: Crossing[] = [{ threshold: 1, direction: 'up', atMs: t0 - 5 * MIN, ratio: 1.2 }];
      const insertLevel = sqlite.prepare(`INSERT INTO alert_levels (ratio, side, last_crossed_at_ms) VALUES (?, ?, ?)`);
      const one = Number(insertLevel.run(1, 'above', t0 - 10 * MIN).lastInsertRowid);
      const five = Number(insertLevel.run(5, 'below', null).lastInsertRowid);
      const ten = Number(insertLevel.run(10, null, null).lastInsertRowid);
      const insertSub = sqlite.prepare(
        `INSERT INTO alert_subscriptions (platform, chat_id, thread_id, guild_id, created_by, created_at_ms, status,
         pause_reason, paused_at_ms, digest_minute)
         VALUES (?, ?, ?, ?, 'admin', ?, ?, ?, ?, ?)`,
      );
      const group = Number(
        insertSub.run('telegram', '-100111', '42', null, t0 - 60 * MIN, 'active', null, null, 9 * 60).lastInsertRowid,
      );
      const channel = Number(
        insertSub.run('discord', '555', null, '777', t0 - 60 * MIN, 'active', null, null, null).lastInsertRowid,
      );
      const removed = Number(
        insertSub.run(
          'telegram',
          '-100222',
          null,
          null,
          t0 - 60 * MIN,
          'paused',
          'The bot was removed from this chat',
          t0 - 30 * MIN,
          null,
        ).lastInsertRowid,
      );
      const insertPending = sqlite.prepare(`INSERT INTO alert_pending (crossings_json) VALUES (?)`);
      const pending = Number(insertPending.run(JSON.stringify(waiting)).lastInsertRowid);
      // Crossings held by a paused chat (pausing drops them: only a hand-edited store has these) and a list no chat
      // points at.
      const stale = Number(insertPending.run(JSON.stringify([{ ...waiting[0], threshold: 7 }])).lastInsertRowid);
      insertPending.run('[]');
      const insertCooldown = sqlite.prepare(
        `INSERT INTO alert_cooldowns (subscription_id, cooldown_minutes, last_alert_at_ms, pending_id)
         VALUES (?, ?, ?, ?)`,
      );
      insertCooldown.run(group, 30, t0 - 10 * MIN, pending);
      insertCooldown.run(channel, 60, null, null);
      insertCooldown.run(removed, 45, t0 - 90 * MIN, stale);
      const insertThreshold = sqlite.prepare(
        `INSERT INTO alert_thresholds (subscription_id, ratio, level_id) VALUES (?, ?, ?)`,
      );
      insertThreshold.run(group, 1, one);
      insertThreshold.run(group, 5, five);
      insertThreshold.run(group, 10, ten);
      insertThreshold.run(channel, 1, one);
      insertThreshold.run(channel, 5, five);
      insertThreshold.run(removed, 1, null);
      insertThreshold.run(removed, 7, null);
      const payload = sqlite
        .prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, ?, ?)`)
        .run('{"title":"earlier alert","lines":[]}', '[]', t0 - 10 * MIN).lastInsertRowid;
      sqlite
        .prepare(
          `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms)
           VALUES (?, 'alert', ?, ?, ?)`,
        )
        .run(group, payload, t0 - 10 * MIN, t0 - 10 * MIN);
      sqlite.close();

      const app = createTestApp({ databasePath: path, clock });
      const groupChat: ChatRef = { platform: 'telegram', chatId: '-100111', kind: 'supergroup' };
      const channelChat: ChatRef = { platform: 'discord', chatId: '555', kind: 'group' };
      const removedChat: ChatRef = { platform: 'telegram', chatId: '-100222', kind: 'supergroup' };
      expect(await app.alerts.view(groupChat)).toEqual({
        platform: 'telegram',
        chatId: '-100111',
        threadId: '42',
        status: 'active',
        pauseReason: null,
        pausedAtMs: null,
        thresholds: [
          { ratio: 1, side: 'above' },
          { ratio: 5, side: 'below' },
          { ratio: 10, side: null },
        ],
        cooldownMinutes: 30,
        digestMinute: 9 * 60,
        lastAlertAtMs: t0 - 10 * MIN,
      });
      expect(await app.alerts.view(channelChat)).toMatchObject({
        status: 'active',
        cooldownMinutes: 60,
        lastAlertAtMs: null,
        digestMinute: null,
      });
      expect(await app.alerts.view(removedChat)).toMatchObject({
        status: 'paused',
        pauseReason: 'The bot was removed from this chat',
        pausedAtMs: t0 - 30 * MIN,
        cooldownMinutes: 45,
        lastAlertAtMs: t0 - 90 * MIN,
        thresholds: [
          { ratio: 1, side: null },
          { ratio: 7, side: null },
        ],
      });
      expect(outboxOf(app, groupChat).map((r) => r.sentAtMs)).toEqual([null]);
      const indexes = app.database.sqlite
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alert_thresholds'`)
        .pluck()
        .all();
      expect(indexes).toContain('alert_thresholds_sub_level');
      // Only the group's waiting crossings are left: a paused chat holds none, and nothing keeps an unused list.
      expect(app.database.sqlite.prepare(`SELECT id FROM alert_pending`).pluck().all()).toEqual([pending]);

      // 5x crossed inside the group's cooldown (10x only seen): the channel is told now, the group keeps it
      // with its waiting 1x and gets both once the cooldown is over; the paused chat gets nothing.
      clock.advance(5 * MIN);
      await app.alerts.evaluate(freshSnapshot(clock, 12));
      expect(outboxOf(app, channelChat).map((r) => r.crossings.map((c) => `${c.direction} ${c.threshold}`))).toEqual([
        ['up 5'],
      ]);
      expect(outboxOf(app, groupChat)).toHaveLength(1);
      clock.advance(20 * MIN);
      await app.alerts.evaluate(freshSnapshot(clock, 12.1));
      expect(
        outboxOf(app, groupChat)
          .at(-1)!
          .crossings.map((c) => `${c.direction} ${c.threshold}`),
      ).toEqual(['up 1', 'up 5']);
      expect(outboxOf(app, removedChat)).toEqual([]);
      expect((await app.alerts.view(groupChat))!.thresholds.map((t) => t.side)).toEqual(['above', 'above', 'above']);
    },
  );

  it(
    'upgrading a store from before Telegram update claims ' + 'keeps every update taken as finished: none runs again',
    async () => {
      const t0 = createTestClock().now();
      const { path, sqlite } = databaseAt('0011_outbox_fanouts');
      const insert = sqlite.prepare(`INSERT INTO telegram_updates (update_id, received_at_ms) VALUES (?, ?)`);
      insert.run(2_147_483_648, t0 - 60 * MIN);
      insert.run(2_147_483_649, t0 - MIN);
      sqlite.close();

      const database = openDatabase(path);
      onTestFinished(() => database.close());
      const ledger = createTelegramUpdateStore(database);
      expect(await ledger.claim(2_147_483_648, t0)).toBe('finished');
      expect(await ledger.claim(2_147_483_649, t0 + 60 * MIN)).toBe('finished');
      expect(await ledger.claim(2_147_483_650, t0)).toBe('claimed');
      expect(await ledger.prune(t0 - 30 * MIN)).toBe(1);
    },
  );

  it(
    'upgrading a PostgreSQL store from before Telegram ' + 'update claims keeps every update taken as finished',
    async () => {
      const folder = join(tempDir(), 'drizzle-pg');
      cpSync(PG_MIGRATIONS_FOLDER, folder, { recursive: true });
      const journalPath = join(folder, 'meta', '_journal.json');
      const full = readFileSync(journalPath, 'utf8');
      const journal = JSON.parse(full) as { entries: Array<{ tag: string }> };
      journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0005_outbox_fanouts') + 1);
      expect(journal.entries.at(-1)?.tag).toBe('0005_outbox_fanouts');
      writeFileSync(journalPath, JSON.stringify(journal));
      const client = new PGlite();
      onTestFinished(() => client.close());
      await migratePg(drizzlePg(client), { migrationsFolder: folder });
      await client.query(`INSERT INTO telegram_updates (update_id, received_at_ms) VALUES (2147483648, 1000)`);

      writeFileSync(journalPath, full);
      await migratePg(drizzlePg(client), { migrationsFolder: folder });
      const ledger = createPgTelegramUpdateStore(drizzlePg(client, { schema: pgSchema }) as unknown as PgStoreDb);
      expect(await ledger.claim(2_147_483_648, 1_000 + 60 * MIN)).toBe('finished');
      expect(await ledger.claim(2_147_483_649, 2_000)).toBe('claimed');
    },
    // Two PGlite databases migrated step by step: tens of seconds on a busy 2-core machine.
    60_000,
  );
});
