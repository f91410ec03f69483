import { describe, expect, it } from 'vitest';
import {
  bodyJson,
  CHANNEL_ID,
  GUILD_ID,
  HIDDEN_CHANNEL_ID,
  LOCKED_CHANNEL_ID,
  MODERATOR_PERMISSIONS,
} from '../../helpers/discord-server.js';
import type { RecordedRequest } from '../../helpers/http-server.js';
import { sendJson } from '../../helpers/http-server.js';
import { PermissionFlagsBits } from 'discord.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { startBot, type Bot } from './harness.js';
import { marketItem } from '../../helpers/coingecko-server.js';
import { expectNoBadText } from '../../helpers/expect.js';

const EPHEMERAL = 64;
const isCallback = (id: string) => (req: RecordedRequest) =>
  req.method === 'POST' && req.url.includes(`/interactions/${id}/`);

/** Dispatches an interaction and resolves with the body of its callback. */
async function ask(bot: Bot, payload: Record<string, unknown>) {
  const since = bot.discord.rest.requests.length;
  const { id } = bot.discord.interact(payload);
  const req = await bot.discord.waitForRequest(isCallback(id), since);
  return bodyJson(req) as {
    type: number;
    data: { embeds: Array<Record<string, any>>; flags?: number; allowed_mentions?: unknown; components?: any[] };
  };
}

function embedText(embed: Record<string, any>): string {
  return [
    embed.title,
    embed.description,
    ...(embed.fields ?? []).flatMap((f: any) => [f.name, f.value]),
    embed.footer?.text,
  ].join('\n');
}

describe('Discord front end', () => {
  it('registers /opg in the guild at start, with subcommands, an alerts group and typed options', async () => {
    const bot = await startBot();
    const put = bot.discord.rest.requests.filter((r) => r.method === 'PUT');
    expect(put).toHaveLength(1);
    expect(put[0]!.url).toBe(`/api/v10/applications/900000000000000001/guilds/${GUILD_ID}/commands`);
    const [opg] = JSON.parse(put[0]!.body) as Array<{ name: string; options: any[] }>;
    expect(opg!.name).toBe('opg');
    const names = opg!.options.map((o) => o.name);
    expect(names).toEqual(
      expect.arrayContaining(['stats', 'volume', 'supply', 'markets', 'help', 'alerts', 'picture']),
    );
    const alerts = opg!.options.find((o) => o.name === 'alerts');
    expect(alerts.type).toBe(2);
    expect(alerts.options.map((o: any) => o.name)).toEqual([
      'status',
      'subscribe',
      'unsubscribe',
      'add',
      'remove',
      'cooldown',
      'digest',
      'listings',
    ]);
    expect(alerts.options.find((o: any) => o.name === 'listings').options[0]).toMatchObject({
      name: 'state',
      type: 3,
      required: true,
      choices: [
        { name: 'on', value: 'on' },
        { name: 'off', value: 'off' },
      ],
    });
    const ratio = alerts.options.find((o: any) => o.name === 'add').options[0];
    expect(ratio).toMatchObject({ name: 'ratio', type: 10, min_value: 0.01, max_value: 1000, required: true });
    const channel = alerts.options.find((o: any) => o.name === 'subscribe').options[0];
    expect(channel).toMatchObject({ type: 7, channel_types: [0, 5] });
    const range = opg!.options.find((o) => o.name === 'picture').options[0];
    expect(range).toMatchObject({
      type: 3,
      choices: [
        { name: '24h', value: '24h' },
        { name: '7d', value: '7d' },
      ],
    });
  });

  it('does not register again after a restart with unchanged definitions', async () => {
    const first = await startBot();
    await first.adapter.stop();
    const again = await startBot({
      databasePath: first.app.database.path,
      discord: first.discord,
      coingecko: first.coingecko,
    });
    expect(again.discord.rest.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('answers /opg stats with an embed of the figures, a Refresh button and no mentions parsed', async () => {
    const bot = await startBot();
    const answer = await ask(bot, bot.discord.slash({ subcommand: 'stats' }));
    expect(answer.type).toBe(4);
    const [embed] = answer.data.embeds;
    expect(embed!.title).toBe('OPG stats');
    const text = embedText(embed!);
    expect(text).toContain('$0.04123');
    expect(text).toContain('$41.7M');
    expect(embed!.fields.find((f: any) => f.name === 'Volume / market cap').value).toBe('4.7x');
    expectNoBadText(text);
    expect(answer.data.flags ?? 0).toBe(0);
    expect(answer.data.allowed_mentions).toEqual({ parse: [] });
    expect(answer.data.components?.[0].components[0]).toMatchObject({
      type: 2,
      custom_id: 'refresh:stats',
      label: 'Refresh',
    });
  });

  it('answers everyday commands in a direct message', async () => {
    const bot = await startBot();
    const answer = await ask(bot, bot.discord.slash({ subcommand: 'volume', dm: true }));
    expect(answer.type).toBe(4);
    expect(answer.data.embeds[0]!.title).toMatch(/volume/i);
  });

  it('refuses a moderator command from a member without Manage Server, ephemerally, storing nothing', async () => {
    const bot = await startBot();
    const answer = await ask(
      bot,
      bot.discord.slash({ group: 'alerts', subcommand: 'add', options: [{ name: 'ratio', type: 10, value: 5 }] }),
    );
    expect(answer.data.flags).toBe(EPHEMERAL);
    expect(embedText(answer.data.embeds[0]!)).toMatch(/Manage Server or Administrator/);
    const subscribe = await ask(bot, bot.discord.slash({ group: 'alerts', subcommand: 'subscribe' }));
    expect(subscribe.data.flags).toBe(EPHEMERAL);
    expect(await bot.subscribed(CHANNEL_ID)).toBe(false);
  });

  it('accepts a moderator command from a member with Manage Server or Administrator', async () => {
    const bot = await startBot();
    const subscribe = await ask(
      bot,
      bot.discord.slash({ group: 'alerts', subcommand: 'subscribe', permissions: MODERATOR_PERMISSIONS }),
    );
    expect(subscribe.data.embeds[0]!.title).toBe('Alerts are on in this chat');
    const manager = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'add',
        permissions: MODERATOR_PERMISSIONS,
        options: [{ name: 'ratio', type: 10, value: 7 }],
      }),
    );
    expect(manager.data.embeds[0]!.title).toBe('Added a 7x threshold');
    const admin = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'add',
        permissions: PermissionFlagsBits.Administrator,
        options: [{ name: 'ratio', type: 10, value: 2.5 }],
      }),
    );
    expect(admin.data.flags ?? 0).toBe(0);
    expect(await bot.thresholds(CHANNEL_ID)).toEqual([1, 2.5, 5, 7, 10]);
  });

  it('answers a group invoked for its status through the status subcommand', async () => {
    const bot = await startBot();
    const answer = await ask(bot, bot.discord.slash({ group: 'alerts', subcommand: 'status' }));
    expect(answer.data.embeds[0]!.title).toBe('Alerts are off in this chat');
  });

  it.each([
    ['below the minimum', { type: 10, value: 0.001 }, /ratio must be from 0.01x to 1000x/],
    ['above the maximum', { type: 10, value: 5000 }, /ratio must be from 0.01x to 1000x/],
    ['of the wrong type', { type: 3, value: 'lots' }, /ratio must be a number/],
  ])('refuses an option value %s with a clear ephemeral reply, storing nothing', async (_what, option, message) => {
    const bot = await startBot();
    const answer = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'add',
        permissions: MODERATOR_PERMISSIONS,
        options: [{ name: 'ratio', ...option }],
      }),
    );
    expect(answer.data.flags).toBe(EPHEMERAL);
    expect(answer.data.embeds[0]!.title).toMatch(message);
    expect(await bot.thresholds(CHANNEL_ID)).toEqual([]);
  });

  it('says which permissions are missing in a channel the bot cannot post in, storing nothing', async () => {
    const bot = await startBot();
    const locked = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'subscribe',
        permissions: MODERATOR_PERMISSIONS,
        options: [{ name: 'channel', type: 7, value: LOCKED_CHANNEL_ID }],
      }),
    );
    expect(locked.data.flags).toBe(EPHEMERAL);
    expect(embedText(locked.data.embeds[0]!)).toContain('I need Send Messages, Embed Links there');
    const hidden = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'subscribe',
        permissions: MODERATOR_PERMISSIONS,
        options: [{ name: 'channel', type: 7, value: HIDDEN_CHANNEL_ID }],
      }),
    );
    expect(embedText(hidden.data.embeds[0]!)).toContain('View Channel');
    expect((await bot.subscribed(LOCKED_CHANNEL_ID)) || (await bot.subscribed(HIDDEN_CHANNEL_ID))).toBe(false);
    const open = await ask(
      bot,
      bot.discord.slash({
        group: 'alerts',
        subcommand: 'subscribe',
        permissions: MODERATOR_PERMISSIONS,
        options: [{ name: 'channel', type: 7, value: CHANNEL_ID }],
      }),
    );
    expect(open.data.embeds[0]!.title).toBe('Alerts are on in this chat');
    expect(await bot.subscribed(CHANNEL_ID)).toBe(true);
  });

  it('sends an image reply as an attachment shown in the embed', async () => {
    const bot = await startBot();
    const since = bot.discord.rest.requests.length;
    const { id } = bot.discord.interact(
      bot.discord.slash({ subcommand: 'picture', options: [{ name: 'range', type: 3, value: '24h' }] }),
    );
    const req = await bot.discord.waitForRequest(isCallback(id), since);
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data/);
    const body = bodyJson(req) as any;
    expect(body.data.embeds[0].image.url).toBe('attachment://ratio.png');
    expect(req.body).toContain('filename="ratio.png"');
    expect(req.body).toContain('PNG');
  });

  it('defers a cold start that takes longer than the deadline, then edits in the answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const bot = await startBot({ cold: true, deferAfterMs: 10 });
    const normal = bot.coingecko.requests.length;
    bot.coingecko.fail(async (req, res) => {
      await gate;
      bot.coingecko.heal();
      sendJson(res, 200, [marketItem()]);
    });
    const since = bot.discord.rest.requests.length;
    const { id, token } = bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
    const deferred = await bot.discord.waitForRequest(isCallback(id), since);
    expect(bodyJson(deferred).type).toBe(5);
    release();
    const edit = await bot.discord.waitForRequest((r) => r.method === 'PATCH' && r.url.includes(token), since);
    expect(embedText((bodyJson(edit) as any).embeds[0])).toContain('$0.04123');
    expect(bot.coingecko.requests.length).toBe(normal + 1);
  });

  it('replaces a deferred answer that turns out to be an error with an ephemeral follow-up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const bot = await startBot({ deferAfterMs: 10 });
    bot.coingecko.fail(async (_req, res) => {
      await gate;
      sendJson(res, 500, { error: 'down' });
    });
    const since = bot.discord.rest.requests.length;
    const { id, token } = bot.discord.interact(bot.discord.slash({ subcommand: 'broken' }));
    expect(bodyJson(await bot.discord.waitForRequest(isCallback(id), since)).type).toBe(5);
    release();
    const removed = await bot.discord.waitForRequest((r) => r.method === 'DELETE' && r.url.includes(token), since);
    const followUp = await bot.discord.waitForRequest(
      (r) => r.method === 'POST' && r.url.includes(`/webhooks/`) && r.url.includes(token),
      since,
    );
    expect(bot.discord.rest.requests.indexOf(removed)).toBeLessThan(bot.discord.rest.requests.indexOf(followUp));
    const body = bodyJson(followUp) as any;
    expect(body.flags).toBe(EPHEMERAL);
    expect(body.embeds[0].title).toBe('OPG data is unavailable right now');
    expect(bot.discord.rest.requests.some((r) => r.method === 'PATCH' && r.url.includes(token))).toBe(false);
  });

  it('updates the message from the Refresh button, fetching again only when the figures are old', async () => {
    const bot = await startBot();
    const calls = bot.coingecko.marketCalls();
    const fresh = await ask(bot, bot.discord.button('refresh:stats'));
    expect(fresh.type).toBe(7);
    expect(fresh.data.embeds[0]!.title).toBe('OPG stats');
    expect(bot.coingecko.marketCalls()).toBe(calls);
    bot.app.clock.advance(5 * 60_000);
    const old = await ask(bot, bot.discord.button('refresh:stats'));
    expect(old.type).toBe(7);
    expect(bot.coingecko.marketCalls()).toBe(calls + 1);
  });

  it('answers after the REST says 429 with Retry-After and rate-limit headers', async () => {
    const bot = await startBot();
    bot.discord.failNext(
      (r) => r.url.includes('/callback'),
      (_req, res) =>
        sendJson(
          res,
          429,
          { message: 'You are being rate limited.', retry_after: 0.01, global: false },
          {
            'retry-after': '0.01',
            'x-ratelimit-limit': '5',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset-after': '0.01',
            'x-ratelimit-bucket': 'abc123',
            'x-ratelimit-scope': 'user',
          },
        ),
    );
    const since = bot.discord.rest.requests.length;
    const { id } = bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
    await bot.discord.waitForRequest(isCallback(id), since);
    const retried = await bot.discord.waitForRequest(
      isCallback(id),
      bot.discord.rest.requests.findIndex((r, i) => i >= since && isCallback(id)(r)) + 1,
    );
    expect(bodyJson(retried).type).toBe(4);
  });

  it.each([
    [
      'answers 500',
      (_req: RecordedRequest, res: import('node:http').ServerResponse) =>
        sendJson(res, 500, { message: 'Internal Server Error', code: 0 }),
    ],
    ['times out', () => {}],
  ])('answers after the REST %s once', async (_what, fault) => {
    const bot = await startBot();
    bot.discord.failNext((r) => r.url.includes('/callback'), fault);
    const since = bot.discord.rest.requests.length;
    const { id } = bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
    const first = await bot.discord.waitForRequest(isCallback(id), since);
    const retried = await bot.discord.waitForRequest(isCallback(id), bot.discord.rest.requests.indexOf(first) + 1);
    expect(bodyJson(retried).type).toBe(4);
  });

  it.each([
    [4000, 'resumes', { resumes: 1, identifies: 1 }],
    [1000, 'identifies again', { resumes: 0, identifies: 2 }],
  ])('reconnects when the gateway closes with %i (%s) and keeps answering', async (code, _how, counts) => {
    const bot = await startBot();
    bot.discord.closeGateway(code);
    await bot.discord.waitForSession(2);
    const answer = await ask(bot, bot.discord.slash({ subcommand: 'stats' }));
    expect(answer.data.embeds[0]!.title).toBe('OPG stats');
    expect({ resumes: bot.discord.resumes, identifies: bot.discord.identifies }).toEqual(counts);
  });

  it('shares one market refresh among Refresh clicks that arrive together', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const bot = await startBot({ deferAfterMs: 10 });
    const calls = bot.coingecko.marketCalls();
    bot.app.clock.advance(5 * 60_000);
    bot.coingecko.fail(async (req, res) => {
      await gate;
      sendJson(res, 200, [marketItem({ current_price: 0.05 })]);
    });
    const since = bot.discord.rest.requests.length;
    const clicks = [
      bot.discord.interact(bot.discord.button('refresh:stats')),
      bot.discord.interact(bot.discord.button('refresh:stats')),
    ];
    for (const { id } of clicks) expect(bodyJson(await bot.discord.waitForRequest(isCallback(id), since)).type).toBe(6);
    release();
    for (const { token } of clicks) {
      const edit = await bot.discord.waitForRequest((r) => r.method === 'PATCH' && r.url.includes(token), since);
      expect(embedText((bodyJson(edit) as any).embeds[0])).toContain('$0.05');
    }
    expect(bot.coingecko.marketCalls()).toBe(calls + 1);
  });

  it('acknowledges heartbeats and stays connected', async () => {
    const bot = await startBot({ heartbeatIntervalMs: 20 });
    await new Promise<void>((resolve) => {
      const check = () => (bot.discord.heartbeats >= 3 ? resolve() : setTimeout(check, 5));
      check();
    });
    const answer = await ask(bot, bot.discord.slash({ subcommand: 'stats' }));
    expect(answer.type).toBe(4);
    expect(bot.discord.identifies).toBe(1);
  });

  /** What Discord answers a message it will not take: 50035 naming the field. */
  const invalidFormBody = (res: import('node:http').ServerResponse) =>
    sendJson(res, 400, {
      code: 50035,
      message: 'Invalid Form Body',
      errors: {
        data: {
          embeds: {
            '0': {
              title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] },
            },
          },
        },
      },
    });
  const isAnswer = (r: RecordedRequest) => r.method === 'POST' && r.url.includes('/callback') && bodyJson(r).type === 4;

  it(
    'answers in plain text with the figures when Discord refuses an answer with 400, logging it once and not ' +
      'retrying',
    async () => {
      const logger = recordingLogger();
      const bot = await startBot({ logger });
      let refused = 0;
      bot.discord.failNext(isAnswer, (_req, res) => {
        refused += 1;
        invalidFormBody(res);
      });
      const since = bot.discord.rest.requests.length;
      bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
      const plain = await bot.discord.waitForRequest(
        (r) => r.url.includes('/callback') && typeof (bodyJson(r) as any).data?.content === 'string',
        since,
      );
      const data = (bodyJson(plain) as any).data;
      expect(data.content).toContain('OPG stats');
      expect(data.content).toContain('Price: $0.04123');
      expect(data.embeds).toEqual([]);
      expect(data.components).toEqual([]);
      expect(data.flags ?? 0, 'as public as the answer it replaces').toBe(0);
      expect(data.allowed_mentions).toEqual({ parse: [] });
      await new Promise((r) => setTimeout(r, 300));
      expect(refused).toBe(1);
      expect(bot.discord.rest.requests.slice(since).filter((r) => r.url.includes('/callback'))).toHaveLength(2);
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toContain('plain text');
      expect(String(errors[0]!.fields.errors)).toContain('title');
      expect(JSON.stringify(logger.lines)).not.toContain('interaction-token');
    },
  );

  it.each([
    [40060, 'Interaction has already been acknowledged.'],
    [10062, 'Unknown interaction'],
  ])(
    'sends no plain copy and no notice after a 400 %i, which is not about the body, logging it once',
    async (code, message) => {
      const logger = recordingLogger();
      const bot = await startBot({ logger });
      bot.discord.failNext(isAnswer, (_req, res) => sendJson(res, 400, { code, message }));
      const since = bot.discord.rest.requests.length;
      bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
      await bot.discord.waitForRequest(isAnswer, since);
      await new Promise((r) => setTimeout(r, 500));
      expect(bot.discord.rest.requests.slice(since).filter((r) => r.url.includes('/interactions/'))).toHaveLength(1);
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.fields).toMatchObject({ status: 400, code });
      expect(JSON.stringify(logger.lines)).not.toContain('interaction-token');
    },
  );

  it('answers privately with a short notice when Discord refuses the plain text too, logging once', async () => {
    const logger = recordingLogger();
    const bot = await startBot({ logger });
    bot.discord.failNext(isAnswer, (_req, res) => invalidFormBody(res));
    bot.discord.failNext(isAnswer, (_req, res) => invalidFormBody(res));
    const since = bot.discord.rest.requests.length;
    bot.discord.interact(bot.discord.slash({ subcommand: 'stats' }));
    const notice = await bot.discord.waitForRequest(
      (r) => r.url.includes('/callback') && JSON.stringify(bodyJson(r)).includes('could not be shown'),
      since,
    );
    expect((bodyJson(notice) as any).data.flags).toBe(EPHEMERAL);
    await new Promise((r) => setTimeout(r, 300));
    expect(bot.discord.rest.requests.slice(since).filter((r) => r.url.includes('/callback'))).toHaveLength(3);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('short notice');
  });

  it('fills the deferred answer with plain text when Discord refuses the rendered one', async () => {
    const logger = recordingLogger();
    const bot = await startBot({ logger });
    bot.discord.failNext(
      (r) => r.method === 'PATCH' && r.url.includes('original'),
      (_req, res) => invalidFormBody(res),
    );
    const since = bot.discord.rest.requests.length;
    const { token } = bot.discord.interact(bot.discord.slash({ subcommand: 'chart' }));
    const plain = await bot.discord.waitForRequest(
      (r) => r.method === 'PATCH' && r.url.includes(token) && typeof (bodyJson(r) as any).content === 'string',
      since,
    );
    expect(bot.discord.rest.requests.slice(since).map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    const body = bodyJson(plain) as any;
    expect(body.content).toMatch(/chart|history/i);
    expect(body).toMatchObject({ embeds: [], components: [], attachments: [] });
    await new Promise((r) => setTimeout(r, 300));
    expect(bot.discord.rest.requests.slice(since)).toHaveLength(3);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('gives the person who pressed Refresh the figures privately when Discord refuses the update', async () => {
    const logger = recordingLogger();
    const bot = await startBot({ logger });
    bot.discord.failNext(
      (r) => r.method === 'POST' && r.url.includes('/callback') && bodyJson(r).type === 7,
      (_req, res) => invalidFormBody(res),
    );
    const since = bot.discord.rest.requests.length;
    bot.discord.interact(bot.discord.button('refresh:stats'));
    const plain = await bot.discord.waitForRequest(isAnswer, since);
    const data = (bodyJson(plain) as any).data;
    expect(data.content).toContain('OPG stats');
    expect(data.flags).toBe(EPHEMERAL);
    await new Promise((r) => setTimeout(r, 300));
    expect(bot.discord.rest.requests.slice(since)).toHaveLength(2);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});
