/**
 * Drains the alert outbox through each platform's sink, within that platform's limits:
 * Telegram allows about 30 messages a second overall, 1 a second to one chat and 20 a minute to one group
 * (negative chat ids), so the defaults stay a little inside (25/s, 1.05 s per chat, 20 per 61 s per group).
 * Discord's per-route limits live in its sink's REST queue; here it only gets a modest overall pace.
 *
 * Crash safety: a row is marked sent only after its sink said `delivered`, and each chat has at most one
 * message in flight, so a process killed mid fan-out repeats at most one message per chat on restart.
 * A store that fails the write after a send (a failover) is tried again while the row's lease lasts, so a blip
 * does not send it twice; and every write names the claim it settles, so a dispatcher whose lease ran out and
 * was taken over by another leader changes nothing (see `OutboxStore`).
 * The order of a chat's messages is kept: only the oldest undelivered row of a subscription is ever tried.
 * Each platform is drained by its own loop: a platform that hangs or rate-limits never delays another's.
 */
import { LRUCache } from 'lru-cache';
import { backoffMs, retry, type BackoffPolicy } from './backoff.js';
import type { OutboxHead, OutboxStore } from './alert-ports.js';
import type { Platform } from './chat.js';
import type { Clock } from './clock.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { Reply } from './reply.js';
import type { DeliveryResult, Sink } from './sink.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

export interface PlatformLimits {
  /** Least time between two sends on this platform (1000 / messages per second). */
  minIntervalMs: number;
  /** Least time between two sends to one chat. */
  perChatIntervalMs: number;
  /** A sliding-window cap for group chats (Telegram: 20 a minute), and how to tell a group. */
  group?: { max: number; windowMs: number; isGroup(chatId: string): boolean };
  /** Sends awaiting an answer at once (each to a different chat). */
  maxInFlight: number;
}

export const TELEGRAM_LIMITS: PlatformLimits = {
  minIntervalMs: 41,
  perChatIntervalMs: 1_050,
  group: { max: 20, windowMs: 61_000, isGroup: (chatId) => chatId.startsWith('-') },
  maxInFlight: 8,
};

export const DISCORD_LIMITS: PlatformLimits = { minIntervalMs: 50, perChatIntervalMs: 0, maxInFlight: 4 };

const UNLIMITED: PlatformLimits = { minIntervalMs: 0, perChatIntervalMs: 0, maxInFlight: 1 };

export interface AlertDispatcherOptions {
  store: OutboxStore;
  clock: Clock;
  logger: Logger;
  /** Pauses subscriptions whose sink answered gone, and follows moves; awaited before the next sweep. */
  lifecycle: {
    pauseChat(platform: Platform, chatId: string, reason: string): Promise<void>;
    migrateChat(platform: Platform, fromChatId: string, toChatId: string): Promise<void>;
  };
  limits?: Partial<Record<Platform, PlatformLimits>>;
  /** Told of each alert given up undelivered (default: nobody). */
  telemetry?: Pick<Telemetry, 'alertGivenUp'>;
  /** A row that keeps failing is given up after this many attempts (default 12). */
  maxAttempts?: number;
  /** First backoff for failures; doubles per attempt up to `maxBackoffMs` (defaults 2 s, 15 min). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often the running loop looks for new rows when nobody wakes it (default 2 s). */
  pollMs?: number;
  /**
   * How long a claimed row stays this dispatcher's (default 60 s): longer than any one delivery may take
   * (the Telegram sink's deadline is 20 s, Discord's 10 s), so another leader never sends a row still in
   * flight here, and short enough that a row whose leader died mid-send goes out soon after a standby
   * takes over.
   */
  leaseMs?: number;
}

export interface AlertDispatcher {
  /** Adds (or replaces) the sink for its platform. Rows for platforms without a sink wait. */
  registerSink(sink: Sink): void;
  /**
   * Delivers everything deliverable, waiting on the clock for limits and retries, and resolves when no row
   * with a sink is left undelivered. Made for tests (with a test clock) and one-shot runs.
   */
  drain(): Promise<void>;
  /** Runs until `stop()`: drains, then waits for `wake()` or the poll interval. Needs a real clock. */
  start(): void;
  /** Stops starting sends; resolves once the loop and the sends in flight are done. */
  stop(): Promise<void>;
  /** New rows were written: look now rather than at the next poll. */
  wake(): void;
}

interface Limiter {
  chatWaitMs(chatId: string, nowMs: number): number;
  overallWaitMs(nowMs: number): number;
  record(chatId: string, nowMs: number): void;
}

function createLimiter(limits: PlatformLimits): Limiter {
  let lastSendMs = -Infinity;
  const lastByChat = new Map<string, number>();
  const groupSends = new Map<string, number[]>();
  return {
    chatWaitMs(chatId, nowMs) {
      let wait = (lastByChat.get(chatId) ?? -Infinity) + limits.perChatIntervalMs - nowMs;
      const g = limits.group;
      if (g?.isGroup(chatId)) {
        const times = (groupSends.get(chatId) ?? []).filter((t) => t > nowMs - g.windowMs);
        groupSends.set(chatId, times);
        if (times.length >= g.max) wait = Math.max(wait, times[0]! + g.windowMs - nowMs);
      }
      return Math.max(0, wait);
    },
    overallWaitMs: (nowMs) => Math.max(0, lastSendMs + limits.minIntervalMs - nowMs),
    record(chatId, nowMs) {
      lastSendMs = nowMs;
      lastByChat.set(chatId, nowMs);
      if (limits.group?.isGroup(chatId)) groupSends.set(chatId, [...(groupSends.get(chatId) ?? []), nowMs]);
    },
  };
}

const HEADS_PER_SWEEP = 500;
/** Between tries of a settling write that failed after a send (see `book`): 0.5 s doubling to 5 s. */
const BOOKKEEPING_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5_000 };

/**
 * One platform's share of the dispatcher: its sink, its limits and its sends in flight, drained by its own
 * loop, so a platform that is slow, rate-limited or hanging never holds up another platform's alerts.
 */
interface Lane {
  readonly platform: Platform;
  sink: Sink;
  readonly limits: PlatformLimits;
  readonly limiter: Limiter;
  /** Subscription id → its send in flight. */
  readonly inFlight: Map<number, Promise<void>>;
  loop: Promise<void> | null;
  wakeUp: (() => void) | null;
}

export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const { store, clock, logger, lifecycle } = options;
  const maxAttempts = options.maxAttempts ?? 12;
  const baseBackoffMs = options.baseBackoffMs ?? 2_000;
  const maxBackoffMs = options.maxBackoffMs ?? 15 * 60_000;
  const pollMs = options.pollMs ?? 2_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const telemetry = options.telemetry ?? noTelemetry;
  const limitsFor = (p: Platform): PlatformLimits =>
    options.limits?.[p] ?? (p === 'telegram' ? TELEGRAM_LIMITS : p === 'discord' ? DISCORD_LIMITS : UNLIMITED);

  const lanes = new Map<Platform, Lane>();
  // A fan-out's message is read once for all its chats; a thousand recent ones cover every sweep.
  const payloads = new LRUCache<number, Reply>({ max: 1_000 });
  let running = false;
  let stopped = false;

  async function replyFor(payloadId: number): Promise<Reply | null> {
    let r = payloads.get(payloadId);
    if (!r) {
      const stored = await store.payload(payloadId);
      if (stored === null) return null;
      r = stored;
      payloads.set(payloadId, r);
    }
    return r;
  }

  /**
   * Writes what became of a row this dispatcher claimed (`lease`: the claim's token). The send has happened, so a
   * write that fails (a failover, a pool timeout) is tried again, with the bounded backoff, while the lease lasts:
   * left as it is, the row would be claimed and sent again once the lease ran out. The last try starts a sixth
   * of the lease (10 s by default, the pool's connect timeout) before its end, so a try that lands is still this
   * claim's. One line per row, however many tries: a warning once a write went through after failing, an error
   * when the lease ran out first (the row then goes out again once another claim takes it). A row another
   * dispatcher holds now (its lease ran out here and it was claimed again) is left alone, with a warning.
   * @returns whether the write was made.
   */
  async function book(head: OutboxHead, lease: number, what: string, write: () => Promise<boolean>): Promise<boolean> {
    const lastTryMs = lease - leaseMs / 6;
    let failures = 0;
    let firstError: unknown;
    let mine: boolean;
    try {
      mine = await retry(write, {
        ...BOOKKEEPING_BACKOFF,
        attempts: Number.POSITIVE_INFINITY,
        shouldRetry: (_err, n) => clock.now() + backoffMs(n, BOOKKEEPING_BACKOFF) <= lastTryMs,
        onRetry: (err) => {
          failures += 1;
          firstError ??= err;
        },
        clock,
      });
    } catch (err) {
      logger.error(
        { err, outboxId: head.id, platform: head.platform, tries: failures + 1, leaseEndsAtMs: lease },
        `alert delivery bookkeeping failed (${what}); the row goes out again once its lease has ended`,
      );
      return false;
    }
    if (failures > 0)
      logger.warn(
        { err: firstError, outboxId: head.id, platform: head.platform, tries: failures + 1 },
        `alert delivery bookkeeping (${what}) went through after failing`,
      );
    if (!mine)
      logger.warn(
        { outboxId: head.id, platform: head.platform, leaseEndsAtMs: lease },
        `alert row not settled (${what}): its lease ran out and another instance holds it now`,
      );
    return mine;
  }

  async function settle(head: OutboxHead, lease: number, result: DeliveryResult): Promise<void> {
    const now = clock.now();
    switch (result.status) {
      case 'delivered':
        await book(head, lease, 'sent', () => store.markSent(head.id, lease, now));
        return;
      case 'retry': {
        const attempt = head.attempts + 1;
        if (attempt >= maxAttempts) {
          const reason = `gave up after ${attempt} attempts: ${result.reason}`;
          if (await book(head, lease, 'failed', () => store.markFailed(head.id, lease, now, reason))) {
            telemetry.alertGivenUp(head.platform);
            logger.warn({ outboxId: head.id, platform: head.platform, reason: result.reason }, 'alert given up');
          }
          return;
        }
        const backoff = backoffMs(attempt, { baseMs: baseBackoffMs, maxMs: maxBackoffMs });
        // A retry-after the platform gave is honoured as is; the growing backoff takes over for a failure
        // with no hint, or one that keeps coming back.
        const delay = result.retryAfterMs > 0 ? Math.max(result.retryAfterMs, attempt > 3 ? backoff : 0) : backoff;
        if (await book(head, lease, 'retry', () => store.markRetry(head.id, lease, now + delay, result.reason)))
          logger.debug({ outboxId: head.id, delayMs: delay, reason: result.reason }, 'alert delivery will be retried');
        return;
      }
      case 'failed':
        if (await book(head, lease, 'failed', () => store.markFailed(head.id, lease, now, result.reason))) {
          telemetry.alertGivenUp(head.platform);
          logger.error(
            { outboxId: head.id, platform: head.platform, reason: result.reason },
            'alert refused for good; given up, the subscription stays on',
          );
        }
        return;
      case 'gone':
        await book(head, lease, 'released', () => store.release(head.id, lease));
        await lifecycle.pauseChat(head.platform, head.chatId, result.reason);
        logger.info(
          { platform: head.platform, chatId: head.chatId, reason: result.reason },
          'alert subscription paused',
        );
        return;
      case 'moved':
        await book(head, lease, 'released', () => store.release(head.id, lease));
        await lifecycle.migrateChat(head.platform, head.chatId, result.toChatId);
        logger.info({ platform: head.platform, from: head.chatId, to: result.toChatId }, 'alert subscription moved');
        return;
    }
  }

  /** Hands one row to its sink at once (the limiter recorded this moment), then records what happened. */
  async function deliver(head: OutboxHead, lease: number, sink: Sink, payload: Reply): Promise<void> {
    let result: DeliveryResult;
    try {
      result = await sink.deliver(
        { platform: head.platform, chatId: head.chatId, threadId: head.threadId, guildId: head.guildId },
        payload,
      );
    } catch (err) {
      result = { status: 'retry', retryAfterMs: 0, reason: describeError(err) };
    }
    await settle(head, lease, result);
  }

  /** One pass over a lane's heads. Returns 0 to go again at once, ms until something is due, or null when idle. */
  async function sweep(lane: Lane): Promise<number | null> {
    const heads = await store.heads(lane.platform, HEADS_PER_SWEEP);
    let earliest = Infinity;
    // Rows handed to the sink or settled without it: either way the next sweep sees a new head.
    let settled = 0;
    for (const head of heads) {
      if (stopped) break;
      if (lane.inFlight.has(head.subscriptionId)) continue;
      let now = clock.now();
      if (head.nextAttemptAtMs > now) {
        earliest = Math.min(earliest, head.nextAttemptAtMs);
        continue;
      }
      // Another dispatcher (a leader overlapping this one) holds the row: it is theirs until the lease ends.
      if (head.claimedUntilMs !== null && head.claimedUntilMs > now) {
        earliest = Math.min(earliest, head.claimedUntilMs);
        continue;
      }
      const chatWait = lane.limiter.chatWaitMs(head.chatId, now);
      if (chatWait > 0) {
        earliest = Math.min(earliest, now + chatWait);
        continue;
      }
      const payload = await replyFor(head.payloadId);
      if (!payload) {
        await store.markFailed(head.id, head.claimedUntilMs, clock.now(), 'payload missing');
        settled += 1;
        continue;
      }
      if (stopped) return null;
      now = clock.now();
      for (;;) {
        const wait = lane.limiter.overallWaitMs(now);
        if (wait <= 0 && lane.inFlight.size < lane.limits.maxInFlight) break;
        if (wait > 0) await clock.sleep(wait);
        else await Promise.race(lane.inFlight.values());
        if (stopped) return null;
        now = clock.now();
      }
      const lease = await store.claim(head.id, now, leaseMs);
      if (lease === null) {
        // Settled or claimed elsewhere since the heads were read: the next sweep sees the new state.
        settled += 1;
        continue;
      }
      if (stopped) {
        await store.release(head.id, lease);
        return null;
      }
      now = clock.now();
      lane.limiter.record(head.chatId, now);
      const sink = lane.sink;
      const done = deliver(head, lease, sink, payload)
        .catch((err: unknown) => logger.error({ err, outboxId: head.id }, 'alert delivery bookkeeping failed'))
        .finally(() => lane.inFlight.delete(head.subscriptionId));
      lane.inFlight.set(head.subscriptionId, done);
      settled += 1;
    }
    if (settled > 0) return 0;
    if (lane.inFlight.size > 0) {
      await Promise.race(lane.inFlight.values());
      return 0;
    }
    return earliest === Infinity ? null : Math.max(1, earliest - clock.now());
  }

  async function waitForWake(lane: Lane, ms: number): Promise<void> {
    await Promise.race([clock.sleep(ms), new Promise<void>((resolve) => (lane.wakeUp = resolve))]);
    lane.wakeUp = null;
  }

  function runLane(lane: Lane): void {
    if (lane.loop) return;
    lane.loop = (async () => {
      while (!stopped) {
        try {
          const next = await sweep(lane);
          // A sweep cut short by stop() ends the loop now, not after one more poll interval.
          if (next === 0 || stopped) continue;
          await waitForWake(lane, next === null ? pollMs : Math.min(next, pollMs));
        } catch (err) {
          logger.error({ err, platform: lane.platform }, 'alert dispatcher pass failed');
          await waitForWake(lane, pollMs);
        }
      }
    })();
  }

  async function drainLane(lane: Lane): Promise<void> {
    while (!stopped) {
      const next = await sweep(lane);
      if (next === null) break;
      if (next > 0) await clock.sleep(next);
    }
    await Promise.all(lane.inFlight.values());
  }

  return {
    registerSink(sink) {
      const lane = lanes.get(sink.platform);
      if (lane) {
        lane.sink = sink;
        lane.wakeUp?.();
        return;
      }
      const limits = limitsFor(sink.platform);
      const added: Lane = {
        platform: sink.platform,
        sink,
        limits,
        limiter: createLimiter(limits),
        inFlight: new Map(),
        loop: null,
        wakeUp: null,
      };
      lanes.set(sink.platform, added);
      // Rows written while this platform had no sink are sent now, not at the next poll.
      if (running) runLane(added);
    },
    async drain() {
      await Promise.all([...lanes.values()].map(drainLane));
    },
    start() {
      if (running) return;
      running = true;
      stopped = false;
      for (const lane of lanes.values()) runLane(lane);
    },
    async stop() {
      stopped = true;
      running = false;
      for (const lane of lanes.values()) lane.wakeUp?.();
      await Promise.all([...lanes.values()].map(async (l) => l.loop));
      for (const lane of lanes.values()) lane.loop = null;
      const inFlight: Array<Promise<void>> = [];
      for (const lane of lanes.values()) inFlight.push(...lane.inFlight.values());
      await Promise.all(inFlight);
    },
    wake() {
      for (const lane of lanes.values()) lane.wakeUp?.();
    },
  };
}
