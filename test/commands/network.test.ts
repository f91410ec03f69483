import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { expectNoBadText } from '../helpers/expect.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { sendJson } from '../helpers/http-server.js';
import { startExplorer } from '../helpers/og-explorer-server.js';
import {
  CONFIRMATIONS,
  REGISTRY_2,
  RELAYER,
  SCENARIO as S,
  T1,
  account,
  networkScenario,
  scriptedChain,
  teeRegistered,
  type ScriptedChain,
} from '../helpers/og-participants.js';
import { individualSettlement, mlInference } from '../helpers/og-events.js';
import { startOgNode } from '../helpers/og-rpc-server.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface NetworkAppOptions {
  supplyHistory?: boolean;
  nowMs?: number;
  fromBlock?: number;
  /**
   * The indexer counted the chain while its head was this long before now, then stopped there: at now the
   * node's head is this far ahead of the cursor (every eth_getLogs fails, the new head is recorded).
   */
  cursorBehindMs?: number;
  /**
   * Circulating supply in the stored reading and now. The stored one is taken `supplyAgoMs` before now: unless
   * said, 30 days and an hour, at the start of the 30 days to the last whole hour counted (the last counted
   * block is from 09:58 at a now of 10:00, so the 30 days run to 09:00).
   */
  supplyThen?: number | null;
  supplyNow?: number | null;
  supplyAgoMs?: number;
  /**
   * CoinGecko was last read this long before now (with `supplyNow`). The pass at now only indexes, unless
   * `marketDown`: then CoinGecko fails from that reading on, and the pass's refresh fails.
   */
  marketReadAgoMs?: number;
  marketDown?: boolean;
  /** STALE_AFTER_MINUTES. */
  staleAfterMinutes?: number;
  /** Changes the scenario chain before it is served. */
  alter?: (scenario: ReturnType<typeof networkScenario>) => void;
  /** Another chain instead of the scenario's. */
  chain?: (nowMs: number) => ScriptedChain;
  /** OG_CONTRACTS_FROM_BLOCK: when the registries and the scheduler were deployed. */
  contractsFromBlock?: number;
}

/** The scenario chain indexed by the real app at NOW; circulating supply 100M 30 days ago when `supplyHistory`. */
async function networkApp(options: NetworkAppOptions = {}) {
  const now = options.nowMs ?? NOW;
  const scenario = networkScenario(now);
  if (options.chain) scenario.chain = options.chain(now);
  options.alter?.(scenario);
  const node = await startOgNode(scenario.chain, { maxBatchCalls: 4 });
  onTestFinished(() => node.close());
  const explorer = await startExplorer();
  const cg = await startCoinGeckoServer([
    marketItem({ circulating_supply: options.supplyThen === undefined ? 100_000_000 : options.supplyThen }),
  ]);
  const supplyAt = now - (options.supplyAgoMs ?? 30 * DAY + HOUR);
  const clock = createTestClock(supplyAt);
  const app = createTestApp({
    clock,
    env: {
      COINGECKO_API_URL: cg.url,
      OG_RPC_URL: node.url,
      OG_EXPLORER_API_URL: explorer.apiUrl,
      OG_CONFIRMATIONS: String(CONFIRMATIONS),
      ...(options.fromBlock === undefined ? {} : { OG_INDEX_FROM_BLOCK: String(options.fromBlock) }),
      ...(options.contractsFromBlock === undefined
        ? {}
        : { OG_CONTRACTS_FROM_BLOCK: String(options.contractsFromBlock) }),
      ...(options.staleAfterMinutes === undefined ? {} : { STALE_AFTER_MINUTES: String(options.staleAfterMinutes) }),
    },
  });
  const fullHead = scenario.chain.head;
  if (options.cursorBehindMs !== undefined) {
    const then = now - options.cursorBehindMs;
    scenario.chain.head = scenario.chain.blockAt(then);
    clock.set(then);
    await app.sync();
    scenario.chain.head = fullHead;
    clock.set(supplyAt);
  }
  if (options.supplyHistory ?? true) await app.core.refresh();
  cg.setMarkets([
    marketItem({ circulating_supply: options.supplyNow === undefined ? 110_000_000 : options.supplyNow }),
  ]);
  if (options.marketReadAgoMs !== undefined) {
    clock.set(now - options.marketReadAgoMs);
    await app.core.refresh();
    if (options.marketDown) cg.fail((_req, res) => sendJson(res, 503, { error: 'down' }));
  }
  clock.set(now);
  if (options.cursorBehindMs !== undefined) node.failNext('rpc-error', 100, 'eth_getLogs');
  if (options.marketReadAgoMs !== undefined && !options.marketDown) await app.indexer.runOnce();
  else await app.sync();
  clock.set(now); // a failing pass backs off on the clock
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
      'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain: ' +
        'the people who send them are not visible as callers here (those inferences appear only as TEE settlements).',
    ]);
    expect(fieldsOf(r)).toEqual({
      // 2 of 37 inferences from repeat callers, 31 of 37 from the 10 busiest; 42 inferences against 8 (+34/8).
      // The inference windows end at 09:00, the last whole hour counted; supply is read at the start of the
      // first (the stored reading) and now.
      'Callers, last 7 full UTC days':
        `${S.active7} accounts that sent inference transactions on the OpenGradient ` +
        `chain in the 7 full UTC days to Nov 30: ${S.new7} new (first seen in these 7 days), ${S.returning7} returning`,
      'Week-over-week retention':
        `50.00%: ${S.retained7} of the ${S.previous7} accounts active Nov 17–Nov 23 sent ` +
        'inference transactions again in the 7 full UTC days to Nov 30',
      'Repeat callers, last 30 full UTC days':
        `5.41% of the ${S.inferences30} inferences in inference transactions ` +
        'in the 30 full UTC days to Nov 30 were sent by accounts active on 2 or more distinct days',
      '10 busiest callers, last 30 full UTC days':
        `83.78% of those ${S.inferences30} inferences, from the 10 ` + `busiest of ${S.callers30} accounts`,
      'TEEs registered now':
        `${S.registered} TEEs: LLM proxy ${S.registeredLlmProxy}, validator ${S.registeredValidator} ` +
        '(TEE registry events; a TEE removed since is not counted)',
      // T1 and T4 on registry 1, T3 on registry 2.
      'TEEs enabled now':
        `${S.enabled} TEEs: LLM proxy ${S.llmProxy}, validator ${S.validator} ` +
        '(TEE registry events; enabled by registry: 0x4e72…0248 2, 0x703c…bda6 1)',
      'TEEs serving, last 7 full UTC days':
        `${S.settling7} TEEs settled at least one inference individually ` +
        '(IndividualSettlement, the 7 full UTC days to Nov 30)',
      'Busiest TEE, last 7 full UTC days': `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
      'TEE heartbeats, last 24 hours':
        `${S.heartbeats} TEEs with a HeartbeatReceived event from 2026-11-30 10:00 UTC to 2026-12-01 09:58 UTC ` +
        '(the last counted block)',
      'Workflow developers': `${S.registrants} accounts ever registered a workflow task (TaskRegistered)`,
      'Workflow tasks active now': `${S.activeTasks} (registered or updated, not stopped, end time after now)`,
      'Demand beside supply, 30 days':
        `inferences +425.00% (${S.recent30} in the 30 days to 2026-12-01 09:00 UTC against ${S.prior30} in the ` +
        '30 before, every kind counted from the chain) · circulating supply +10.00% (100M OPG at 2026-11-01 09:00 ' +
        'UTC to 110M OPG at 2026-12-01 10:00 UTC, CoinGecko). Inference demand grew faster than circulating supply ' +
        'over these 30 days (supply read within 2 h of their start and end).',
    });
    expect(r.notices).toEqual([]);
    const safe = node.chain.head - CONFIRMATIONS;
    expect(r.footer).toBe(
      `OpenGradient chain · counted to block ${safe.toLocaleString('en-US')} (block time 2026-12-01 09:58 UTC) · as ` +
        'of 2026-12-01 10:00 UTC\nCoinGecko · as of 2026-12-01 10:00 UTC (just now)',
    );
    expectNoBadText(r);
  });

  it(
    'reads each block holding precompile inferences once, ' +
      'with full transactions, in batches within the node limit',
    async () => {
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
    },
  );

  it('does not show demand beside supply without 30 days of supply history, and says how much there is', async () => {
    const { app } = await networkApp({ supplyHistory: false });
    const r = await app.runText('network', testChat, member);
    expect(fieldsOf(r)['Demand beside supply, 30 days']).toBe(
      'not shown until history covers both windows: needs 60 days of inference history ' +
        '(have from genesis) and circulating supply from 30 days ago (have 0 s of readings)',
    );
    expect(fieldsOf(r)['Callers, last 7 full UTC days']).toMatch(/^3 accounts/);
  });

  it('names the 10 busiest callers only when more than 10 sent inference transactions in the 30 days', async () => {
    // n callers, caller i with i + 1 inferences (one a transaction) on day i + 2 before today.
    const callers = (n: number) => (nowMs: number) => {
      const today = Math.floor(nowMs / DAY) * DAY;
      const chain = scriptedChain(today - 91 * DAY, nowMs);
      for (let i = 0; i < n; i++)
        for (let k = 0; k <= i; k++)
          chain.place(today - (i + 2) * DAY + k * 60_000, mlInference(0), account(0xc00 + i), 1);
      return chain;
    };
    const busiest = async (n: number) => {
      const { app } = await networkApp({ chain: callers(n) });
      const f = fieldsOf(await app.runText('network', testChat, member));
      return Object.entries(f).filter(([label]) => /busiest callers|^All callers/.test(label));
    };
    expect(await busiest(1)).toEqual([
      ['All callers, last 30 full UTC days', '100.00%: the only inference, from the only account that sent any'],
    ]);
    expect(await busiest(10)).toEqual([
      ['All callers, last 30 full UTC days', '100.00% of those 55 inferences, from all 10 accounts that sent any'],
    ]);
    // 66 inferences, the least busy caller's 1 not among the 10.
    expect(await busiest(11)).toEqual([
      [
        '10 busiest callers, last 30 full UTC days',
        '98.48% of those 66 inferences, from the 10 busiest of 11 accounts',
      ],
    ]);
  });

  it('reads naturally of one: the only account, inference or settlement, never "1 of the 1"', async () => {
    // Callers as [account, days before today] with one inference at noon of each day, and `settlements`
    // individual settlements of TEE 0x71 two days before today.
    const chainOf = (callers: Array<[number, number[]]>, settlements: number) => (nowMs: number) => {
      const today = Math.floor(nowMs / DAY) * DAY;
      const chain = scriptedChain(today - 91 * DAY, nowMs);
      for (const [who, days] of callers)
        for (const d of days) chain.place(today - d * DAY + 12 * 3_600_000, mlInference(0), account(who), 1);
      for (let i = 0; i < settlements; i++)
        chain.place(today - 2 * DAY + i * 60_000, individualSettlement(0x71), RELAYER, 1);
      return chain;
    };
    const fields = async (callers: Array<[number, number[]]>, settlements: number) =>
      fieldsOf(
        await (await networkApp({ chain: chainOf(callers, settlements) })).app.runText('network', testChat, member),
      );
    const last7 = 'the 7 full UTC days to Nov 30';
    const last30 = 'the 30 full UTC days to Nov 30';

    // One account, one inference (Nov 28), one settlement.
    const one = await fields([[0xc01, [3]]], 1);
    expect(one['Week-over-week retention']).toBe('n/a: no account sent inference transactions Nov 17–Nov 23');
    expect(one['Repeat callers, last 30 full UTC days']).toBe(
      `0.00%: the only inference in inference transactions in ${last30} was not sent by an account active on 2 or ` +
        'more distinct days',
    );
    expect(one['All callers, last 30 full UTC days']).toBe(
      '100.00%: the only inference, from the only account that sent any',
    );
    expect(one['Busiest TEE, last 7 full UTC days']).toBe('100.00%: the only individual settlement');

    // The only account of Nov 17–23 (Nov 21) active again on Nov 28; two settlements, both by one TEE.
    const again = await fields([[0xc01, [10, 3]]], 2);
    expect(again['Week-over-week retention']).toBe(
      `100.00%: the only account active Nov 17–Nov 23 sent inference transactions again in ${last7}`,
    );
    expect(again['Busiest TEE, last 7 full UTC days']).toBe(
      '100.00%: all 2 individual settlements, from the only TEE that settled any',
    );

    // The only account of Nov 17–23 not seen again; another account on Nov 28.
    const gone = await fields(
      [
        [0xc01, [10]],
        [0xc02, [3]],
      ],
      0,
    );
    expect(gone['Week-over-week retention']).toBe(
      `0.00%: the only account active Nov 17–Nov 23 sent no inference transactions in ${last7}`,
    );
    expect(gone['Busiest TEE, last 7 full UTC days']).toBe(`n/a: no individual settlements in ${last7}`);
    expectNoBadText(gone);
  });

  it('counts a TEE registered on two registries once in the total, and on each registry', async () => {
    const owner = account(0x0e1);
    const { app } = await networkApp({
      alter: ({ chain, d }) => chain.place(d(9), teeRegistered(REGISTRY_2, T1, owner, 0), owner),
    });
    const r = await app.runText('network', testChat, member);
    // T1 and T4 on registry 1, T1 and T3 on registry 2: 3 TEEs enabled, 4 registered, 5 registrations.
    expect(fieldsOf(r)['TEEs registered now']).toBe(
      '4 TEEs: LLM proxy 2, validator 2 (TEE registry events; a TEE removed since is not counted)',
    );
    expect(fieldsOf(r)['TEEs enabled now']).toBe(
      '3 TEEs: LLM proxy 2, validator 1 (TEE registry events; enabled by registry: 0x4e72…0248 2, ' +
        '0x703c…bda6 2; a TEE enabled on more than one registry counts once in the total)',
    );
  });

  it('counts a TEE of one type on one registry and another on a second under each type, once in all', async () => {
    const owner = account(0x0e1);
    const { app } = await networkApp({
      alter: ({ chain, d }) => chain.place(d(9), teeRegistered(REGISTRY_2, T1, owner, 1), owner),
    });
    const r = await app.runText('network', testChat, member);
    // LLM proxies T1 (registry 1) and T3; validators T1 (registry 2), T2 and T4, of which T2 is disabled.
    const twice = ' (a TEE with another type on another registry counts under each)';
    expect(fieldsOf(r)['TEEs registered now']).toBe(
      `4 TEEs: LLM proxy 2, validator 3${twice} (TEE registry events; a TEE removed since is not counted)`,
    );
    expect(fieldsOf(r)['TEEs enabled now']).toBe(
      `3 TEEs: LLM proxy 2, validator 2${twice} (TEE registry events; enabled by registry: 0x4e72…0248 2, ` +
        '0x703c…bda6 2; a TEE enabled on more than one registry counts once in the total)',
    );
  });

  it(
    'compares supply only from a reading at most 2 hours before the start of the 30 days, ' +
      'and says how far off the one before is',
    async () => {
      const shown = async (supplyAgoMs: number) =>
        fieldsOf(await (await networkApp({ supplyAgoMs })).app.runText('network', testChat, member))[
          'Demand beside supply, 30 days'
        ];
      const refused = (at: string, off: string) =>
        'not shown until history covers both windows: needs 60 days of inference history (have from genesis) and ' +
        'a circulating supply reading within 2 h before 2026-11-01 09:00 UTC (the start of the 30 days; the latest ' +
        `before it is from ${at}, ${off} earlier)`;
      // The 30 days run from Nov 1 09:00. Readings 40 days ago and now, none between: 9 days 23 h off.
      expect(await shown(40 * DAY)).toBe(refused('2026-10-22 10:00 UTC', '9 days'));
      // 19 hours off: a change from it would span 30 days and 20 hours.
      expect(await shown(30 * DAY + 20 * HOUR)).toBe(refused('2026-10-31 14:00 UTC', '19 h'));
      // 2 hours off: compared, and the value says from when.
      expect(await shown(30 * DAY + 3 * HOUR)).toContain(
        ' · circulating supply +10.00% (100M OPG at 2026-11-01 07:00 UTC to 110M OPG at 2026-12-01 10:00 UTC, ' +
          'CoinGecko). Inference demand grew faster',
      );
    },
  );

  it('does not compare with a stale CoinGecko reading, and says how old it is', async () => {
    // CoinGecko answered last 3 days ago; every refresh since failed.
    const down = await networkApp({ marketReadAgoMs: 3 * DAY, marketDown: true });
    const r = await down.app.runText('network', testChat, member);
    expect(fieldsOf(r)['Demand beside supply, 30 days']).toBe(
      'not shown: the latest CoinGecko reading is stale (2026-11-28 10:00 UTC, 3 days ago), so circulating supply ' +
        'over these 30 days is not covered',
    );
    expectNoBadText(r);
    // Not read since, and not stale by a week's STALE_AFTER_MINUTES, but 2 days 23 h before the end of the 30 days.
    const lenient = await networkApp({ marketReadAgoMs: 3 * DAY, staleAfterMinutes: 7 * 24 * 60 });
    expect(fieldsOf(await lenient.app.runText('network', testChat, member))['Demand beside supply, 30 days']).toBe(
      'not shown: the latest CoinGecko reading (2026-11-28 10:00 UTC, 3 days ago) is more than 2 h from the end of ' +
        'the 30 days (2026-12-01 09:00 UTC), so circulating supply over them is not covered',
    );
  });

  it('compares inferences over two windows of exactly 30 days, to the last whole hour counted', async () => {
    // The indexer stopped 50 minutes ago (its last block 09:08): current enough, and the windows run to 09:00.
    // One more inference at 09:30 on the first day of the 30 and one at 09:30 on the first day of the 30
    // before: each counts in its window (from the start of an hour to now, it would have fallen a window later
    // or in none).
    const { app } = await networkApp({
      cursorBehindMs: 50 * 60_000,
      alter: ({ chain, d }) => {
        chain.place(d(30) + 9.5 * HOUR, mlInference(0), account(0xc01), 1);
        chain.place(d(60) + 9.5 * HOUR, mlInference(0), account(0xc02), 1);
      },
    });
    const r = await app.runText('network', testChat, member);
    // 43 against 9: +34/9.
    expect(fieldsOf(r)['Demand beside supply, 30 days']).toMatch(
      new RegExp(
        `^inferences \\+377\\.78% \\(${S.recent30 + 1} in the 30 days to 2026-12-01 09:00 UTC against ` +
          `${S.prior30 + 1} in the 30 before, `,
      ),
    );
    expect(r.notices).toEqual([]);
  });

  it(
    'does not show demand beside supply when CoinGecko gave no circulating supply, ' +
      'and says which reading lacks it',
    async () => {
      const then = await networkApp({ supplyThen: null });
      expect(fieldsOf(await then.app.runText('network', testChat, member))['Demand beside supply, 30 days']).toBe(
        'not shown: CoinGecko gave no circulating supply in its reading of 2026-11-01 09:00 UTC (at the start of ' +
          'the 30 days), ' +
          'so its change over these 30 days is not known',
      );
      const now = await networkApp({ supplyNow: null });
      const r = await now.app.runText('network', testChat, member);
      expect(fieldsOf(r)['Demand beside supply, 30 days']).toBe(
        'not shown: CoinGecko gave no circulating supply in its latest reading (2026-12-01 10:00 UTC), ' +
          'so its change over these 30 days is not known',
      );
      expectNoBadText(r);
    },
  );

  it(
    "shows the all-time registry and scheduler figures from a history that starts at the contracts' " +
      'deployment (OG_CONTRACTS_FROM_BLOCK), as read from genesis',
    async () => {
      // The scenario's first registry or scheduler event is T1's registration, 80 days before today.
      const deployed = networkScenario(NOW).chain.blockAt(NOW - 81 * DAY);
      const whole = ['TEEs registered now', 'TEEs enabled now', 'Workflow developers', 'Workflow tasks active now'];
      const fromGenesis = fieldsOf(await (await networkApp()).app.runText('network', testChat, member));
      const fromDeployment = fieldsOf(
        await (
          await networkApp({ fromBlock: deployed, contractsFromBlock: deployed })
        ).app.runText('network', testChat, member),
      );
      for (const label of whole) {
        expect(fromDeployment[label]).not.toMatch(/^n\/a/);
        expect(fromDeployment[label]).toBe(fromGenesis[label]);
      }
      // Told the contracts existed a block before the history starts, the figures it cannot vouch for stay n/a.
      const early = fieldsOf(
        await (
          await networkApp({ fromBlock: deployed, contractsFromBlock: deployed - 1 })
        ).app.runText('network', testChat, member),
      );
      for (const label of whole) expect(early[label]).toMatch(/^n\/a: .* counted since block /);
    },
  );

  it('marks figures whose window opens before the caller history starts, and says where it starts', async () => {
    const now = NOW;
    const startBlock = networkScenario(now).chain.blockAt(now - 10 * DAY);
    expect(startBlock).toBe(117_240); // 81 days and 10 hours of one-minute blocks after genesis
    const { app } = await networkApp({ fromBlock: startBlock });
    const r = await app.runText('network', testChat, member);
    const f = fieldsOf(r);
    const starts = 'n/a: the caller history read starts 2026-11-21 10:00 UTC (block 117,240), after this window opens';
    // A, C and D; C and D new (D's first day is before the history, A's Nov 23 inside it).
    expect(f['Callers, last 7 full UTC days']).toMatch(
      /^3 accounts .*: 2 new \(first seen in these 7 days\), 1 returning$/,
    );
    expect(f['Week-over-week retention']).toBe(starts);
    expect(f['Repeat callers, last 30 full UTC days']).toBe(starts);
    expect(f['10 busiest callers, last 30 full UTC days']).toBe(starts);
    // T1, T2 and T3 registered before the history starts, and T3's re-enabling too: the registry's
    // all-time figures (truly 3 of 4 enabled, 2 developers, 3 active tasks) are not shown.
    for (const label of ['TEEs registered now', 'TEEs enabled now'])
      expect(f[label], label).toBe(
        'n/a: TEE registry events are counted since block 117,240 (2026-11-21 10:00 UTC); ' +
          'TEEs registered before that are not seen',
      );
    expect(f['Workflow developers']).toBe(
      'n/a: task scheduler events are counted since block 117,240 (2026-11-21 10:00 UTC); ' +
        'registrations before that are not seen',
    );
    expect(f['Workflow tasks active now']).toBe(
      'n/a: task scheduler events are counted since block 117,240 (2026-11-21 10:00 UTC); ' +
        'tasks registered before that are not seen',
    );
    // Windows inside the history stay.
    expect(f['TEEs serving, last 7 full UTC days']).toBe(
      `${S.settling7} TEEs settled at least one inference individually (IndividualSettlement, the 7 full UTC days to ` +
        'Nov 30)',
    );
    expect(f['Busiest TEE, last 7 full UTC days']).toBe(
      `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
    );
    expect(f['TEE heartbeats, last 24 hours']).toBe(
      `${S.heartbeats} TEEs with a HeartbeatReceived event from 2026-11-30 10:00 UTC to 2026-12-01 09:58 UTC ` +
        '(the last counted block)',
    );
    expect(f['Demand beside supply, 30 days']).toBe(
      'not shown until history covers both windows: needs 60 days of inference history ' +
        '(have 10 days) and circulating supply from 30 days ago (have 30 days of readings)',
    );
    expect(r.notices).toEqual([
      'Caller history starts at block 117,240 (2026-11-21 10:00 UTC): "new" means not seen since then.',
    ]);
    expectNoBadText(r);
  });

  it(
    'shows no figure that runs to now with the cursor 35 days behind the head, ' + 'and says how far it counted',
    async () => {
      const { app, node } = await networkApp({ cursorBehindMs: 35 * DAY });
      // The cursor stopped at head minus confirmations 35 days ago; the node's head now is 35 days further.
      const cursor = node.chain.blockAt(NOW - 35 * DAY) - CONFIRMATIONS;
      expect(cursor).toBe(81_238);
      const r = await app.runText('network', testChat, member);
      const f = fieldsOf(r);
      const window = 'n/a: the chain is counted only to block 81,238 (2026-10-27 09:58 UTC), before this window ends';
      const whole = 'n/a: the chain is counted only to block 81,238 (2026-10-27 09:58 UTC), not to now';
      expect(f).toEqual({
        'Callers, last 7 full UTC days': window,
        'Week-over-week retention': window,
        'Repeat callers, last 30 full UTC days': window,
        '10 busiest callers, last 30 full UTC days': window,
        'TEEs registered now': whole,
        'TEEs enabled now': whole,
        'TEEs serving, last 7 full UTC days': window,
        'Busiest TEE, last 7 full UTC days': window,
        'TEE heartbeats, last 24 hours': window,
        'Workflow developers': whole,
        'Workflow tasks active now': whole,
        'Demand beside supply, 30 days':
          'not shown until history covers both windows: needs 60 days of inference history ' +
          '(have from genesis to 2026-10-27 09:58 UTC, 35 days short of now) and circulating supply from 30 days ago ' +
          '(have 35 days of readings)',
      });
      // 81,239 of the 131,639 blocks up to head minus confirmations.
      expect(r.notices).toEqual([
        'The indexer is behind (backfill 61.71% done): the chain is counted only to block 81,238 ' +
          '(2026-10-27 09:58 UTC); figures that run to now are not shown until it catches up.',
      ]);
      expect(r.footer?.split('\n')[0]).toBe(
        'OpenGradient chain · counted to block 81,238 (block time 2026-10-27 09:58 UTC) · as of 2026-12-01 10:00 UTC',
      );
      expectNoBadText(r);

      const stats = await app.runText('stats', testChat, member);
      expect(fieldsOf(stats)['Callers']).toBe(
        'n/a (the indexer is behind: the chain is counted only to 2026-10-27 09:58 UTC) · week-over-week retention ' +
          'n/a (inference transactions on the OpenGradient chain; /opg network)',
      );
      const chart = await app.runText('chart callers', testChat, member);
      expect(chart.notices).toEqual([
        'The indexer is behind: the chain is counted only to block 81,238 (2026-10-27 09:58 UTC); ' +
          'weeks from then on are empty or partial.',
      ]);
    },
  );

  it(
    'just after midnight, shows no day window until the chain is counted past midnight; ' + 'heartbeats stay rolling',
    async () => {
      // Now is Dec 1 00:30; the indexer stopped at the block 40 minutes before (Nov 30 23:48 with
      // confirmations): within the hour, so the rolling heartbeat window is shown, but the days to Nov 30 are
      // not whole yet.
      const now = Date.parse('2026-12-01T00:30:00Z');
      const { app, node } = await networkApp({ nowMs: now, cursorBehindMs: 40 * 60_000 });
      const cursor = node.chain.blockAt(now - 40 * 60_000) - CONFIRMATIONS;
      expect(node.chain.timeOf(cursor)).toBe(Date.parse('2026-11-30T23:48:00Z'));
      // No caller figure can be shown: the store is not asked for them (they would be computed for nothing).
      const asked = vi.spyOn(app.services.participants, 'callers');
      const r = await app.runText('network', testChat, member);
      const f = fieldsOf(r);
      const window =
        `n/a: the chain is counted only to block ${cursor.toLocaleString('en-US')} (2026-11-30 23:48 ` +
        'UTC), before this window ends';
      for (const label of [
        'Callers, last 7 full UTC days',
        'Week-over-week retention',
        'Repeat callers, last 30 full UTC days',
        '10 busiest callers, last 30 full UTC days',
        'TEEs serving, last 7 full UTC days',
        'Busiest TEE, last 7 full UTC days',
      ])
        expect(f[label], label).toBe(window);
      // T1's heartbeat 22 h before now and T3's at 24 h are counted; T2's at 24 h 10 min is outside. Blocks
      // after 23:48 are not read: the window ends there, and says so.
      expect(f['TEE heartbeats, last 24 hours']).toBe(
        '2 TEEs with a HeartbeatReceived event from 2026-11-30 00:30 UTC to 2026-11-30 23:48 UTC ' +
          '(the last counted block)',
      );
      expect(r.notices).toEqual([]);
      const stats = await app.runText('stats', testChat, member);
      expect(fieldsOf(stats)['Callers']).toBe(
        'n/a (the indexer is behind: the chain is counted only to 2026-11-30 23:48 UTC) · week-over-week retention ' +
          'n/a (inference transactions on the OpenGradient chain; /opg network)',
      );
      expect(asked).not.toHaveBeenCalled();
      const chart = await app.runText('chart callers', testChat, member);
      expect(chart.notices).toEqual([
        'The indexer is behind: the chain is counted only to ' +
          `block ${cursor.toLocaleString('en-US')} (2026-11-30 23:48 ` +
          'UTC); weeks from then on are empty or partial.',
      ]);
    },
  );

  it('counts heartbeats over a rolling 24 hours, one TEE in the singular once the other falls out', async () => {
    const { app } = await networkApp();
    // T3's heartbeat 24 h before NOW leaves the window 30 min later; T1's, 22 h before NOW, stays.
    app.clock.set(NOW + 30 * 60_000);
    const r = await app.runText('network', testChat, member);
    expect(fieldsOf(r)['TEE heartbeats, last 24 hours']).toBe(
      '1 TEE with a HeartbeatReceived event from 2026-11-30 10:30 UTC to 2026-12-01 09:58 UTC (the last counted block)',
    );
    expect(r.notices).toEqual([]);
  });

  it('counts heartbeats since 24 hours ago, with no end, when the last counted block is from this minute', async () => {
    const { app } = await networkApp();
    // The last counted block is from 09:58:00 (head minus confirmations); now is half a minute later.
    app.clock.set(NOW - 2 * 60_000 + 30_000);
    const r = await app.runText('network', testChat, member);
    // T1's at 22 h before NOW and T3's at 24 h, inside 24 h before 09:58:30; T2's at 24 h 10 min is not.
    expect(fieldsOf(r)['TEE heartbeats, last 24 hours']).toBe(
      `${S.heartbeats} TEEs with a HeartbeatReceived event since 2026-11-30 09:58 UTC`,
    );
  });

  it('says plainly that nothing is indexed yet, with the note on Base', async () => {
    const app = createTestApp({ clock: createTestClock(NOW) });
    const r = await app.runText('network', testChat, member);
    expect(r.lines).toEqual([
      'Callers, operators and developers are not indexed yet: the OpenGradient inference indexer has not finished a ' +
        'pass.',
      expect.stringContaining('LLM requests paid in OPG on Base'),
    ]);
  });
});

describe('callers in stats and charts', () => {
  it('stats has one line with callers active in 7 days and week-over-week retention, and the chain as-of', async () => {
    const { app, node } = await networkApp();
    const asked = vi.spyOn(app.services.participants, 'callers');
    const r = await app.runText('stats', testChat, member);
    expect(asked).toHaveBeenCalledTimes(1);
    expect(fieldsOf(r)['Callers']).toBe(
      `${S.active7} accounts active in the 7 full UTC days to Nov 30 · week-over-week retention 50.00% (inference ` +
        'transactions on the OpenGradient chain; /opg network)',
    );
    const safe = (node.chain.head - CONFIRMATIONS).toLocaleString('en-US');
    expect(r.footer).toBe(
      `CoinGecko · as of 2026-12-01 10:00 UTC (just now)\nOpenGradient chain · counted to block ${safe} (block time ` +
        '2026-12-01 09:58 UTC) · as of 2026-12-01 10:00 UTC',
    );
  });

  it('chart callers draws weekly active callers, new and returning, for 30d and 90d', async () => {
    const { app } = await networkApp();
    const r = await app.runText('chart callers', testChat, member);
    expect(r.kind).toBe('info');
    expect(r.title).toBe('OpenGradient callers by week, 5 weeks');
    // Weeks from Oct 27, Nov 3, 10, 17 and 24, the last ending Nov 30: H; F0..F9; E; A and B; A, C and D (C
    // new; C's transaction today is in no week).
    expect(r.lines[0]).toBe(
      'Accounts that sent inference transactions on the OpenGradient chain, ' +
        'per week of 7 full UTC days to 2026-11-30, oldest first: 1 (1 new), 10 (10 new), 1 (1 new), 2 (2 new), ' +
        '3 (1 new). Last week: 2 returning, 1 new.',
    );
    expect(Buffer.from(r.image!.png.subarray(1, 4)).toString('latin1')).toBe('PNG');
    expect(r.notices).toEqual([]);
    const long = await app.runText('chart callers 90d', testChat, member);
    expect(long.title).toBe('OpenGradient callers by week, 13 weeks');
    // 13 weeks from Sep 1: G (Sep 12) and D (Oct 15) in weeks 2 and 7, then as above.
    expect(long.lines[0]).toMatch(
      new RegExp(
        /^Accounts .*oldest first: 0 \(0 new\), 1 \(1 new\), 0 \(0 new\), 0 \(0 new\), /.source +
          /0 \(0 new\), 0 \(0 new\), 1 \(1 new\), 0 \(0 new\), 1 \(1 new\), 10 \(10 new\), /.source +
          /1 \(1 new\), 2 \(2 new\), 3 \(1 new\)\./.source,
      ),
    );
    const refused = await app.runText('chart callers 7d', testChat, member);
    expect(refused.kind).toBe('usage');
    expect(refused.lines[0]).toBe('The callers chart counts weeks: choose 30d or 90d (got 7d).');
  });
});
