import { describe, expect, it } from 'vitest';
import { alertsSubscribe } from '../../commands/alerts.js';
import type { ChatRef } from '../../src/core/command.js';
import { validateArgs } from '../../src/core/command.js';
import { execute } from '../../src/core/execute.js';
import { replyText } from '../../src/core/reply.js';
import { createTestApp, member, moderator } from '../helpers/app.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { expectNoBadText } from '../helpers/expect.js';

const group: ChatRef = { platform: 'telegram', chatId: '-100123', kind: 'supergroup', title: 'OPG traders' };

async function subscribedApp() {
  const cg = await startCoinGeckoServer([marketItem()]);
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
  await app.runText('/opg alerts subscribe', group, moderator);
  return app;
}

describe('alerts commands', () => {
  it('tells anyone that alerts are off before a moderator subscribes', async () => {
    const app = await subscribedApp();
    const other: ChatRef = { platform: 'telegram', chatId: '-100999', kind: 'group' };
    const r = await app.runText('/opg alerts', other, member);
    expect(r.title).toBe('Alerts are off in this chat');
    expect(replyText(r)).toContain('/opg alerts subscribe');
  });

  it('appears in help, with the moderator subcommands listed under moderators', async () => {
    const app = await subscribedApp();
    const text = replyText(await app.runText('/opg help', group, member));
    expect(text).toContain("/opg alerts — This chat's alerts");
    const moderators = text.slice(text.indexOf('Moderators:'));
    for (const usage of [
      'alerts subscribe',
      'alerts unsubscribe',
      'alerts add <ratio>',
      'alerts remove <ratio>',
      'alerts cooldown <minutes>',
      'alerts digest <time>',
    ]) {
      expect(moderators).toContain(`/opg ${usage}`);
    }
  });

  it(
    'lets only moderators subscribe, ' + 'and starts with the default thresholds, a 60 min cooldown and no digest',
    async () => {
      const cg = await startCoinGeckoServer([marketItem()]);
      const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
      const refused = await app.runText('/opg alerts subscribe', group, member);
      expect(refused.kind).toBe('refused');
      expect(await app.alerts.view(group)).toBeNull();

      const r = await app.runText('/opg alerts subscribe', group, moderator);
      expect(r.title).toBe('Alerts are on in this chat');
      const status = await app.runText('/opg alerts', group, member);
      const text = replyText(status);
      expect(text).toContain('1x (not seen yet) · 5x (not seen yet) · 10x (not seen yet)');
      expect(text).toContain('60 min between alerts');
      expect(text).toContain('Digest\noff');
      expect(text).toContain('Last alert\nnone yet');
      expect(text).toContain('falling 10% under a threshold');
      expectNoBadText(text);
      expect(await app.alerts.thresholdsFor(group)).toEqual([1, 5, 10]);
    },
  );

  it('adds and removes thresholds, with or without the x', async () => {
    const app = await subscribedApp();
    expect((await app.runText('/opg alerts add 2.5x', group, moderator)).title).toBe('Added a 2.5x threshold');
    expect((await app.runText('/opg alerts remove 5', group, moderator)).title).toBe('Removed the 5x threshold');
    expect(await app.alerts.thresholdsFor(group)).toEqual([1, 2.5, 10]);
  });

  it.each(['0', '0.001', '1001', 'abc', 'NaN', 'Infinity', '1e309', '-5', '5xx'])(
    'refuses the ratio %s and stores nothing',
    async (input) => {
      const app = await subscribedApp();
      const r = await app.runText(`/opg alerts add ${input}`, group, moderator);
      expect(r.kind).toBe('usage');
      expect(r.title).toMatch(/ratio must be a number from 0.01x to 1000x|ratio must be from 0.01x to 1000x/);
      expect(await app.alerts.thresholdsFor(group)).toEqual([1, 5, 10]);
    },
  );

  it('refuses a duplicate threshold and an eleventh one', async () => {
    const app = await subscribedApp();
    const dup = await app.runText('/opg alerts add 5', group, moderator);
    expect(dup.kind).toBe('usage');
    expect(dup.title).toBe('This chat already has a 5x threshold.');
    for (const t of [2, 3, 4, 6, 7, 8, 9]) await app.runText(`/opg alerts add ${t}`, group, moderator);
    expect(await app.alerts.thresholdsFor(group)).toHaveLength(10);
    const eleventh = await app.runText('/opg alerts add 20', group, moderator);
    expect(eleventh.kind).toBe('usage');
    expect(eleventh.title).toMatch(/already has 10 thresholds/);
    expect(await app.alerts.thresholdsFor(group)).toHaveLength(10);
  });

  it('refuses to remove a threshold the chat does not have', async () => {
    const app = await subscribedApp();
    const r = await app.runText('/opg alerts remove 7', group, moderator);
    expect(r.title).toBe('This chat has no 7x threshold.');
    expect(await app.alerts.thresholdsFor(group)).toEqual([1, 5, 10]);
  });

  it('sets the cooldown from 0 to 1440 whole minutes and refuses anything else', async () => {
    const app = await subscribedApp();
    for (const bad of ['1441', '-1', '1.5', 'soon']) {
      const r = await app.runText(`/opg alerts cooldown ${bad}`, group, moderator);
      expect(r.kind).toBe('usage');
      expect(r.title).toMatch(/minutes must be .*0 to 1440/);
    }
    expect((await app.alerts.view(group))?.cooldownMinutes).toBe(60);
    expect((await app.runText('/opg alerts cooldown 0', group, moderator)).title).toBe('Cooldown off');
    expect((await app.alerts.view(group))?.cooldownMinutes).toBe(0);
  });

  it('sets the digest to HH:MM UTC or off, and refuses other times', async () => {
    const app = await subscribedApp();
    for (const bad of ['25:00', '8am', '8', '12:60', 'noon']) {
      const r = await app.runText(`/opg alerts digest ${bad}`, group, moderator);
      expect(r.kind).toBe('usage');
      expect(r.title).toMatch(/HH:MM|at most 5 characters/);
    }
    expect((await app.alerts.view(group))?.digestMinute).toBeNull();
    expect((await app.runText('/opg alerts digest 08:30', group, moderator)).title).toBe(
      'Digest set to 08:30 UTC daily',
    );
    expect((await app.alerts.view(group))?.digestMinute).toBe(510);
    expect((await app.runText('/opg alerts digest off', group, moderator)).title).toBe('Digest off');
    expect((await app.alerts.view(group))?.digestMinute).toBeNull();
  });

  it('asks to subscribe first when changing settings in a chat without alerts', async () => {
    const app = await subscribedApp();
    const other: ChatRef = { platform: 'telegram', chatId: '-100999', kind: 'group' };
    const r = await app.runText('/opg alerts add 3', other, moderator);
    expect(r.title).toMatch(/Alerts are off in this chat/);
    expect(await app.alerts.view(other)).toBeNull();
  });

  it('unsubscribes, removing the settings', async () => {
    const app = await subscribedApp();
    expect((await app.runText('/opg alerts unsubscribe', group, moderator)).title).toBe('Alerts are off in this chat');
    expect(await app.alerts.view(group)).toBeNull();
    expect((await app.runText('/opg alerts unsubscribe', group, moderator)).title).toBe(
      'Alerts were not on in this chat',
    );
  });

  it('on Discord, refuses a channel the bot cannot post in, with the reason, and stores nothing', async () => {
    const app = await subscribedApp();
    const here: ChatRef = { platform: 'discord', chatId: '9001', guildId: '8001', kind: 'guild_text' };
    const checked: string[] = [];
    const ctx = {
      core: app.core,
      services: app.services,
      chat: here,
      actor: moderator,
      commands: app.commands,
      platform: {
        checkPostable: async (id: string) => {
          checked.push(id);
          return id === '9002' ? 'missing permission: Embed Links' : null;
        },
      },
    };
    const refused = await execute(
      { def: alertsSubscribe, args: validateArgs(alertsSubscribe, { channel: '9002' }) },
      ctx,
    );
    expect(refused.kind).toBe('refused');
    expect(replyText(refused)).toContain('missing permission: Embed Links');
    expect(await app.alerts.view({ platform: 'discord', chatId: '9002' })).toBeNull();

    const ok = await execute({ def: alertsSubscribe, args: validateArgs(alertsSubscribe, { channel: '9003' }) }, ctx);
    expect(ok.title).toBe('Alerts are on in the chosen channel');
    expect((await app.alerts.view({ platform: 'discord', chatId: '9003' }))?.status).toBe('active');
    const here2 = await execute({ def: alertsSubscribe, args: validateArgs(alertsSubscribe, {}) }, ctx);
    expect(here2.title).toBe('Alerts are on in this chat');
    expect(checked).toEqual(['9002', '9003', '9001']);
  });
});
