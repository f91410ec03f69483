/**
 * The store the bot runs on, chosen by configuration: `DATABASE_URL` selects PostgreSQL (opened and
 * migrated by openPostgres), otherwise the SQLite file at `DATABASE_PATH`. Each port's implementation
 * comes from the matching dialect, so the services never know which one they talk to.
 */
import type { AlertStores } from '../core/alert-ports.js';
import type { CommandRegistrationStore } from '../core/command-registrations.js';
import type { ChartStore, MarketStore } from '../core/market-ports.js';
import type { InferenceStore } from '../core/inferences.js';
import type { ListingSettings, MarketsStore } from '../core/markets.js';
import type { ParticipantStore } from '../core/participants.js';
import type { Clock } from '../core/clock.js';
import type { UpdateLedger } from '../core/update-ledger.js';
import { createAlertStores } from './alert-stores.js';
import { createChartStore } from './chart-store.js';
import { clockSkewMs } from './clock-skew.js';
import { createDiscordStore } from './discord-store.js';
import { createInferenceStore } from './inference-store.js';
import { createListingAlertStore } from './listing-alert-store.js';
import { createMarketStore } from './market-store.js';
import { createMarketsStore } from './markets-store.js';
import { openDatabase, type Database } from './open.js';
import { createOutboxStats, type OutboxStats } from './outbox-stats.js';
import { createParticipantStore } from './participant-store.js';
import { createPgAlertStores } from './pg-alert-stores.js';
import { createPgChartStore } from './pg-chart-store.js';
import { createPgDiscordStore } from './pg-discord-store.js';
import { createPgInferenceStore } from './pg-inference-store.js';
import { createPgListingAlertStore } from './pg-listing-alert-store.js';
import { createPgMarketStore } from './pg-market-store.js';
import { createPgMarketsStore } from './pg-markets-store.js';
import { createPgOutboxStats } from './pg-outbox-stats.js';
import { createPgParticipantStore } from './pg-participant-store.js';
import { createPgTelegramUpdateStore } from './pg-telegram-update-store.js';
import { openPostgres, type PostgresDatabase } from './postgres.js';
import { createTelegramUpdateStore } from './telegram-update-store.js';

/** The ports implemented on both dialects. */
export interface PortStores {
  alerts: AlertStores;
  market: MarketStore;
  chart: ChartStore;
  commandRegistrations: CommandRegistrationStore;
  /** Telegram webhook updates taken, shared by every instance. */
  telegramUpdates: UpdateLedger;
  /** The operator's view of the outbox (the `opg_alert_outbox_pending` gauge). */
  outboxStats: OutboxStats;
  /** Tickers readings and venues; a reading's listing alert is written with it. */
  markets: MarketsStore;
  listings: ListingSettings;
  /** The indexer's cursor and counts; its `commitChunk` writes participant findings to `participants`. */
  inferences: InferenceStore;
  participants: ParticipantStore;
}

/** What every opened store answers besides its ports. */
interface StoreBase {
  /**
   * This instance's `clock` minus the clock of the server other instances share, in ms (positive: ahead); null
   * on the SQLite file, which one process uses and stamps alone. See clock-skew.ts.
   */
  clockSkewMs(clock: Pick<Clock, 'now'>): Promise<number | null>;
}

export interface SqliteStore extends StoreBase {
  kind: 'sqlite';
  database: Database;
  /** Where the store is (the file path, or the PostgreSQL host and database without credentials). */
  where: string;
  stores: PortStores;
  /** False once closed (readiness reports it). */
  isOpen(): boolean;
  close(): Promise<void>;
}

export interface PostgresStore extends StoreBase {
  kind: 'postgres';
  postgres: PostgresDatabase;
  where: string;
  stores: PortStores;
  isOpen(): boolean;
  close(): Promise<void>;
}

export type OpenedStore = SqliteStore | PostgresStore;

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
      listings: createListingAlertStore(database),
      markets: createMarketsStore(database),
      outboxStats: createOutboxStats(database),
      participants,
      telegramUpdates: createTelegramUpdateStore(database),
    },
    isOpen: () => database.sqlite.open,
    clockSkewMs: async () => null,
    close: async () => database.close(),
  };
}

export function postgresStore(postgres: PostgresDatabase): PostgresStore {
  const { db } = postgres;
  let open = true;
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
      telegramUpdates: createPgTelegramUpdateStore(db),
      outboxStats: createPgOutboxStats(db),
      markets: createPgMarketsStore(db),
      listings: createPgListingAlertStore(db),
    },
    isOpen: () => open,
    clockSkewMs: (clock) => clockSkewMs(db, clock),
    close: async () => {
      if (!open) return;
      open = false;
      await postgres.close();
    },
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
