import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import { createLeaderElector } from '../src/db/leader-elector.js';
import { createRoles, type Roles } from '../src/roles.js';
import { startBot, startWorld, until } from './helpers/bot-process.js';
import { clockEnv } from './helpers/spawn.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from './helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  name: string;
  roles: Roles;
}

/** One instance's roles on the real elector, with leader work that records when it runs (and takes a while to stop). */
function instance(name: string, url: string, log: string[], leading: Set<string>, overlaps: string[]): Instance {
  const elector = createLeaderElector({ url, takeoverSeconds: 6, logger: silentLogger });
  const roles = createRoles({
    elector,
    logger: silentLogger,
    leader: () => {
      if (leading.size > 0) overlaps.push(`${name} started while ${[...leading].join(', ')} led`);
      leading.add(name);
      log.push(`${name} leads`);
      return {
        async stop() {
          await sleep(200);
          leading.delete(name);
          log.push(`${name} stopped leading`);
        },
      };
    },
    standby: () => {
      log.push(`${name} stands by`);
      return { stop() {} };
    },
  });
  onTestFinished(() => roles.stop());
  return { name, roles };
}

describe('roles on the PostgreSQL leader elector', () => {
  it('one of two instances runs the leader work; a clean stop hands it over with no overlap', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const log: string[] = [];
    const leading = new Set<string>();
    const overlaps: string[] = [];
    const a = instance('A', url, log, leading, overlaps);
    await a.roles.start();
    await until('A to lead', () => (a.roles.role() === 'leader' ? true : undefined), undefined, 5_000);
    const b = instance('B', url, log, leading, overlaps);
    await b.roles.start();
    await sleep(1_500);
    expect(b.roles.role()).toBe('standby');

    await a.roles.stop();
    await until('B to lead', () => (b.roles.role() === 'leader' ? true : undefined), undefined, 6_000);
    expect(overlaps).toEqual([]);
    expect(log.indexOf('A stopped leading')).toBeLessThan(log.indexOf('B leads'));
    expect(log.filter((l) => l.endsWith('leads'))).toEqual(['A leads', 'B leads']);
  });
});

describe('npm start on PostgreSQL without the operations endpoint', () => {
  it("still compares this instance's clock with the server's and warns in the log", async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    // This process's clock runs 60 s ahead of the server's (the server is this machine); no HTTP_PORT.
    const w = await startWorld({ discord: false, env: { DATABASE_URL: url, ...clockEnv(60_000) } });
    const bot = startBot(w);
    const warning = await until(
      'the clock skew warning',
      () =>
        bot
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { level: number; msg: string; skewSeconds?: number })
          .find((l) => l.level === 40 && l.skewSeconds !== undefined),
      bot,
      30_000,
    );
    expect(warning.skewSeconds).toBeGreaterThan(58);
    expect(warning.skewSeconds).toBeLessThan(62);
    expect(warning.msg).toMatch(/^this instance's clock is \d+(\.\d+)? s ahead of the PostgreSQL server's/);
    bot.child.kill('SIGTERM');
    expect((await bot.exited)[0]).toBe(0);
  });
});
