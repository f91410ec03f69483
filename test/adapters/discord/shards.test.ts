import { describe, expect, it, onTestFinished } from 'vitest';
import { DISCORD_GLOBAL_REQUESTS_PER_SECOND } from '../../../src/adapters/discord/rest-request.js';
import { createDiscordSink } from '../../../src/adapters/discord/sink.js';
import { silentLogger } from '../../../src/core/logger.js';
import { bodyJson, GUILD_ID, shardOf, startDiscordStandIn } from '../../helpers/discord-server.js';
import { WebSocket } from 'ws';
import { bothReady, discordAsk, startBot as startProcess, startWorld } from '../../helpers/bot-process.js';
import { startBot } from './harness.js';

describe('Discord past one shard', () => {
  it('connects every shard /gateway/bot recommends and answers interactions arriving on any of them', async () => {
    const discord = await startDiscordStandIn({ shards: 2 });
    onTestFinished(() => discord.close());
    const bot = await startBot({ discord });

    expect(discord.identifiedShards.map((s) => s.join('/')).sort()).toEqual(['0/2', '1/2']);
    expect(bot.adapter.client.ws.shards.size).toBe(2);
    // The test guild's id maps to shard 1; shard 0 leads no guild but takes direct messages.
    expect(shardOf(GUILD_ID, 2)).toBe(1);
    expect(discord.readies.find((r) => r.shard[0] === 1)?.guildIds).toEqual([GUILD_ID]);
    expect(discord.readies.find((r) => r.shard[0] === 0)?.guildIds).toEqual([]);

    for (const [payload, shard] of [
      [discord.slash({ subcommand: 'stats' }), 1],
      [discord.slash({ subcommand: 'stats', dm: true }), 0],
    ] as const) {
      const since = discord.rest.requests.length;
      const { id } = discord.interact(payload);
      expect(discord.dispatched.find((d) => d.id === id)?.shard).toBe(shard);
      const callback = await discord.waitForRequest((r) => r.url.includes(`/interactions/${id}/`), since);
      const body = bodyJson(callback) as { type: number; data?: { embeds?: Array<{ title?: string }> } };
      if (body.type === 4) expect(body.data?.embeds?.[0]?.title).toBe('OPG stats');
      else {
        expect(body.type).toBe(5);
        const edit = await discord.waitForRequest((r) => r.method === 'PATCH' && r.url.includes('@original'), since);
        expect((bodyJson(edit) as { embeds: Array<{ title: string }> }).embeds[0]!.title).toBe('OPG stats');
      }
    }
  });

  it('an unsharded identify to a bot that needs shards is refused as Discord refuses it (4011)', async () => {
    const discord = await startDiscordStandIn({ shards: 2 });
    onTestFinished(() => discord.close());
    const ws = new WebSocket(discord.gatewayUrl);
    onTestFinished(() => ws.terminate());
    await new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ op: 2, d: { token: 'x', intents: 1, properties: {} } }));
    const code = await new Promise<number>((resolve) => ws.once('close', (closeCode: number) => resolve(closeCode)));
    expect(code).toBe(4011);
  });

  it("the front end's REST and the alert sink's together stay inside Discord's global 50 requests a second", async () => {
    const bot = await startBot();
    const sink = createDiscordSink({ token: 'test-bot-token', apiUrl: bot.discord.apiUrl, logger: silentLogger });
    onTestFinished(() => sink.close());
    const frontEnd = bot.adapter.client.rest.options.globalRequestsPerSecond;
    const sinkShare = sink.rest.options.globalRequestsPerSecond;
    expect(DISCORD_GLOBAL_REQUESTS_PER_SECOND).toBe(50);
    expect(frontEnd).toBeGreaterThanOrEqual(20);
    expect(sinkShare).toBeGreaterThanOrEqual(20);
    expect(frontEnd + sinkShare).toBeLessThanOrEqual(50);
  });

  it('npm start connects both recommended shards and answers an interaction that arrives on shard 1', async () => {
    const w = await startWorld({ discordShards: 2, chainBlocks: 30 });
    const bot = startProcess(w);
    await bothReady(w, bot, 2);
    expect(w.discord.identifiedShards.map((s) => s.join('/')).sort()).toEqual(['0/2', '1/2']);
    const payload = w.discord.slash({ subcommand: 'stats' });
    const answer = await discordAsk(w, bot, payload);
    expect(w.discord.dispatched.find((d) => d.id === payload.id)?.shard).toBe(1);
    expect(answer.data.embeds?.[0]?.title).toBe('OPG stats');
    bot.child.kill('SIGTERM');
    expect((await bot.exited)[0]).toBe(0);
    expect(bot.errorLines()).toEqual([]);
  });
});
