import { defineCommand } from '../src/core/command.js';
import { age, asOfText, count } from '../src/core/format.js';
import { reply } from '../src/core/reply.js';
import { DAY_MS } from './shared.js';
import { NOT_INDEXED, countedToNote, indexedStatus, lagText, modeSplit, windowStartMs } from './inference-text.js';

export default defineCommand({
  name: 'inferences',
  description: 'OpenGradient inferences counted from the chain: total, 24h, 7d, by verification mode',
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { core, services }) {
    const index = services.indexer;
    const status = await indexedStatus(index);
    const now = core.clock.now();
    if (!index || !status) {
      const last = await index?.status();
      const why =
        last?.lastError && last.lastErrorAtMs !== null
          ? [`Last indexing pass failed ${age(last.lastErrorAtMs, now)}: ${last.lastError}`]
          : [];
      return reply({ title: 'OpenGradient inferences', lines: [`Inferences ${NOT_INDEXED}.`], notices: why });
    }
    const all = await index.totals();
    const day = await index.totals(windowStartMs(now, DAY_MS));
    const week = await index.totals(windowStartMs(now, 7 * DAY_MS));
    const activity = await index.network();
    const partial = countedToNote(status, now);
    const notices: string[] = [];
    if (status.lastError && status.lastErrorAtMs !== null)
      notices.push(`Last indexing pass failed ${age(status.lastErrorAtMs, now)}: ${status.lastError}`);
    if (status.undecodableLogs > 0)
      notices.push(
        `${count(status.undecodableLogs)} inference logs could not be decoded; each is counted once as Unknown.`,
      );
    return reply({
      title: 'OpenGradient inferences',
      fields: [
        { label: 'Total', value: count(all.total), inline: true },
        { label: 'Last 24 hours', value: `${count(day.total)}${partial}`, inline: true },
        { label: 'Last 7 days', value: `${count(week.total)}${partial}`, inline: true },
        { label: 'By verification mode', value: all.total > 0 ? modeSplit(all) : 'none counted yet' },
        {
          label: 'Last 24 hours by mode',
          value: `${day.total > 0 ? modeSplit(day) : 'none in the last 24 hours'}${partial}`,
        },
        { label: 'Indexer', value: lagText(status, now) },
        ...(activity
          ? [
              {
                label: 'Network activity',
                value:
                  `${count(activity.totalTransactions)} transactions, ${count(activity.transactionsToday)} ` +
                  `today (explorer, ${age(activity.fetchedAtMs, now)})`,
              },
            ]
          : []),
      ],
      notices,
      footer:
        `OpenGradient chain · counted to block ${count(status.nextBlock - 1)} · as of ` +
        `${asOfText(status.lastRunAtMs, now)}`,
    });
  },
});
