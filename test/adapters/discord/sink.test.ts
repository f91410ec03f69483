import { describe, expect, it, onTestFinished } from 'vitest';
import { createDiscordSink } from '../../../src/adapters/discord/sink.js';
import { silentLogger, type Logger } from '../../../src/core/logger.js';
import { reply } from '../../../src/core/reply.js';
import { PermissionFlagsBits } from 'discord.js';
import type { ChatRef } from '../../../src/core/command.js';
import { createTestApp } from '../../helpers/app.js';
import { freshSnapshot, outboxOf, subscribeWith } from '../../helpers/alerts.js';
import {
  bodyJson,
  CHANNEL_ID,
  GUILD_ID,
  HIDDEN_CHANNEL_ID,
  LOCKED_CHANNEL_ID,
  NO_EMBEDS_CHANNEL_ID,
  startDiscordStandIn,
  THREAD_ID,
} from '../../helpers/discord-server.js';
import { sendJson } from '../../helpers/http-server.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { TINY_PNG } from './harness.js';

const alert = reply({
  title: 'Volume / market cap crossed 5x',
  lines: ['Now 5.2x, up from 4.8x. @everyone'],
  footer: 'CoinGecko',
});
const target = { platform: 'discord' as const, chatId: CHANNEL_ID, guildId: GUILD_ID };

/** A short `timeoutMs` only where a test waits for the timeout: on a loaded machine 100 ms can pass before a healthy
 * answer. */
async function setup(timeoutMs = 5_000, logger: Logger = silentLogger) {
  const discord = await startDiscordStandIn();
  onTestFinished(() => discord.close());
  const sink = createDiscordSink({
    token: 'test-bot-token',
    apiUrl: discord.apiUrl,
    logger,
    timeoutMs,
    failureRetryMs: 30_000,
    refusedRetryMs: 900_000,
  });
  onTestFinished(() => sink.close());
  return { discord, sink };
}

const isPost = (r: { method: string; url: string }) =>
  r.method === 'POST' && r.url.endsWith(`/channels/${CHANNEL_ID}/messages`);
const isPostTo = (channelId: string) => (r: { method: string; url: string }) =>
  r.method === 'POST' && r.url.endsWith(`/channels/${channelId}/messages`);

describe('Discord alert sink', () => {
  it('posts the alert as an embed with no mentions parsed and reports it delivered', async () => {
    const { discord, sink } = await setup();
    expect(await sink.deliver(target, alert)).toEqual({ status: 'delivered' });
    const post = discord.rest.requests.find(isPost)!;
    expect(post.headers.authorization).toBe('Bot test-bot-token');
    const body = bodyJson(post) as any;
    expect(body.embeds[0].title).toBe('Volume / market cap crossed 5x');
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.flags).toBeUndefined();
  });

  it('posts into the thread when the target has one', async () => {
    const { discord, sink } = await setup();
    expect(await sink.deliver({ ...target, threadId: THREAD_ID }, alert)).toEqual({ status: 'delivered' });
    expect(discord.rest.requests.some((r) => r.url.endsWith(`/channels/${THREAD_ID}/messages`))).toBe(true);
  });

  it('attaches an image reply', async () => {
    const { discord, sink } = await setup();
    await sink.deliver(
      target,
      reply({ title: 'Ratio', image: { png: TINY_PNG, filename: 'ratio.png', alt: 'chart' } }),
    );
    const post = discord.rest.requests.find(isPost)!;
    expect((bodyJson(post) as any).embeds[0].image.url).toBe('attachment://ratio.png');
  });

  it('asks to retry after what a 429 said, without retrying itself', async () => {
    const { discord, sink } = await setup();
    discord.failNext(isPost, (_req, res) =>
      sendJson(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: 2.5, global: false },
        {
          'retry-after': '2.5',
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': '2.5',
          'x-ratelimit-bucket': 'b1',
          'x-ratelimit-scope': 'user',
        },
      ),
    );
    const result = await sink.deliver(target, alert);
    expect(result.status).toBe('retry');
    expect(result.status === 'retry' && result.retryAfterMs).toBeGreaterThanOrEqual(2_500);
    expect(result.status === 'retry' && result.rateLimited).toBe(true);
    expect(discord.rest.requests.filter(isPost)).toHaveLength(1);
  });

  it.each([
    [
      'a 500',
      (_req: unknown, res: import('node:http').ServerResponse) =>
        sendJson(res, 500, { message: 'Internal Server Error', code: 0 }),
    ],
    [
      'a 502 without JSON',
      (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(502).end('Bad Gateway'),
    ],
    ['a timeout', () => {}],
  ])('asks to retry later after %s', async (_what, fault) => {
    const { discord, sink } = await setup(200);
    discord.failNext(isPost, fault);
    expect(await sink.deliver(target, alert)).toMatchObject({ status: 'retry', retryAfterMs: 30_000 });
  });

  it.each([
    [404, 10003, /no longer exists/],
    [403, 50001, /no access/],
    [403, 50013, /lacks permission/],
  ])('reports the channel gone on %i with code %i', async (status, code, reason) => {
    const { discord, sink } = await setup();
    discord.failNext(isPost, (_req, res) => sendJson(res, status, { message: 'nope', code }));
    const result = await sink.deliver(target, alert);
    expect(result.status).toBe('gone');
    expect(result.status === 'gone' && result.reason).toMatch(reason);
  });

  it.each([
    ['a channel it does not know', '800000000000000099', 404, 10003],
    ['a channel it cannot see', HIDDEN_CHANNEL_ID, 403, 50001],
    ['a channel where it may not send', LOCKED_CHANNEL_ID, 403, 50013],
  ])(
    'takes %s, as the stand-in answers it, as gone: one post, one warning naming the channel, no token',
    async (_what, channelId, status, code) => {
      const logger = recordingLogger();
      const { discord, sink } = await setup(5_000, logger);
      const result = await sink.deliver({ ...target, chatId: channelId }, alert);
      expect(result.status).toBe('gone');
      expect(discord.accessDenied).toEqual([{ channelId, status, code }]);
      expect(discord.rest.requests.filter(isPostTo(channelId))).toHaveLength(1);
      expect(logger.lines.filter((l) => l.level !== 'debug')).toEqual([
        expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ channelId, status, code }) }),
      ]);
      expect(JSON.stringify(logger.lines)).not.toContain('test-bot-token');
    },
  );

  it('stops at once when the bot lost the channel after the subscription, keeping it paused', async () => {
    const logger = recordingLogger();
    const { discord, sink } = await setup(5_000, logger);
    const app = createTestApp();
    const chat: ChatRef = { platform: 'discord', chatId: CHANNEL_ID, guildId: GUILD_ID, kind: 'guild_text' };
    await subscribeWith(app, chat, [1], 0);
    for (const ratio of [0.5, 2, 0.5]) {
      app.clock.advance(5 * 60_000);
      await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
    }
    expect(outboxOf(app, chat)).toHaveLength(2);
    // A moderator takes Send Messages from everyone in the channel after subscribing.
    discord.setChannel(CHANNEL_ID, [
      { id: GUILD_ID, type: 0, allow: '0', deny: String(PermissionFlagsBits.SendMessages) },
    ]);
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();
    expect(discord.rest.requests.filter(isPost)).toHaveLength(1);
    const view = await app.alerts.view(chat);
    expect(view?.status).toBe('paused');
    expect(view?.thresholds.map((t) => t.ratio)).toEqual([1]);
    expect(outboxOf(app, chat).every((r) => r.failedAtMs === null && r.sentAtMs === null)).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('edits an alert whose embeds Discord dropped (no Embed Links) into plain text, warning once', async () => {
    const logger = recordingLogger();
    const { discord, sink } = await setup(5_000, logger);
    // The stand-in counts the embed-only post, which shows nothing until the edit, as a refusal.
    discord.allowRefusals();
    const here = { ...target, chatId: NO_EMBEDS_CHANNEL_ID };
    expect(await sink.deliver(here, alert)).toEqual({ status: 'delivered' });
    expect(await sink.deliver(here, alert)).toEqual({ status: 'delivered' });
    const calls = discord.rest.requests.filter((r) => r.url.includes(`/channels/${NO_EMBEDS_CHANNEL_ID}/messages`));
    expect(calls.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST', 'PATCH']);
    const edit = bodyJson(calls[1]!) as any;
    expect(edit).toEqual({
      // A mention is defused as in every Discord text (and none is parsed anyway).
      content: 'Volume / market cap crossed 5x\nNow 5.2x, up from 4.8x. @\u200beveryone\nCoinGecko',
      allowed_mentions: { parse: [] },
    });
    expect(discord.refusals.map((r) => r.problems.join())).toEqual([
      expect.stringContaining('lacks Embed Links'),
      expect.stringContaining('lacks Embed Links'),
    ]);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ channelId: NO_EMBEDS_CHANNEL_ID });
    // Where embeds show, no edit.
    await sink.deliver(target, alert);
    expect(discord.rest.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  });

  const invalidFormBody = {
    code: 50035,
    message: 'Invalid Form Body',
    errors: {
      embeds: {
        '0': {
          fields: { '1': { value: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] } } },
        },
      },
    },
  };
  const chartAlert = reply({
    title: 'Volume / market cap crossed 5x',
    lines: ['Now 5.2x, up from 4.8x.'],
    fields: [
      { label: 'Ratio', value: '5.2x' },
      { label: 'Volume', value: '' },
    ],
    notices: ['Market cap is 12 min old'],
    footer: 'CoinGecko',
    image: { png: TINY_PNG, filename: 'ratio.png', alt: 'chart' },
    buttons: [{ id: 'refresh:stats', label: 'Refresh' }],
  });

  it('sends a plain embed at once when Discord refuses the alert with 400, logging what was refused once', async () => {
    const logger = recordingLogger();
    const { discord, sink } = await setup(5_000, logger);
    discord.failNext(isPost, (_req, res) => sendJson(res, 400, invalidFormBody));
    expect(await sink.deliver(target, chartAlert)).toEqual({ status: 'delivered' });
    const posts = discord.rest.requests.filter(isPost);
    expect(posts).toHaveLength(2);
    expect(String(posts[1]!.headers['content-type'])).toMatch(/^application\/json/);
    const plain = bodyJson(posts[1]!) as any;
    expect(Object.keys(plain).sort()).toEqual(['allowed_mentions', 'embeds']);
    expect(plain.embeds).toEqual([
      {
        title: 'Volume / market cap crossed 5x',
        description: 'Now 5.2x, up from 4.8x.\nRatio: 5.2x\nVolume: \nMarket cap is 12 min old\nCoinGecko',
      },
    ]);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(errors[0]!.fields).toMatchObject({ status: 400, code: 50035, channelId: CHANNEL_ID });
    expect(String(errors[0]!.fields.errors)).toContain('"fields":{"1":{"value"');
    expect(JSON.stringify(logger.lines)).not.toContain('test-bot-token');
  });

  it('clips the plain embed to Discord limits', async () => {
    const { discord, sink } = await setup();
    discord.failNext(isPost, (_req, res) => sendJson(res, 400, invalidFormBody));
    expect(await sink.deliver(target, reply({ title: 't'.repeat(300), lines: ['x'.repeat(5_000)] }))).toEqual({
      status: 'delivered',
    });
    const plain = bodyJson(discord.rest.requests.filter(isPost)[1]!) as any;
    expect(plain.embeds[0].title).toHaveLength(256);
    expect(plain.embeds[0].description).toHaveLength(4_096);
  });

  // The plain embed is a request of ours Discord will never take once its body is refused: retried, it would be
  // two refused requests and an error line every 15 minutes, 12 times. Given up at once; the chat keeps its alerts.
  it('gives the alert up when the plain embed is refused for its body too, logging each refusal once', async () => {
    const logger = recordingLogger();
    const { discord, sink } = await setup(5_000, logger);
    discord.failNext(isPost, (_req, res) => sendJson(res, 400, invalidFormBody));
    discord.failNext(isPost, (_req, res) =>
      sendJson(res, 400, { code: 50006, message: 'Cannot send an empty message' }),
    );
    expect(await sink.deliver(target, chartAlert)).toEqual({
      status: 'failed',
      reason: 'Discord refused the alert, even as plain text (code 50006)',
    });
    expect(discord.rest.requests.filter(isPost)).toHaveLength(2);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'Discord refused an alert; sending it as plain text',
      'Discord refused an alert as plain text too',
    ]);
  });

  it('still retries when the plain embed meets a failure that is not about its body (a 5xx)', async () => {
    const { discord, sink } = await setup();
    discord.failNext(isPost, (_req, res) => sendJson(res, 400, invalidFormBody));
    discord.failNext(isPost, (_req, res) => sendJson(res, 500, { code: 0, message: 'Internal Server Error' }));
    expect(await sink.deliver(target, chartAlert)).toMatchObject({ status: 'retry' });
    expect(discord.rest.requests.filter(isPost)).toHaveLength(2);
  });

  it('sends no plain copy after a refusal that is not about the message (401)', async () => {
    const { discord, sink } = await setup();
    discord.failNext(isPost, (_req, res) => sendJson(res, 401, { code: 0, message: '401: Unauthorized' }));
    expect(await sink.deliver(target, chartAlert)).toMatchObject({ status: 'retry', retryAfterMs: 900_000 });
    expect(discord.rest.requests.filter(isPost)).toHaveLength(1);
  });
});
