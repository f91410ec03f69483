/**
 * The metrics core: fetches once, stores, and answers from memory. Commands read `snapshot()` and the
 * history queries and never touch the network; refreshes run on a schedule, and concurrent callers of
 * `refresh()` (a cron tick, a cold-start burst, a Refresh button) share one upstream call.
 */
import type { Clock } from './clock.js';
import { describeError, RateLimitedError } from './errors.js';
import type { Logger } from './logger.js';
import { emptyReading, isStale, type MarketData, type Reading, type Snapshot } from './snapshot.js';
import type { MarketPoint, MarketSource, MarketStore, RatioStats, StoredMarket } from './market-ports.js';

export type { MarketSource } from './market-ports.js';

export interface CoreOptions {
  market: MarketSource;
  marketStore: MarketStore;
  coinId: string;
  clock: Clock;
  logger: Logger;
  /** A reading older than this is shown as stale even when no refresh failed. */
  staleAfterMs: number;
}

/** Read-only history queries over stored readings, relative to the core's clock. */
export interface History {
  /** Volume / market cap low, high and average over the last `windowMs`. */
  ratioStats(windowMs: number): Promise<RatioStats | null>;
  /** The stored reading closest to, and not after, `agoMs` before now. */
  marketAgo(agoMs: number): Promise<StoredMarket | null>;
  /** The oldest stored reading. */
  firstMarket(): Promise<StoredMarket | null>;
  /** Stored readings of the last `windowMs`, oldest first. */
  marketSeries(windowMs: number): Promise<MarketPoint[]>;
}

export type RefreshListener = (snapshot: Snapshot) => void | Promise<void>;

export interface Core {
  /** The current snapshot, from memory. Never blocks, never fetches; empty until `restored()` resolves. */
  snapshot(): Snapshot;
  /** Resolves once the last stored reading (and failure) is back in memory; never fetches. */
  restored(): Promise<Snapshot>;
  /** Resolves once there is market data to show; a cold start shares a single refresh among all callers. */
  ready(): Promise<Snapshot>;
  /** Fetches every source once and replaces the snapshot. Concurrent calls share one refresh. */
  refresh(): Promise<Snapshot>;
  /** True when a reading's last refresh failed or it is older than the stale limit. */
  isStale(reading: Reading<unknown>): boolean;
  readonly history: History;
  readonly clock: Clock;
  readonly coinId: string;
  /** Runs after every refresh with its snapshot (alert evaluation hooks in here). Returns an unsubscribe. */
  onRefresh(listener: RefreshListener): () => void;
  /**
   * Follows the store instead of the source, for a standby whose leader refreshes the shared store: reads the
   * latest stored reading every `intervalMs` (default 500) and whenever `poke()` is called (a LISTEN/NOTIFY
   * hook), and while following, `refresh()` and `ready()` read the store and never call the source, and no
   * refresh listener runs (evaluation is the leader's): not even for a refresh that began before following did
   * and ends after (a stepped-down leader's slow fetch). `stop()` on the handle goes back to fetching.
   */
  follow(options?: FollowOptions): FollowHandle;
}

export interface FollowOptions {
  /** How often the store is read. Default 500 ms. */
  intervalMs?: number;
}

export interface FollowHandle {
  /** Reads the store now (a notification said a new reading is there); resolves with the snapshot. */
  poke(): Promise<Snapshot>;
  /** Stops following: `refresh()` fetches from the source again. */
  stop(): void;
}

/** A standby reads the stored reading this often by default, so it shows the leader's within a second. */
export const DEFAULT_FOLLOW_INTERVAL_MS = 500;

/** After a failed cold start, commands wait this long before one of them may try again. */
const COLD_RETRY_MS = 30_000;

export function createCore(options: CoreOptions): Core {
  const { market, marketStore, coinId, clock, logger, staleAfterMs } = options;
  const listeners = new Set<RefreshListener>();

  let current: Snapshot = { market: emptyReading<MarketData>(market.name) };

  /** The last good stored reading and the failure after it, as the store holds them now. */
  async function readStored(): Promise<Snapshot | null> {
    const stored = await marketStore.latest(coinId);
    if (!stored) return null;
    const failure = await marketStore.loadFailure(market.name);
    const failedSince = failure && failure.failedAtMs > stored.fetchedAtMs ? failure : null;
    return {
      market: {
        source: stored.source,
        data: stored.data,
        fetchedAtMs: stored.fetchedAtMs,
        error: failedSince?.error ?? null,
        failedAtMs: failedSince?.failedAtMs ?? null,
      },
    };
  }

  // The last good reading and the failure after it, as the store kept them across a restart. A refresh
  // waits for this, so a restored reading never replaces a newer one.
  const restoring = (async () => {
    try {
      const stored = await readStored();
      if (stored) current = stored;
    } catch (err) {
      logger.warn({ err }, 'stored market reading not restored; starting empty');
    }
  })();

  /** Non-null while following the store (a standby). */
  let following: { reading: Promise<Snapshot> | null } | null = null;

  /** One read of the store while following; concurrent callers share it. Never rejects. */
  function readFollowed(f: NonNullable<typeof following>): Promise<Snapshot> {
    f.reading ??= (async () => {
      await restoring;
      try {
        const stored = await readStored();
        // Only forward: a reading this instance fetched itself (before it stepped down) may be newer.
        if (stored && following === f && isNewer(stored.market, current.market)) current = stored;
      } catch (err) {
        logger.warn({ err }, 'the stored market reading could not be read; showing the last one read');
      }
      return current;
    })().finally(() => {
      f.reading = null;
    });
    return f.reading;
  }

  let inFlight: Promise<Snapshot> | null = null;
  /** A 429's Retry-After outlives one refresh: no call to the source before this time. */
  let marketNotBeforeMs = 0;

  async function refreshMarket(): Promise<void> {
    const startedAtMs = clock.now();
    if (startedAtMs < marketNotBeforeMs) {
      logger.debug(
        { source: market.name, waitMs: marketNotBeforeMs - startedAtMs },
        'market refresh skipped: rate limited',
      );
      return;
    }
    try {
      const data = await market.fetchMarket();
      const fetchedAtMs = clock.now();
      await marketStore.insert({ data, fetchedAtMs, source: market.name });
      await marketStore.saveFailure(market.name, null);
      current = { ...current, market: { source: market.name, data, fetchedAtMs, error: null, failedAtMs: null } };
      logger.debug({ source: market.name, tookMs: fetchedAtMs - startedAtMs }, 'market refreshed');
    } catch (err) {
      const failedAtMs = clock.now();
      const error = describeError(err);
      if (err instanceof RateLimitedError) marketNotBeforeMs = failedAtMs + err.retryAfterMs;
      await marketStore.saveFailure(market.name, { error, failedAtMs });
      current = { ...current, market: { ...current.market, error, failedAtMs } };
      logger.warn({ source: market.name, err }, 'market refresh failed; keeping the last good figures');
    }
  }

  async function runRefresh(): Promise<Snapshot> {
    await restoring;
    await refreshMarket();
    const snapshot = current;
    for (const listener of listeners) {
      // Checked per listener: following may begin while one runs (the leader steps down).
      if (following) break;
      try {
        await listener(snapshot);
      } catch (err) {
        logger.error({ err }, 'a refresh listener failed');
      }
    }
    return snapshot;
  }

  function refresh(): Promise<Snapshot> {
    if (following) return readFollowed(following);
    inFlight ??= runRefresh().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  return {
    snapshot: () => current,
    async restored() {
      await restoring;
      return current;
    },
    async ready() {
      await restoring;
      if (current.market.data !== null) return current;
      // With nothing to show, a recent failure is the answer: retrying per command would hammer a down API.
      const failedAtMs = current.market.failedAtMs;
      if (failedAtMs !== null && clock.now() - failedAtMs < COLD_RETRY_MS && !inFlight) return current;
      return refresh();
    },
    refresh,
    isStale: (reading) => isStale(reading, clock.now(), staleAfterMs),
    history: {
      ratioStats: (windowMs) => marketStore.ratioStats(coinId, clock.now() - windowMs),
      marketAgo: (agoMs) => marketStore.at(coinId, clock.now() - agoMs),
      firstMarket: () => marketStore.first(coinId),
      marketSeries: (windowMs) => marketStore.series(coinId, clock.now() - windowMs),
    },
    clock,
    coinId,
    onRefresh(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    follow(followOptions = {}) {
      const intervalMs = followOptions.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS;
      const f: NonNullable<typeof following> = { reading: null };
      following = f;
      const timer = setInterval(() => void readFollowed(f), intervalMs);
      timer.unref();
      void readFollowed(f);
      logger.info({ intervalMs }, 'following the stored market reading (standby: no calls to the source)');
      return {
        poke: () => (following === f ? readFollowed(f) : Promise.resolve(current)),
        stop() {
          clearInterval(timer);
          if (following === f) following = null;
        },
      };
    },
  };
}

/** True when `a` holds a newer reading, or a newer failure of the same reading, than `b`. */
function isNewer(a: Reading<MarketData>, b: Reading<MarketData>): boolean {
  const at = a.fetchedAtMs ?? -Infinity;
  const bt = b.fetchedAtMs ?? -Infinity;
  if (at !== bt) return at > bt;
  return (a.failedAtMs ?? -Infinity) !== (b.failedAtMs ?? -Infinity);
}
