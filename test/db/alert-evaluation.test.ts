import { describe, expect, it } from 'vitest';
import { withForeignKeysOff } from '../../src/db/alert-evaluation.js';
import { openDatabase } from '../../src/db/open.js';
import { tempDbPath } from '../helpers/temp-dir.js';

describe('alert evaluation store', () => {
  it('turns foreign-key checks off only while an evaluation runs, and back on when it throws', () => {
    const database = openDatabase(tempDbPath());
    const checks = () => database.sqlite.pragma('foreign_keys', { simple: true });
    const orphan = database.sqlite.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms)
       VALUES (999, 'alert', 999, 0, 0)`,
    );

    expect(withForeignKeysOff(database, () => checks())).toBe(0);
    expect(checks()).toBe(1);
    expect(() =>
      withForeignKeysOff(database, () => {
        throw new Error('evaluation failed');
      }),
    ).toThrow('evaluation failed');
    expect(checks()).toBe(1);
    expect(() => orphan.run()).toThrow(/FOREIGN KEY/);
    // Nested in another transaction the pragma cannot change: checks stay on.
    expect(database.sqlite.transaction(() => withForeignKeysOff(database, () => checks()))()).toBe(1);
    database.close();
  });
});
