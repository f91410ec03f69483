/**
 * The alerts service: subscriptions and thresholds (for the `alerts` commands), evaluation after every
 * fresh refresh, the daily digest, and the dispatcher that delivers the outbox. Evaluation writes threshold
 * state, pending crossings and outbox rows in one transaction, so a crash either keeps an alert or never
 * saw its crossing; it never half-records one.
 */
import { alertReply, digestReply } from './alert-messages.js';
import { nextSide, type Crossing, type Side } from './alert-rules.js';
import { createAlertDispatcher, type AlertDispatcher, type PlatformLimits } from './alert-dispatcher.js';
import type { ChatRef, Platform } from './command.js';
import type { Core } from './core.js';
import { UserInputError } from './errors.js';
import type { Logger } from './logger.js';
import type { ReplyField } from './reply.js';
import { volumeToMarketCap } from './metrics.js';
import type { ThresholdReader } from './services.js';
import type { ChatLifecycle, Sink } from './sink.js';
import type { Snapshot } from './snapshot.js';
import type { AlertStore, LevelFlip, StagedMessage, SubscriptionRow } from '../db/alert-store.js';

export const MAX_THRESHOLDS = 10;
const DAY_MS = 86_400_000;
/** A digest whose minute passed while the bot was down is still sent within this window, never later. */
const DIGEST_CATCH_UP_MS = 60 * 60_000;

export interface AlertSubscriptionView {
  platform: Platform;
  chatId: string;
  threadId: string | null;
  status: 'active' | 'paused';
  pauseReason: string | null;
  pausedAtMs: number | null;
  thresholds: Array<{ ratio: number; side: Side | null }>;
  cooldownMinutes: number;
  /** Minute of the day, UTC, or null when the digest is off. */
  digestMinute: number | null;
  lastAlertAtMs: number | null;
}

/** What the `alerts` commands may do. Every change validates first and stores nothing when refused. */
export interface AlertSettings {
  /** The re-arm band as a fraction, for explaining "down" crossings. */
  readonly hysteresis: number;
  readonly maxThresholds: number;
  view(chat: ChatRef): AlertSubscriptionView | null;
  /** Starts (or resumes) alerts for `target`; a new subscription gets the default thresholds. */
  subscribe(target: ChatRef, createdBy: string): { created: boolean; view: AlertSubscriptionView };
  /** @returns false when the chat had no subscription. */
  unsubscribe(chat: ChatRef): boolean;
  /** @throws UserInputError when not subscribed, at the maximum, or a duplicate. */
  addThreshold(chat: ChatRef, ratio: number): AlertSubscriptionView;
  /** @throws UserInputError when not subscribed or no such threshold. */
  removeThreshold(chat: ChatRef, ratio: number): AlertSubscriptionView;
  setCooldown(chat: ChatRef, minutes: number): AlertSubscriptionView;
  setDigest(chat: ChatRef, minuteOfDay: number | null): AlertSubscriptionView;
}

export interface EvaluationResult {
  /** Why nothing was evaluated: no data, stale data, or no ratio. */
  skipped: 'missing' | 'stale' | 'no-ratio' | null;
  ratio: number | null;
  crossings: number;
  /** Outbox rows written. */
  messages: number;
  /** Subscriptions whose crossings wait for their cooldown. */
  deferred: number;
}

export interface AlertsService extends AlertSettings, ChatLifecycle, ThresholdReader {
  /** Evaluates every active subscription against a snapshot; does nothing unless it is fresh and has a ratio. */
  evaluate(snapshot: Snapshot): EvaluationResult;
  /** Queues the digests whose minute has come. Call it every minute. @returns how many were queued. */
  runDigests(): number;
  /** Deletes delivered rows older than a week. */
  prune(): void;
  registerSink(sink: Sink): void;
  readonly dispatcher: AlertDispatcher;
  /** Stops listening to refreshes and stops the dispatcher. */
  stop(): Promise<void>;
}

export interface AlertsOptions {
  core: Core;
  store: AlertStore;
  logger: Logger;
  defaultThresholds: readonly number[];
  /** Fraction under a threshold the ratio must fall to count as crossed down (0.1 = 10%). */
  hysteresis: number;
  limits?: Partial<Record<Platform, PlatformLimits>>;
  /** Fields other features add to a chat's digest, given the chat's last digest time. */
  digestFields?: (sinceMs: number) => ReplyField[];
}

function sameRatio(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
}

export function createAlerts(options: AlertsOptions): AlertsService {
  const { core, store, logger, defaultThresholds, hysteresis } = options;
  const clock = core.clock;

  function toView(sub: SubscriptionRow): AlertSubscriptionView {
    return {
      platform: sub.platform,
      chatId: sub.chatId,
      threadId: sub.threadId,
      status: sub.status,
      pauseReason: sub.pauseReason,
      pausedAtMs: sub.pausedAtMs,
      thresholds: store.thresholdsOf(sub.id).map((t) => ({ ratio: t.ratio, side: t.side === 'above' || t.side === 'below' ? t.side : null })),
      cooldownMinutes: sub.cooldownMinutes,
      digestMinute: sub.digestMinute,
      lastAlertAtMs: sub.lastAlertAtMs,
    };
  }

  function requireSub(chat: ChatRef): SubscriptionRow {
    const sub = store.byChat(chat.platform, chat.chatId);
    if (!sub) throw new UserInputError('Alerts are off in this chat. A moderator can start them with /opg alerts subscribe.');
    return sub;
  }

  const lifecycle: ChatLifecycle = {
    migrateChat(platform, fromChatId, toChatId) {
      store.moveChat(platform, fromChatId, toChatId);
    },
    pauseChat(platform, chatId, reason) {
      const sub = store.byChat(platform, chatId);
      if (sub && sub.status === 'active') store.pause(sub.id, reason, clock.now());
    },
  };

  const dispatcher = createAlertDispatcher({ store, clock, logger: logger.child({ part: 'dispatcher' }), lifecycle, limits: options.limits });

  function evaluate(snapshot: Snapshot): EvaluationResult {
    const reading = snapshot.market;
    const none = { crossings: 0, messages: 0, deferred: 0 };
    if (reading.data === null || reading.fetchedAtMs === null) return { skipped: 'missing', ratio: null, ...none };
    if (core.isStale(reading)) return { skipped: 'stale', ratio: null, ...none };
    const ratio = volumeToMarketCap(reading.data);
    if (ratio === null) return { skipped: 'no-ratio', ratio: null, ...none };
    const market = reading.data;
    const fetchedAtMs = reading.fetchedAtMs;
    const now = clock.now();

    const result = store.evaluation(() => {
      // Crossings are decided once per level (one distinct threshold value and side), with nextSide's exact
      // arithmetic; the SQL bound for down is a hair wide for rounding. A chat's fresh crossings are listed
      // up in ascending, down in descending order (one refresh never crosses both ways).
      const downBound = (ratio / (1 - hysteresis)) * (1 - 1e-9);
      const flips: LevelFlip[] = [];
      for (const level of store.levelCandidates(ratio, downBound)) {
        const change = nextSide(level.side, level.ratio, ratio, hysteresis);
        if (change.crossed === null) continue;
        const crossing: Crossing = { threshold: level.ratio, direction: change.crossed, atMs: now, ratio };
        flips.push({ levelId: level.id, side: change.side, order: change.crossed === 'up' ? level.ratio : -level.ratio, crossingJson: JSON.stringify(crossing) });
      }
      flips.sort((a, b) => a.order - b.order);
      // One payload per distinct message and one pending row per distinct merged list, each shared by every
      // chat with the same crossings; messages list pending crossings first, then fresh ones. A message can
      // come twice (ready chats and deferred ones): the payload or pending row is written once.
      const staged = store.stage(flips, now);
      const byKey = new Map<string, StagedMessage>();
      for (const g of staged.groups) {
        const key = `${g.levels}|${g.pendingId}`;
        let m = byKey.get(key);
        if (!m) byKey.set(key, (m = { levels: g.levels, pendingId: g.pendingId, payloadId: null, newPendingId: null }));
        if (!g.ready && !g.deferred) continue;
        const parts = g.fresh.map((i) => flips[i]!.crossingJson);
        if (g.pendingId !== 0) parts.unshift(store.pendingJson(g.pendingId).slice(1, -1));
        const allJson = `[${parts.filter((p) => p !== '').join(',')}]`;
        if (g.ready && m.payloadId === null) {
          const all = JSON.parse(allJson) as Crossing[];
          m.payloadId = store.insertPayload(JSON.stringify(alertReply(all, market, fetchedAtMs, reading.source, hysteresis)), allJson, now);
        }
        if (g.deferred && m.newPendingId === null) m.newPendingId = store.insertPending(allJson);
      }
      const written = store.commitStaged([...byKey.values()], now);
      store.applyFlips(flips, ratio, now);
      return { crossings: staged.crossings, ...written };
    });
    if (result.messages > 0) {
      logger.info({ ratio, ...result }, 'alerts queued');
      dispatcher.wake();
    }
    return { skipped: null, ratio, ...result };
  }

  function runDigests(): number {
    const now = clock.now();
    const due = store.digestCandidates().filter((sub) => {
      let scheduled = Math.floor(now / DAY_MS) * DAY_MS + (sub.digestMinute ?? 0) * 60_000;
      if (scheduled > now) scheduled -= DAY_MS;
      return (sub.lastDigestAtMs === null || sub.lastDigestAtMs < scheduled) && now - scheduled < DIGEST_CATCH_UP_MS;
    });
    if (due.length === 0) return 0;
    const market = core.snapshot().market;
    const stale = core.isStale(market);
    const ratio24h = core.history.ratioStats(DAY_MS);
    store.transaction(() => {
      const firedBySub = store.firedSince(due.map((sub) => sub.id), now - DAY_MS);
      for (const sub of due) {
        const fired = firedBySub.get(sub.id) ?? [];
        const extraFields = options.digestFields?.(sub.lastDigestAtMs ?? now - DAY_MS) ?? [];
        const digest = digestReply({ market, stale, ratio24h, fired, hysteresis, extraFields });
        store.enqueue(sub.id, 'digest', store.insertPayload(JSON.stringify(digest), '[]', now), now);
        store.markDigest(sub.id, now);
      }
    });
    dispatcher.wake();
    return due.length;
  }

  const unlisten = core.onRefresh((snapshot) => {
    const r = evaluate(snapshot);
    if (r.skipped) logger.debug({ skipped: r.skipped }, 'alert evaluation skipped');
  });

  return {
    ...lifecycle,
    hysteresis,
    maxThresholds: MAX_THRESHOLDS,
    evaluate,
    runDigests,
    dispatcher,
    registerSink: (sink) => dispatcher.registerSink(sink),
    prune: () => store.prune(clock.now() - 7 * DAY_MS),
    async stop() {
      unlisten();
      await dispatcher.stop();
    },

    thresholdsFor(chat) {
      const sub = store.byChat(chat.platform, chat.chatId);
      return sub && sub.status === 'active' ? store.thresholdsOf(sub.id).map((t) => t.ratio) : [];
    },

    view(chat) {
      const sub = store.byChat(chat.platform, chat.chatId);
      return sub ? toView(sub) : null;
    },
    subscribe(target, createdBy) {
      const existed = store.byChat(target.platform, target.chatId);
      const sub = store.subscribe(
        { platform: target.platform, chatId: target.chatId, threadId: target.threadId ?? null, guildId: target.guildId ?? null, createdBy, thresholds: defaultThresholds },
        clock.now(),
      );
      return { created: existed === null, view: toView(sub) };
    },
    unsubscribe(chat) {
      const sub = store.byChat(chat.platform, chat.chatId);
      if (!sub) return false;
      store.deleteSubscription(sub.id);
      return true;
    },
    addThreshold(chat, ratio) {
      const sub = requireSub(chat);
      const existing = store.thresholdsOf(sub.id);
      if (existing.some((t) => sameRatio(t.ratio, ratio))) throw new UserInputError(`This chat already has a ${ratio}x threshold.`);
      if (existing.length >= MAX_THRESHOLDS) {
        throw new UserInputError(`This chat already has ${MAX_THRESHOLDS} thresholds, the most allowed. Remove one first with /opg alerts remove <ratio>.`);
      }
      store.addThreshold(sub.id, ratio);
      return toView(sub);
    },
    removeThreshold(chat, ratio) {
      const sub = requireSub(chat);
      const match = store.thresholdsOf(sub.id).find((t) => sameRatio(t.ratio, ratio));
      if (!match) throw new UserInputError(`This chat has no ${ratio}x threshold.`);
      store.deleteThreshold(match.id);
      return toView(sub);
    },
    setCooldown(chat, minutes) {
      const sub = requireSub(chat);
      store.setCooldown(sub.id, minutes);
      return toView(store.byId(sub.id)!);
    },
    setDigest(chat, minuteOfDay) {
      const sub = requireSub(chat);
      store.setDigest(sub.id, minuteOfDay, clock.now());
      return toView(store.byId(sub.id)!);
    },
  };
}
