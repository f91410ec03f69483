/**
 * Who moderates a Telegram chat. Platform rules: in a group the chat's creator and administrators do
 * (`getChatMember`); an anonymous administrator's message carries the chat itself as `sender_chat`; in a
 * private chat the one user does; in a channel only administrators can post, so every post does. Other
 * `sender_chat` senders (a linked channel, a user posting as their own channel) are not moderators.
 * Answers are cached briefly, so a burst of moderator commands costs one `getChatMember`.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';

export interface ChatMemberApi {
  getChatMember(chatId: number, userId: number): Promise<{ status: string }>;
}

export interface ModeratorCheckOptions {
  api: ChatMemberApi;
  clock: Clock;
  logger: Logger;
  /** How long an answer from `getChatMember` is trusted. Default one minute. */
  ttlMs?: number;
}

/** The parts of a Telegram message that decide who sent it. */
export interface SenderInfo {
  chat: { id: number; type: string };
  from?: { id: number };
  sender_chat?: { id: number };
}

export type ModeratorCheck = (sender: SenderInfo) => Promise<boolean>;

const MAX_CACHED = 10_000;

export function createModeratorCheck(options: ModeratorCheckOptions): ModeratorCheck {
  const { api, clock, logger } = options;
  const ttlMs = options.ttlMs ?? 60_000;
  const cache = new LRUCache<string, { isModerator: boolean; atMs: number }>({ max: MAX_CACHED });

  return async ({ chat, from, sender_chat: senderChat }) => {
    if (chat.type === 'channel') return true;
    if (senderChat) return senderChat.id === chat.id;
    if (chat.type === 'private') return true;
    if (!from) return false;
    const key = `${chat.id}:${from.id}`;
    const now = clock.now();
    const hit = cache.get(key);
    if (hit && now - hit.atMs < ttlMs) return hit.isModerator;
    try {
      const member = await api.getChatMember(chat.id, from.id);
      const isModerator = member.status === 'creator' || member.status === 'administrator';
      cache.set(key, { isModerator, atMs: now });
      return isModerator;
    } catch (err) {
      // Refusing is the safe answer when Telegram cannot say; nothing is cached, so the next try asks again.
      logger.warn({ err, chatId: chat.id }, 'getChatMember failed; treating the sender as a member');
      return false;
    }
  };
}
