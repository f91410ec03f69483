import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { REFRESH_BUTTON_PATTERN, refreshButton, refreshCommand, refreshWords } from '../../src/core/buttons.js';
import { commandPath } from '../../src/core/command.js';

describe('button ids', () => {
  it("reads back the words a Refresh button was built with, within both platforms' id limits", () => {
    for (const words of ['stats', 'volume', 'supply', 'chart ratio 30d']) {
      const { id } = refreshButton(words);
      expect(refreshWords(id)).toBe(words);
      expect(REFRESH_BUTTON_PATTERN.exec(id)?.[1]).toBe(words);
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(64);
    }
    expect(refreshWords('refresh:')).toBeNull();
    expect(refreshWords('other:stats')).toBeNull();
    expect(REFRESH_BUTTON_PATTERN.test('other:stats')).toBe(false);
  });

  it('runs only read-only commands from a button: a forged id naming a moderator command runs nothing', () => {
    expect(commandPath(refreshCommand(refreshButton('stats').id, commands)!.def)).toBe('stats');
    expect(refreshCommand(refreshButton('chart volume 7d').id, commands)?.args).toMatchObject({
      metric: 'volume',
      range: '7d',
    });
    for (const forged of ['refresh:alerts add 5', 'refresh:alerts off', 'refresh:no such command', 'refresh:', 'stats'])
      expect(refreshCommand(forged, commands), forged).toBeNull();
  });
});
