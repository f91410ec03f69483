import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { defineCommand, parseText, tokenize, usageOf, type AnyCommand } from '../../src/core/command.js';
import { UserInputError } from '../../src/core/errors.js';
import { reply } from '../../src/core/reply.js';
import { createTestApp, member, moderator, testChat } from '../helpers/app.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';

const setLimit = defineCommand({
  name: 'limit',
  group: 'demo',
  description: 'test command with a ratio',
  options: { ratio: { type: 'number', description: 'a ratio', required: true, min: 0.01, max: 1000, unit: 'x' } },
  access: 'moderator',
  async run(args) {
    return reply({ title: `set ${args.ratio.toFixed(2)}` });
  },
});
const pick = defineCommand({
  name: 'pick',
  description: 'test command with choices',
  options: {
    metric: { type: 'choice', description: 'what', choices: ['ratio', 'price'] as const },
    range: { type: 'choice', description: 'when', choices: ['24h', '7d'] as const },
  },
  access: 'everyone',
  async run(args) {
    const metric: 'ratio' | 'price' | undefined = args.metric;
    return reply({ title: `${metric ?? 'ratio'} ${args.range ?? '7d'}` });
  },
});
const list: AnyCommand[] = [setLimit, pick, ...commands];

function userError(fn: () => unknown): UserInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserInputError) return err;
    throw err;
  }
  throw new Error('expected a UserInputError');
}

describe('command parsing', () => {
  it('accepts /opg, /opg@bot, opg and bare words alike', () => {
    for (const text of ['/opg stats', '/opg@opg_bot stats', 'opg stats', 'stats', '  STATS  ']) {
      expect(parseText(tokenize(text), list).def.name).toBe('stats');
    }
    expect(parseText(tokenize('/opg'), list).def.name).toBe('help');
  });

  it('parses positional options into typed values', () => {
    expect(parseText(tokenize('demo limit 5x'), list).args).toEqual({ ratio: 5 });
    expect(parseText(tokenize('pick PRICE 24h'), list).args).toEqual({ metric: 'price', range: '24h' });
    expect(parseText(tokenize('pick'), list).args).toEqual({ metric: undefined, range: undefined });
  });

  it('refuses bad numbers with the usage', () => {
    for (const bad of ['abc', '-5', '1e309', 'NaN', 'Infinity', '0', '1001', '0x10']) {
      const err = userError(() => parseText(tokenize(`demo limit ${bad}`), list));
      expect(err.message).toMatch(/ratio must be (a number )?from 0.01x to 1000x\./);
      expect(err.usage).toBe('/opg demo limit <ratio>');
    }
    expect(userError(() => parseText(tokenize('demo limit'), list)).message).toBe('Missing ratio.');
  });

  it('lists the choices for a bad choice', () => {
    expect(userError(() => parseText(tokenize('pick volume'), list)).message).toBe(
      'metric must be one of: ratio, price.',
    );
  });

  it('gives a short usage reply for unknown commands and stray arguments', () => {
    expect(userError(() => parseText(tokenize('moon'), list)).message).toBe('Unknown command: moon. Try /opg help.');
    const stray = userError(() => parseText(tokenize('stats now please'), list));
    expect(stray.message).toBe('Too many arguments for stats.');
    expect(stray.usage).toBe('/opg stats');
    expect(userError(() => parseText(tokenize('demo nothing'), list)).usage).toContain('/opg demo limit <ratio>');
  });

  it('writes usage from the definition', () => {
    expect(usageOf(pick)).toBe('pick [ratio|price] [24h|7d]');
  });

  it('every definition fits every platform: names, descriptions and options', () => {
    for (const c of commands) {
      expect(c.name).toMatch(/^[a-z0-9_]{1,32}$/);
      expect(c.description.length).toBeGreaterThan(0);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect(Object.keys(c.options).length).toBeLessThanOrEqual(25);
    }
  });
});

describe('running commands', () => {
  async function app() {
    const cg = await startCoinGeckoServer([marketItem()]);
    const a = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    return Object.assign(a, { commands: list });
  }

  it('refuses a moderator command from a member and runs it for a moderator', async () => {
    const a = await app();
    // runText resolves against the app's own list; test the moderator gate through execute via a list with the demo
    // command
    const { execute } = await import('../../src/core/execute.js');
    const ctx = { core: a.core, services: a.services, chat: testChat, commands: list };
    const refused = await execute(parseText(tokenize('demo limit 5'), list), { ...ctx, actor: member });
    expect(refused.kind).toBe('refused');
    expect(refused.ephemeral).toBe(true);
    const ok = await execute(parseText(tokenize('demo limit 5'), list), { ...ctx, actor: moderator });
    expect(ok.title).toBe('set 5.00');
  });

  it('answers unknown commands with a usage reply, not an error', async () => {
    const a = await app();
    const r = await a.runText('/opg moon', testChat, member);
    expect(r.kind).toBe('usage');
    expect(r.title).toBe('Unknown command: moon. Try /opg help.');
  });

  it('generates help from the definitions', async () => {
    const a = await app();
    const r = await a.runText('help', testChat, member);
    for (const c of commands) expect(r.lines.join('\n')).toContain(`/opg ${usageOf(c)} — ${c.description}`);
  });
});
