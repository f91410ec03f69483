import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { createOutboxStats } from '../../src/db/outbox-stats.js';
import { tempDbPath } from '../helpers/temp-dir.js';

function seeded() {
  const database = openDatabase(tempDbPath());
  onTestFinished(() => database.close());
  const db = database.sqlite;
  const sub = db.prepare(
    `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status) VALUES (?, ?, 'test', 0, ?)`,
  );
  const payload = Number(
    db.prepare(`INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 0)`).run().lastInsertRowid,
  );
  const row = db.prepare(
    `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms, sent_at_ms, failed_at_ms) VALUES (?, 'alert', ?, 0, 0, ?, ?)`,
  );
  const add = (
    platform: string,
    chatId: string,
    status: 'active' | 'paused',
    rows: Array<'unsent' | 'sent' | 'failed'>,
  ) => {
    const id = Number(sub.run(platform, chatId, status).lastInsertRowid);
    for (const r of rows) row.run(id, payload, r === 'sent' ? 1 : null, r === 'failed' ? 1 : null);
  };
  return { database, add };
}

describe('outbox stats', () => {
  it('counts undelivered rows of active subscriptions by platform, leaving out sent, abandoned and paused ones', () => {
    const { database, add } = seeded();
    add('telegram', '-1001', 'active', ['sent', 'unsent', 'unsent']);
    add('telegram', '-1002', 'active', ['failed', 'unsent']);
    add('telegram', '-1003', 'paused', ['unsent', 'unsent']);
    add('discord', '42', 'active', ['sent', 'sent']);
    add('discord', '43', 'active', ['unsent']);
    const stats = createOutboxStats(database);
    expect(stats.pendingByPlatform()).toEqual(
      new Map([
        ['telegram', 3],
        ['discord', 1],
      ]),
    );
  });

  it('is empty for an empty outbox', () => {
    const { database } = seeded();
    expect(createOutboxStats(database).pendingByPlatform().size).toBe(0);
  });
});
