/**
 * The stand-ins' contract checks refuse what Discord and Telegram refuse, naming the field, and accept
 * what the bot's renderers produce: tested here so a check that cannot fail cannot hide.
 */
import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { renderDiscord } from '../src/adapters/discord/render.js';
import { renderTelegramHtml } from '../src/adapters/telegram/render.js';
import { reply } from '../src/core/reply.js';
import { discordRefusal, embedCharacters } from './helpers/discord-contract.js';
import {
  APP_ID,
  CHANNEL_ID,
  DM_CHANNEL_ID,
  GUILD_ID,
  HIDDEN_CHANNEL_ID,
  INTERACTION_TOKEN_TTL_MS,
  LOCKED_CHANNEL_ID,
  NO_EMBEDS_CHANNEL_ID,
  startDiscordStandIn,
  THREAD_ID,
} from './helpers/discord-server.js';
import { parseTelegramHtml, telegramProblems } from './helpers/telegram-contract.js';
import { NOT_MODIFIED, QUERY_TOO_OLD, startTelegramServer } from './helpers/telegram-server.js';

const json = (body: unknown) => ({ contentType: 'application/json', raw: Buffer.from(JSON.stringify(body)) });
const channelPost = (body: unknown) => discordRefusal({ method: 'POST', path: '/channels/1/messages', ...json(body) });

function multipart(payload: unknown, files: Array<{ name: string; filename: string }>) {
  const boundary = 'b0undary';
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n\r\n${JSON.stringify(payload)}\r\n`,
    ...files.map(
      (f) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\n` +
        'Content-Type: image/png\r\n\r\n\x89PNG\r\n',
    ),
    `--${boundary}--\r\n`,
  ];
  return { contentType: `multipart/form-data; boundary=${boundary}`, raw: Buffer.from(parts.join(''), 'latin1') };
}

describe("Discord's contract", () => {
  const sample = renderDiscord(
    reply({
      title: 'OPG stats',
      fields: [{ label: 'Price', value: '$0.04' }],
      footer: 'CoinGecko',
      buttons: [{ id: 'refresh:stats', label: 'Refresh' }],
    }),
  );
  const body = { embeds: sample.embeds, components: sample.components, allowed_mentions: sample.allowedMentions };

  it("accepts the renderer's message, as a post, an interaction answer and a deferred edit", () => {
    expect(channelPost(body)).toBeNull();
    expect(
      discordRefusal({ method: 'POST', path: '/interactions/1/tok/callback', ...json({ type: 4, data: body }) }),
    ).toBeNull();
    expect(discordRefusal({ method: 'PATCH', path: '/webhooks/1/tok/messages/@original', ...json(body) })).toBeNull();
  });

  it('refuses a title past 256 characters with Invalid Form Body naming embeds.0.title', () => {
    const refusal = channelPost({ embeds: [{ title: 'x'.repeat(257) }] });
    expect(refusal?.body.code).toBe(50035);
    expect(refusal?.body.message).toBe('Invalid Form Body');
    expect(refusal?.problems.join('\n')).toContain('embeds.0.title');
    expect(JSON.stringify(refusal?.body.errors)).toContain('"title":{"_errors"');
  });

  it('refuses content past 2,000 characters, which the spec alone would let through to 4,000', () => {
    expect(channelPost({ content: 'x'.repeat(2_000) })).toBeNull();
    expect(channelPost({ content: 'x'.repeat(2_001) })?.problems).toEqual([
      'content: Must be 2000 or fewer in length.',
    ]);
  });

  it('refuses embeds past 6,000 characters in all, though each is within its own limits', () => {
    const embed = { title: 't', description: 'd'.repeat(3_500) };
    expect(embedCharacters(embed)).toBe(3_501);
    expect(channelPost({ embeds: [embed] })).toBeNull();
    expect(channelPost({ embeds: [embed, embed] })?.problems.join()).toContain(
      'embeds: Embed size exceeds maximum size of 6000',
    );
  });

  it('refuses an empty message with 50006', () => {
    expect(channelPost({})?.body).toEqual({ code: 50006, message: 'Cannot send an empty message' });
    expect(
      discordRefusal({
        method: 'POST',
        path: '/interactions/1/tok/callback',
        ...json({ type: 4, data: { content: '' } }),
      })?.body.code,
    ).toBe(50006);
  });

  it('refuses attachment ids and embed images that name no uploaded file part', () => {
    const payload = {
      embeds: [{ title: 'chart', image: { url: 'attachment://chart.png' } }],
      attachments: [{ id: '0', filename: 'chart.png' }],
    };
    expect(
      discordRefusal({
        method: 'POST',
        path: '/channels/1/messages',
        ...multipart(payload, [{ name: 'files[0]', filename: 'chart.png' }]),
      }),
    ).toBeNull();
    const wrongId = discordRefusal({
      method: 'POST',
      path: '/channels/1/messages',
      ...multipart({ ...payload, attachments: [{ id: '1', filename: 'chart.png' }] }, [
        { name: 'files[0]', filename: 'chart.png' },
      ]),
    });
    expect(wrongId?.problems.join()).toContain('attachments.0.id');
    const noImage = discordRefusal({
      method: 'POST',
      path: '/channels/1/messages',
      ...multipart({ embeds: [{ title: 'c', image: { url: 'attachment://other.png' } }] }, [
        { name: 'files[0]', filename: 'chart.png' },
      ]),
    });
    expect(noImage?.problems.join()).toContain('embeds.0.image.url');
  });

  it('refuses an embed field whose name or value is empty or blank, naming the field', () => {
    const field = (name: string, value: string) =>
      channelPost({
        embeds: [
          {
            title: 't',
            fields: [
              { name: 'Price', value: '$1' },
              { name, value },
            ],
          },
        ],
      });
    expect(field('Supply', '12')).toBeNull();
    const refusal = field('Supply', '');
    expect(refusal?.body.code).toBe(50035);
    expect(refusal?.body.errors).toEqual({
      embeds: {
        '0': {
          fields: { '1': { value: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] } } },
        },
      },
    });
    expect(field(' ', 'x')?.problems).toEqual(['embeds.0.fields.1.name: This field is required']);
  });

  it('refuses an empty embed, and an empty body on a message post', () => {
    const refusal = channelPost({ content: 'hi', embeds: [{ title: 'ok' }, {}] });
    expect(refusal?.problems).toEqual(['embeds.1: List item values of ModelType are required']);
    expect(
      discordRefusal({ method: 'POST', path: '/webhooks/1/tok', ...json({ embeds: [{ color: 5 }] }) })?.body.code,
    ).toBe(50035);
    const empty = discordRefusal({
      method: 'POST',
      path: '/channels/1/messages',
      contentType: 'application/json',
      raw: Buffer.alloc(0),
    });
    expect(empty?.body).toEqual({ code: 50006, message: 'Cannot send an empty message' });
  });

  it('refuses a custom_id used twice among the components of one message', () => {
    const button = (id: string) => ({ type: 2, style: 2, label: 'Refresh', custom_id: id });
    const rows = (a: string, b: string) => [
      { type: 1, components: [button(a)] },
      { type: 1, components: [button(b)] },
    ];
    expect(channelPost({ ...body, components: rows('refresh:stats', 'refresh:volume') })).toBeNull();
    const refusal = channelPost({ ...body, components: rows('refresh:stats', 'refresh:stats') });
    expect(refusal?.problems).toEqual([
      'components.1.components.0.custom_id: Component custom id was already specified',
    ]);
    expect(JSON.stringify(refusal?.body.errors)).toContain('COMPONENT_CUSTOM_ID_DUPLICATED');
  });

  /** The field errors of a refusal, as Discord nests them: `{"components":{"0":{"_errors":[…]}}}`. */
  const errorsAt = (refusal: ReturnType<typeof discordRefusal>, path: string) => {
    let node = refusal?.body.errors as Record<string, any> | undefined;
    for (const segment of path.split('.')) node = node?.[segment];
    return (node?._errors ?? []) as Array<{ code: string; message: string }>;
  };

  it('refuses more than 5 action rows, and more than 5 buttons in a row, without the components-v2 flag', () => {
    const button = (id: string) => ({ type: 2, style: 2, label: 'Go', custom_id: id });
    const row = (ids: string[]) => ({ type: 1, components: ids.map(button) });
    const rows = (n: number) => Array.from({ length: n }, (_, i) => row([`r${i}`]));
    expect(channelPost({ content: 'hi', components: rows(5) })).toBeNull();
    const six = channelPost({ content: 'hi', components: rows(6) });
    expect(six?.body.code).toBe(50035);
    expect(six?.problems).toEqual(['components: Must be 5 or fewer in length.']);
    expect(errorsAt(six, 'components')[0]?.code).toBe('BASE_TYPE_MAX_LENGTH');
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `b${i}`);
    expect(channelPost({ content: 'hi', components: [row(ids(5))] })).toBeNull();
    const wide = channelPost({ content: 'hi', components: [row(ids(6))] });
    expect(wide?.problems).toContain('components.0.components: Must be 5 or fewer in length.');
    // As an interaction answer too, naming data.
    const answer = discordRefusal({
      method: 'POST',
      path: '/interactions/1/tok/callback',
      ...json({ type: 4, data: { content: 'hi', components: rows(6) } }),
    });
    expect(answer?.problems).toEqual(['data.components: Must be 5 or fewer in length.']);
  });

  it('refuses a button with neither label nor emoji, and one without the action field its style takes', () => {
    const post = (b: Record<string, unknown>) =>
      channelPost({ content: 'hi', components: [{ type: 1, components: [b] }] });
    const at = 'components.0.components.0';
    expect(post({ type: 2, style: 2, custom_id: 'a', label: 'Go' })).toBeNull();
    expect(post({ type: 2, style: 2, custom_id: 'a', emoji: { name: '🔄' } })).toBeNull();
    expect(post({ type: 2, style: 5, url: 'https://example.com', label: 'Docs' })).toBeNull();
    expect(post({ type: 2, style: 2, custom_id: 'a' })?.problems).toEqual([
      `${at}.label: A label or an emoji is required`,
    ]);
    expect(post({ type: 2, style: 5, url: 'https://example.com', custom_id: 'a', label: 'Docs' })?.problems).toEqual([
      `${at}.custom_id: A custom id and url cannot both be specified`,
    ]);
    expect(post({ type: 2, style: 5, label: 'Docs' })?.problems).toEqual([`${at}.url: A url is required`]);
    expect(post({ type: 2, style: 1, label: 'Go' })?.problems).toEqual([`${at}.custom_id: A custom id is required`]);
    const both = post({ type: 2, style: 1, label: 'Go', custom_id: 'a', url: 'https://example.com' });
    expect(both?.problems).toEqual([`${at}.url: A custom id and url cannot both be specified`]);
    expect(errorsAt(both, `${at}.url`)).toHaveLength(1);
  });

  it('refuses an interaction answer (type 4) without data, naming data', () => {
    const callback = (body: unknown) =>
      discordRefusal({ method: 'POST', path: '/interactions/1/tok/callback', ...json(body) });
    const refusal = callback({ type: 4 });
    expect(refusal?.body.code).toBe(50035);
    expect(refusal?.problems).toEqual(['data: This field is required']);
    expect(errorsAt(refusal, 'data')[0]?.code).toBe('BASE_TYPE_REQUIRED');
    expect(callback({ type: 4, data: null })?.problems).toEqual(['data: This field is required']);
    // A deferral takes no data.
    expect(callback({ type: 5 })).toBeNull();
  });

  it('refuses a slash command without a 1-100 character description, with options out of order or named twice', () => {
    const put = (commands: unknown) =>
      discordRefusal({ method: 'PUT', path: '/applications/1/guilds/2/commands', ...json(commands) });
    const option = (name: string, required?: boolean) => ({
      type: 3,
      name,
      description: 'd',
      ...(required ? { required } : {}),
    });
    const command = (extra: Record<string, unknown>) => ({ name: 'opg', type: 1, description: 'd', ...extra });
    expect(put([command({ options: [option('a', true), option('b')] })])).toBeNull();
    // A user or message command takes no description.
    expect(put([{ name: 'Show figures', type: 2, description: '' }])).toBeNull();

    const blank = put([command({ description: '' })]);
    expect(blank?.body.code).toBe(50035);
    expect(blank?.problems).toEqual(['0.description: Must be between 1 and 100 in length.']);
    expect(put([{ name: 'opg', type: 1 }])?.problems).toEqual(['0.description: Must be between 1 and 100 in length.']);

    const order = put([command({ options: [option('a'), option('b', true)] })]);
    expect(order?.problems).toEqual([
      '0.options.1.required: Required options must be placed before non-required options',
    ]);
    expect(errorsAt(order, '0.options.1.required')[0]?.code).toBe('APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID');

    // Within a subcommand too; the same name in two subcommands is fine.
    const sub = (name: string, options: unknown[]) => ({ type: 1, name, description: 'd', options });
    expect(put([command({ options: [sub('x', [option('a')]), sub('y', [option('a')])] })])).toBeNull();
    const twice = put([command({ options: [sub('x', [option('a'), option('a')])] })]);
    expect(twice?.problems).toEqual(['0.options.0.options.1.name: Option name a is already used in these options']);
  });

  it('refuses content of whitespace alone as an empty message (50006), as an edit that leaves only that', () => {
    const empty = { code: 50006, message: 'Cannot send an empty message' };
    expect(channelPost({ content: ' \n\t ' })?.body).toEqual(empty);
    expect(channelPost({ content: ' x ' })).toBeNull();
    // A zero-width space is not whitespace to Discord: it is how a blank line is shown on purpose.
    expect(channelPost({ content: '\u200b' })).toBeNull();
    expect(channelPost({ content: '  ', embeds: [{ title: 'OPG stats' }] })).toBeNull();
    expect(
      discordRefusal({
        method: 'PATCH',
        path: '/webhooks/1/tok/messages/@original',
        ...json({ content: '  ', embeds: [] }),
        current: {},
      })?.body,
    ).toEqual(empty);
  });

  it('refuses more than 10 files in one message, naming files', () => {
    const files = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `files[${i}]`, filename: `c${i}.png` }));
    const post = (n: number) =>
      discordRefusal({ method: 'POST', path: '/channels/1/messages', ...multipart({}, files(n)) });
    expect(post(10)).toBeNull();
    const eleven = post(11);
    expect(eleven?.body.code).toBe(50035);
    expect(eleven?.problems).toEqual(['files: Must be 10 or fewer in length.']);
    expect(errorsAt(eleven, 'files')[0]?.code).toBe('BASE_TYPE_MAX_LENGTH');
  });

  it('refuses allowed_mentions that parse users (or roles) and list them too', () => {
    const ids = ['600000000000000002'];
    expect(channelPost({ content: 'hi', allowed_mentions: { parse: ['users'] } })).toBeNull();
    expect(channelPost({ content: 'hi', allowed_mentions: { parse: [], users: ids } })).toBeNull();
    expect(channelPost({ content: 'hi', allowed_mentions: { parse: ['roles'], users: ids } })).toBeNull();
    const both = channelPost({ content: 'hi', allowed_mentions: { parse: ['users'], users: ids } });
    expect(both?.body.code).toBe(50035);
    expect(both?.problems).toEqual(['allowed_mentions: parse:["users"] and users: [ids...] are mutually exclusive.']);
    expect(errorsAt(both, 'allowed_mentions')[0]?.code).toBe('MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE');
    const roles = discordRefusal({
      method: 'POST',
      path: '/interactions/1/tok/callback',
      ...json({ type: 4, data: { content: 'hi', allowed_mentions: { parse: ['roles'], roles: ids } } }),
    });
    expect(roles?.problems).toEqual([
      'data.allowed_mentions: parse:["roles"] and roles: [ids...] are mutually exclusive.',
    ]);
  });

  it('refuses a bulk overwrite naming a command twice, subcommands beside plain options, min above max', () => {
    const put = (commands: unknown) =>
      discordRefusal({ method: 'PUT', path: '/applications/1/commands', ...json(commands) });
    const command = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      type: 1,
      description: 'd',
      ...extra,
    });
    // A user command may share a chat-input command's name.
    expect(put([command('opg'), { name: 'opg', type: 2 }])).toBeNull();
    const twice = put([command('opg'), command('stats'), command('opg')]);
    expect(twice?.body.code).toBe(50035);
    expect(twice?.problems).toEqual(['2: Application command names must be unique']);
    expect(errorsAt(twice, '2')[0]?.code).toBe('APPLICATION_COMMANDS_DUPLICATE_NAME');

    const sub = { type: 1, name: 'stats', description: 'd' };
    const plain = { type: 3, name: 'coin', description: 'd' };
    expect(put([command('opg', { options: [sub, { ...sub, name: 'volume' }] })])).toBeNull();
    const mixed = put([command('opg', { options: [sub, plain] })]);
    expect(mixed?.problems).toEqual([
      '0.options: Sub-command and sub-command group option types are mutually exclusive to all other types',
    ]);
    expect(errorsAt(mixed, '0.options')[0]?.code).toBe('APPLICATION_COMMAND_OPTIONS_TYPE_INVALID');
    const group = { type: 2, name: 'alerts', description: 'd', options: [sub, plain] };
    // In a group (whose schema takes subcommands alone, so the spec's check speaks too).
    expect(put([command('opg', { options: [group] })])?.problems).toContain(
      '0.options.0.options: Sub-command and sub-command group option types are mutually exclusive to all other types',
    );

    const ratio = (extra: Record<string, unknown>) =>
      put([command('opg', { options: [{ type: 10, name: 'ratio', description: 'd', ...extra }] })]);
    expect(ratio({ min_value: 0.1, max_value: 1_000 })).toBeNull();
    expect(ratio({ min_value: 5, max_value: 5 })).toBeNull();
    expect(ratio({ min_value: 6, max_value: 5 })?.problems).toEqual([
      '0.options.0.min_value: min_value must be less than or equal to max_value',
    ]);
    const text = { type: 3, name: 'coin', description: 'd', min_length: 10, max_length: 2 };
    expect(put([command('opg', { options: [text] })])?.problems).toEqual([
      '0.options.0.min_length: min_length must be less than or equal to max_length',
    ]);
  });

  it('refuses a field of the wrong type, per the spec', () => {
    expect(channelPost({ content: 'hi', components: 'not a list' })?.problems.join()).toContain('components');
    expect(
      channelPost({ content: 'hi', allowed_mentions: { parse: ['everyone', 'nobody'] } })?.problems.join(),
    ).toContain('allowed_mentions.parse');
  });

  it('refuses a slash command whose option name breaks the rules', () => {
    const command = {
      name: 'opg',
      description: 'd',
      type: 1,
      options: [{ type: 1, name: 'Stats Now', description: 'd' }],
    };
    const refusal = discordRefusal({ method: 'PUT', path: '/applications/1/guilds/2/commands', ...json([command]) });
    expect(refusal?.problems.join()).toContain('0.options.0.name');
  });

  it('refuses a route Discord does not have with 404, and a method the route does not take with 405', () => {
    const nowhere = discordRefusal({ method: 'POST', path: '/channels/1/message', ...json({ content: 'hi' }) });
    expect(nowhere).toMatchObject({ status: 404, body: { code: 0, message: '404: Not Found' } });
    const wrongMethod = discordRefusal({ method: 'PUT', path: '/channels/1/messages', ...json({ content: 'hi' }) });
    expect(wrongMethod).toMatchObject({ status: 405, body: { code: 0, message: '405: Method Not Allowed' } });
    expect(discordRefusal({ method: 'GET', path: '/gateway/bot', contentType: undefined, raw: Buffer.alloc(0) })).toBe(
      null,
    );
  });

  it('refuses an edit that leaves the message with nothing to show (50006), as it refuses creating one', () => {
    const edit = (body: unknown, current?: Record<string, unknown>) =>
      discordRefusal({ method: 'PATCH', path: '/webhooks/1/tok/messages/@original', ...json(body), current })?.body ??
      null;
    const empty = { code: 50006, message: 'Cannot send an empty message' };
    expect(edit({ content: '', embeds: [], components: [], attachments: [] })).toEqual(empty);
    expect(edit({ content: null, embeds: null, components: null, attachments: null })).toEqual(empty);
    expect(
      discordRefusal({ method: 'PATCH', path: '/channels/1/messages/2', ...json({ content: '', embeds: [] }) }),
    ).toBeNull();
    // Fields an edit leaves out keep their values: empty only when what the message holds is known to be nothing.
    expect(edit({ content: '' })).toBeNull();
    expect(edit({}, {})).toEqual(empty);
    expect(edit({ embeds: [] }, { embeds: [{ title: 'OPG stats' }] })).toEqual(empty);
    expect(edit({ embeds: [] }, { content: 'Figures', embeds: [{ title: 'OPG stats' }] })).toBeNull();
    expect(
      discordRefusal({
        method: 'POST',
        path: '/interactions/1/tok/callback',
        ...json({ type: 7, data: { content: '', embeds: [], components: [], attachments: [] } }),
      })?.body,
    ).toEqual(empty);
    // A new file is something to show.
    expect(
      discordRefusal({
        method: 'PATCH',
        path: '/webhooks/1/tok/messages/@original',
        ...multipart({ content: '', embeds: [], components: [], attachments: [{ id: '0', filename: 'c.png' }] }, [
          { name: 'files[0]', filename: 'c.png' },
        ]),
        current: {},
      }),
    ).toBeNull();
  });
});

describe("Discord stand-in's interaction state", () => {
  async function standIn(options: { firstResponseWindowMs?: number } = {}) {
    let clockMs = 1_800_000_000_000;
    const discord = await startDiscordStandIn({ ...options, now: () => clockMs });
    let closed = false;
    onTestFinished(async () => {
      discord.allowRefusals();
      if (!closed) await discord.close();
    });
    const { id, token } = discord.interact(discord.slash({ subcommand: 'stats' }));
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${discord.apiUrl}/v10${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        status: res.status,
        body: res.status === 204 ? null : ((await res.json()) as { code: number; message: string }),
      };
    };
    return {
      discord,
      call,
      advance: (ms: number) => void (clockMs += ms),
      callback: (type = 5, at = { id, token }, data?: unknown) =>
        call('POST', `/interactions/${at.id}/${at.token}/callback`, { type, ...(data ? { data } : {}) }),
      edit: (body: unknown) => call('PATCH', `/webhooks/${APP_ID}/${token}/messages/@original`, body),
      original: (method: 'PATCH' | 'DELETE') =>
        call(
          method,
          `/webhooks/${APP_ID}/${token}/messages/@original`,
          method === 'PATCH' ? { content: 'Figures' } : undefined,
        ),
      followUp: () => call('POST', `/webhooks/${APP_ID}/${token}`, { content: 'More' }),
      close: async () => {
        closed = true;
        await discord.close();
      },
    };
  }

  it('takes one callback, then @original edits and follow-ups, and counts no refusal', async () => {
    const s = await standIn();
    s.advance(2_900);
    expect(await s.callback()).toEqual({ status: 204, body: null });
    s.advance(10 * 60_000);
    expect((await s.original('PATCH')).status).toBe(200);
    expect((await s.followUp()).status).toBe(200);
    expect((await s.original('DELETE')).status).toBe(204);
    expect(s.discord.refusals).toEqual([]);
    await s.close();
  });

  it('refuses a second callback with 40060, and close() names it', async () => {
    const s = await standIn();
    await s.callback(5);
    expect(await s.callback(4, undefined, { content: 'Figures' })).toEqual({
      status: 400,
      body: { code: 40060, message: 'Interaction has already been acknowledged.' },
    });
    await expect(s.close()).rejects.toThrow(/already acknowledged/);
  });

  it('refuses a first callback after 3 s, and any after the token expired, with 10062', async () => {
    const late = await standIn();
    late.advance(3_001);
    expect(await late.callback()).toEqual({ status: 404, body: { code: 10062, message: 'Unknown interaction' } });
    expect(late.discord.refusals[0]!.problems[0]).toMatch(/3001 ms after its dispatch; Discord allows 3000 ms/);
    const lenient = await standIn({ firstResponseWindowMs: 20_000 });
    lenient.advance(19_000);
    expect((await lenient.callback()).status).toBe(204);
    expect((await lenient.callback(5, { id: '1', token: 'never-dispatched' })).body?.code).toBe(10062);
  });

  it('refuses an edit that empties @original: nothing after a deferral, the answer once its embeds go', async () => {
    const deferred = await standIn();
    await deferred.callback(5);
    expect(await deferred.edit({})).toEqual({
      status: 400,
      body: { code: 50006, message: 'Cannot send an empty message' },
    });
    expect((await deferred.edit({ embeds: [{ title: 'OPG stats' }] })).status).toBe(200);
    expect((await deferred.edit({ content: '' })).status).toBe(200);
    expect((await deferred.edit({ embeds: [] })).body?.code).toBe(50006);
    expect(deferred.discord.refusals.map((r) => r.problems)).toEqual([
      ['Cannot send an empty message'],
      ['Cannot send an empty message'],
    ]);
    const answered = await standIn();
    expect((await answered.callback(4, undefined, { content: 'Figures' })).status).toBe(204);
    expect((await answered.edit({ embeds: [] })).status).toBe(200);
    expect((await answered.edit({ content: '' })).body?.code).toBe(50006);
    await expect(answered.close()).rejects.toThrow(/@original: Cannot send an empty message/);
  });

  it('counts a route Discord does not have, and one this stand-in does not implement, as refusals', async () => {
    const s = await standIn();
    const nowhere = await s.call('GET', '/channels/1/message');
    expect(nowhere).toEqual({ status: 404, body: { code: 0, message: '404: Not Found' } });
    expect((await s.call('PATCH', '/gateway/bot', { url: 'x' })).status).toBe(405);
    // Discord has it; this stand-in does not answer it.
    expect((await s.call('GET', '/channels/1/messages')).status).toBe(404);
    expect(s.discord.refusals.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /channels/1/message',
      'PATCH /gateway/bot',
      'GET /channels/1/messages',
    ]);
    await expect(s.close()).rejects.toThrow(/GET \/channels\/1\/messages: the stand-in does not implement this route/);
  });

  it('refuses @original and follow-ups before the acknowledgement (10015) and after 15 minutes (50027)', async () => {
    const s = await standIn();
    expect(await s.original('PATCH')).toEqual({ status: 404, body: { code: 10015, message: 'Unknown Webhook' } });
    expect((await s.original('DELETE')).body?.code).toBe(10015);
    expect((await s.followUp()).body?.code).toBe(10015);
    expect(s.discord.refusals).toHaveLength(3);
    await s.callback();
    s.advance(INTERACTION_TOKEN_TTL_MS + 1);
    expect(await s.followUp()).toEqual({ status: 401, body: { code: 50027, message: 'Invalid Webhook Token' } });
    expect(s.discord.refusals).toHaveLength(4);
  });
});

describe("Discord stand-in's channels", () => {
  async function standIn() {
    const discord = await startDiscordStandIn();
    let closed = false;
    onTestFinished(async () => {
      discord.allowRefusals();
      if (!closed) await discord.close();
    });
    const post = async (channelId: string, body: unknown, file = false) => {
      const init = file
        ? multipart(body, [{ name: 'files[0]', filename: 'chart.png' }])
        : { contentType: 'application/json', raw: Buffer.from(JSON.stringify(body)) };
      const res = await fetch(`${discord.apiUrl}/v10/channels/${channelId}/messages`, {
        method: 'POST',
        headers: { 'content-type': init.contentType },
        body: init.raw,
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    return {
      discord,
      post,
      close: async () => {
        closed = true;
        await discord.close();
      },
    };
  }
  const embed = { embeds: [{ title: 'Volume / market cap crossed 5x' }] };
  const MISSING_ACCESS = { message: 'Missing Access', code: 50001 };
  const MISSING_PERMISSIONS = { message: 'Missing Permissions', code: 50013 };
  const UNKNOWN_CHANNEL = { message: 'Unknown Channel', code: 10003 };

  it("answers a post from the bot's permissions there: 404 10003, 403 50001, 403 50013, as Discord", async () => {
    const s = await standIn();
    expect((await s.post(CHANNEL_ID, embed)).status).toBe(200);
    expect((await s.post(THREAD_ID, embed)).status).toBe(200);
    expect((await s.post(DM_CHANNEL_ID, embed)).status).toBe(200);
    expect(await s.post('800000000000000099', embed)).toEqual({ status: 404, body: UNKNOWN_CHANNEL });
    expect(await s.post(HIDDEN_CHANNEL_ID, embed)).toEqual({ status: 403, body: MISSING_ACCESS });
    expect(await s.post(LOCKED_CHANNEL_ID, embed)).toEqual({ status: 403, body: MISSING_PERMISSIONS });
    expect(s.discord.accessDenied).toEqual([
      { channelId: '800000000000000099', status: 404, code: 10003 },
      { channelId: HIDDEN_CHANNEL_ID, status: 403, code: 50001 },
      { channelId: LOCKED_CHANNEL_ID, status: 403, code: 50013 },
    ]);
    // The world's state, not a request Discord would refuse as malformed.
    expect(s.discord.refusals).toEqual([]);
    await s.close();
  });

  it('follows overwrites changed or a channel deleted after the start, and a thread its parent', async () => {
    const s = await standIn();
    const P = PermissionFlagsBits;
    const everyone = (deny: bigint) => [{ id: GUILD_ID, type: 0 as const, allow: '0', deny: String(deny) }];
    s.discord.setChannel(CHANNEL_ID, everyone(P.AttachFiles));
    expect((await s.post(CHANNEL_ID, { content: 'hi' })).status).toBe(200);
    expect(await s.post(CHANNEL_ID, { content: 'hi', attachments: [{ id: '0' }] }, true)).toEqual({
      status: 403,
      body: MISSING_PERMISSIONS,
    });
    s.discord.setChannel(CHANNEL_ID, everyone(P.SendMessagesInThreads));
    expect((await s.post(CHANNEL_ID, embed)).status).toBe(200);
    expect((await s.post(THREAD_ID, embed)).body).toEqual(MISSING_PERMISSIONS);
    s.discord.setChannel(CHANNEL_ID, everyone(P.ViewChannel));
    expect((await s.post(THREAD_ID, embed)).body).toEqual(MISSING_ACCESS);
    // An overwrite for the bot itself beats @everyone's.
    s.discord.setChannel(CHANNEL_ID, [
      ...everyone(P.ViewChannel | P.SendMessages),
      { id: APP_ID, type: 1, allow: String(P.ViewChannel | P.SendMessages), deny: '0' },
    ]);
    expect((await s.post(CHANNEL_ID, embed)).status).toBe(200);
    s.discord.setChannel('810000000000000001');
    expect((await s.post('810000000000000001', embed)).status).toBe(200);
    s.discord.deleteChannel('810000000000000001');
    expect((await s.post('810000000000000001', embed)).body).toEqual(UNKNOWN_CHANNEL);
    await s.close();
  });

  it('takes a post without Embed Links, drops its embeds, and counts one showing nothing as a refusal', async () => {
    const s = await standIn();
    const withText = await s.post(NO_EMBEDS_CHANNEL_ID, { content: 'Now 5.2x', ...embed });
    expect(withText.status).toBe(200);
    expect(withText.body).toMatchObject({ content: 'Now 5.2x', embeds: [] });
    expect(s.discord.refusals).toEqual([]);
    const buttons = [{ type: 1, components: [{ type: 2, style: 2, label: 'Refresh', custom_id: 'refresh:stats' }] }];
    const empty = await s.post(NO_EMBEDS_CHANNEL_ID, { ...embed, components: buttons });
    expect(empty.status).toBe(200);
    expect(empty.body.embeds).toEqual([]);
    expect(s.discord.refusals.map((r) => r.problems)).toEqual([
      [`the bot lacks Embed Links in channel ${NO_EMBEDS_CHANNEL_ID}: its embeds were dropped and it shows nothing`],
    ]);
    await expect(s.close()).rejects.toThrow(/lacks Embed Links/);
  });
});

describe("Telegram's contract", () => {
  const send = (params: Record<string, unknown>, method = 'sendMessage') =>
    telegramProblems({ method, params, fileParts: [], form: false });

  it("accepts the renderer's HTML, and counts text after entity parsing", () => {
    const [html] = renderTelegramHtml(reply({ title: 'OPG <stats> & more', lines: ['a & b < c'] }));
    expect(send({ chat_id: -100, text: html, parse_mode: 'HTML' })).toEqual([]);
    // 4,096 visible characters inside tags: the raw text is longer, and Telegram takes it.
    expect(send({ chat_id: 1, text: `<b>${'x'.repeat(4_096)}</b>`, parse_mode: 'HTML' })).toEqual([]);
    expect(send({ chat_id: 1, text: `<b>${'x'.repeat(4_097)}</b>`, parse_mode: 'HTML' }).join()).toContain(
      'message text is too long',
    );
  });

  it('refuses empty text, a missing chat and values of the wrong type', () => {
    expect(send({ chat_id: 1, text: '' })).toEqual(['message text is empty']);
    expect(send({ text: 'hi' })).toEqual(['parameter "chat_id" is required']);
    expect(send({ chat_id: { id: 1 }, text: 'hi' }).join()).toContain('field "chat_id" must be of type');
    expect(send({ chat_id: 1, text: 'hi', disable_notification: 'yes' }).join()).toContain('disable_notification');
  });

  it("refuses HTML that is not Telegram's: unknown tags, unbalanced tags, bare & < >", () => {
    expect(parseTelegramHtml('<b>a</b> &amp; <i>b</i>')).toBe('a & b');
    for (const bad of ['<div>a</div>', '<b>a', '<b>a</i>', 'a & b', 'a < b', 'a > b', '<a>x</a>']) {
      expect(typeof parseTelegramHtml(bad), bad).toBe('object');
    }
    expect(send({ chat_id: 1, text: '<p>hi</p>', parse_mode: 'HTML' }).join()).toContain("can't parse entities");
  });

  it('refuses captions past 1,024 characters and callback data past 64 bytes', () => {
    const photo = { chat_id: 1, photo: 'attach://p', caption: 'x'.repeat(1_025) };
    expect(telegramProblems({ method: 'sendPhoto', params: photo, fileParts: ['p'], form: true }).join()).toContain(
      'caption is too long',
    );
    expect(
      telegramProblems({
        method: 'sendPhoto',
        params: { chat_id: 1, photo: 'attach://p' },
        fileParts: [],
        form: true,
      }).join(),
    ).toContain('was not uploaded');
    const keyboard = (data: string) => ({
      chat_id: 1,
      text: 'hi',
      reply_markup: { inline_keyboard: [[{ text: 'Refresh', callback_data: data }]] },
    });
    expect(send(keyboard('x'.repeat(64)))).toEqual([]);
    expect(send(keyboard('é'.repeat(33))).join()).toContain('BUTTON_DATA_INVALID');
    expect(send(keyboard('')).join()).toContain('BUTTON_DATA_INVALID');
  });

  it('refuses commands outside [a-z0-9_]{1,32} and descriptions outside 1-256', () => {
    const set = (commands: unknown) => send({ commands }, 'setMyCommands');
    expect(set([{ command: 'opg_stats', description: 'Stats' }])).toEqual([]);
    expect(set([{ command: 'Opg', description: 'Stats' }]).join()).toContain('BOT_COMMAND_INVALID');
    expect(set([{ command: 'opg', description: 'x'.repeat(257) }]).join()).toContain('BOT_COMMAND_DESCRIPTION_INVALID');
    expect(set([{ command: 'opg' }]).join()).toContain('commands[0].description');
  });

  it('refuses an inline button without exactly one action field (callback_data, url, …)', () => {
    const button = (b: Record<string, unknown>) =>
      send({ chat_id: 1, text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'Go', ...b }]] } });
    expect(button({ callback_data: 'refresh:stats' })).toEqual([]);
    expect(button({ url: 'https://example.com' })).toEqual([]);
    // Looks are not actions; an empty inline query is one (Telegram inserts the bot's username).
    expect(button({ callback_data: 'a', style: 'primary' })).toEqual([]);
    expect(button({ switch_inline_query: '' })).toEqual([]);
    expect(button({})).toEqual([
      "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    ]);
    expect(button({ style: 'danger' }).join()).toContain('Text buttons are unallowed');
    const two = button({ callback_data: 'a', url: 'https://example.com' });
    expect(two).toHaveLength(1);
    expect(two[0]).toMatch(/exactly one of .*callback_data.*must be used \(got url, callback_data\)/);
  });

  it('refuses MarkdownV2 and Markdown as not modelled, so a switch away from HTML fails loudly', () => {
    for (const mode of ['MarkdownV2', 'Markdown']) {
      expect(send({ chat_id: 1, text: '*OPG*', parse_mode: mode })).toEqual([
        `parse_mode "${mode}" is not modelled by the stand-in's contract (telegram-contract.ts); model it first`,
      ]);
      const photo = { chat_id: 1, photo: 'attach://p', caption: '*OPG*', parse_mode: mode };
      expect(telegramProblems({ method: 'sendPhoto', params: photo, fileParts: ['p'], form: true }).join()).toContain(
        'not modelled',
      );
    }
    expect(send({ chat_id: 1, text: '*OPG*' })).toEqual([]);
    expect(send({ chat_id: 1, text: 'OPG', parse_mode: 'html5' })).toEqual(['unsupported parse_mode "html5"']);
  });

  it('refuses <tg-emoji> without its emoji-id, and tags nested in <pre> or <code> but a <code> in a <pre>', () => {
    expect(parseTelegramHtml('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')).toBe('👍');
    for (const bad of [
      '<tg-emoji>👍</tg-emoji>',
      '<tg-emoji id="1">👍</tg-emoji>',
      '<tg-emoji emoji-id="x">👍</tg-emoji>',
    ])
      expect(parseTelegramHtml(bad), bad).toMatchObject({ error: expect.stringContaining('emoji-id') });
    expect(parseTelegramHtml('<pre><code class="language-ts">a &lt; b</code></pre>')).toBe('a < b');
    expect(parseTelegramHtml('<b><code>x</code></b>')).toBe('x');
    for (const [bad, outer] of [
      ['<pre><b>x</b></pre>', 'pre'],
      ['<code><b>x</b></code>', 'code'],
      ['<code><code>x</code></code>', 'code'],
      ['<pre><code><i>x</i></code></pre>', 'code'],
      ['<pre><a href="https://example.com">x</a></pre>', 'pre'],
    ] as const) {
      expect(parseTelegramHtml(bad), bad).toMatchObject({
        error: expect.stringContaining(`can't be nested in "${outer}"`),
      });
    }
    expect(send({ chat_id: 1, text: '<pre><b>x</b></pre>', parse_mode: 'HTML' }).join()).toContain(
      "can't parse entities",
    );
  });

  it('refuses an attach:// inside InputMedia that names no uploaded part, naming the field', () => {
    const media = (ref: string, fileParts: string[]) =>
      telegramProblems({
        method: 'editMessageMedia',
        params: { chat_id: -100, message_id: 5, media: { type: 'photo', media: ref, caption: 'Chart' } },
        fileParts,
        form: true,
      });
    expect(media('attach://chart', ['chart'])).toEqual([]);
    expect(media('attach://zz', ['chart'])).toEqual(['file part "zz" for field "media.media" was not uploaded']);
    // A file id or a URL is no upload; text elsewhere that happens to start with attach:// is text.
    expect(media('AgACAgIAAxkBAAIBfileid', [])).toEqual([]);
    expect(send({ chat_id: 1, text: 'attach://zz' })).toEqual([]);
  });

  it('refuses an edit that names no message: chat_id and message_id, or inline_message_id', () => {
    const bodies: Record<string, Record<string, unknown>> = {
      editMessageText: { text: 'OPG stats' },
      editMessageCaption: { caption: 'OPG chart' },
      editMessageReplyMarkup: {},
      editMessageMedia: { media: { type: 'photo', media: 'AgACAgIAAxkBAAIBfileid' } },
    };
    for (const [method, body] of Object.entries(bodies)) {
      const edit = (target: Record<string, unknown>) =>
        telegramProblems({ method, params: { ...target, ...body }, fileParts: [], form: false });
      expect(edit({ chat_id: -100, message_id: 5 }), method).toEqual([]);
      expect(edit({ inline_message_id: 'AAAAAgAAAAEAAAA' }), method).toEqual([]);
      expect(edit({}), method).toEqual([
        'message identifier is not specified: "chat_id" and "message_id" (or "inline_message_id" for an inline ' +
          'message) is required',
      ]);
      expect(edit({ chat_id: -100 }).join(), method).toContain('"message_id" (or "inline_message_id"');
      expect(edit({ message_id: 5 }).join(), method).toContain('"chat_id" (or "inline_message_id"');
    }
  });

  it('refuses a method Telegram does not have', () => {
    expect(send({}, 'sendPigeon')).toEqual(['method "sendPigeon" not found']);
  });
});

describe("Telegram stand-in's message state", () => {
  async function server() {
    const tg = await startTelegramServer();
    onTestFinished(() => {
      tg.allowRefusals();
      return tg.close();
    });
    const call = async (method: string, params: Record<string, unknown>) => {
      const res = await fetch(`${tg.url}/bot${tg.token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      return (await res.json()) as { ok: boolean; description?: string; result?: { message_id: number } };
    };
    const form = async (method: string, fields: Record<string, string>, file?: string) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.set(k, v);
      if (file) body.set(file, new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]), 'chart.png');
      const res = await fetch(`${tg.url}/bot${tg.token}/${method}`, { method: 'POST', body });
      return { status: res.status, ...((await res.json()) as { ok: boolean; description?: string }) };
    };
    return { tg, call, form };
  }
  const keyboard = { inline_keyboard: [[{ text: 'Refresh', callback_data: 'refresh:stats' }]] };

  it(
    'refuses an edit that changes nothing as "not modified", and takes one that changes the text or the ' + 'markup',
    async () => {
      const { tg, call } = await server();
      const sent = await call('sendMessage', {
        chat_id: -100,
        text: '<b>Price</b> $1',
        parse_mode: 'HTML',
        reply_markup: keyboard,
      });
      const edit = (text: string, markup?: unknown) =>
        call('editMessageText', {
          chat_id: -100,
          message_id: sent.result!.message_id,
          text,
          parse_mode: 'HTML',
          ...(markup ? { reply_markup: markup } : {}),
        });
      expect(await edit('<b>Price</b> $1', keyboard)).toMatchObject({ ok: false, description: NOT_MODIFIED });
      expect((await edit('<b>Price</b> $2', keyboard)).ok).toBe(true);
      expect((await edit('<b>Price</b> $2')).ok).toBe(true);
      expect((await edit('<b>Price</b> $2')).description).toBe(NOT_MODIFIED);
      expect(tg.notModified).toHaveLength(2);
      expect(tg.refusals).toEqual([]);
    },
  );

  it('counts text and captions after entity parsing, as the contract does, and records what it refuses', async () => {
    const { tg, call, form } = await server();
    // 4,097 and 1,027 characters as sent; 4,090 and 1,020 once the tags are parsed: Telegram takes both.
    const text = await call('sendMessage', { chat_id: -100, text: `<b>${'x'.repeat(4_090)}</b>`, parse_mode: 'HTML' });
    expect(text).toMatchObject({ ok: true });
    const photo = await form(
      'sendPhoto',
      { chat_id: '-100', photo: 'attach://chart', caption: `<b>${'x'.repeat(1_020)}</b>`, parse_mode: 'HTML' },
      'chart',
    );
    expect(photo).toMatchObject({ status: 200, ok: true });
    expect(tg.refusals).toEqual([]);
    const long = await call('sendMessage', { chat_id: -100, text: `<b>${'x'.repeat(4_097)}</b>`, parse_mode: 'HTML' });
    expect(long.description).toContain('message text is too long (4097 characters after entity parsing');
    expect(tg.refusals.map((r) => r.method)).toEqual(['sendMessage']);
  });

  it('reads multipart fields as the Bot API does: bad JSON is a recorded 400, a caption "[1]" is text', async () => {
    const { tg, form } = await server();
    const bad = await form(
      'sendPhoto',
      { chat_id: '-100', photo: 'attach://chart', reply_markup: '{"inline_keyboard": [[' },
      'chart',
    );
    expect(bad).toMatchObject({ status: 400, ok: false });
    expect(bad.description).toContain("can't parse reply_markup JSON object");
    expect(tg.refusals).toEqual([{ method: 'sendPhoto', description: bad.description }]);
    const bracketed = await form('sendPhoto', { chat_id: '-100', photo: 'attach://chart', caption: '[1]' }, 'chart');
    expect(bracketed).toMatchObject({ status: 200, ok: true });
    expect(tg.callsOf('sendPhoto')[1]!.params.caption).toBe('[1]');
    expect(tg.refusals).toHaveLength(1);
  });

  it('counts a method it does not implement, and a path that names no method, as refusals', async () => {
    const { tg, call } = await server();
    // deleteMessage is in the Bot API; this stand-in cannot answer it as Telegram would.
    const unanswered = await call('deleteMessage', { chat_id: -100, message_id: 1 });
    expect(unanswered).toMatchObject({
      ok: false,
      description: 'Not Found: the stand-in does not implement deleteMessage',
    });
    const res = await fetch(`${tg.url}/bot${tg.token}/sendMessage/extra`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(tg.refusals.map((r) => r.method)).toEqual(['deleteMessage', '(path /bot<token>/sendMessage/extra)']);
    tg.refusals.splice(1);
    const closing = tg.close();
    await expect(closing).rejects.toThrow(/deleteMessage: Not Found: the stand-in does not implement deleteMessage/);
  });

  it('refuses editMessageText on a photo, as a refusal, and takes edits of messages it never sent', async () => {
    const { tg, call } = await server();
    const form = new FormData();
    form.set('chat_id', '-100');
    form.set('photo', 'attach://chart');
    form.set('chart', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]), 'chart.png');
    form.set('caption', 'Chart');
    const photo = (await (
      await fetch(`${tg.url}/bot${tg.token}/sendPhoto`, { method: 'POST', body: form })
    ).json()) as { result: { message_id: number } };
    const refused = await call('editMessageText', {
      chat_id: -100,
      message_id: photo.result.message_id,
      text: 'Chart',
    });
    expect(refused).toMatchObject({ ok: false, description: 'Bad Request: there is no text in the message to edit' });
    expect(tg.refusals).toHaveLength(1);
    expect((await call('editMessageText', { chat_id: -100, message_id: 4_242, text: 'anything' })).ok).toBe(true);
  });

  it('refuses editMessageMedia on a text message and one whose attach:// names no part, with a 400', async () => {
    const { tg, call, form } = await server();
    const text = await call('sendMessage', { chat_id: -100, text: 'OPG stats' });
    const media = (ref: string) => JSON.stringify({ type: 'photo', media: ref, caption: 'Chart' });
    const onText = await form(
      'editMessageMedia',
      { chat_id: '-100', message_id: String(text.result!.message_id), media: media('attach://chart') },
      'chart',
    );
    expect(onText).toEqual({
      status: 400,
      ok: false,
      error_code: 400,
      description: 'Bad Request: there is no media in the message to edit',
    });
    const unnamed = await form(
      'editMessageMedia',
      { chat_id: '-100', message_id: '4242', media: media('attach://zz') },
      'chart',
    );
    expect(unnamed).toEqual({
      status: 400,
      ok: false,
      error_code: 400,
      description: 'Bad Request: file part "zz" for field "media.media" was not uploaded',
    });
    const nowhere = await call('editMessageText', { text: 'OPG stats' });
    expect(nowhere).toMatchObject({ ok: false, description: expect.stringContaining('"chat_id" and "message_id"') });
    expect(tg.refusals.map((r) => r.method)).toEqual(['editMessageMedia', 'editMessageMedia', 'editMessageText']);
    // The same edit of a message it never sent, with its part uploaded, is taken.
    const taken = await form(
      'editMessageMedia',
      { chat_id: '-100', message_id: '4242', media: media('attach://chart') },
      'chart',
    );
    expect(taken).toMatchObject({ status: 200, ok: true });
  });

  it('takes one answer per callback query it delivered, and refuses a second or an unknown id as too old', async () => {
    const { tg, call } = await server();
    tg.push({ callback_query: { id: 'q1', from: { id: 1, is_bot: false, first_name: 'A' }, chat_instance: '1' } });
    expect(await call('answerCallbackQuery', { callback_query_id: 'q1' })).toMatchObject({ ok: true });
    expect(tg.refusals).toEqual([]);
    const again = await call('answerCallbackQuery', { callback_query_id: 'q1', text: 'Just refreshed.' });
    expect(again).toMatchObject({ ok: false, error_code: 400, description: QUERY_TOO_OLD });
    expect(await call('answerCallbackQuery', { callback_query_id: 'q-never-sent' })).toMatchObject({
      ok: false,
      description: QUERY_TOO_OLD,
    });
    expect(tg.refusals).toEqual([
      { method: 'answerCallbackQuery', description: QUERY_TOO_OLD },
      { method: 'answerCallbackQuery', description: QUERY_TOO_OLD },
    ]);
  });
});
