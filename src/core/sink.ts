/**
 * The contracts between the alert dispatcher and the platforms. Each front end provides a sink that
 * delivers one reply to one chat and says what happened, in the dispatcher's terms rather than its own.
 */
import type { AlertTarget, Platform } from './chat.js';
import type { Reply } from './reply.js';

export type { AlertTarget } from './chat.js';

export type DeliveryResult =
  /** The platform accepted the message. */
  | { status: 'delivered' }
  /** Try again no sooner than this; the platform asked (429) or failed for now (5xx, network). */
  | {
      status: 'retry';
      retryAfterMs: number;
      reason: string;
      /** The platform said to slow down (429). */ rateLimited?: true;
    }
  /** The bot lost access for good (kicked, blocked, channel deleted, permissions removed). */
  | { status: 'gone'; reason: string }
  /**
   * The platform refused this message for good (a request it will never take, such as a rendering bug that
   * survived the plain-text fallback): the alert is given up at once, the chat keeps its subscription.
   */
  | { status: 'failed'; reason: string }
  /** A group became a supergroup: deliver there, and move the subscription. */
  | { status: 'moved'; toChatId: string };

export interface Sink {
  readonly platform: Platform;
  deliver(target: AlertTarget, reply: Reply): Promise<DeliveryResult>;
}

/**
 * What a front end tells the rest of the bot about chats changing under it. The alerts service implements
 * it; adapters call it and never touch the store themselves.
 */
export interface ChatLifecycle {
  /** Telegram's group → supergroup migration: everything under `fromChatId` moves to `toChatId`. */
  migrateChat(platform: Platform, fromChatId: string, toChatId: string): Promise<void>;
  /** The bot was removed or lost rights: pause what this chat had, keeping the reason. */
  pauseChat(platform: Platform, chatId: string, reason: string): Promise<void>;
  /** The bot was added back: paused subscriptions stay paused until a moderator resubscribes. */
}
