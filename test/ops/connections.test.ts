import { EventEmitter } from 'node:events';
import { Events, REST, Routes, type Client } from 'discord.js';
import { Agent } from 'undici';
import { createDiscordRequest } from '../../src/adapters/discord/rest-request.js';
import { describe, expect, it } from 'vitest';
import { connectionState, watchDiscord, watchTelegram } from '../../src/ops/connections.js';
import { startLoopbackServer } from '../helpers/http-server.js';

/** The parts of a discord.js client watchDiscord reads: its events, its shards once known, its REST's events. */
function fakeClient(shardIds: number[]) {
  const client = Object.assign(new EventEmitter(), {
    ws: { shards: new Map(shardIds.map((id) => [id, {}])) },
    rest: new EventEmitter(),
  });
  return { client, asClient: client as unknown as Client };
}

describe('watchDiscord', () => {
  it('reads connected only once every shard is ready, and the worst shard while any is not', () => {
    const { client, asClient } = fakeClient([0, 1]);
    const state = connectionState('discord', { leaderOnly: true });
    watchDiscord(asClient, state, null);
    expect(state.state()).toBe('starting');

    client.emit(Events.ShardReady, 1);
    expect(state.state()).toBe('starting');
    client.emit(Events.ShardReady, 0);
    expect(state.state()).toBe('connected');

    // Shard 0 reconnects while shard 1 keeps speaking: not ready until shard 0 is back.
    client.emit(Events.ShardReconnecting, 0);
    expect(state.state()).toBe('reconnecting');
    client.emit(Events.ShardResume, 1, 0);
    expect(state.state()).toBe('reconnecting');
    client.emit(Events.ShardResume, 0, 3);
    expect(state.state()).toBe('connected');

    // A shard closed for good outweighs one reconnecting, and another's READY does not hide it.
    client.emit(Events.ShardReconnecting, 0);
    client.emit(Events.ShardDisconnect, { code: 4014 }, 1);
    expect(state.state()).toBe('failed');
    client.emit(Events.ShardReady, 0);
    expect(state.state()).toBe('failed');
  });

  it(
    "takes the client's ready (after the last shard's) as every shard connected, and leaves a stopped state " + 'alone',
    () => {
      const { client, asClient } = fakeClient([0, 1, 2]);
      const state = connectionState('discord', { leaderOnly: true });
      watchDiscord(asClient, state, null);
      client.emit(Events.ShardReconnecting, 2);
      client.emit(Events.ClientReady, asClient);
      expect(state.state()).toBe('connected');
      state.set('stopped');
      client.emit(Events.ShardDisconnect, { code: 1000 }, 0);
      expect(state.state()).toBe('stopped');
    },
  );

  it("counts each 429 Discord answers, the one discord.js's REST waits out and retries included", async () => {
    // A real REST client against a loopback Discord that answers one interaction callback with 429.
    let answered429 = 0;
    const discord = await startLoopbackServer((req, res) => {
      if (answered429 === 0) {
        answered429 += 1;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0.05' });
        res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.05, global: false }));
        return;
      }
      res.writeHead(204).end();
    });
    const agent = new Agent();
    try {
      const rest = new REST({ api: discord.url, makeRequest: createDiscordRequest(agent), retries: 0 });
      const client = Object.assign(new EventEmitter(), { ws: { shards: new Map() }, rest });
      let limited = 0;
      watchDiscord(client as unknown as Client, connectionState('discord'), { rateLimited: () => (limited += 1) });
      await rest.post(Routes.interactionCallback('1', 'token-of-the-interaction'), { body: { type: 5 }, auth: false });
      expect(discord.requests).toHaveLength(2);
      expect(limited).toBe(1);
      // Pacing from bucket headers is discord.js's own: Discord refused nothing, so it is not counted.
      rest.emit('rateLimited', {} as never);
      expect(limited).toBe(1);
    } finally {
      await agent.close();
      await discord.close();
    }
  });
});

describe('watchTelegram', () => {
  type Prev = Parameters<ReturnType<typeof watchTelegram>>[0];
  const answering = (res: unknown): Prev => (async () => res) as unknown as Prev;

  it('counts every 429 answer it sees and follows getUpdates into the state', async () => {
    let limited = 0;
    const state = connectionState('telegram', { leaderOnly: true });
    const watch = watchTelegram(state, { rateLimited: () => (limited += 1) });
    const tooMany = {
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    };
    await watch(answering(tooMany), 'sendMessage', { chat_id: 1, text: 'x' } as never);
    expect(limited).toBe(1);
    expect(state.state()).toBe('starting');
    await watch(answering(tooMany), 'getUpdates', {} as never);
    expect(limited).toBe(2);
    expect(state.state()).toBe('reconnecting');
    await watch(answering({ ok: true, result: [] }), 'getUpdates', {} as never);
    expect(state.state()).toBe('connected');
    const failing = (async () => {
      throw new Error('socket hang up');
    }) as unknown as Prev;
    await expect(watch(failing, 'getUpdates', {} as never)).rejects.toThrow('socket hang up');
    expect(state.state()).toBe('reconnecting');
    expect(limited).toBe(2);
  });
});
