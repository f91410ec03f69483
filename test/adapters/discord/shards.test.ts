import { describe, expect, it, onTestFinished } from 'vitest';
import { DISCORD_GLOBAL_REQUESTS_PER_SECOND } from '../../../src/adapters/discord/rest-request.js';
import { createDiscordSink } from '../../../src/adapters/discord/sink.js';
import { silentLogger } from '../../../src/core/logger.js';
import { bodyJson, GUILD_ID, shardOf, startDiscordStandIn } from '../../helpers/discord-server.js';
import { WebSocket } from 'ws';
import { bothReady, discordAsk, startBot as startProcess, startWorld, until } from '../../helpers/bot-process.js';
import { freePort } from '../../helpers/ports.js';
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

  it(
    "the front end's REST and the alert sink's together stay inside Discord's global 50 requests a " + 'second',
    async () => {
      const bot = await startBot();
      const sink = createDiscordSink({ token: 'test-bot-token', apiUrl: bot.discord.apiUrl, logger: silentLogger });
      onTestFinished(() => sink.close());
      const frontEnd = bot.adapter.client.rest.options.globalRequestsPerSecond;
      const sinkShare = sink.rest.options.globalRequestsPerSecond;
      expect(DISCORD_GLOBAL_REQUESTS_PER_SECOND).toBe(50);
      expect(frontEnd).toBeGreaterThanOrEqual(20);
      expect(sinkShare).toBeGreaterThanOrEqual(20);
      expect(frontEnd + sinkShare).toBeLessThanOrEqual(50);
    },
  );

  it(
    'npm start connects both recommended shards, answers an interaction that arrives on shard 1, and is ready ' +
      'only while both are',
    async () => {
      const port = await freePort();
      const w = await startWorld({ discordShards: 2, chainBlocks: 30, env: { HTTP_PORT: String(port) } });
      const bot = startProcess(w);
      await bothReady(w, bot, 2);
      expect(w.discord.identifiedShards.map((s) => s.join('/')).sort()).toEqual(['0/2', '1/2']);
      // Ready on /readyz once both shards are (each shard's events are followed on their own).
      const discordCheck = await until(
        'Discord connected on /readyz',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          const body = (await res.json()) as { checks: Array<{ name: string; state: string }> };
          const check = body.checks.find((c) => c.name === 'discord');
          return check?.state === 'connected' ? check : undefined;
        },
        bot,
      );
      expect(discordCheck.state).toBe('connected');
      const payload = w.discord.slash({ subcommand: 'stats' });
      const answer = await discordAsk(w, bot, payload);
      expect(w.discord.dispatched.find((d) => d.id === payload.id)?.shard).toBe(1);
      expect(answer.data.embeds?.[0]?.title).toBe('OPG stats');

      // Shard 0 is closed for good (4014: no reconnect); shard 1 reconnects and resumes after it. The front end is
      // not ready while one of its shards is down, whichever shard spoke last.
      const discordState = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await res.json()) as { checks: Array<{ name: string; state: string }> };
        return body.checks.find((c) => c.name === 'discord')?.state;
      };
      w.discord.closeShard(0, 4014);
      await until('shard 0 closed for good', async () => ((await discordState()) === 'failed' ? true : undefined), bot);
      const resumes = w.discord.resumes;
      w.discord.closeShard(1, 4000);
      await until('shard 1 resumed', () => (w.discord.resumes > resumes ? true : undefined), bot);
      await new Promise((r) => setTimeout(r, 200));
      expect(await discordState()).toBe('failed');
      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.errorLines()).toEqual([]);
    },
  );
});
