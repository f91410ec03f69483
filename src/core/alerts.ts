/**
 * The alerts service: subscriptions and thresholds (for the `alerts` commands), evaluation after every
 * fresh refresh, the daily digest, and the dispatcher that delivers the outbox. Evaluation writes threshold
 * state, pending crossings and outbox rows in one transaction, so a crash either keeps an alert or never
 * saw its crossing; it never half-records one.
 */
import { alertReply, digestReply } from './alert-messages.js';
import type { AlertStores, Level, LevelCrossing, Subscription } from './alert-ports.js';
import { nextSide, type Crossing } from './alert-rules.js';
import type { AlertSettings, AlertSubscriptionView } from './alert-settings.js';
import { createAlertDispatcher, type AlertDispatcher, type PlatformLimits } from './alert-dispatcher.js';
import type { ChatRef, Platform } from './chat.js';
import type { Core } from './core.js';
import { UserInputError } from './errors.js';
import type { Logger } from './logger.js';
import type { ReplyField } from './reply.js';
import { volumeToMarketCap } from './metrics.js';
import type { ChatLifecycle, Sink } from './sink.js';
import type { Snapshot } from './snapshot.js';
import type { Telemetry } from './telemetry.js';

export type { AlertSettings, AlertSubscriptionView } from './alert-settings.js';

export const MAX_THRESHOLDS = 10;
const DAY_MS = 86_400_000;
/** A digest whose minute passed while the bot was down is still sent within this window, never later. */
const DIGEST_CATCH_UP_MS = 60 * 60_000;

export interface EvaluationResult {
  /**
   * Why nothing was evaluated: no data, stale data, no ratio, or a reading fetched later was evaluated already
   * (by this instance or, with PostgreSQL, by another leader).
   */
  skipped: 'missing' | 'stale' | 'no-ratio' | 'superseded' | null;
  ratio: number | null;
  crossings: number;
  /** Outbox rows written. */
  messages: number;
  /** Subscriptions whose crossings wait for their cooldown. */
  deferred: number;
}

export interface AlertsService extends AlertSettings, ChatLifecycle {
  /** Telegram's group → supergroup migration: everything under `fromChatId` moves to `toChatId`. Never rejects. */
  migrateChat(platform: Platform, fromChatId: string, toChatId: string): Promise<void>;
  /** The bot was removed or lost rights: pause what this chat had, keeping the reason. Never rejects. */
  pauseChat(platform: Platform, chatId: string, reason: string): Promise<void>;
  /** Evaluates every active subscription against a snapshot; does nothing unless it is fresh and has a ratio. */
  evaluate(snapshot: Snapshot): Promise<EvaluationResult>;
  /** Queues the digests whose minute has come. Call it every minute. @returns how many were queued. */
  runDigests(): Promise<number>;
  /** Deletes delivered rows older than a week. */
  prune(): Promise<void>;
  registerSink(sink: Sink): void;
  readonly dispatcher: AlertDispatcher;
  /** Stops listening to refreshes and stops the dispatcher. */
  stop(): Promise<void>;
}

export interface AlertsOptions {
  core: Core;
  stores: AlertStores;
  /**
   * The root logger, not a child with a `part`: alerts makes `part: 'alerts'` and `part: 'dispatcher'` from
   * it (a child of a child would write `"part"` twice in a line).
   */
  logger: Logger;
  defaultThresholds: readonly number[];
  /** Fraction under a threshold the ratio must fall to count as crossed down (0.1 = 10%). */
  hysteresis: number;
  limits?: Partial<Record<Platform, PlatformLimits>>;
  /** Fields other features add to a chat's digest, given the chat's last digest time. */
  digestFields?: (sinceMs: number) => Promise<ReplyField[]>;
  /** Times each evaluation that ran (not the ones skipped for missing or stale figures). */
  telemetry: Pick<Telemetry, 'alertsEvaluated' | 'alertGivenUp'>;
}

function sameRatio(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
}

/**
 * Which candidate levels cross at `ratio` (nextSide's exact arithmetic; the store's bound for down is a
 * hair wide for rounding), in the order a message lists them: up in ascending, down in descending order
 * (one refresh never crosses both ways). The `crossingsOf` of an evaluation round.
 */
export function crossingsAt(ratio: number, nowMs: number, hysteresis: number) {
  return (candidates: readonly Level[]): LevelCrossing[] => {
    const crossings: Array<LevelCrossing & { order: number }> = [];
    for (const level of candidates) {
      const change = nextSide(level.side, level.ratio, ratio, hysteresis);
      if (change.crossed === null) continue;
      const crossing: Crossing = { threshold: level.ratio, direction: change.crossed, atMs: nowMs, ratio };
      crossings.push({
        levelId: level.id,
        side: change.side,
        crossing,
        order: change.crossed === 'up' ? level.ratio : -level.ratio,
      });
    }
    return crossings.sort((a, b) => a.order - b.order).map(({ order: _order, ...c }) => c);
  };
}

/** The lowest ratio at which an `above` level may cross down: under it the store need not look. */
export function downBoundOf(ratio: number, hysteresis: number): number {
  return (ratio / (1 - hysteresis)) * (1 - 1e-9);
}

export function createAlerts(options: AlertsOptions): AlertsService {
  const { core, stores, defaultThresholds, hysteresis } = options;
  const logger = options.logger.child({ part: 'alerts' });
  const { subscriptions } = stores;
  const clock = core.clock;

  async function toView(sub: Subscription): Promise<AlertSubscriptionView> {
    const thresholds = await subscriptions.thresholdsOf(sub.id);
    return {
      platform: sub.platform,
      chatId: sub.chatId,
      threadId: sub.threadId,
      status: sub.status,
      pauseReason: sub.pauseReason,
      pausedAtMs: sub.pausedAtMs,
      thresholds: thresholds.map((t) => ({ ratio: t.ratio, side: t.side })),
      cooldownMinutes: sub.cooldownMinutes,
      digestMinute: sub.digestMinute,
      lastAlertAtMs: sub.lastAlertAtMs,
    };
  }

  async function requireSub(chat: ChatRef): Promise<Subscription> {
    const sub = await subscriptions.byChat(chat.platform, chat.chatId);
    if (!sub)
      throw new UserInputError('Alerts are off in this chat. A moderator can start them with /opg alerts subscribe.');
    return sub;
  }

  const lifecycle = {
    async migrateChat(platform: Platform, fromChatId: string, toChatId: string): Promise<void> {
      await subscriptions.moveChat(platform, fromChatId, toChatId);
    },
    async pauseChat(platform: Platform, chatId: string, reason: string): Promise<void> {
      const sub = await subscriptions.byChat(platform, chatId);
      if (sub && sub.status === 'active') await subscriptions.pause(sub.id, reason, clock.now());
    },
  };

  const dispatcher = createAlertDispatcher({
    store: stores.outbox,
    clock,
    logger: options.logger.child({ part: 'dispatcher' }),
    lifecycle,
    limits: options.limits,
    telemetry: options.telemetry,
  });

  async function evaluate(snapshot: Snapshot): Promise<EvaluationResult> {
    const reading = snapshot.market;
    const none = { crossings: 0, messages: 0, deferred: 0 };
    if (reading.data === null || reading.fetchedAtMs === null) return { skipped: 'missing', ratio: null, ...none };
    if (core.isStale(reading)) return { skipped: 'stale', ratio: null, ...none };
    const ratio = volumeToMarketCap(reading.data);
    if (ratio === null) return { skipped: 'no-ratio', ratio: null, ...none };
    const market = reading.data;
    const fetchedAtMs = reading.fetchedAtMs;
    const nowMs = clock.now();

    const result = await stores.evaluation.evaluate({
      ratio,
      nowMs,
      fetchedAtMs,
      downBound: downBoundOf(ratio, hysteresis),
      crossingsOf: crossingsAt(ratio, nowMs, hysteresis),
      message: (crossings) => alertReply(crossings, market, fetchedAtMs, reading.source, hysteresis),
    });
    if (result === null) return { skipped: 'superseded', ratio: null, ...none };
    if (result.messages > 0) {
      logger.info({ ratio, ...result }, 'alerts queued');
      dispatcher.wake();
    }
    return { skipped: null, ratio, ...result };
  }

  async function runDigests(): Promise<number> {
    const now = clock.now();
    const due = (await stores.digests.withDigest()).filter((sub) => {
      let scheduled = Math.floor(now / DAY_MS) * DAY_MS + (sub.digestMinute ?? 0) * 60_000;
      if (scheduled > now) scheduled -= DAY_MS;
      return (sub.lastDigestAtMs === null || sub.lastDigestAtMs < scheduled) && now - scheduled < DIGEST_CATCH_UP_MS;
    });
    if (due.length === 0) return 0;
    const market = core.snapshot().market;
    const stale = core.isStale(market);
    const ratio24h = await core.history.ratioStats(DAY_MS);
    const alerted = await stores.digests.alertedSince(
      due.map((sub) => sub.id),
      now - DAY_MS,
    );
    // Chats whose last digest was at the same time share one answer.
    const extraFields = new Map<number, ReplyField[]>();
    const digests = [];
    for (const sub of due) {
      const sinceMs = sub.lastDigestAtMs ?? now - DAY_MS;
      if (!extraFields.has(sinceMs)) extraFields.set(sinceMs, (await options.digestFields?.(sinceMs)) ?? []);
      digests.push({
        subscriptionId: sub.id,
        lastDigestAtMs: sub.lastDigestAtMs,
        reply: digestReply({
          market,
          stale,
          ratio24h,
          fired: alerted.get(sub.id) ?? [],
          hysteresis,
          extraFields: extraFields.get(sinceMs)!,
        }),
      });
    }
    const queued = await stores.digests.queue(digests, now);
    dispatcher.wake();
    return queued;
  }

  const unlisten = core.onRefresh(async (snapshot) => {
    const startedAt = performance.now();
    const r = await evaluate(snapshot);
    if (!r.skipped) options.telemetry.alertsEvaluated(performance.now() - startedAt);
    if (r.skipped) logger.debug({ skipped: r.skipped }, 'alert evaluation skipped');
  });

  return {
    // Adapters call these without waiting (ChatLifecycle): a failure is logged, never left unhandled.
    migrateChat: (platform, fromChatId, toChatId) =>
      lifecycle
        .migrateChat(platform, fromChatId, toChatId)
        .catch((err: unknown) => logger.error({ err, platform }, 'chat migration not recorded')),
    pauseChat: (platform, chatId, reason) =>
      lifecycle
        .pauseChat(platform, chatId, reason)
        .catch((err: unknown) => logger.error({ err, platform }, 'chat pause not recorded')),
    hysteresis,
    maxThresholds: MAX_THRESHOLDS,
    evaluate,
    runDigests,
    dispatcher,
    registerSink: (sink) => dispatcher.registerSink(sink),
    prune: () => stores.outbox.prune(clock.now() - 7 * DAY_MS),
    async stop() {
      unlisten();
      await dispatcher.stop();
    },

    async thresholdsFor(chat) {
      const sub = await subscriptions.byChat(chat.platform, chat.chatId);
      return sub && sub.status === 'active' ? (await subscriptions.thresholdsOf(sub.id)).map((t) => t.ratio) : [];
    },

    async view(chat) {
      const sub = await subscriptions.byChat(chat.platform, chat.chatId);
      return sub ? toView(sub) : null;
    },
    async subscribe(target, createdBy) {
      const existed = await subscriptions.byChat(target.platform, target.chatId);
      const sub = await subscriptions.subscribe(
        {
          platform: target.platform,
          chatId: target.chatId,
          threadId: target.threadId ?? null,
          guildId: target.guildId ?? null,
          createdBy,
          thresholds: defaultThresholds,
        },
        clock.now(),
      );
      return { created: existed === null, view: await toView(sub) };
    },
    async unsubscribe(chat) {
      const sub = await subscriptions.byChat(chat.platform, chat.chatId);
      if (!sub) return false;
      await subscriptions.unsubscribe(sub.id);
      return true;
    },
    async addThreshold(chat, ratio) {
      const sub = await requireSub(chat);
      const existing = await subscriptions.thresholdsOf(sub.id);
      if (existing.some((t) => sameRatio(t.ratio, ratio)))
        throw new UserInputError(`This chat already has a ${ratio}x threshold.`);
      if (existing.length >= MAX_THRESHOLDS) {
        throw new UserInputError(
          `This chat already has ${MAX_THRESHOLDS} thresholds, the most allowed. ` +
            'Remove one first with /opg alerts remove <ratio>.',
        );
      }
      await subscriptions.addThreshold(sub.id, ratio);
      return toView(sub);
    },
    async removeThreshold(chat, ratio) {
      const sub = await requireSub(chat);
      const match = (await subscriptions.thresholdsOf(sub.id)).find((t) => sameRatio(t.ratio, ratio));
      if (!match) throw new UserInputError(`This chat has no ${ratio}x threshold.`);
      await subscriptions.removeThreshold(match.id);
      return toView(sub);
    },
    async setCooldown(chat, minutes) {
      const sub = await requireSub(chat);
      await subscriptions.setCooldown(sub.id, minutes);
      return toView((await subscriptions.byId(sub.id))!);
    },
    async setDigest(chat, minuteOfDay) {
      const sub = await requireSub(chat);
      await subscriptions.setDigest(sub.id, minuteOfDay, clock.now());
      return toView((await subscriptions.byId(sub.id))!);
    },
  };
}
