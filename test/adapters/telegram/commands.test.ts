import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.js';
import { telegramCommandList, telegramCommandRoutes } from '../../../src/adapters/telegram/commands.js';

const BOT = 'opg_test_bot';

/** The words a message runs when the routes are wired the way the adapter wires them; null when none run. */
async function wordsFor(text: string, entityType = 'bot_command', kind: 'message' | 'channel_post' = 'message') {
  const bot = new Bot('1:test', {
    botInfo: {
      id: 1,
      is_bot: true,
      first_name: 'OPG',
      username: BOT,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    },
  });
  let ran: string | null = null;
  for (const [name, words] of telegramCommandRoutes(commands)) {
    bot.command(name, (ctx) => {
      ran = words(typeof ctx.match === 'string' ? ctx.match : '');
    });
  }
  const first = /^\/\S+/.exec(text);
  const message = {
    message_id: 1,
    date: 1,
    chat: { id: -100, type: 'supergroup', title: 'g' },
    text,
    ...(first ? { entities: [{ type: entityType, offset: 0, length: first[0].length }] } : {}),
  };
  await bot.handleUpdate({ update_id: 1, [kind]: message } as unknown as Update);
  return ran;
}

describe('telegramCommandRoutes, as grammY runs them', () => {
  it.each([
    ['/opg stats', 'stats'],
    ['/opg', ''],
    ['/opg@Opg_Test_Bot volume', 'volume'],
    ['/opg_stats', 'stats'],
    ['/opg_supply@opg_test_bot', 'supply'],
    ['/start', 'help'],
    ['/opg  alerts   add 5', 'alerts   add 5'],
  ])('reads %j as %j', async (text, words) => {
    expect(await wordsFor(text)).toBe(words);
  });

  it('answers a command posted in a channel', async () => {
    expect(await wordsFor('/opg supply', 'bot_command', 'channel_post')).toBe('supply');
  });

  it.each(['/opg@other_bot stats', '/price', '/opg_nothing', 'opg stats', 'hello /opg stats'])(
    'ignores %j',
    async (text) => {
      expect(await wordsFor(text)).toBeNull();
    },
  );

  it('needs the bot_command entity at the start of the message', async () => {
    expect(await wordsFor('/opg stats', 'bold')).toBeNull();
  });
});

describe('telegramCommandList', () => {
  it('lists /opg and one valid alias per menu command, within Telegram limits', () => {
    const list = telegramCommandList(commands);
    expect(list[0]!.command).toBe('opg');
    for (const entry of list) {
      expect(entry.command).toMatch(/^[a-z0-9_]{1,32}$/);
      expect(entry.description.length).toBeGreaterThan(0);
      expect(entry.description.length).toBeLessThanOrEqual(256);
    }
    expect(list.map((e) => e.command)).toContain('opg_stats');
  });
});
