/**
 * The operator's stores on every backend (a SQLite file, PGlite, the real server when TEST_DATABASE_URL is set):
 * the outbox's waiting rows by platform, and the Telegram webhook's update ledger (claims released, taken over
 * past their lease, raced by two instances).
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UPDATE_CLAIM_LEASE_MS } from '../../src/core/update-ledger.js';
import { openDatabase } from '../../src/db/open.js';
import { openPostgres } from '../../src/db/postgres.js';
import { postgresStore, sqliteStore, type PortStores } from '../../src/db/store.js';
import { STORE_BACKENDS, type StoreBackend } from '../helpers/store-backends.js';
import { testPostgres } from '../helpers/postgres.js';
import { tempDbPath } from '../helpers/temp-dir.js';

/**
 * The ports on `backend`, a way to run one SQL statement that both dialects accept, returning its rows, and
 * `second()`: the same store's ports through another connection (another SQLite handle, another pool on the
 * server; PGlite is one connection in this process, so there the same one), as a second instance has them.
 */
async function on(backend: StoreBackend, skip: (condition: boolean, note?: string) => void) {
  if (backend === 'sqlite') {
    const path = tempDbPath();
    const database = openDatabase(path);
    onTestFinished(() => database.close());
    const exec = async (text: string) => {
      const statement = database.sqlite.prepare(text);
      if (statement.reader) return statement.all() as Array<Record<string, unknown>>;
      statement.run();
      return [];
    };
    const second = async () => {
      const other = openDatabase(path);
      onTestFinished(() => other.close());
      return sqliteStore(other).stores;
    };
    return { stores: sqliteStore(database).stores, exec, second };
  }
  const pg = await testPostgres(backend, skip);
  const exec = async (text: string) => {
    const result = (await pg.db.execute(sql.raw(text))) as unknown as { rows: Array<Record<string, unknown>> };
    return result.rows;
  };
  const second = async (): Promise<PortStores> => {
    if (!('url' in pg)) return postgresStore(pg).stores;
    const other = await openPostgres(pg.url as string);
    onTestFinished(() => other.close());
    return postgresStore(other).stores;
  };
  return { stores: postgresStore(pg).stores as PortStores, exec, second };
}

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('operator stores on %s', { timeout: 60_000 }, (backend) => {
  it(
    'counts undelivered rows of active subscriptions by platform, ' + 'leaving out sent, abandoned and paused ones',
    async ({ skip }) => {
      const { stores, exec } = await on(backend, skip);
      expect((await stores.outboxStats.pendingByPlatform()).size).toBe(0);
      const [payload] = await exec(
        `INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 0) RETURNING id`,
      );
      const ids = new Map<string, number>();
      const add = async (
        platform: string,
        chatId: string,
        status: string,
        rows: Array<'unsent' | 'sent' | 'failed'>,
      ) => {
        const [sub] = await exec(
          `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status)
           VALUES ('${platform}', '${chatId}', 'test', 0, '${status}') RETURNING id`,
        );
        ids.set(chatId, Number(sub!.id));
        for (const r of rows) {
          await exec(
            `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms,
                                         sent_at_ms, failed_at_ms)
             VALUES (${Number(sub!.id)}, 'alert', ${Number(payload!.id)}, 0, 0,
                     ${r === 'sent' ? 1 : 'NULL'}, ${r === 'failed' ? 1 : 'NULL'})`,
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
    },
  );

  it('takes a Telegram update once, and forgets the ones first received before a moment', async ({ skip }) => {
    const { telegramUpdates: ledger } = (await on(backend, skip)).stores;
    expect(await ledger.claim(900_000_001, 1_000)).toBe('claimed');
    expect(await ledger.claim(900_000_001, 2_000)).toBe('running');
    await ledger.finish(900_000_001, 2_500);
    expect(await ledger.claim(900_000_001, 2_600)).toBe('finished');
    expect(await ledger.claim(900_000_002, 3_000)).toBe('claimed');
    // Telegram's update ids pass 2^31 in a long-lived bot: the column holds them.
    expect(await ledger.claim(2 ** 33, 3_000)).toBe('claimed');
    expect(await ledger.prune(2_000)).toBe(1);
    expect(await ledger.claim(900_000_001, 4_000)).toBe('claimed');
    expect(await ledger.claim(900_000_002, 4_000)).toBe('running');
    expect(await ledger.prune(10_000)).toBe(3);
  });

  it('runs a Telegram update again once the run that claimed it failed and released it', async ({ skip }) => {
    const { telegramUpdates: ledger } = (await on(backend, skip)).stores;
    expect(await ledger.claim(7, 1_000)).toBe('claimed');
    await ledger.release(7, 1_000);
    expect(await ledger.claim(7, 1_500)).toBe('claimed');
    // A late release from a claim taken over since leaves the new claim in place.
    await ledger.release(7, 1_000);
    expect(await ledger.claim(7, 1_600)).toBe('running');
    await ledger.finish(7, 2_000);
    // A finished update stays finished, whatever a failed run elsewhere releases.
    await ledger.release(7, 1_500);
    expect(await ledger.claim(7, 2_100)).toBe('finished');
  });

  it('takes over a claim left unfinished past its lease, and never runs a finished update twice', async ({ skip }) => {
    const { telegramUpdates: ledger } = (await on(backend, skip)).stores;
    const t0 = 1_000_000;
    expect(await ledger.claim(8, t0)).toBe('claimed');
    expect(await ledger.claim(8, t0 + UPDATE_CLAIM_LEASE_MS - 1)).toBe('running');
    // The instance holding it died: the next re-send past the lease takes it over, and holds a fresh lease.
    expect(await ledger.claim(8, t0 + UPDATE_CLAIM_LEASE_MS)).toBe('claimed');
    expect(await ledger.claim(8, t0 + UPDATE_CLAIM_LEASE_MS + 1)).toBe('running');
    expect(await ledger.claim(8, t0 + 2 * UPDATE_CLAIM_LEASE_MS - 1)).toBe('running');
    await ledger.finish(8, t0 + 2 * UPDATE_CLAIM_LEASE_MS - 1);
    expect(await ledger.claim(8, t0 + 2 * UPDATE_CLAIM_LEASE_MS)).toBe('finished');
    expect(await ledger.claim(8, t0 + 100 * UPDATE_CLAIM_LEASE_MS)).toBe('finished');
    // The run that lost its claim finishing late changes nothing.
    await ledger.finish(8, t0 + 101 * UPDATE_CLAIM_LEASE_MS);
    expect(await ledger.claim(8, t0 + 102 * UPDATE_CLAIM_LEASE_MS)).toBe('finished');
  });

  it('gives a re-sent update to exactly one of two instances claiming it at once, new or past its lease', async ({
    skip,
  }) => {
    const { stores, second } = await on(backend, skip);
    const a = stores.telegramUpdates;
    const b = (await second()).telegramUpdates;
    const ids = Array.from({ length: 40 }, (_, i) => 5_000 + i);
    const race = async (nowMs: number) => {
      const answers = await Promise.all(ids.flatMap((id) => [a.claim(id, nowMs), b.claim(id, nowMs)]));
      return ids.map((_, i) => [answers[2 * i], answers[2 * i + 1]].sort());
    };
    const t0 = 2_000_000;
    expect(await race(t0)).toEqual(ids.map(() => ['claimed', 'running']));
    // Both instances that held them died; both survivors get the re-sends past the lease at once.
    expect(await race(t0 + UPDATE_CLAIM_LEASE_MS)).toEqual(ids.map(() => ['claimed', 'running']));
    for (const id of ids) await a.finish(id, t0 + UPDATE_CLAIM_LEASE_MS + 1);
    expect(await race(t0 + 3 * UPDATE_CLAIM_LEASE_MS)).toEqual(ids.map(() => ['finished', 'finished']));
  });
});
