import { describe, expect, it, onTestFinished } from 'vitest';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { startExplorer } from '../helpers/og-explorer-server.js';
import { CONFIRMATIONS, networkScenario, SCENARIO as S } from '../helpers/og-participants.js';
import { startOgNode } from '../helpers/og-rpc-server.js';
import { runEntry } from '../helpers/spawn.js';
import { tempDbPath } from '../helpers/temp-dir.js';

describe('network, from the process people run', () => {
  it('indexes the scenario chain with `npm run opg -- sync` and answers `network` with every figure', async () => {
    // The chain's "now" is 90 s ahead of the clock, so the heartbeat placed at the first block 24 h
    // before it is still inside the last 24 hours when the second process answers.
    const now = Date.now() + 90_000;
    const { chain } = networkScenario(now);
    const node = await startOgNode(chain, { maxBatchCalls: 8 });
    onTestFinished(() => node.close());
    const explorer = await startExplorer();
    const cg = await startCoinGeckoServer([marketItem()]);
    const env = {
      COINGECKO_API_URL: cg.url,
      DATABASE_PATH: tempDbPath(),
      OG_RPC_URL: node.url,
      OG_EXPLORER_API_URL: explorer.apiUrl,
      OG_CONFIRMATIONS: String(CONFIRMATIONS),
    };
    const sync = await runEntry('src/cli.ts', ['sync'], env, undefined, 30_000);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    const r = await runEntry('src/cli.ts', ['network'], env, undefined, 30_000);
    expect(r.code).toBe(0);
    const out = r.stdout;
    for (const part of [
      'Who uses the OpenGradient network',
      'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain',
      `${S.active7} accounts that sent inference transactions on the OpenGradient chain (UTC days `,
      `: ${S.new7} new (first seen in these 7 days), ${S.returning7} returning`,
      `50.00%: ${S.retained7} of the ${S.previous7} accounts active `,
      `13.16% of the ${S.inferences30} inferences in inference transactions`,
      `84.21% of those ${S.inferences30} inferences, from the 10 busiest of ${S.callers30} accounts`,
      `${S.enabled} (LLM proxy ${S.llmProxy}, validator ${S.validator}) of ${S.registered} TEEs registered`,
      `${S.settling7} TEEs settled at least one inference individually`,
      `75.00% of the ${S.settlements7} individual settlements (${S.busiest7})`,
      `${S.heartbeats} TEEs with a HeartbeatReceived event since `,
      `${S.registrants} accounts ever registered a workflow task`,
      `${S.activeTasks} (registered or updated, not stopped, end time after now)`,
      'not shown until history covers both windows',
      `OpenGradient chain · counted to block ${(chain.head - CONFIRMATIONS).toLocaleString('en-US')}`,
    ]) {
      expect(out).toContain(part);
    }
    expect(out).not.toMatch(/NaN|Infinity|undefined|null/);
    const stats = await runEntry('src/cli.ts', ['stats'], env, undefined, 30_000);
    expect(stats.stdout).toContain(`${S.active7} accounts active in 7 UTC days · week-over-week retention 50.00%`);
  });
});
