import { describe, expect, it, onTestFinished } from 'vitest';
import { createTelegramAdapter } from '../../../src/adapters/telegram/adapter.js';
import {
  alice,
  anonymousAdminBot,
  basicGroup,
  bob,
  callbackUpdate,
  channel,
  editedMessageUpdate,
  forum,
  messageUpdate,
  migrationUpdates,
  myChatMemberUpdate,
  privateWith,
  stickerUpdate,
  supergroup,
} from '../../helpers/telegram-updates.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { QUERY_TOO_OLD } from '../../helpers/telegram-server.js';
import { startBot } from './harness.js';
import { commands } from '../../../commands/index.js';
import { DEFAULT_REFRESH_MIN_AGE_MS } from '../../../src/core/buttons.js';
import { silentLogger } from '../../../src/core/logger.js';
import { UPDATE_CLAIM_LEASE_MS, type UpdateLedger } from '../../../src/core/update-ledger.js';
import { expectNoBadText } from '../../helpers/expect.js';

describe('Telegram front end', () => {
  it('answers /opg stats in a supergroup with the figures, as an HTML reply with a Refresh button', async () => {
    const { tg } = await startBot();
    const command = messageUpdate({ chat: supergroup, from: alice, text: '/opg stats' });
    tg.push(command);
    const [sent] = await tg.waitFor('sendMessage');
    const p = sent!.params;
    expect(p.chat_id).toBe(supergroup.id);
    expect(p.parse_mode).toBe('HTML');
    expect(p.reply_parameters).toMatchObject({ message_id: (command.message as { message_id: number }).message_id });
    expect(p.link_preview_options).toEqual({ is_disabled: true });
    expect(p.text).toContain('<b>OPG stats</b>');
    expect(p.text).toContain('$0.04123 (+3.41% 24h)');
    expect(p.text).toContain('$41.7M');
    expect(p.text).toContain('4.7x');
    expectNoBadText(p.text);
    expect(p.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Refresh', callback_data: 'refresh:stats' }]] });
  });

  it('registers /opg and tap aliases such as /opg_stats with setMyCommands at start', async () => {
    const { tg } = await startBot();
    const [call] = tg.callsOf('setMyCommands');
    const names = (call!.params.commands as Array<{ command: string }>).map((c) => c.command);
    const aliases = commands.filter((c) => c.menuAlias && !c.group).map((c) => `opg_${c.name}`);
    expect(names).toEqual(['opg', ...aliases]);
    expect(names).toEqual(expect.arrayContaining(['opg_stats', 'opg_volume', 'opg_supply', 'opg_help']));
  });

  it('answers /opg@botname, the /opg_stats alias and /opg alone (help)', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, text: '/opg@opg_test_bot stats' }));
    tg.push(messageUpdate({ chat: basicGroup, text: '/opg_stats@opg_test_bot' }));
    tg.push(messageUpdate({ chat: privateWith(alice), text: '/opg' }));
    const sent = await tg.waitFor('sendMessage', 3);
    const byChat = (id: number) => String(sent.find((c) => c.params.chat_id === id)?.params.text);
    expect(byChat(supergroup.id)).toContain('OPG stats');
    expect(byChat(basicGroup.id)).toContain('OPG stats');
    expect(byChat(alice.id)).toContain('opg-bot commands');
    expect(byChat(alice.id)).toContain('/opg stats — ');
  });

  it('ignores stickers, edited messages, plain text and commands for other bots without a reply', async () => {
    const { tg } = await startBot();
    tg.push(stickerUpdate(supergroup));
    tg.push(editedMessageUpdate({ chat: supergroup, text: '/opg stats' }));
    tg.push(messageUpdate({ chat: supergroup, text: 'opg stats please' }));
    tg.push(messageUpdate({ chat: supergroup, text: '/opg@other_bot stats' }));
    tg.push(messageUpdate({ chat: supergroup, text: '/price@other_bot' }));
    tg.push(messageUpdate({ chat: supergroup, text: '/ban bob' }));
    // One chat is handled in order, so once this marker is answered every update before it was seen.
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage');
    await tg.waitFor('getUpdates', 1, (c) => Number(c.params.offset) > 0 && tg.pending() === 0);
    const sent = tg.callsOf('sendMessage');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.params.text).toContain('opg-bot commands');
  });

  it('escapes <, > and & from what people typed', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, text: '/opg <b>x</b>&amp;' }));
    const [sent] = await tg.waitFor('sendMessage');
    expect(sent!.params.text).toContain('Unknown command: &lt;b&gt;x&lt;/b&gt;&amp;amp;.');
    expect(sent!.params.text).not.toContain('<b>x');
  });

  it('replies in the same forum topic', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: forum, threadId: 77, text: '/opg stats' }));
    const [sent] = await tg.waitFor('sendMessage');
    expect(sent!.params.message_thread_id).toBe(77);
  });

  it('answers channel posts in the channel', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: channel, text: '/opg stats' }));
    const [sent] = await tg.waitFor('sendMessage');
    expect(sent!.params.chat_id).toBe(channel.id);
    expect(sent!.params.text).toContain('OPG stats');
  });

  it('splits a reply longer than 4,096 characters into messages Telegram accepts', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, text: '/opg long' }));
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage', 1, (c) => String(c.params.text).includes('opg-bot commands'));
    const sent = tg
      .callsOf('sendMessage')
      .map((c) => String(c.params.text))
      .slice(0, -1);
    expect(sent.length).toBeGreaterThan(1);
    for (const text of sent) expect(text.length).toBeLessThanOrEqual(4096);
    expect(sent.join('\n')).toContain('line 399 &lt;&amp;&amp;');
  });

  it('sends a photo reply as multipart with the PNG and a caption of at most 1,024 characters', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, text: '/opg picture' }));
    const [sent] = await tg.waitFor('sendPhoto');
    expect(sent!.files.photo?.filename).toBe('chart.png');
    expect([...sent!.files.photo!.bytes.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(String(sent!.params.caption).length).toBeLessThanOrEqual(1024);
    expect(sent!.params.caption).toContain('<b>OPG &lt;price&gt; &amp; volume</b>');
    expect(sent!.params.parse_mode).toBe('HTML');
  });
});

describe('Telegram moderators', () => {
  it('refuses a moderator command from a plain member and stores nothing', async () => {
    const { tg, subscribed } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts subscribe' }));
    tg.push(messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts add 7' }));
    const sent = await tg.waitFor('sendMessage', 2);
    expect(sent.every((c) => String(c.params.text).includes('Moderators only'))).toBe(true);
    expect(await subscribed(supergroup)).toBe(false);
    expect(tg.callsOf('getChatMember')[0]!.params).toMatchObject({ chat_id: supergroup.id, user_id: bob.id });
  });

  it('accepts it from an administrator and from the creator', async () => {
    const { tg, thresholds } = await startBot();
    tg.setMember(supergroup.id, alice.id, 'administrator');
    tg.setMember(basicGroup.id, bob.id, 'creator');
    tg.push(messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts subscribe' }));
    tg.push(messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts add 7' }));
    tg.push(messageUpdate({ chat: basicGroup, from: bob, text: '/opg alerts subscribe' }));
    tg.push(messageUpdate({ chat: basicGroup, from: bob, text: '/opg alerts add 2.5x' }));
    const sent = await tg.waitFor('sendMessage', 4);
    expect(sent.map((c) => c.params.text).join('\n')).toContain('Added a 7x threshold');
    expect(await thresholds(supergroup)).toContain(7);
    expect(await thresholds(basicGroup)).toContain(2.5);
  });

  it('asks getChatMember once for a burst of commands from the same person', async () => {
    const { tg, thresholds } = await startBot();
    tg.setMember(supergroup.id, alice.id, 'administrator');
    for (const text of ['/opg alerts subscribe', '/opg alerts add 2', '/opg alerts add 3'])
      tg.push(messageUpdate({ chat: supergroup, from: alice, text }));
    await tg.waitFor('sendMessage', 3);
    expect(await thresholds(supergroup)).toEqual([1, 2, 3, 5, 10]);
    expect(tg.callsOf('getChatMember')).toHaveLength(1);
  });

  it(
    'counts anonymous admins, the user of a private chat and channel posts as moderators, without ' + 'asking',
    async () => {
      const { tg, subscribed } = await startBot();
      tg.push(
        messageUpdate({
          chat: supergroup,
          from: anonymousAdminBot,
          senderChat: supergroup,
          text: '/opg alerts subscribe',
        }),
      );
      tg.push(messageUpdate({ chat: privateWith(bob), from: bob, text: '/opg alerts subscribe' }));
      tg.push(messageUpdate({ chat: channel, text: '/opg alerts subscribe' }));
      await tg.waitFor('sendMessage', 3);
      expect([await subscribed(supergroup), await subscribed(privateWith(bob)), await subscribed(channel)]).toEqual([
        true,
        true,
        true,
      ]);
      expect(tg.callsOf('getChatMember')).toHaveLength(0);
    },
  );

  it('refuses a message sent on behalf of another channel', async () => {
    const { tg, subscribed } = await startBot();
    tg.push(
      messageUpdate({ chat: supergroup, from: anonymousAdminBot, senderChat: channel, text: '/opg alerts subscribe' }),
    );
    const [sent] = await tg.waitFor('sendMessage');
    expect(sent!.params.text).toContain('Moderators only');
    expect(await subscribed(supergroup)).toBe(false);
  });

  it.each(['abc', '-5', '1e309', 'NaN', ''])(
    'answers a usage reply to /opg alerts add %j and stores nothing',
    async (arg) => {
      const { tg, thresholds } = await startBot();
      tg.setMember(supergroup.id, alice.id, 'administrator');
      tg.push(messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts subscribe' }));
      tg.push(messageUpdate({ chat: supergroup, from: alice, text: `/opg alerts add ${arg}`.trim() }));
      const [, sent] = await tg.waitFor('sendMessage', 2);
      expect(sent!.params.text).toContain('Usage: <code>/opg alerts add &lt;ratio&gt;</code>');
      expectNoBadText(sent!.params.text);
      expect(await thresholds(supergroup)).toEqual([1, 5, 10]);
    },
  );
});

describe('Telegram Refresh button', () => {
  async function statsMessage(tg: Awaited<ReturnType<typeof startBot>>['tg']) {
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const [sent] = await tg.waitFor('sendMessage');
    return {
      message_id: 1,
      date: 1_795_000_000,
      chat: supergroup,
      text: String(sent!.params.text),
      reply_markup: sent!.params.reply_markup,
    };
  }

  it('edits the reply in place and answers the callback query', async () => {
    const { tg, app, cg } = await startBot();
    const msg = await statsMessage(tg);
    // Older than the refresh interval (5 min): a tap fetches anew.
    app.clock.advance(6 * 60_000);
    tg.push(callbackUpdate({ from: bob, message: msg, data: 'refresh:stats', id: 'q1' }));
    const [edit] = await tg.waitFor('editMessageText');
    expect(edit!.params).toMatchObject({ chat_id: supergroup.id, message_id: 1, parse_mode: 'HTML' });
    expect(edit!.params.text).toContain('OPG stats');
    expect(edit!.params.reply_markup).toEqual(msg.reply_markup);
    expect(tg.callsOf('answerCallbackQuery')[0]!.params.callback_query_id).toBe('q1');
    expect(cg.marketCalls()).toBe(2);
  });

  it('still edits the message when Telegram refuses the answer to a tap (already answered), warning once', async () => {
    const logger = recordingLogger();
    const { tg, app } = await startBot({ logger });
    const msg = await statsMessage(tg);
    const tap = callbackUpdate({ from: bob, message: msg, data: 'refresh:stats', id: 'q-twice' });
    tg.push(tap);
    await tg.waitFor('editMessageText');
    // The same query again, past the edit interval: Telegram refuses a second answer to it.
    app.clock.advance(6_000);
    tg.allowRefusals();
    tg.push(tap);
    // Updates of one chat run in order: once the help reply is out, the tap has been handled.
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage', 2);
    expect(tg.callsOf('answerCallbackQuery')).toHaveLength(2);
    expect(tg.refusals).toEqual([{ method: 'answerCallbackQuery', description: QUERY_TOO_OLD }]);
    expect(tg.callsOf('editMessageText')).toHaveLength(2);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings.map((l) => [l.msg, l.fields.description])).toEqual([
      ['answering a Telegram button tap failed; going on without it', QUERY_TOO_OLD],
    ]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(JSON.stringify(logger.lines)).not.toContain(tg.token);
  });

  it('edits at most once every few seconds per message however many people tap', async () => {
    const { tg, app, cg } = await startBot();
    const msg = await statsMessage(tg);
    for (let i = 0; i < 5; i++)
      tg.push(callbackUpdate({ from: i % 2 ? alice : bob, message: msg, data: 'refresh:stats' }));
    await tg.waitFor('answerCallbackQuery', 5);
    expect(tg.callsOf('editMessageText')).toHaveLength(1);
    expect(tg.callsOf('answerCallbackQuery').filter((c) => /Just refreshed/.test(String(c.params.text)))).toHaveLength(
      4,
    );
    // Figures fetched seconds ago are re-shown, not fetched again.
    expect(cg.marketCalls()).toBe(1);
    app.clock.advance(5_000);
    tg.push(callbackUpdate({ from: alice, message: msg, data: 'refresh:stats' }));
    await tg.waitFor('editMessageText', 2);
    expect(tg.callsOf('editMessageText')).toHaveLength(2);
  });

  it(
    'takes "message is not modified" as done when two taps apart find the same figures, logging no ' + 'error',
    async () => {
      const logger = recordingLogger();
      const { tg, app, cg } = await startBot({ logger });
      const msg = await statsMessage(tg);
      // Old enough figures: the first tap fetches anew and changes the text.
      app.clock.advance(DEFAULT_REFRESH_MIN_AGE_MS + 1_000);
      tg.push(callbackUpdate({ from: bob, message: msg, data: 'refresh:stats' }));
      const [first] = await tg.waitFor('editMessageText');
      // Past the edit interval and within the refresh age: the same figures, the same text, the same button.
      app.clock.advance(6_000);
      tg.push(callbackUpdate({ from: alice, message: msg, data: 'refresh:stats' }));
      const [, second] = await tg.waitFor('editMessageText', 2);
      expect(second!.params.text).toBe(first!.params.text);
      expect(cg.marketCalls()).toBe(2);
      expect(tg.notModified).toEqual([{ method: 'editMessageText', chatId: supergroup.id, messageId: 1 }]);
      tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
      await tg.waitFor('sendMessage', 2);
      expect(logger.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    },
  );

  it('replaces the picture of a photo reply in place', async () => {
    const { tg } = await startBot();
    tg.push(messageUpdate({ chat: supergroup, text: '/opg picture' }));
    const [photo] = await tg.waitFor('sendPhoto');
    expect(photo!.params.reply_markup).toEqual({
      inline_keyboard: [[{ text: 'Refresh', callback_data: 'refresh:picture' }]],
    });
    tg.push(
      callbackUpdate({
        from: bob,
        message: { message_id: 9, date: 1_795_000_000, chat: supergroup, photo: [] },
        data: 'refresh:picture',
      }),
    );
    const [edit] = await tg.waitFor('editMessageMedia');
    expect(edit!.params).toMatchObject({
      chat_id: supergroup.id,
      message_id: 9,
      media: { type: 'photo', parse_mode: 'HTML' },
    });
    expect(edit!.files.media?.filename ?? Object.values(edit!.files)[0]?.filename).toBe('chart.png');
    expect(String((edit!.params.media as { caption: string }).caption).length).toBeLessThanOrEqual(1024);
  });

  it(
    'edits with the new figures as plain text when Telegram refuses the HTML edit, logging it once; refused ' +
      'again, the message keeps its figures',
    async () => {
      const logger = recordingLogger();
      const { tg, app } = await startBot({ logger });
      const msg = await statsMessage(tg);
      app.clock.advance(DEFAULT_REFRESH_MIN_AGE_MS + 1_000);
      tg.failNext('editMessageText', { status: 400, description: "Bad Request: can't parse entities: x" });
      tg.push(callbackUpdate({ from: bob, message: msg, data: 'refresh:stats' }));
      const [refused, plain] = await tg.waitFor('editMessageText', 2);
      expect(refused!.params.parse_mode).toBe('HTML');
      expect(plain!.params).toMatchObject({ chat_id: supergroup.id, message_id: 1 });
      expect(plain!.params.text).toContain('Price: $');
      expect(plain!.params.text).not.toMatch(/<\/?[bi]>/);
      expect(plain!.params.parse_mode).toBeUndefined();
      expect(plain!.params.reply_markup).toBeUndefined();
      const errors = () => logger.lines.filter((l) => l.level === 'error');
      await expect.poll(() => errors().map((l) => l.fields.answered)).toEqual(['plain text']);
      expect(errors()[0]!.fields.description).toContain("can't parse entities");

      app.clock.advance(6_000);
      tg.failNext('editMessageText', { status: 400, description: 'Bad Request: message is too long' }, 2);
      tg.push(callbackUpdate({ from: alice, message: msg, data: 'refresh:stats' }));
      await tg.waitFor('editMessageText', 4);
      await new Promise((r) => setTimeout(r, 200));
      // Two refused edits, no retry storm, no message sent in their place.
      expect(tg.callsOf('editMessageText')).toHaveLength(4);
      expect(tg.callsOf('sendMessage')).toHaveLength(1);
      expect(errors().map((l) => l.fields.answered)).toEqual(['plain text', 'nothing']);
    },
  );

  it('replaces a refused photo edit with the same picture and a plain caption', async () => {
    const logger = recordingLogger();
    const { tg } = await startBot({ logger });
    tg.failNext('editMessageMedia', { status: 400, description: "Bad Request: can't parse entities: y" });
    tg.push(
      callbackUpdate({
        from: bob,
        message: { message_id: 9, date: 1_795_000_000, chat: supergroup, photo: [] },
        data: 'refresh:picture',
      }),
    );
    const [, plain] = await tg.waitFor('editMessageMedia', 2);
    const media = plain!.params.media as { type: string; caption: string; parse_mode?: string };
    expect(media.type).toBe('photo');
    expect(media.parse_mode).toBeUndefined();
    expect(media.caption).toContain('OPG <price> & volume');
    expect(media.caption.length).toBeLessThanOrEqual(1024);
    expect(Object.values(plain!.files)[0]?.filename).toBe('chart.png');
    await expect
      .poll(() => logger.lines.filter((l) => l.level === 'error').map((l) => l.fields.answered))
      .toEqual(['plain text']);
  });

  it('answers an unknown or forged callback without running or editing anything', async () => {
    const { tg, subscribed } = await startBot();
    const msg = await statsMessage(tg);
    tg.setMember(supergroup.id, alice.id, 'administrator');
    tg.push(callbackUpdate({ from: bob, message: msg, data: 'vote:up' }));
    // Callback data is the client's to send: a forged one never runs a moderator command.
    tg.push(callbackUpdate({ from: alice, message: msg, data: 'refresh:alerts subscribe' }));
    await tg.waitFor('answerCallbackQuery', 2);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage', 2);
    expect(tg.callsOf('editMessageText')).toHaveLength(0);
    expect(await subscribed(supergroup)).toBe(false);
  });
});

describe('Telegram chat lifecycle', () => {
  it('moves a group to its new supergroup id once, though Telegram reports it twice', async () => {
    const { tg, lifecycle } = await startBot();
    const upgraded = { ...basicGroup, id: -1007777777777, type: 'supergroup' as const };
    for (const u of migrationUpdates(basicGroup, upgraded)) tg.push(u);
    tg.push(messageUpdate({ chat: upgraded, text: '/opg help' }));
    tg.push(messageUpdate({ chat: basicGroup, text: '/opg help' }));
    await tg.waitFor('sendMessage', 2);
    expect(lifecycle.calls).toEqual([
      { kind: 'migrate', args: ['telegram', String(basicGroup.id), String(upgraded.id)] },
    ]);
  });

  it('pauses a chat the bot was removed from, keeping who did it', async () => {
    const { tg, lifecycle, botId } = await startBot();
    tg.push(myChatMemberUpdate({ chat: supergroup, from: alice, status: 'kicked', botId }));
    tg.push(myChatMemberUpdate({ chat: privateWith(bob), from: bob, status: 'kicked', botId }));
    tg.push(myChatMemberUpdate({ chat: basicGroup, from: alice, status: 'administrator', botId }));
    tg.push(messageUpdate({ chat: basicGroup, text: '/opg help' }));
    await tg.waitFor('sendMessage');
    await tg.waitFor('getUpdates', 1, () => tg.pending() === 0);
    expect(lifecycle.calls).toHaveLength(2);
    expect(lifecycle.calls[0]).toMatchObject({
      kind: 'pause',
      args: ['telegram', String(supergroup.id), expect.stringContaining('removed from the chat by @alice')],
    });
    expect(lifecycle.calls[1]).toMatchObject({
      kind: 'pause',
      args: ['telegram', String(bob.id), expect.stringContaining('blocked the bot')],
    });
  });

  it('confirms the last handled update when it stops', async () => {
    const { tg, adapter } = await startBot();
    const id = tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    await tg.waitFor('sendMessage');
    await adapter.stop();
    expect(tg.confirmedOffset()).toBe(id + 1);
    expect(tg.pending()).toBe(0);
  });
});

describe('Telegram update ledger, by long polling', () => {
  it('skips an update handed out again after a process died before confirming it; answers the next', async () => {
    const { tg, app } = await startBot({ storeLedger: true });
    // The getUpdates that would confirm the command never arrives: the process is as good as killed once it answered.
    tg.failNext('getUpdates', 'hang', 1, (params) => Number(params.offset) > 0);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage');
    await tg.waitFor('getUpdates', 1, (c) => Number(c.params.offset) > 0);
    const later = tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));

    // The next process on the same store: Telegram hands it both updates, the answered one first.
    const restarted = createTelegramAdapter({
      core: app.core,
      services: app.services,
      commands: app.commands,
      token: tg.token,
      apiRoot: tg.url,
      logger: silentLogger,
      clock: app.clock,
      ledger: app.store.stores.telegramUpdates,
      pollTimeoutSeconds: 10,
    });
    await restarted.start();
    onTestFinished(() => restarted.stop());
    // One chat is handled in order: once /opg stats is answered, a second answer to /opg help would be sent.
    await tg.waitFor('sendMessage', 1, (c) => String(c.params.text).includes('OPG stats'));
    await tg.waitFor('getUpdates', 1, (c) => Number(c.params.offset) > later);
    const texts = tg.callsOf('sendMessage').map((c) => String(c.params.text));
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('opg-bot commands');
  });

  it('waits for an update another run holds, and runs it once that claim has outlived its lease', async () => {
    const { tg, app } = await startBot({ storeLedger: true });
    const ledger = app.store.stores.telegramUpdates;
    const id = tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    // Claimed by a run elsewhere (a leader that died mid-run) before this instance reads it: the SQLite
    // statement runs before this call returns, and the adapter reads the update on a later turn.
    const claimedAtMs = app.clock.now();
    expect(await ledger.claim(id, claimedAtMs)).toBe('claimed');
    await tg.waitFor('sendMessage');
    expect(app.clock.now() - claimedAtMs).toBeGreaterThanOrEqual(UPDATE_CLAIM_LEASE_MS);
    // Recorded once the reply is sent ('running' to this claim meanwhile, which takes nothing).
    await expect.poll(() => ledger.claim(id, app.clock.now())).toBe('finished');
    expect(tg.callsOf('sendMessage')).toHaveLength(1);
  });

  it('runs an update unguarded when the store cannot take its claim, rather than lose it', async () => {
    const logger = recordingLogger();
    const unreachable: UpdateLedger = {
      claim: () => Promise.reject(new Error('the store does not answer')),
      finish: async () => {},
      release: async () => {},
      prune: async () => 0,
    };
    const { tg } = await startBot({ logger, ledger: unreachable });
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    const [sent] = await tg.waitFor('sendMessage');
    expect(String(sent!.params.text)).toContain('opg-bot commands');
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'could not claim a Telegram update in the store; running it unguarded',
    ]);
  });
});

describe('Telegram Bot API faults', () => {
  it('answers after a 429 with retry_after', async () => {
    const { tg } = await startBot();
    // Telegram sends whole seconds; 0 keeps the test from sleeping while still taking the 429 path.
    tg.failNext('sendMessage', {
      status: 429,
      description: 'Too Many Requests: retry after 0',
      parameters: { retry_after: 0 },
    });
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const sent = await tg.waitFor('sendMessage', 2);
    expect(sent[1]!.params.text).toContain('OPG stats');
  });

  it('answers after 500s and a dropped connection on sendMessage', async () => {
    const { tg, app } = await startBot();
    tg.failNext('sendMessage', { status: 500, description: 'Internal Server Error' }, 2);
    tg.failNext('sendMessage', 'drop');
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const sent = await tg.waitFor('sendMessage', 4);
    expect(sent[3]!.params.text).toContain('OPG stats');
    expect(app.clock.sleeps).toEqual([1_000, 2_000, 4_000]);
  });

  it('keeps polling after getUpdates answers 500, 429 or not at all', async () => {
    const { tg } = await startBot();
    tg.failNext('getUpdates', { status: 500, description: 'Internal Server Error' });
    tg.failNext('getUpdates', {
      status: 429,
      description: 'Too Many Requests: retry after 0',
      parameters: { retry_after: 0 },
    });
    tg.failNext('getUpdates', 'drop');
    // The call already waiting is answered by this push; the faults hit the polls after it.
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    await tg.waitFor('sendMessage');
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const sent = await tg.waitFor('sendMessage', 2);
    expect(sent[1]!.params.text).toContain('OPG stats');
  });

  it('answers after sendMessage got no answer at all until the request deadline', async () => {
    // A tenth of a second keeps the real wait short; polls are short (timeout 0), since Telegram takes whole seconds.
    const { tg } = await startBot({ requestTimeoutSeconds: 0.1, pollTimeoutSeconds: 0 });
    tg.failNext('sendMessage', 'hang');
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const sent = await tg.waitFor('sendMessage', 2);
    expect(sent[1]!.params.text).toContain('OPG stats');
  });

  it('starts once the Bot API answers getMe, and polls even when setMyCommands fails', async () => {
    const { tg, app } = await startBot({}, (server) => {
      server.failNext('getMe', { status: 502, description: 'Bad Gateway' }, 5);
      server.failNext('getMe', 'drop');
      server.failNext('setMyCommands', { status: 400, description: 'Bad Request: BOT_COMMAND_INVALID' });
    });
    expect(tg.callsOf('getMe').length).toBeGreaterThanOrEqual(3);
    expect(app.clock.sleeps.length).toBeGreaterThan(0);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const [sent] = await tg.waitFor('sendMessage');
    expect(sent!.params.text).toContain('OPG stats');
  });

  it('keeps running when a reply cannot be sent at all', async () => {
    const { tg } = await startBot({ retryAttempts: 2 });
    tg.failNext('sendMessage', { status: 502, description: 'Bad Gateway' }, 2);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    await tg.waitFor('sendMessage', 2);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg help' }));
    const sent = await tg.waitFor('sendMessage', 3);
    expect(sent[2]!.params.text).toContain('opg-bot commands');
  });

  it(
    'answers in plain text with the figures when Telegram refuses a reply with 400, logging it once and not ' +
      'retrying',
    async () => {
      const logger = recordingLogger();
      const { tg } = await startBot({ logger });
      tg.failNext('sendMessage', {
        status: 400,
        description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
      });
      tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
      const [refused, plain] = await tg.waitFor('sendMessage', 2);
      expect(plain!.params.text).toContain('OPG stats');
      expect(plain!.params.text).toContain('Price: $');
      expect(plain!.params.text).not.toMatch(/<\/?b>/);
      expect(plain!.params.parse_mode).toBeUndefined();
      expect(plain!.params.reply_markup).toBeUndefined();
      expect(plain!.params.reply_parameters).toEqual(refused!.params.reply_parameters);
      await new Promise((r) => setTimeout(r, 200));
      expect(tg.callsOf('sendMessage')).toHaveLength(2);
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.fields.description).toContain("can't parse entities");
      expect(errors[0]!.fields.answered).toBe('plain text');
    },
  );

  it('answers a refused chart photo with its text, and a short notice when the plain text is refused too', async () => {
    const logger = recordingLogger();
    const { tg } = await startBot({ logger });
    tg.failNext('sendPhoto', { status: 400, description: 'Bad Request: message caption is too long' });
    tg.push(messageUpdate({ chat: supergroup, text: '/opg picture' }));
    const [photoText] = await tg.waitFor('sendMessage');
    // Plain text: nothing escaped, nothing to parse.
    expect(photoText!.params.text).toContain('OPG <price> & volume\nxxx');
    expect(photoText!.params.parse_mode).toBeUndefined();

    tg.failNext('sendMessage', { status: 400, description: 'Bad Request: message is too long' }, 2);
    tg.push(messageUpdate({ chat: supergroup, text: '/opg stats' }));
    const sent = await tg.waitFor('sendMessage', 4);
    expect(sent[3]!.params.text).toContain('could not be shown here');
    expect(sent[3]!.params.parse_mode).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(tg.callsOf('sendMessage')).toHaveLength(4);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.fields.answered)).toEqual([
      'plain text',
      'a notice',
    ]);
  });
});
