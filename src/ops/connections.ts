/**
 * Whether each front end is connected, for `/readyz`, watched from outside the adapters: Telegram through
 * a grammY API transformer that sees every `getUpdates` answer, Discord through the client's shard events.
 * Both also count the rate limits they see for `opg_platform_rate_limited_total`.
 *
 * Telegram: the transformer sits inside the adapter's auto-retry, so a 429 it waits out is counted too; the
 * alert sink (its own client) reports its own 429s. Discord: every 429 answer the front end's REST receives
 * (its `response` event; discord.js then waits and retries without any other event). Requests discord.js
 * paces on its own from the bucket headers (its `rateLimited` event) are not counted: Discord refused nothing.
 */
import type { Client } from 'discord.js';
import { Events } from 'discord.js';
import type { Transformer } from 'grammy';
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
 * A Bot API transformer for the Telegram adapter's `observers` (installed inside its retries): it counts every
 * 429 answer, one that auto-retry then waits out included, and follows long polling: a failed `getUpdates`
 * reads as reconnecting until one succeeds again. With no updates waiting, that answer comes at the end of the
 * long poll (30 s), so a blip reads as not ready for up to that long: the bot does not know it is connected
 * again before Telegram answers.
 */
export function watchTelegram(state: ConnectionState, metrics: Pick<OpsMetrics, 'rateLimited'> | null): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok && res.error_code === 429) metrics?.rateLimited('telegram');
      if (method === 'getUpdates' && state.state() !== 'stopped') state.set(res.ok ? 'connected' : 'reconnecting');
      return res;
    } catch (err) {
      if (method === 'getUpdates' && !signal?.aborted && state.state() !== 'stopped') state.set('reconnecting');
      throw err;
    }
  };
}

/**
 * Follows the gateway shard by shard (every shard event names its shard): a shard that is ready or resumed is
 * connected, one reconnecting or closed for good is not. The front end is connected only while every shard
 * the client runs is; otherwise it reads as its worst shard (failed, then reconnecting, then starting), so one
 * shard that is down is not hidden by another that spoke last.
 */
export function watchDiscord(
  client: Client,
  state: ConnectionState,
  metrics: Pick<OpsMetrics, 'rateLimited'> | null,
): void {
  const shards = new Map<number, PlatformState>();
  const WORST_FIRST: readonly PlatformState[] = ['failed', 'reconnecting', 'starting'];
  const shardSet = (shardId: number, next: PlatformState) => {
    shards.set(shardId, next);
    show();
  };
  function show(): void {
    if (state.state() === 'stopped') return;
    // The client knows its shards once `/gateway/bot` answered; a shard with no event yet is still starting.
    const ids = new Set<number>([...client.ws.shards.keys(), ...shards.keys()]);
    if (ids.size === 0) return;
    const states = [...ids].map((id) => shards.get(id) ?? 'starting');
    state.set(WORST_FIRST.find((s) => states.includes(s)) ?? 'connected');
  }
  // Ready once every shard is: discord.js emits it after the last shard's READY.
  client.on(Events.ClientReady, () => {
    for (const id of client.ws.shards.keys()) shards.set(id, 'connected');
    show();
  });
  client.on(Events.ShardReady, (shardId) => shardSet(shardId, 'connected'));
  client.on(Events.ShardResume, (shardId) => shardSet(shardId, 'connected'));
  client.on(Events.ShardReconnecting, (shardId) => shardSet(shardId, 'reconnecting'));
  client.on(Events.ShardDisconnect, (_event, shardId) => shardSet(shardId, 'failed'));
  client.rest.on('response', (_request, response) => {
    if (response.status === 429) metrics?.rateLimited('discord');
  });
}
