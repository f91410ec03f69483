import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.js';
import { bodyHash, findDefinition, slashCommandBody } from '../../../src/adapters/discord/slash-commands.js';
import { testCommands } from './harness.js';

const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;

function walk(options: any[], visit: (o: any, depth: number) => void, depth = 0): void {
  for (const o of options) {
    visit(o, depth);
    if (o.type === 1 || o.type === 2) walk(o.options ?? [], visit, depth + 1);
  }
}

describe('slash command body', () => {
  const all = [...commands, ...testCommands()];

  it('stays within Discord limits for every definition', () => {
    const [root] = slashCommandBody(all) as any[];
    expect(root.options.length).toBeLessThanOrEqual(25);
    walk(root.options, (o, depth) => {
      expect(o.name).toMatch(NAME);
      expect(o.description.length).toBeGreaterThan(0);
      expect(o.description.length).toBeLessThanOrEqual(100);
      expect(depth).toBeLessThanOrEqual(2);
      if (o.type === 1 || o.type === 2) expect((o.options ?? []).length).toBeLessThanOrEqual(25);
      if (o.type === 1) {
        const required = (o.options ?? []).map((x: any) => x.required);
        expect(required).toEqual([...required].sort((a: boolean, b: boolean) => Number(b) - Number(a)));
      }
    });
  });

  it('lets global commands run in servers and DMs, and leaves contexts out of guild ones', () => {
    expect((slashCommandBody(all, 'global')[0] as any).contexts).toEqual([0, 1]);
    expect((slashCommandBody(all, 'guild')[0] as any).contexts).toBeUndefined();
  });

  it('finds the definition each invocation names, including the group default as status', () => {
    expect(findDefinition(all, null, 'stats')?.name).toBe('stats');
    expect(findDefinition(all, 'alerts', 'status')?.groupDefault).toBe(true);
    expect(findDefinition(all, 'alerts', 'add')?.name).toBe('add');
    expect(findDefinition(all, null, 'add')).toBeUndefined();
  });

  it('hashes the same definitions the same way, and changed ones differently', () => {
    expect(bodyHash(slashCommandBody(all))).toBe(bodyHash(slashCommandBody([...all])));
    expect(bodyHash(slashCommandBody(all))).not.toBe(bodyHash(slashCommandBody(commands)));
  });
});
