import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/db/store.js';
import { createTestClock } from '../helpers/clock.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { tempDbPath } from '../helpers/temp-dir.js';

describe('openStore', { timeout: 60_000 }, () => {
  it('opens the SQLite file without DATABASE_URL, and createApp runs on it', async () => {
    const path = tempDbPath();
    const store = await openStore({ databaseUrl: null, databasePath: path });
    expect(store.kind).toBe('sqlite');
    expect(store.where).toBe(path);
    const config = loadConfig({
      DATABASE_PATH: path,
      OG_RPC_URL: 'http://127.0.0.1:9',
      OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
    });
    const app = createApp({ config, logger: silentLogger, clock: createTestClock(), store });
    expect(app.store).toBe(store);
    await app.runText(
      '/opg alerts subscribe',
      { platform: 'console', chatId: 'c1', kind: 'private' },
      { id: 'u', name: 'u', isModerator: async () => true },
    );
    expect(await store.stores.alerts.subscriptions.byChat('console', 'c1')).not.toBeNull();
    app.close();
  });

  it('opens and migrates PostgreSQL with DATABASE_URL, and createApp runs on it', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    let close = async () => {};
    const url = await emptyServerDatabase(() => close());
    const store = await openStore({ databaseUrl: url, databasePath: tempDbPath() });
    close = () => store.close();
    expect(store.kind).toBe('postgres');
    expect(store.where).not.toContain('@');
    const config = loadConfig({
      DATABASE_PATH: tempDbPath(),
      OG_RPC_URL: 'http://127.0.0.1:9',
      OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
    });
    const app = createApp({ config, logger: silentLogger, clock: createTestClock(), store });
    expect(app.database).toBeNull();
    const chat = { platform: 'console', chatId: 'c1', kind: 'private' } as const;
    const reply = await app.runText('/opg alerts subscribe', chat, {
      id: 'u',
      name: 'u',
      isModerator: async () => true,
    });
    expect(reply.kind).toBe('info');
    // Written through the app, read back through another connection's ports.
    const other = await openStore({ databaseUrl: url, databasePath: tempDbPath() });
    try {
      expect(await other.stores.alerts.subscriptions.byChat('console', 'c1')).toMatchObject({ chatId: 'c1' });
      await other.stores.commandRegistrations.saveCommandHash('app:global', 'h', 1);
      expect(await store.stores.commandRegistrations.commandHash('app:global')).toBe('h');
    } finally {
      await other.close();
    }
    app.close();
  });
});
