/**
 * `alerts` and its moderator subcommands. Chat identity comes from `ctx.chat`; every change is validated
 * (by the option specs, then by the service) before anything is stored, and a refusal stores nothing.
 */
import type { AlertSubscriptionView, AlertSettings } from '../src/core/alert-settings.js';
import { defineCommand, type AnyCommand } from '../src/core/command.js';
import { UserInputError } from '../src/core/errors.js';
import { thresholdRatio, utc } from '../src/core/format.js';
import { reply, type Reply } from '../src/core/reply.js';

/** `5x`, `0.015x`: the threshold as typed, without the rounding `ratio()` applies to live figures. */
export const thresholdText = thresholdRatio;

/** `08:30` → 510; `off` → null. @throws UserInputError for anything else. */
export function parseDigestTime(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'off') return null;
  const m = /^(\d{1,2}):(\d{2})$/.exec(t);
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  if (!m || h > 23 || min > 59)
    throw new UserInputError(
      'The digest time must be HH:MM in UTC (such as 08:30) or off.',
      '/opg alerts digest <HH:MM|off>',
    );
  return h * 60 + min;
}

function digestText(minute: number | null): string {
  if (minute === null) return 'off';
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')} UTC daily`;
}

function sideText(side: 'above' | 'below' | null): string {
  return side === null ? 'not seen yet' : `ratio ${side}`;
}

function viewFields(view: AlertSubscriptionView, hysteresis: number) {
  return [
    { label: 'Status', value: view.status === 'active' ? 'on' : 'paused' },
    ...(view.status === 'paused'
      ? [
          {
            label: 'Paused',
            value:
              `${view.pauseReason ?? 'no reason given'}` +
              `${view.pausedAtMs !== null ? ` (since ${utc(view.pausedAtMs)})` : ''}. ` +
              'A moderator can resume with /opg alerts subscribe.',
          },
        ]
      : []),
    {
      label: 'Thresholds (volume / market cap)',
      value:
        view.thresholds.length === 0
          ? 'none: add one with /opg alerts add <ratio>'
          : view.thresholds.map((t) => `${thresholdText(t.ratio)} (${sideText(t.side)})`).join(' · '),
    },
    { label: 'Fires', value: `on crossing up, and on falling ${Math.round(hysteresis * 100)}% under a threshold` },
    { label: 'Cooldown', value: view.cooldownMinutes === 0 ? 'none' : `${view.cooldownMinutes} min between alerts` },
    { label: 'Digest', value: digestText(view.digestMinute) },
    { label: 'Last alert', value: view.lastAlertAtMs === null ? 'none yet' : utc(view.lastAlertAtMs) },
  ];
}

function settingsReply(title: string, view: AlertSubscriptionView, alerts: AlertSettings): Reply {
  return reply({ title, fields: viewFields(view, alerts.hysteresis) });
}

export const alertsStatus = defineCommand({
  name: 'status',
  group: 'alerts',
  groupDefault: true,
  description: "This chat's alerts: on or off, thresholds, cooldown, digest, last alert",
  options: {},
  access: 'everyone',
  async run(_args, ctx) {
    const alerts = ctx.services.alerts;
    const view = await alerts.view(ctx.chat);
    if (!view) {
      return reply({
        title: 'Alerts are off in this chat',
        lines: [
          'A moderator can start them with /opg alerts subscribe: the bot then posts when volume / market cap ' +
            'crosses a threshold.',
        ],
      });
    }
    const r = settingsReply(
      view.status === 'active' ? 'Alerts are on in this chat' : 'Alerts are paused in this chat',
      view,
      alerts,
    );
    const listings = await ctx.services.listings.listingsOn(ctx.chat);
    if (listings !== null) r.fields.push({ label: 'New-listing alerts', value: listings ? 'on' : 'off' });
    return r;
  },
});

export const alertsSubscribe = defineCommand({
  name: 'subscribe',
  group: 'alerts',
  description: 'Start volume / market cap alerts here (Discord: or in another channel)',
  options: { channel: { type: 'channel', description: 'The channel to post alerts in (default: this one)' } },
  access: 'moderator',
  async run({ channel }, ctx) {
    const alerts = ctx.services.alerts;
    const elsewhere = channel !== undefined && channel !== ctx.chat.chatId;
    const target = elsewhere
      ? { platform: ctx.chat.platform, chatId: channel, guildId: ctx.chat.guildId ?? null, threadId: null }
      : ctx.chat;
    if (elsewhere || ctx.chat.platform === 'discord') {
      const problem = (await ctx.platform?.checkPostable?.(target.chatId)) ?? null;
      if (problem !== null) {
        return reply({ kind: 'refused', title: 'Cannot post alerts there', lines: [problem] });
      }
    }
    const { created, view } = await alerts.subscribe(target, ctx.actor.id);
    const where = elsewhere ? 'in the chosen channel' : 'in this chat';
    return settingsReply(created ? `Alerts are on ${where}` : `Alerts resumed ${where}`, view, alerts);
  },
});

export const alertsUnsubscribe = defineCommand({
  name: 'unsubscribe',
  group: 'alerts',
  description: 'Stop alerts and the digest in this chat',
  options: {},
  access: 'moderator',
  async run(_args, ctx) {
    const removed = await ctx.services.alerts.unsubscribe(ctx.chat);
    return reply({
      title: removed ? 'Alerts are off in this chat' : 'Alerts were not on in this chat',
      lines: removed ? ['Thresholds, cooldown and digest settings were removed.'] : [],
    });
  },
});

/** A threshold as `alerts add` and `alerts remove` take it: the same range and precision both ways. */
const thresholdOption = (description: string) =>
  ({
    type: 'number',
    description,
    required: true,
    min: 0.01,
    max: 1000,
    unit: 'x',
    maxDecimals: 4,
  }) as const;

export const alertsAdd = defineCommand({
  name: 'add',
  group: 'alerts',
  description: 'Add a volume / market cap threshold, such as 5 for 5x',
  options: { ratio: thresholdOption('Volume / market cap, from 0.01 to 1000') },
  access: 'moderator',
  async run({ ratio }, ctx) {
    const alerts = ctx.services.alerts;
    const view = await alerts.addThreshold(ctx.chat, ratio);
    return settingsReply(`Added a ${thresholdText(ratio)} threshold`, view, alerts);
  },
});

export const alertsRemove = defineCommand({
  name: 'remove',
  group: 'alerts',
  description: 'Remove a threshold',
  options: { ratio: thresholdOption('The threshold to remove, such as 5') },
  access: 'moderator',
  async run({ ratio }, ctx) {
    const alerts = ctx.services.alerts;
    const view = await alerts.removeThreshold(ctx.chat, ratio);
    return settingsReply(`Removed the ${thresholdText(ratio)} threshold`, view, alerts);
  },
});

export const alertsCooldown = defineCommand({
  name: 'cooldown',
  group: 'alerts',
  description: 'Least minutes between two alerts (0 to 1440); crossings in between are merged',
  options: {
    minutes: { type: 'number', description: 'Minutes, 0 to 1440', required: true, min: 0, max: 1440, integer: true },
  },
  access: 'moderator',
  async run({ minutes }, ctx) {
    const alerts = ctx.services.alerts;
    const view = await alerts.setCooldown(ctx.chat, minutes);
    return settingsReply(minutes === 0 ? 'Cooldown off' : `Cooldown set to ${minutes} min`, view, alerts);
  },
});

export const alertsDigest = defineCommand({
  name: 'digest',
  group: 'alerts',
  description: 'A daily summary at HH:MM UTC, or off',
  options: { time: { type: 'string', description: 'HH:MM in UTC, or off', required: true, maxLength: 5 } },
  access: 'moderator',
  async run({ time }, ctx) {
    const alerts = ctx.services.alerts;
    const minute = parseDigestTime(time);
    const view = await alerts.setDigest(ctx.chat, minute);
    return settingsReply(minute === null ? 'Digest off' : `Digest set to ${digestText(minute)}`, view, alerts);
  },
});

/** In the order help lists them. */
export const alertsCommands: readonly AnyCommand[] = [
  alertsStatus,
  alertsSubscribe,
  alertsUnsubscribe,
  alertsAdd,
  alertsRemove,
  alertsCooldown,
  alertsDigest,
];
