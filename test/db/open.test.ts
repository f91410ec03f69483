import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { openDatabase } from '../../src/db/open.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('openDatabase', () => {
  it('creates the folder, runs in WAL mode and applies the committed migrations', () => {
    const path = join(tempDir(), 'nested', 'deeper', 'opg.sqlite');
    const database = openDatabase(path);
    expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = database.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as Array<{
      name: string;
    }>;
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['market_snapshots', 'source_status', '__drizzle_migrations']),
    );
    database.close();
  });

  it('keeps history across reopening and migrates only once', async () => {
    const path = join(tempDir(), 'opg.sqlite');
    const first = openDatabase(path);
    const data = {
      coinId: 'opengradient',
      symbol: 'OPG',
      name: 'OpenGradient',
      priceUsd: 0.04,
      priceChange24hPct: null,
      marketCapUsd: 4e7,
      marketCapRank: null,
      fdvUsd: null,
      volume24hUsd: 1e8,
      high24hUsd: null,
      low24hUsd: null,
      circulatingSupply: 1e8,
      totalSupply: 1e9,
      maxSupply: 1e9,
      sourceUpdatedAtMs: null,
    };
    await createMarketStore(first).insert({ data, fetchedAtMs: 1_000, source: 'CoinGecko' });
    first.close();
    const second = openDatabase(path);
    expect(await createMarketStore(second).latest('opengradient')).toEqual({
      data,
      fetchedAtMs: 1_000,
      source: 'CoinGecko',
    });
    expect(await createMarketStore(second).latest('other-coin')).toBeNull();
    second.close();
  });

  it('names DATABASE_PATH in one clear error when the path cannot be written', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a folder');
    const err = (() => {
      try {
        openDatabase(join(file, 'opg.sqlite'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/DATABASE_PATH: cannot create, open or migrate .* \((ENOTDIR|EEXIST)\)/);
  });
});
