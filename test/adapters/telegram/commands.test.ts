import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.js';
import { commandText, telegramCommandList } from '../../../src/adapters/telegram/commands.js';

const BOT = 'opg_test_bot';
const cmd = (text: string) =>
  commandText(
    text,
    /^\/\S+/.test(text) ? [{ type: 'bot_command', offset: 0, length: /^\/\S+/.exec(text)![0].length }] : [],
    BOT,
    commands,
  );

describe('commandText', () => {
  it.each([
    ['/opg stats', 'stats'],
    ['/opg', ''],
    ['/OPG@Opg_Test_Bot volume', 'volume'],
    ['/opg_stats', 'stats'],
    ['/opg_supply@opg_test_bot', 'supply'],
    ['/start', 'help'],
    ['/opg  alerts   add 5', 'alerts   add 5'],
  ])('reads %j as %j', (text, words) => {
    expect(cmd(text)).toBe(words);
  });

  it.each(['/opg@other_bot stats', '/price', '/opg_nothing', 'opg stats', 'hello /opg stats'])('ignores %j', (text) => {
    expect(cmd(text)).toBeNull();
  });

  it('needs the bot_command entity at the start of the message', () => {
    expect(commandText('/opg stats', [{ type: 'bold', offset: 0, length: 4 }], BOT, commands)).toBeNull();
    expect(commandText('/opg stats', undefined, BOT, commands)).toBeNull();
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
