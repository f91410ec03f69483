import { describe, expect, it, onTestFinished } from 'vitest';
import { lagText } from '../../commands/inference-text.js';
import type { IndexerStatus } from '../../src/core/inferences.js';
import { count } from '../../src/core/format.js';
import { replyText } from '../../src/core/reply.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { expectedTotals, testChain } from '../helpers/og-chain.js';
import { startExplorer } from '../helpers/og-explorer-server.js';
import { startOgNode } from '../helpers/og-rpc-server.js';
import { expectNoBadText } from '../helpers/expect.js';

const share = (n: number, total: number) => `${((100 * n) / total).toFixed(2)}%`;

/** A node with blocks 60,000–70,000 (2026-11-21 09:20 to 14:53 UTC), an explorer and CoinGecko. */
async function indexedApp(nowIso: string, options: { rpcDown?: boolean; hasUpTo?: number } = {}) {
  const node = await startOgNode(testChain(70_000));
  if (options.hasUpTo !== undefined) node.setHasUpTo(options.hasUpTo);
  onTestFinished(() => node.close());
  const explorer = await startExplorer();
  const cg = await startCoinGeckoServer([marketItem()]);
  const app = createTestApp({
    clock: createTestClock(Date.parse(nowIso)),
    env: {
      COINGECKO_API_URL: cg.url,
      OG_RPC_URL: options.rpcDown ? 'http://127.0.0.1:9' : node.url,
      OG_EXPLORER_API_URL: explorer.apiUrl,
      OG_INDEX_FROM_BLOCK: '60000',
    },
  });
  await app.sync();
  return app;
}

describe('inferences', () => {
  it('answers totals, 24h, 7d and the split by mode that match the events the node served', async () => {
    const app = await indexedApp('2026-11-22T12:00:00Z');
    const r = await app.runText('/opg inferences', testChat, member);
    const all = expectedTotals(60_000, 69_988);
    const day = expectedTotals(64_800, 69_988);
    const field = (label: string) => r.fields.find((f) => f.label === label)?.value;
    expect(r.kind).toBe('info');
    expect(field('Total')).toBe(count(all.total));
    // The node's newest block is 21 h old: windows that end now say where the count ends.
    expect(field('Last 24 hours')).toBe(`${count(day.total)} (counted to 21 h 7 min ago)`);
    expect(field('Last 7 days')).toBe(`${count(all.total)} (counted to 21 h 7 min ago)`);
    expect(field('By verification mode')).toBe(
      `Vanilla ${count(all.vanilla)} (${share(all.vanilla, all.total)}) · TEE ${count(all.tee)} ` +
        `(${share(all.tee, all.total)}) · ZKML ${count(all.zkml)} (${share(all.zkml, all.total)}) · Unknown ` +
        `${count(all.unknown)} (${share(all.unknown, all.total)})`,
    );
    expect(field('Indexer')).toBe('12 blocks behind head (block 69,988 of 70,000), last counted block 21 h 7 min old');
    expect(field('Network activity')).toBe('1,234,567 transactions, 3,456 today (explorer, just now)');
    expectNoBadText(replyText(r));
  });

  it('says how far a backfill has come while history remains to be read', async () => {
    const app = await indexedApp('2026-11-22T12:00:00Z', { hasUpTo: 62_000 });
    const status = (await app.services.indexer!.status())!;
    const done = (100 * (status.nextBlock - 60_000)) / (69_988 - 60_000 + 1);
    const r = await app.runText('inferences', testChat, member);
    expect(r.fields.find((f) => f.label === 'Indexer')?.value).toBe(
      `backfilling: ${done.toFixed(2)}% of blocks 60,000–69,988 (at block ${count(status.nextBlock - 1)})`,
    );
    expect(r.fields.find((f) => f.label === 'Total')?.value).toBe(
      count(expectedTotals(60_000, status.nextBlock - 1).total),
    );
    expect(r.notices.join('\n')).toMatch(/Last indexing pass failed just now: .*block \d+ not found/);
    const stats = await app.runText('stats', testChat, member);
    expect(stats.fields.find((f) => f.label === 'Inferences')?.value).toMatch(
      new RegExp(`\\(backfill ${done.toFixed(2)}% done\\)$`),
    );
  });

  it('says plainly that nothing is indexed yet when the node never answered', async () => {
    const app = await indexedApp('2026-11-22T12:00:00Z', { rpcDown: true });
    const r = await app.runText('inferences', testChat, member);
    expect(r.lines.join('\n')).toMatch(/not indexed yet/);
    expect(r.notices.join('\n')).toMatch(/Last indexing pass failed just now: OpenGradient RPC: request failed/);
    expectNoBadText(replyText(r));
    const stats = await app.runText('stats', testChat, member);
    expect(stats.fields.find((f) => f.label === 'Inferences')?.value).toMatch(/not indexed yet/);
  });
});

describe('inferences in stats and supply', () => {
  it('adds no note to the windows that end now while the indexer is current', async () => {
    const app = await indexedApp('2026-11-21T15:00:00Z');
    const r = await app.runText('inferences', testChat, member);
    const day = expectedTotals(60_000, 69_988); // every indexed block is of the last 24 hours
    expect(r.fields.find((f) => f.label === 'Last 24 hours')?.value).toBe(count(day.total));
    const stats = await app.runText('stats', testChat, member);
    expect(stats.fields.find((f) => f.label === 'Inferences')?.value).toContain(`${count(day.total)} in 24h · `);
  });

  it('stats shows the total, the last 24 hours and the split', async () => {
    const app = await indexedApp('2026-11-22T12:00:00Z');
    const r = await app.runText('stats', testChat, member);
    const all = expectedTotals(60_000, 69_988);
    const day = expectedTotals(64_800, 69_988);
    expect(r.fields.find((f) => f.label === 'Inferences')?.value).toBe(
      `${count(all.total)} total, ${count(day.total)} in 24h (counted to 21 h 7 min ago) · Vanilla ` +
        `${share(all.vanilla, all.total)} · TEE ${share(all.tee, all.total)} · ZKML ${share(all.zkml, all.total)} · ` +
        `Unknown ${share(all.unknown, all.total)}`,
    );
    expectNoBadText(replyText(r));
  });

  it('supply sets inference growth over 7 and 30 days beside circulating growth', async () => {
    const app = await indexedApp('2026-11-28T12:00:00Z');
    const r = await app.runText('supply', testChat, member);
    const recent = expectedTotals(64_800, 69_988).total;
    const before = expectedTotals(60_000, 64_799).total;
    expect(r.fields.find((f) => f.label === 'Inference growth')?.value).toBe(
      `7 days: +${((100 * recent) / before).toFixed(2)}% (+${count(recent)}) · 30 days: n/a (every inference counted ` +
        'is from the last 30 days)',
    );
    expectNoBadText(replyText(r));
  });
});

describe('lagText', () => {
  const status = (nextBlock: number): IndexerStatus => ({
    fromBlock: 0,
    nextBlock,
    headBlock: 70_000,
    safeHeadBlock: 69_988,
    headSeenAtMs: 0,
    indexedBlockTimeMs: null,
    lastRunAtMs: null,
    lastError: null,
    lastErrorAtMs: null,
    undecodableLogs: 0,
  });

  it('counts blocks behind head in the singular for one', () => {
    expect(lagText(status(70_000), 0)).toBe('1 block behind head (block 69,999 of 70,000)');
    expect(lagText(status(69_999), 0)).toBe('2 blocks behind head (block 69,998 of 70,000)');
  });
});
