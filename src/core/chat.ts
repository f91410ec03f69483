/**
 * Where things happen: the platforms, a chat on one of them, and where an alert goes. A leaf module (it
 * imports nothing), so the command contract, the sinks and the alert stores can all name a chat without
 * importing each other.
 */

export type Platform = 'discord' | 'telegram' | 'console';

/** Where a command was typed. Ids are strings on every platform (Telegram's are 64-bit). */
export interface ChatRef {
  platform: Platform;
  chatId: string;
  /** Discord guild, when in one. */
  guildId?: string | null;
  /** Telegram forum topic or Discord thread, so replies and alerts stay in it. */
  threadId?: string | null;
  /** Chat kind as the platform says it: `private`, `group`, `supergroup`, `channel`, `guild_text`, `dm`. */
  kind?: string;
  title?: string;
}

/** Where an alert goes: a Telegram chat (and topic), or a Discord channel (and its guild). */
export interface AlertTarget {
  platform: Platform;
  chatId: string;
  threadId?: string | null;
  guildId?: string | null;
}
