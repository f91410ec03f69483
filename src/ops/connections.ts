/**
 * Whether each front end is connected, for `/readyz`, watched from outside the adapters: Telegram through
 * a grammY API transformer that sees every `getUpdates` answer, Discord through the client's shard events.
 * Both also count the rate limits they see for `opg_platform_rate_limited_total`.
 *
 * Telegram: the transformer sits outside the adapter's auto-retry, so a 429 it waited out is not seen; the
 * alert sink reports its own 429s. Discord: discord.js's REST reports every request it held back for a
 * rate limit, whether the limit came from a 429 or from the bucket headers.
 */
import type { Client } from 'discord.js';
import { Events } from 'discord.js';
import type { Bot } from 'grammy';
import type { Platform } from '../core/chat.js';
import type { PlatformConnection, PlatformState } from './health.js';
import type { OpsMetrics } from './metrics.js';

export interface ConnectionState extends PlatformConnection {
  set(state: PlatformState): void;
}

export function connectionState(platform: Platform, options: { leaderOnly?: boolean } = {}): ConnectionState {
  let state: PlatformState = 'starting';
  return {
    platform,
    leaderOnly: options.leaderOnly ?? false,
    state: () => state,
    set(next) {
      state = next;
    },
  };
}

/**
 * Follows long polling: a failed `getUpdates` reads as reconnecting until one succeeds again. With no
 * updates waiting, that answer comes at the end of the long poll (30 s), so a blip reads as not ready
 * for up to that long: the bot does not know it is connected again before Telegram answers.
 */
export function watchTelegram(bot: Bot, state: ConnectionState, metrics: Pick<OpsMetrics, 'rateLimited'> | null): void {
  bot.api.config.use(async (prev, method, payload, signal) => {
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok && res.error_code === 429) metrics?.rateLimited('telegram');
      if (method === 'getUpdates' && state.state() !== 'stopped') state.set(res.ok ? 'connected' : 'reconnecting');
      return res;
    } catch (err) {
      if (method === 'getUpdates' && !signal?.aborted && state.state() !== 'stopped') state.set('reconnecting');
      throw err;
    }
  });
}

/** Follows the gateway: ready or resumed is connected; a reconnect or a closed shard is not. */
export function watchDiscord(
  client: Client,
  state: ConnectionState,
  metrics: Pick<OpsMetrics, 'rateLimited'> | null,
): void {
  client.on(Events.ClientReady, () => state.set('connected'));
  client.on(Events.ShardResume, () => state.set('connected'));
  client.on(Events.ShardReady, () => state.set('connected'));
  client.on(Events.ShardReconnecting, () => state.state() !== 'stopped' && state.set('reconnecting'));
  client.on(Events.ShardDisconnect, () => state.state() !== 'stopped' && state.set('failed'));
  client.rest.on('rateLimited', () => metrics?.rateLimited('discord'));
}
