/**
 * A standby's `/metrics` on one real PostgreSQL database: the standby does not index, yet an operator scraping
 * it (a load balancer may send the scrape to either instance) sees where the leader's index stands now, not
 * where it stood when the standby started.
 */
import { describe, expect, it } from 'vitest';
import { startBot, startWorld, until } from '../helpers/bot-process.js';
import { entriesIn } from '../helpers/og-chain.js';
import { freePort, roleOn } from '../helpers/ports.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';

const metric = (scrape: string, name: string) =>
  Number(
    scrape
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.split(' ')[1],
  );

describe('a standby on a shared PostgreSQL store', () => {
  it("reports the leader's index on /metrics as the leader moves it", { timeout: 90_000 }, async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    // A chain whose head is at block 20 at first, 2 s a block, ending now; it grows to 30 later.
    const nowSec = Math.floor(Date.now() / 1000);
    const chain = {
      head: 20,
      logsInBlock: (b: number) => entriesIn(b).map((e) => e.log),
      blockTimeSec: (b: number) => nowSec - 2 * (30 - b),
    };
    const w = await startWorld({
      chain,
      env: { DATABASE_URL: url, INDEX_CRON: '* * * * * *', LEADER_TAKEOVER_SECONDS: '15' },
    });
    const start = async () => {
      const port = await freePort();
      const bot = startBot({ ...w, env: { ...w.env, HTTP_PORT: String(port) } });
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return { bot, port, scrape };
    };
    const leader = await start();
    await until(
      'the first instance leading at block 20',
      async () => {
        if ((await roleOn(leader.port)) !== 'leader') return undefined;
        return metric(await leader.scrape(), 'opg_indexer_block') === 20 ? true : undefined;
      },
      leader.bot,
      30_000,
    );
    const standby = await start();
    await until(
      'the second standing by',
      async () => ((await roleOn(standby.port)) === 'standby' ? true : undefined),
      standby.bot,
      30_000,
    );
    expect(metric(await standby.scrape(), 'opg_indexer_block')).toBe(20);

    // Ten blocks more: the leader's next pass indexes to 30, and the standby's scrape follows.
    chain.head = 30;
    await until(
      'the leader at block 30',
      async () => (metric(await leader.scrape(), 'opg_indexer_block') === 30 ? true : undefined),
      leader.bot,
      15_000,
    );
    const followed = await until(
      'the standby reporting block 30',
      async () => {
        const s = await standby.scrape();
        return metric(s, 'opg_indexer_block') === 30 ? s : undefined;
      },
      standby.bot,
      15_000,
    );
    expect(metric(followed, 'opg_indexer_head_lag_blocks')).toBe(0);
    const leaderScrape = await leader.scrape();
    for (const mode of ['vanilla', 'tee', 'zkml'])
      expect(metric(followed, `opg_inferences_total{mode="${mode}"}`)).toBe(
        metric(leaderScrape, `opg_inferences_total{mode="${mode}"}`),
      );
    expect(leader.bot.errorLines()).toEqual([]);
    expect(standby.bot.errorLines()).toEqual([]);
  });
});
