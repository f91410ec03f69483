/**
 * The operator's stores on every backend (a SQLite file, PGlite, the real server when TEST_DATABASE_URL is set):
 * the outbox's waiting rows by platform, and the Telegram webhook's update ledger.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { postgresStore, sqliteStore, type PortStores } from '../../src/db/store.js';
import { STORE_BACKENDS, type StoreBackend } from '../helpers/store-backends.js';
import { testPostgres } from '../helpers/postgres.js';
import { tempDbPath } from '../helpers/temp-dir.js';

/** The ports on `backend`, and a way to run one SQL statement that both dialects accept, returning its rows. */
async function on(backend: StoreBackend, skip: (condition: boolean, note?: string) => void) {
  if (backend === 'sqlite') {
    const database = openDatabase(tempDbPath());
    onTestFinished(() => database.close());
    const exec = async (text: string) => {
      const statement = database.sqlite.prepare(text);
      if (statement.reader) return statement.all() as Array<Record<string, unknown>>;
      statement.run();
      return [];
    };
    return { stores: sqliteStore(database).stores, exec };
  }
  const pg = await testPostgres(backend, skip);
  const exec = async (text: string) => {
    const result = (await pg.db.execute(sql.raw(text))) as unknown as { rows: Array<Record<string, unknown>> };
    return result.rows;
  };
  return { stores: postgresStore(pg).stores as PortStores, exec };
}

describe.each(STORE_BACKENDS)('operator stores on %s', (backend) => {
  it('counts undelivered rows of active subscriptions by platform, leaving out sent, abandoned and paused ones', async ({
    skip,
  }) => {
    const { stores, exec } = await on(backend, skip);
    expect((await stores.outboxStats.pendingByPlatform()).size).toBe(0);
    const [payload] = await exec(
      `INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 0) RETURNING id`,
    );
    const ids = new Map<string, number>();
    const add = async (platform: string, chatId: string, status: string, rows: Array<'unsent' | 'sent' | 'failed'>) => {
      const [sub] = await exec(
        `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status)
         VALUES ('${platform}', '${chatId}', 'test', 0, '${status}') RETURNING id`,
      );
      ids.set(chatId, Number(sub!.id));
      for (const r of rows) {
        await exec(
          `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms, sent_at_ms, failed_at_ms)
           VALUES (${Number(sub!.id)}, 'alert', ${Number(payload!.id)}, 0, 0, ${r === 'sent' ? 1 : 'NULL'}, ${r === 'failed' ? 1 : 'NULL'})`,
        );
      }
    };
    await add('telegram', '-1001', 'active', ['sent', 'unsent', 'unsent']);
    await add('telegram', '-1002', 'active', ['failed', 'unsent']);
    await add('telegram', '-1003', 'paused', ['unsent', 'unsent']);
    await add('discord', '42', 'active', ['sent', 'sent']);
    await add('discord', '43', 'active', ['unsent']);
    expect(await stores.outboxStats.pendingByPlatform()).toEqual(
      new Map([
        ['telegram', 3],
        ['discord', 1],
      ]),
    );
    // An evaluation's message for many chats, not split into per-chat rows yet, counts once per active chat.
    const chats = ['-1001', '-1003', '42', '43'].map((chat) => ids.get(chat));
    await exec(
      `INSERT INTO alert_outbox_fanouts (kind, payload_id, created_at_ms, recipients_json)
       VALUES ('alert', ${Number(payload!.id)}, 0, '${JSON.stringify(chats)}')`,
    );
    expect(await stores.outboxStats.pendingByPlatform()).toEqual(
      new Map([
        ['telegram', 4],
        ['discord', 3],
      ]),
    );
  });

  it('takes a Telegram update once, and forgets the ones taken before a moment', async ({ skip }) => {
    const { telegramUpdates: ledger } = (await on(backend, skip)).stores;
    expect(await ledger.claim(900_000_001, 1_000)).toBe(true);
    expect(await ledger.claim(900_000_001, 2_000)).toBe(false);
    expect(await ledger.claim(900_000_002, 3_000)).toBe(true);
    // Telegram's update ids pass 2^31 in a long-lived bot: the column holds them.
    expect(await ledger.claim(2 ** 33, 3_000)).toBe(true);
    expect(await ledger.prune(2_000)).toBe(1);
    expect(await ledger.claim(900_000_001, 4_000)).toBe(true);
    expect(await ledger.claim(900_000_002, 4_000)).toBe(false);
    expect(await ledger.prune(10_000)).toBe(3);
  });
});
