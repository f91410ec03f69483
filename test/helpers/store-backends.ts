/**
 * The backends a store contract test runs on: a real SQLite file, PGlite in this process, and the real
 * PostgreSQL server when `TEST_DATABASE_URL` names one (skipped with the reason otherwise). Each gives a
 * fresh migrated store, and `second()` opens another handle on the same store (another SQLite connection,
 * another pool) for tests where two processes meet.
 */
import type { AlertStores } from '../../src/core/alert-ports.js';
import type { ChartStore, MarketStore } from '../../src/core/market-ports.js';
import type { CommandRegistrationStore } from '../../src/core/command-registrations.js';
import type { ListingSettings, MarketsStore } from '../../src/core/markets.js';
import type { InferenceStore } from '../../src/core/inferences.js';
import type { ParticipantStore } from '../../src/core/participants.js';
import { createInferenceStore } from '../../src/db/inference-store.js';
import { createParticipantStore } from '../../src/db/participant-store.js';
import { createPgInferenceStore } from '../../src/db/pg-inference-store.js';
import { createPgParticipantStore } from '../../src/db/pg-participant-store.js';
import { createChartStore } from '../../src/db/chart-store.js';
import { createDiscordStore } from '../../src/db/discord-store.js';
import { createPgDiscordStore } from '../../src/db/pg-discord-store.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { createPgChartStore } from '../../src/db/pg-chart-store.js';
import { createPgMarketStore } from '../../src/db/pg-market-store.js';
import { createListingAlertStore } from '../../src/db/listing-alert-store.js';
import { createMarketsStore } from '../../src/db/markets-store.js';
import { createPgListingAlertStore } from '../../src/db/pg-listing-alert-store.js';
import { createPgMarketsStore } from '../../src/db/pg-markets-store.js';
import { createAlertStores } from '../../src/db/alert-stores.js';
import { openDatabase } from '../../src/db/open.js';
import { createPgAlertStores } from '../../src/db/pg-alert-stores.js';
import { openPostgres } from '../../src/db/postgres.js';
import { sql } from 'drizzle-orm';
import { onTestFinished } from 'vitest';
import { testPostgres } from './postgres.js';
import { tempDbPath } from './temp-dir.js';

export type StoreBackend = 'sqlite' | 'pglite' | 'server';
export const STORE_BACKENDS: readonly StoreBackend[] = ['sqlite', 'pglite', 'server'];

export interface BackendStores {
  alerts: AlertStores;
  market: MarketStore;
  chart: ChartStore;
  registrations: CommandRegistrationStore;
  markets: MarketsStore;
  listings: ListingSettings;
  /** The indexer's stores, wired as `src/db/store.ts` wires them (`inferences` writes to `participants`). */
  indexer: IndexerStores;
  /** Another pair of indexer stores on the same connection, with caches of their own (another instance). */
  otherIndexer(): IndexerStores;
  /** Runs one SQL statement on the store (for a test that plants a trigger). */
  execute(statement: string): Promise<void>;
  /** The same store through another connection: another SQLite handle on the file, another pool on the server. */
  second(): Promise<AlertStores>;
}

export interface IndexerStores {
  inferences: InferenceStore;
  participants: ParticipantStore;
}

export async function storesOn(
  backend: StoreBackend,
  skip: (condition: boolean, note?: string) => void,
): Promise<BackendStores> {
  if (backend === 'sqlite') {
    const path = tempDbPath();
    const database = openDatabase(path);
    onTestFinished(() => database.close());
    const indexerStores = () => {
      const participants = createParticipantStore(database);
      return { inferences: createInferenceStore(database, participants), participants };
    };
    return {
      indexer: indexerStores(),
      otherIndexer: indexerStores,
      execute: async (statement) => void database.sqlite.exec(statement),
      alerts: createAlertStores(database),
      market: createMarketStore(database),
      chart: createChartStore(database),
      registrations: createDiscordStore(database),
      markets: createMarketsStore(database),
      listings: createListingAlertStore(database),
      second: async () => {
        const other = openDatabase(path);
        onTestFinished(() => other.close());
        return createAlertStores(other);
      },
    };
  }
  const pg = await testPostgres(backend, skip);
  const indexerStores = () => {
    const participants = createPgParticipantStore(pg.db);
    return { inferences: createPgInferenceStore(pg.db, participants), participants };
  };
  return {
    indexer: indexerStores(),
    otherIndexer: indexerStores,
    execute: async (statement) => void (await pg.db.execute(sql.raw(statement))),
    alerts: createPgAlertStores(pg.db),
    market: createPgMarketStore(pg.db),
    chart: createPgChartStore(pg.db),
    registrations: createPgDiscordStore(pg.db),
    markets: createPgMarketsStore(pg.db),
    listings: createPgListingAlertStore(pg.db),
    second: async () => {
      // PGlite is one connection in this process: a second handle is the same database.
      if (!('url' in pg)) return createPgAlertStores(pg.db);
      const other = await openPostgres(pg.url as string);
      onTestFinished(() => other.close());
      return createPgAlertStores(other.db);
    },
  };
}
