import { describe, expect, it, onTestFinished } from 'vitest';
import { replyText } from '../../src/core/reply.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { startExplorer } from '../helpers/og-explorer-server.js';
import { CONFIRMATIONS, networkScenario, SCENARIO as S } from '../helpers/og-participants.js';
import { startOgNode } from '../helpers/og-rpc-server.js';

const BAD = /NaN|Infinity|undefined|null/;
const NOW = Date.parse('2026-12-01T10:00:00Z');
const DAY = 86_400_000;

/** The scenario chain indexed by the real app at NOW; circulating supply 100M 30 days ago when `supplyHistory`. */
async function networkApp(options: { supplyHistory?: boolean; nowMs?: number; fromBlock?: number } = {}) {
  const now = options.nowMs ?? NOW;
  const scenario = networkScenario(now);
  const node = await startOgNode(scenario.chain, { maxBatchCalls: 4 });
  onTestFinished(() => node.close());
  const explorer = await startExplorer();
  const cg = await startCoinGeckoServer([marketItem({ circulating_supply: 100_000_000 })]);
  const clock = createTestClock(now - 30 * DAY);
  const app = createTestApp({
    clock,
    env: {
      COINGECKO_API_URL: cg.url,
      OG_RPC_URL: node.url,
      OG_EXPLORER_API_URL: explorer.apiUrl,
      OG_CONFIRMATIONS: String(CONFIRMATIONS),
      ...(options.fromBlock === undefined ? {} : { OG_INDEX_FROM_BLOCK: String(options.fromBlock) }),
    },
  });
  if (options.supplyHistory ?? true) await app.core.refresh();
  clock.set(now);
  cg.setMarkets([marketItem({ circulating_supply: 110_000_000 })]);
  await app.sync();
  return { app, node, scenario };
}

function fieldsOf(r: { fields: Array<{ label: string; value: string }> }) {
  return Object.fromEntries(r.fields.map((f) => [f.label, f.value]));
}

describe('network', () => {
  it('answers every figure from the chain the node served, windows crossing midnight UTC included', async () => {
    const { app, node } = await networkApp();
    const r = await app.runText('/opg network', testChat, member);
    expect(r.kind).toBe('info');
    expect(r.title).toBe('Who uses the OpenGradient network');
    expect(r.lines).toEqual([
      'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain: the people who send them are not visible as callers here (those inferences appear only as TEE settlements).',
    ]);
    expect(fieldsOf(r)).toEqual({
      'Callers, last 7 days': `${S.active7} accounts that sent inference transactions on the OpenGradient chain (UTC days Nov 25 00:00 UTC to now): ${S.new7} new (first seen in these 7 days), ${S.returning7} returning`,
      'Week-over-week retention': `50.00%: ${S.retained7} of the ${S.previous7} accounts active Nov 18–Nov 24 sent inference transactions again in the last 7 days`,
      'Repeat callers, last 30 days': `13.16% of the ${S.inferences30} inferences in inference transactions (UTC days Nov 2 00:00 UTC to now) were sent by accounts active on 2 or more distinct days`,
      '10 busiest callers, last 30 days': `84.21% of those ${S.inferences30} inferences, from the 10 busiest of ${S.callers30} accounts`,
      'TEEs enabled now': `${S.enabled} (LLM proxy ${S.llmProxy}, validator ${S.validator}) of ${S.registered} TEEs registered (TEE registry events)`,
      'TEEs serving, last 7 days': `${S.settling7} TEEs settled at least one inference individually (IndividualSettlement, UTC days Nov 25 00:00 UTC to now)`,
      'Busiest TEE, last 7 days': `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
      'TEE heartbeats, last 24 hours': `${S.heartbeats} TEEs with a HeartbeatReceived event since 2026-11-30 10:00 UTC`,
      'Workflow developers': `${S.registrants} accounts ever registered a workflow task (TaskRegistered)`,
      'Workflow tasks active now': `${S.activeTasks} (registered or updated, not stopped, end time after now)`,
      'Demand beside supply, 30 days': `inferences +650.00% (${S.recent30} in the last 30 days against ${S.prior30} in the 30 before, every kind counted from the chain) · circulating supply +10.00% (100M OPG to 110M OPG, CoinGecko). Inference demand grew faster than circulating supply over these 30 days.`,
    });
    expect(r.notices).toEqual([]);
    const safe = node.chain.head - CONFIRMATIONS;
    expect(r.footer).toBe(
      `OpenGradient chain · counted to block ${safe.toLocaleString('en-US')} (block time 2026-12-01 09:58 UTC) · as of 2026-12-01 10:00 UTC\nCoinGecko · as of 2026-12-01 10:00 UTC (just now)`,
    );
    expect(replyText(r)).not.toMatch(BAD);
  });

  it('reads each block holding precompile inferences once, with full transactions, in batches within the node limit', async () => {
    const { node, scenario } = await networkApp();
    // Blocks with precompile logs: A ×2, B, C ×2 blocks, D ×2, E, F ×10, H ×2, G (A's and the T2 block share one).
    const precompileBlocks = new Set<number>();
    const { chain } = scenario;
    for (let b = 0; b <= chain.head; b++) {
      if (
        chain
          .logsInBlock(b)
          .some((l) => ['0x1b283af3', '0x4c92d3df', '0x51fe69d5'].some((t) => l.topics[0]!.startsWith(t)))
      )
        precompileBlocks.add(b);
    }
    expect(precompileBlocks.size).toBe(21);
    expect(node.fullBlocksServed()).toBe(precompileBlocks.size);
    expect(node.refusedBatches()).toBeGreaterThan(0);
    expect(node.largestAnsweredBatch()).toBeLessThanOrEqual(4);
    expect(node.largestAnsweredBatch()).toBeGreaterThan(1);
  });

  it('does not show demand beside supply without 30 days of supply history, and says how much there is', async () => {
    const { app } = await networkApp({ supplyHistory: false });
    const r = await app.runText('network', testChat, member);
    expect(fieldsOf(r)['Demand beside supply, 30 days']).toBe(
      'not shown until history covers both windows: needs 60 days of inference history (have from genesis) and circulating supply from 30 days ago (have 0 s of readings)',
    );
    expect(fieldsOf(r)['Callers, last 7 days']).toMatch(/^3 accounts/);
  });

  it('marks figures whose window opens before the caller history starts, and says where it starts', async () => {
    const now = NOW;
    const startBlock = networkScenario(now).chain.blockAt(now - 10 * DAY);
    const { app } = await networkApp({ fromBlock: startBlock });
    const r = await app.runText('network', testChat, member);
    const f = fieldsOf(r);
    const starts = 'n/a: the caller history read starts 2026-11-21 10:00 UTC (block';
    expect(f['Callers, last 7 days']).toMatch(/^3 accounts .*: 2 new \(first seen in these 7 days\), 1 returning$/);
    expect(f['Week-over-week retention']).toContain(starts);
    expect(f['Repeat callers, last 30 days']).toContain(starts);
    expect(f['Demand beside supply, 30 days']).toMatch(
      /^not shown until history covers both windows: needs 60 days of inference history \(have 10 days\)/,
    );
    expect(r.notices.join('\n')).toContain('Caller history starts at block');
    expect(replyText(r)).not.toMatch(BAD);
  });

  it('says plainly that nothing is indexed yet, with the note on Base', async () => {
    const app = createTestApp({ clock: createTestClock(NOW) });
    const r = await app.runText('network', testChat, member);
    expect(r.lines).toEqual([
      'Callers, operators and developers are not indexed yet: the OpenGradient inference indexer has not finished a pass.',
      expect.stringContaining('LLM requests paid in OPG on Base'),
    ]);
  });
});

describe('callers in stats and charts', () => {
  it('stats has one line with callers active in 7 days and the week-over-week retention', async () => {
    const { app } = await networkApp();
    const r = await app.runText('stats', testChat, member);
    expect(fieldsOf(r)['Callers']).toBe(
      `${S.active7} accounts active in 7 UTC days · week-over-week retention 50.00% (inference transactions on the OpenGradient chain; /opg network)`,
    );
  });

  it('chart callers draws weekly active callers, new and returning, for 30d and 90d', async () => {
    const { app } = await networkApp();
    const r = await app.runText('chart callers', testChat, member);
    expect(r.kind).toBe('info');
    expect(r.title).toBe('OpenGradient callers by week, 5 weeks');
    // Weeks from Oct 28, Nov 4, 11, 18 and 25: H; F0..F9; E; A and B; A, C and D (C new).
    expect(r.lines[0]).toBe(
      'Accounts that sent inference transactions on the OpenGradient chain, per week of 7 UTC days, oldest first: 1 (1 new), 10 (10 new), 1 (1 new), 2 (2 new), 3 (1 new). Last week: 2 returning, 1 new.',
    );
    expect(Buffer.from(r.image!.png.subarray(1, 4)).toString('latin1')).toBe('PNG');
    expect(r.notices).toEqual([]);
    const long = await app.runText('chart callers 90d', testChat, member);
    expect(long.title).toBe('OpenGradient callers by week, 13 weeks');
    // 13 weeks from Sep 2: G (Sep 12) and D (Oct 16) in weeks 2 and 7, then as above.
    expect(long.lines[0]).toMatch(
      /^Accounts .*oldest first: 0 \(0 new\), 1 \(1 new\), 0 \(0 new\), 0 \(0 new\), 0 \(0 new\), 0 \(0 new\), 1 \(1 new\), 0 \(0 new\), 1 \(1 new\), 10 \(10 new\), 1 \(1 new\), 2 \(2 new\), 3 \(1 new\)\./,
    );
    const refused = await app.runText('chart callers 7d', testChat, member);
    expect(refused.kind).toBe('usage');
    expect(refused.lines[0]).toBe('The callers chart counts weeks: choose 30d or 90d (got 7d).');
  });
});
