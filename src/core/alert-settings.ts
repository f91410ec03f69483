/**
 * What the `alerts` commands (and `volume`, and the ratio chart) may ask of the alerts service. Every change
 * validates first and stores nothing when refused.
 */
import type { Side } from './alert-rules.js';
import type { ChatRef, Platform } from './chat.js';

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

export interface AlertSettings {
  /** The re-arm band as a fraction, for explaining "down" crossings. */
  readonly hysteresis: number;
  readonly maxThresholds: number;
  view(chat: ChatRef): Promise<AlertSubscriptionView | null>;
  /** Starts (or resumes) alerts for `target`; a new subscription gets the default thresholds. */
  subscribe(target: ChatRef, createdBy: string): Promise<{ created: boolean; view: AlertSubscriptionView }>;
  /** @returns false when the chat had no subscription. */
  unsubscribe(chat: ChatRef): Promise<boolean>;
  /** @throws UserInputError when not subscribed, at the maximum, or a duplicate. */
  addThreshold(chat: ChatRef, ratio: number): Promise<AlertSubscriptionView>;
  /** @throws UserInputError when not subscribed or no such threshold. */
  removeThreshold(chat: ChatRef, ratio: number): Promise<AlertSubscriptionView>;
  setCooldown(chat: ChatRef, minutes: number): Promise<AlertSubscriptionView>;
  setDigest(chat: ChatRef, minuteOfDay: number | null): Promise<AlertSubscriptionView>;
  /** The thresholds of an active subscription in `chat`, ascending; none when it is off or paused. */
  thresholdsFor(chat: ChatRef): Promise<number[]>;
}
