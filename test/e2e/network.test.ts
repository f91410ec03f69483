import { describe, expect, it, onTestFinished } from 'vitest';
import { expectNoBadText } from '../helpers/expect.js';
import type { ScriptedChain } from '../helpers/og-participants.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { startExplorer } from '../helpers/og-explorer-server.js';
import { CONFIRMATIONS, networkScenario, SCENARIO as S } from '../helpers/og-participants.js';
import { startOgNode } from '../helpers/og-rpc-server.js';
import { clockEnv, noonToday, runEntry } from '../helpers/spawn.js';
import { tempDbPath } from '../helpers/temp-dir.js';

const DAY = 86_400_000;

/** `2026-11-21 10:00 UTC`, written out here so the expected lines do not come from the code under test. */
const utcText = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const blockText = (n: number) => n.toLocaleString('en-US');

/** A field as the console prints it: labels over 24 characters on their own line, values in one column. */
const fieldLine = (label: string, value: string) =>
  label.length > 24 ? `${label}\n${' '.repeat(26)}${value}` : `${label.padEnd(24)}  ${value}`;

/**
 * The scenario's "now" and the processes' clock: noon UTC today (see noonToday), so the whole-UTC-day layout
 * holds at any hour the suite runs, midnight included. The chain's "now" is 90 s ahead of the processes'
 * clock, so the heartbeat placed at the first block 24 h before it is still inside the last 24 hours when
 * the last process answers.
 */
function scenarioClock() {
  const { nowMs, offsetMs } = noonToday();
  return { now: nowMs + 90_000, clock: clockEnv(offsetMs) };
}

/** The scenario chain on a loopback node, and the environment of a process that reads it into its own file. */
async function scenarioEnv(chain: ScriptedChain, clock: Record<string, string>, extra: Record<string, string> = {}) {
  const node = await startOgNode(chain, { maxBatchCalls: 8 });
  onTestFinished(() => node.close());
  const explorer = await startExplorer();
  const cg = await startCoinGeckoServer([marketItem()]);
  return {
    COINGECKO_API_URL: cg.url,
    DATABASE_PATH: tempDbPath(),
    OG_RPC_URL: node.url,
    OG_EXPLORER_API_URL: explorer.apiUrl,
    OG_CONFIRMATIONS: String(CONFIRMATIONS),
    ...clock,
    ...extra,
  };
}

async function syncThenNetwork(env: Record<string, string>): Promise<string> {
  const sync = await runEntry('src/cli.ts', ['sync'], env, undefined, 30_000);
  expect(sync.stderr).toBe('');
  expect(sync.code).toBe(0);
  const r = await runEntry('src/cli.ts', ['network'], env, undefined, 30_000);
  expect(r.code).toBe(0);
  expectNoBadText(r.stdout);
  return r.stdout;
}

// Each test runs two or three processes, each given up to 30 s on a loaded machine.
describe('network, from the process people run', { timeout: 90_000 }, () => {
  it('indexes the scenario chain with `npm run opg -- sync` and answers `network` with every figure', async () => {
    const { now, clock } = scenarioClock();
    const { chain, today } = networkScenario(now);
    const env = await scenarioEnv(chain, clock);
    const out = await syncThenNetwork(env);
    for (const part of [
      'Who uses the OpenGradient network',
      'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain',
      `${S.active7} accounts that sent inference transactions on the OpenGradient chain in the 7 full UTC days to `,
      `: ${S.new7} new (first seen in these 7 days), ${S.returning7} returning`,
      `50.00%: ${S.retained7} of the ${S.previous7} accounts active `,
      `5.41% of the ${S.inferences30} inferences in inference transactions`,
      `83.78% of those ${S.inferences30} inferences, from the 10 busiest of ${S.callers30} accounts`,
      `${S.registered} TEEs: LLM proxy ${S.registeredLlmProxy}, validator ${S.registeredValidator} (TEE registry`,
      `${S.enabled} TEEs: LLM proxy ${S.llmProxy}, validator ${S.validator} (TEE registry events`,
      `${S.settling7} TEEs settled at least one inference individually`,
      `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
      `${S.registrants} accounts ever registered a workflow task`,
      `${S.activeTasks} (registered or updated, not stopped, end time after now)`,
      'not shown until history covers both windows',
      `OpenGradient chain · counted to block ${(chain.head - CONFIRMATIONS).toLocaleString('en-US')}`,
    ]) {
      expect(out).toContain(part);
    }
    // `since …`, or `from … to …` when the last counted block is not from the minute of now.
    expect(out).toMatch(new RegExp(`${S.heartbeats} TEEs with a HeartbeatReceived event (since|from) \\d{4}-`));
    const stats = await runEntry('src/cli.ts', ['stats'], env, undefined, 30_000);
    // The last of the 7 full UTC days is the scenario's yesterday, e.g. `Nov 30`.
    const yesterday = new Date(today - DAY).toLocaleDateString('en-US', {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
    expect(stats.stdout).toContain(
      `${S.active7} accounts active in the 7 full UTC days to ${yesterday} · week-over-week retention 50.00%`,
    );
    expect(stats.stdout).toContain(
      `OpenGradient chain · counted to block ${blockText(chain.head - CONFIRMATIONS)} ` +
        `(block time ${utcText(chain.timeOf(chain.head - CONFIRMATIONS))})`,
    );
  });

  it('with OG_INDEX_FROM_BLOCK 10 days back, shows no all-time registry or task figure, and says why', async () => {
    const { now, clock } = scenarioClock();
    const { chain } = networkScenario(now);
    const from = chain.blockAt(now - 10 * DAY);
    const out = await syncThenNetwork(await scenarioEnv(chain, clock, { OG_INDEX_FROM_BLOCK: String(from) }));
    const since = `block ${blockText(from)} (${utcText(chain.timeOf(from))})`;
    const registry = `n/a: TEE registry events are counted since ${since}; TEEs registered before that are not seen`;
    for (const line of [
      fieldLine('TEEs registered now', registry),
      fieldLine('TEEs enabled now', registry),
      fieldLine(
        'Workflow developers',
        `n/a: task scheduler events are counted since ${since}; registrations before that are not seen`,
      ),
      fieldLine(
        'Workflow tasks active now',
        `n/a: task scheduler events are counted since ${since}; tasks registered before that are not seen`,
      ),
      fieldLine(
        'Busiest TEE, last 7 full UTC days',
        `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
      ),
      `! Caller history starts at ${since}: "new" means not seen since then.`,
    ]) {
      expect(out).toContain(line);
    }
  });

  it('with the cursor 35 days behind, shows no figure that runs to now, and says how far it counted', async () => {
    const { now, clock } = scenarioClock();
    const { chain } = networkScenario(now);
    const fullHead = chain.head;
    // The node lagged 35 days when the indexer read it; it has caught up since, the indexer has not run again.
    const cursorHead = chain.blockAt(now - 35 * DAY);
    chain.head = cursorHead;
    const env = await scenarioEnv(chain, clock);
    const sync = await runEntry('src/cli.ts', ['sync'], env, undefined, 30_000);
    expect(sync.code).toBe(0);
    chain.head = fullHead;
    const r = await runEntry('src/cli.ts', ['network'], env, undefined, 30_000);
    expect(r.code).toBe(0);
    const cursor = cursorHead - CONFIRMATIONS;
    const counted = `block ${blockText(cursor)} (${utcText(chain.timeOf(cursor))})`;
    const window = `n/a: the chain is counted only to ${counted}, before this window ends`;
    const whole = `n/a: the chain is counted only to ${counted}, not to now`;
    for (const line of [
      `! The indexer is behind: the chain is counted only to ${counted}; ` +
        'figures that run to now are not shown until it catches up.',
      fieldLine('Callers, last 7 full UTC days', window),
      fieldLine('Week-over-week retention', window),
      fieldLine('Repeat callers, last 30 full UTC days', window),
      fieldLine('10 busiest callers, last 30 full UTC days', window),
      fieldLine('TEEs registered now', whole),
      fieldLine('TEEs enabled now', whole),
      fieldLine('TEEs serving, last 7 full UTC days', window),
      fieldLine('Busiest TEE, last 7 full UTC days', window),
      fieldLine('TEE heartbeats, last 24 hours', window),
      fieldLine('Workflow developers', whole),
      fieldLine('Workflow tasks active now', whole),
      fieldLine(
        'Demand beside supply, 30 days',
        'not shown until history covers both windows: needs 60 days of inference history ' +
          `(have from genesis to ${utcText(chain.timeOf(cursor))}, 35 days short of now)`,
      ),
    ]) {
      expect(r.stdout).toContain(line);
    }
    expectNoBadText(r.stdout);
  });
});
