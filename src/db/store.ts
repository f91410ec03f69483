/**
 * The store the bot runs on, chosen by configuration: `DATABASE_URL` selects PostgreSQL (opened and
 * migrated by openPostgres), otherwise the SQLite file at `DATABASE_PATH`. Each port's implementation
 * comes from the matching dialect, so the services never know which one they talk to.
 */
import type { AlertStores } from '../core/alert-ports.js';
import type { CommandRegistrationStore } from '../core/command-registrations.js';
import { ConfigError } from '../core/errors.js';
import type { ChartStore, MarketStore } from '../core/market-ports.js';
import type { InferenceStore } from '../core/inferences.js';
import type { ParticipantStore } from '../core/participants.js';
import { createAlertStores } from './alert-stores.js';
import { createChartStore } from './chart-store.js';
import { createDiscordStore } from './discord-store.js';
import { createInferenceStore } from './inference-store.js';
import { createMarketStore } from './market-store.js';
import { openDatabase, type Database } from './open.js';
import { createParticipantStore } from './participant-store.js';
import { createPgAlertStores } from './pg-alert-stores.js';
import { createPgChartStore } from './pg-chart-store.js';
import { createPgDiscordStore } from './pg-discord-store.js';
import { createPgInferenceStore } from './pg-inference-store.js';
import { createPgMarketStore } from './pg-market-store.js';
import { createPgParticipantStore } from './pg-participant-store.js';
import { openPostgres, type PostgresDatabase } from './postgres.js';

/** The ports implemented on both dialects. */
export interface PortStores {
  alerts: AlertStores;
  market: MarketStore;
  chart: ChartStore;
  commandRegistrations: CommandRegistrationStore;
  /** The indexer's cursor and counts; its `commitChunk` writes participant findings to `participants`. */
  inferences: InferenceStore;
  participants: ParticipantStore;
}

export interface SqliteStore {
  kind: 'sqlite';
  database: Database;
  /** Where the store is (the file path, or the PostgreSQL host and database without credentials). */
  where: string;
  stores: PortStores;
  close(): Promise<void>;
}

export interface PostgresStore {
  kind: 'postgres';
  postgres: PostgresDatabase;
  where: string;
  stores: PortStores;
  close(): Promise<void>;
}

export type OpenedStore = SqliteStore | PostgresStore;

/**
 * Ports that still have only a SQLite implementation (their interfaces are synchronous): the bot cannot run
 * on PostgreSQL until each has one, and `createApp` says so instead of splitting its state over two stores.
 */
export const SQLITE_ONLY_PORTS: readonly string[] = [
  'MarketsStore (src/db/markets-store.ts)',
  'ListingOutbox / ListingSettings (src/db/listing-alert-store.ts)',
];

export function sqliteStore(database: Database): SqliteStore {
  const participants = createParticipantStore(database);
  return {
    kind: 'sqlite',
    database,
    where: database.path,
    stores: {
      alerts: createAlertStores(database),
      market: createMarketStore(database),
      chart: createChartStore(database),
      commandRegistrations: createDiscordStore(database),
      inferences: createInferenceStore(database, participants),
      participants,
    },
    close: async () => database.close(),
  };
}

export function postgresStore(postgres: PostgresDatabase): PostgresStore {
  const { db } = postgres;
  const participants = createPgParticipantStore(db);
  return {
    kind: 'postgres',
    postgres,
    where: postgres.where,
    stores: {
      alerts: createPgAlertStores(db),
      market: createPgMarketStore(db),
      chart: createPgChartStore(db),
      commandRegistrations: createPgDiscordStore(db),
      inferences: createPgInferenceStore(db, participants),
      participants,
    },
    close: () => postgres.close(),
  };
}

/**
 * Opens the configured store and applies its migrations.
 * @throws ConfigError naming `DATABASE_URL` or `DATABASE_PATH` when it cannot be opened or migrated.
 */
export async function openStore(config: { databaseUrl: string | null; databasePath: string }): Promise<OpenedStore> {
  if (config.databaseUrl) return postgresStore(await openPostgres(config.databaseUrl));
  return sqliteStore(openDatabase(config.databasePath));
}

/** @throws ConfigError when the bot cannot run on `store` yet, naming what is missing. */
export function requireFullStore(store: OpenedStore): asserts store is SqliteStore {
  if (store.kind === 'postgres') {
    throw new ConfigError([
      `DATABASE_URL: ${store.where} holds the alert, market, chart, command, inference and participant stores, but these have no PostgreSQL implementation yet: ${SQLITE_ONLY_PORTS.join(', ')}`,
    ]);
  }
}
