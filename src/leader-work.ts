/**
 * The work only the leader does, as one unit `src/roles.ts` starts and stops: the market refresh (alert
 * evaluation hooks into it), the markets schedule, indexing, digests, pruning, the outbox dispatcher, and the
 * front ends that must run once (Discord's gateway, Telegram long polling). Stopping ends the schedules,
 * tells the indexer and the dispatcher to stop (the dispatcher hands no further row to a sink; a send in
 * flight finishes, or is left to the row's lease if the process dies), waits for the indexing pass and a
 * little for other passes in flight, and closes those front ends last, so nothing is handed to a sink whose front end
 * is already closing.
 */
import type { App } from './app.js';
import type { Logger } from './core/logger.js';
import type { RoleWork } from './roles.js';
import { warnPastDemoBudget } from './coingecko-budget.js';
import { createScheduler, longestGapMs, type Scheduler } from './scheduler.js';

export interface LeaderWorkOptions {
  app: Pick<App, 'config' | 'core' | 'services' | 'markets' | 'indexer' | 'alerts'>;
  logger: Logger;
  /** Front ends that run on the leader only; each starts and resolves with its stop. Started in this order. */
  frontEnds?: ReadonlyArray<() => Promise<RoleWork>>;
  /** Tests pass their own; one is made per term by default. */
  createScheduler?: (logger: Logger) => Scheduler;
  /**
   * How long stopping waits for passes in flight (a refresh or an indexing pass retrying a source that does not
   * answer) before it lets them finish on their own. Default 2 s. Each service shares one pass among its
   * callers, so a pass left running is joined, never doubled, by a next term in this process.
   */
  passGraceMs?: number;
  /** One indexing pass; default the indexer's `runOnce` (the operations endpoint passes a counting one). */
  indexPass?: () => Promise<unknown>;
}

/** A `leader()` for `createRoles`: each call starts one term of leader work. */
export function leaderWork(options: LeaderWorkOptions): () => Promise<RoleWork> {
  const { app, logger } = options;
  const { config } = app;
  return async () => {
    const scheduler = (options.createScheduler ?? createScheduler)(logger);
    const running = new Set<Promise<unknown>>();
    let stopped = false;
    /** Runs a pass and remembers it until it settles, so stopping can wait for it. */
    const track = <T>(pass: () => Promise<T>): Promise<T> => {
      const p = pass();
      running.add(p);
      const forget = () => running.delete(p);
      p.then(forget, forget);
      return p;
    };
    const quietly = (what: string) => (err: unknown) => logger.error({ err, task: what }, 'a leader task failed');

    scheduler.every(config.refreshCron, 'refresh', () => track(() => app.core.refresh()));
    // The default chart's history is filled once per term, so the first `/opg chart` need not wait for it.
    void track(() => app.core.refresh().then(() => app.services.charts.ensureHistory('7d'))).catch(quietly('refresh'));
    // Tickers on their own schedule; the first reading of a term records venues and announces none. None at the
    // start when the stored reading is younger than the schedule's gap: a restart or takeover spends no pages.
    scheduler.every(config.marketsCron, 'markets', () => track(() => app.markets.refresh()));
    void track(async () => {
      const stored = await app.markets.restored();
      warnPastDemoBudget(config, stored.data?.pages ?? 1, logger);
      const ageMs = stored.fetchedAtMs === null ? null : app.core.clock.now() - stored.fetchedAtMs;
      if (ageMs !== null && ageMs < longestGapMs(config.marketsCron)) {
        logger.info({ ageMs }, 'stored tickers reading is recent; the first reading of this term is the scheduled one');
        return;
      }
      await app.markets.refresh();
    }).catch(quietly('markets'));
    // Index passes are waited for in full when stopping, as before roles: a pass records its end in the store,
    // which closes after a final stop.
    const indexing = new Set<Promise<unknown>>();
    const indexPass = () => {
      const p = (options.indexPass ?? (() => app.indexer.runOnce()))();
      indexing.add(p);
      const forget = () => indexing.delete(p);
      p.then(forget, forget);
      return p;
    };
    scheduler.every(config.opengradient.indexCron, 'index', indexPass);
    void indexPass().catch(quietly('index'));
    // Platform sinks are registered by main; rows for a platform without a sink wait in the outbox, and rows
    // left undelivered by an earlier leader (or before a restart) are picked up here.
    scheduler.every('* * * * *', 'alert digests', () => track(() => app.alerts.runDigests()));
    scheduler.every('17 3 * * *', 'alert outbox pruning', () => track(() => app.alerts.prune()));
    app.alerts.dispatcher.start();

    const frontStops: RoleWork[] = [];
    async function stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await scheduler.stop();
      // Alerts first: nothing may be handed to a sink whose front end is already closing.
      // The indexer is told to stop at its next step (after the backoff it may be sleeping).
      const indexerStopped = Promise.all([app.indexer.stop(), ...indexing]);
      await app.alerts.dispatcher.stop();
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'late'>(
          (resolve) => (timer = setTimeout(() => resolve('late'), options.passGraceMs ?? 2_000)),
        );
        const outcome = await Promise.race([Promise.allSettled([...running]), grace]);
        clearTimeout(timer);
        if (outcome === 'late')
          logger.warn(
            { passes: running.size },
            'leader passes still in flight after the step-down; they finish on their own',
          );
      }
      await indexerStopped.catch(() => {});
      for (const s of frontStops.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          logger.error({ err }, 'a front end failed to stop');
        }
      }
    }
    try {
      for (const start of options.frontEnds ?? []) frontStops.push(await start());
    } catch (err) {
      await stop();
      throw err;
    }
    return { stop };
  };
}

/**
 * A `standby()` for `createRoles`: the core and the markets service follow the shared store, so commands on a
 * standby show the leader's latest figures without calling CoinGecko.
 */
export function standbyWork(app: Pick<App, 'core' | 'markets'>): () => RoleWork {
  return () => {
    const core = app.core.follow();
    const markets = app.markets.follow();
    return {
      stop() {
        core.stop();
        markets.stop();
      },
    };
  };
}

/**
 * The roles' work, built so that this instance follows the shared store whenever no leader term runs: from this
 * call on (main makes it before the operations endpoint, with its Telegram webhook route, starts listening)
 * until a term starts, and again from the moment a term starts to stop, before its passes in flight are
 * waited for. While it follows, `core.refresh()` (a Refresh button on any front end) reads the store and never
 * calls CoinGecko, and a refresh of the old term that ends late runs no listener, so alert evaluation runs
 * only while a term does. One switch, on unless a term runs, is simpler than asking the role at each call:
 * nothing that fetches or evaluates has to know about roles, and no window opens between two role changes.
 *
 * `leader` wraps a term (as `leaderWork` makes); `standby` is what a standby does besides following.
 */
export function followUnlessLeading(
  app: Pick<App, 'core' | 'markets'>,
  work: { leader: () => Promise<RoleWork>; standby?: () => RoleWork },
): { leader(): Promise<RoleWork>; standby(): RoleWork; stop(): void } {
  const follow = standbyWork(app);
  let following: RoleWork | null = follow();
  const on = () => void (following ??= follow());
  const off = () => {
    void following?.stop();
    following = null;
  };
  return {
    async leader() {
      off();
      let term: RoleWork;
      try {
        term = await work.leader();
      } catch (err) {
        on();
        throw err;
      }
      return {
        async stop() {
          on();
          await term.stop();
        },
      };
    },
    standby() {
      on();
      return work.standby?.() ?? { stop() {} };
    },
    /** Stops following for good: the process is stopping. */
    stop: off,
  };
}
