/**
 * The stores the alerts service needs, as the core sees them. `src/db/` implements them on SQLite
 * (`alert-*.ts`) and on PostgreSQL (`pg-alert-*.ts`); every method returns a Promise so both fit the same ports.
 * An evaluation is one call (`AlertEvaluationStore.evaluate`): one unit of work that the store runs in a
 * single transaction, asking the core's pure rules which levels cross and what the message says.
 */
import type { Crossing, Side } from './alert-rules.js';
import type { Platform } from './chat.js';
import type { Reply } from './reply.js';

export type SubscriptionStatus = 'active' | 'paused';

/** A chat's subscription with its cooldown, as the `alerts` commands and the digest read it. */
export interface Subscription {
  id: number;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
  createdBy: string;
  createdAtMs: number;
  status: SubscriptionStatus;
  pauseReason: string | null;
  pausedAtMs: number | null;
  cooldownMinutes: number;
  /** Minute of the day (UTC) of the daily digest, or null when it is off. */
  digestMinute: number | null;
  lastDigestAtMs: number | null;
  lastAlertAtMs: number | null;
}

/** One threshold of a subscription and the side of the ratio it last saw (null: not yet seen, or paused). */
export interface Threshold {
  id: number;
  ratio: number;
  side: Side | null;
}

export interface NewSubscription {
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
  createdBy: string;
  thresholds: readonly number[];
}

/** Subscriptions, their thresholds and settings: what the `alerts` commands change. */
export interface SubscriptionStore {
  byChat(platform: Platform, chatId: string): Promise<Subscription | null>;
  byId(id: number): Promise<Subscription | null>;
  /** Ascending by ratio. */
  thresholdsOf(subscriptionId: number): Promise<Threshold[]>;
  /** Creates or reactivates a chat's subscription. A reactivated one forgets its old sides and undelivered rows. */
  subscribe(subscription: NewSubscription, nowMs: number): Promise<Subscription>;
  /** Deletes the subscription with everything it holds (thresholds, cooldown, outbox rows). */
  unsubscribe(id: number): Promise<void>;
  /** Stops evaluating the subscription and drops crossings waiting for its cooldown, keeping the reason. */
  pause(id: number, reason: string, nowMs: number): Promise<void>;
  addThreshold(subscriptionId: number, ratio: number): Promise<void>;
  removeThreshold(thresholdId: number): Promise<void>;
  setCooldown(id: number, minutes: number): Promise<void>;
  /** `nowMs` counts as the last digest, so choosing a time that just passed does not post at once. */
  setDigest(id: number, minuteOfDay: number | null, nowMs: number): Promise<void>;
  /** Points `fromChatId` at `toChatId`; if that chat already has a subscription, the undelivered rows join it. */
  moveChat(platform: Platform, fromChatId: string, toChatId: string): Promise<void>;
}

/** The shared state of one threshold value (see `alert_levels`): every chat's threshold at that ratio and side. */
export interface Level {
  id: number;
  ratio: number;
  side: Side;
}

/** A level that crosses in this evaluation: its new side and the crossing every chat holding it reports. */
export interface LevelCrossing {
  levelId: number;
  side: Side;
  crossing: Crossing;
}

/** The core's half of one evaluation: the ratio, and the pure rules the store applies to its rows. */
export interface EvaluationRound {
  ratio: number;
  nowMs: number;
  /** When the reading the ratio comes from was fetched: a round older than the last one evaluated is skipped. */
  fetchedAtMs: number;
  /** Levels that may cross: `below` ones at or under `ratio`, `above` ones over `downBound`. */
  downBound: number;
  /** Which of these candidates cross, in the order a message lists them. */
  crossingsOf(candidates: readonly Level[]): LevelCrossing[];
  /** The alert for one chat's crossings: those that waited for its cooldown first, then the fresh ones. */
  message(crossings: readonly Crossing[]): Reply;
}

/** What one evaluation wrote: crossings (thresholds that crossed), outbox rows, chats deferred by their cooldown. */
export interface EvaluationCounts {
  crossings: number;
  messages: number;
  deferred: number;
}

export interface AlertEvaluationStore {
  /**
   * Runs one evaluation as a single transaction: a crash either keeps all it wrote or none of it. Evaluations
   * run one at a time, and each records its reading's `fetchedAtMs` in the store. @returns null, having read
   * and written nothing else, when a reading fetched later was evaluated already (a stepped-down leader's late
   * refresh): evaluating it would turn levels back to an older ratio. The same reading again is evaluated, as
   * before (it crosses nothing new; crossings that waited for their cooldown may fall due).
   */
  evaluate(round: EvaluationRound): Promise<EvaluationCounts | null>;
}

/** The oldest undelivered message of one subscription, with where it goes. */
export interface OutboxHead {
  id: number;
  subscriptionId: number;
  kind: 'alert' | 'digest';
  payloadId: number;
  attempts: number;
  nextAttemptAtMs: number;
  /** Until when a dispatcher (this one or another leader's) holds the row, or null. */
  claimedUntilMs: number | null;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
}

/**
 * The messages waiting for delivery, as the dispatcher reads, claims and settles them. A row is claimed
 * (a lease until `nowMs + leaseMs`) just before it is handed to its platform; settling it ends the lease.
 * Two dispatchers (two leaders overlapping for a moment) never both win the claim of one row, and a row
 * whose dispatcher died mid-send can be claimed again once its lease has run out.
 *
 * The lease's end is the claim's token: every settling call names the `claimedUntilMs` it holds and changes
 * the row only while the row still carries it. A dispatcher whose lease ran out while it waited (a slow send,
 * a store that failed for a while) and that another one has claimed since settles nothing: its late write
 * must not end the other's lease and open the row to a third send. Each new claim sets a later end than the
 * one it replaces (it is taken at or after that end), so an old token never matches a newer claim.
 */
export interface OutboxStore {
  /** The oldest undelivered row of each active subscription on `platform`, oldest first. */
  heads(platform: Platform, limit: number): Promise<OutboxHead[]>;
  /** The message a row carries, or null when it is gone. */
  payload(payloadId: number): Promise<Reply | null>;
  /**
   * Takes the lease of an undelivered row that nobody holds (no lease, or one that ended by `nowMs`).
   * @returns the lease's end (`nowMs + leaseMs`), the token to settle the row with; null when the row is
   * settled or another dispatcher holds it: then it must not be sent.
   */
  claim(id: number, nowMs: number, leaseMs: number): Promise<number | null>;
  /**
   * Ends a row's lease without settling it (its chat moved or went away): it may be claimed again at once.
   * Each settling call takes `claimedUntilMs`, the token `claim` returned (or, for a row settled without a
   * claim, the `claimedUntilMs` its head was read with), and @returns false, changing nothing, when the row
   * no longer carries it: another dispatcher holds it now, or it was settled already.
   */
  release(id: number, claimedUntilMs: number | null): Promise<boolean>;
  markSent(id: number, claimedUntilMs: number | null, nowMs: number): Promise<boolean>;
  markRetry(id: number, claimedUntilMs: number | null, nextAttemptAtMs: number, reason: string): Promise<boolean>;
  markFailed(id: number, claimedUntilMs: number | null, nowMs: number, reason: string): Promise<boolean>;
  /** Deletes delivered or abandoned rows older than `beforeMs`, and messages nothing points at. */
  prune(beforeMs: number): Promise<void>;
}

/** A digest to queue for one subscription. */
export interface QueuedDigest {
  subscriptionId: number;
  /** The subscription's last digest time as read when this digest was built: queued only if still so. */
  lastDigestAtMs: number | null;
  reply: Reply;
}

/** The daily digests: who wants one, what they were alerted to, and queueing them. */
export interface DigestStore {
  /** Active subscriptions with a digest time. */
  withDigest(): Promise<Subscription[]>;
  /** The crossings alerted to each of `subscriptionIds` since `sinceMs`, oldest first (chats with none are absent). */
  alertedSince(subscriptionIds: readonly number[], sinceMs: number): Promise<Map<number, Crossing[]>>;
  /**
   * Queues each digest and records it as the subscription's last, in one transaction; a digest whose
   * subscription's last digest time is no longer the one it was built from (another instance queued it during a
   * leader hand-over) is dropped. Resolves with the number queued.
   */
  queue(digests: readonly QueuedDigest[], nowMs: number): Promise<number>;
}

/** Everything the alerts service stores, one port per job. */
export interface AlertStores {
  subscriptions: SubscriptionStore;
  evaluation: AlertEvaluationStore;
  outbox: OutboxStore;
  digests: DigestStore;
}
