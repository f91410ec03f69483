/**
 * The stand-ins' contract checks refuse what Discord and Telegram refuse, naming the field, and accept
 * what the bot's renderers produce: tested here so a check that cannot fail cannot hide.
 */
import { describe, expect, it } from 'vitest';
import { renderDiscord } from '../src/adapters/discord/render.js';
import { renderTelegramHtml } from '../src/adapters/telegram/render.js';
import { reply } from '../src/core/reply.js';
import { discordRefusal, embedCharacters } from './helpers/discord-contract.js';
import { parseTelegramHtml, telegramProblems } from './helpers/telegram-contract.js';

const json = (body: unknown) => ({ contentType: 'application/json', raw: Buffer.from(JSON.stringify(body)) });
const channelPost = (body: unknown) => discordRefusal({ method: 'POST', path: '/channels/1/messages', ...json(body) });

function multipart(payload: unknown, files: Array<{ name: string; filename: string }>) {
  const boundary = 'b0undary';
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n\r\n${JSON.stringify(payload)}\r\n`,
    ...files.map((f) => `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n`),
    `--${boundary}--\r\n`,
  ];
  return { contentType: `multipart/form-data; boundary=${boundary}`, raw: Buffer.from(parts.join(''), 'latin1') };
}

describe("Discord's contract", () => {
  const sample = renderDiscord(reply({ title: 'OPG stats', fields: [{ label: 'Price', value: '$0.04' }], footer: 'CoinGecko', buttons: [{ id: 'refresh:stats', label: 'Refresh' }] }));
  const body = { embeds: sample.embeds, components: sample.components, allowed_mentions: sample.allowedMentions };

  it("accepts the renderer's message, as a post, an interaction answer and a deferred edit", () => {
    expect(channelPost(body)).toBeNull();
    expect(discordRefusal({ method: 'POST', path: '/interactions/1/tok/callback', ...json({ type: 4, data: body }) })).toBeNull();
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
    expect(channelPost({ content: 'x'.repeat(2_001) })?.problems).toEqual(['content: Must be 2000 or fewer in length.']);
  });

  it("refuses embeds past 6,000 characters in all, though each is within its own limits", () => {
    const embed = { title: 't', description: 'd'.repeat(3_500) };
    expect(embedCharacters(embed)).toBe(3_501);
    expect(channelPost({ embeds: [embed] })).toBeNull();
    expect(channelPost({ embeds: [embed, embed] })?.problems.join()).toContain('embeds: Embed size exceeds maximum size of 6000');
  });

  it('refuses an empty message with 50006', () => {
    expect(channelPost({})?.body).toEqual({ code: 50006, message: 'Cannot send an empty message' });
    expect(discordRefusal({ method: 'POST', path: '/interactions/1/tok/callback', ...json({ type: 4, data: { content: '' } }) })?.body.code).toBe(50006);
  });

  it('refuses attachment ids and embed images that name no uploaded file part', () => {
    const payload = { embeds: [{ title: 'chart', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };
    expect(discordRefusal({ method: 'POST', path: '/channels/1/messages', ...multipart(payload, [{ name: 'files[0]', filename: 'chart.png' }]) })).toBeNull();
    const wrongId = discordRefusal({ method: 'POST', path: '/channels/1/messages', ...multipart({ ...payload, attachments: [{ id: '1', filename: 'chart.png' }] }, [{ name: 'files[0]', filename: 'chart.png' }]) });
    expect(wrongId?.problems.join()).toContain('attachments.0.id');
    const noImage = discordRefusal({ method: 'POST', path: '/channels/1/messages', ...multipart({ embeds: [{ title: 'c', image: { url: 'attachment://other.png' } }] }, [{ name: 'files[0]', filename: 'chart.png' }]) });
    expect(noImage?.problems.join()).toContain('embeds.0.image.url');
  });

  it('refuses a field of the wrong type, per the spec', () => {
    expect(channelPost({ content: 'hi', components: 'not a list' })?.problems.join()).toContain('components');
    expect(channelPost({ content: 'hi', allowed_mentions: { parse: ['everyone', 'nobody'] } })?.problems.join()).toContain('allowed_mentions.parse');
  });

  it('refuses a slash command whose option name breaks the rules', () => {
    const command = { name: 'opg', description: 'd', type: 1, options: [{ type: 1, name: 'Stats Now', description: 'd' }] };
    const refusal = discordRefusal({ method: 'PUT', path: '/applications/1/guilds/2/commands', ...json([command]) });
    expect(refusal?.problems.join()).toContain('0.options.0.name');
  });
});

describe("Telegram's contract", () => {
  const send = (params: Record<string, unknown>, method = 'sendMessage') => telegramProblems({ method, params, fileParts: [], form: false });

  it("accepts the renderer's HTML, and counts text after entity parsing", () => {
    const [html] = renderTelegramHtml(reply({ title: 'OPG <stats> & more', lines: ['a & b < c'] }));
    expect(send({ chat_id: -100, text: html, parse_mode: 'HTML' })).toEqual([]);
    // 4,096 visible characters inside tags: the raw text is longer, and Telegram takes it.
    expect(send({ chat_id: 1, text: `<b>${'x'.repeat(4_096)}</b>`, parse_mode: 'HTML' })).toEqual([]);
    expect(send({ chat_id: 1, text: `<b>${'x'.repeat(4_097)}</b>`, parse_mode: 'HTML' }).join()).toContain('message text is too long');
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
    expect(telegramProblems({ method: 'sendPhoto', params: photo, fileParts: ['p'], form: true }).join()).toContain('caption is too long');
    expect(telegramProblems({ method: 'sendPhoto', params: { chat_id: 1, photo: 'attach://p' }, fileParts: [], form: true }).join()).toContain('was not uploaded');
    const keyboard = (data: string) => ({ chat_id: 1, text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'Refresh', callback_data: data }]] } });
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

  it('refuses a method Telegram does not have', () => {
    expect(send({}, 'sendPigeon')).toEqual(['method "sendPigeon" not found']);
  });
});
