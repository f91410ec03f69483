import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import {
  createLeaderElector,
  electorClientConfig,
  leaderTimings,
  MIN_TAKEOVER_SECONDS,
  type PostgresLeaderElector,
  type Role,
} from '../../src/db/leader-elector.js';
import { ADVISORY_LOCK_NAMESPACE, LEADER_LOCK_KEY } from '../../src/db/postgres-settings.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { proxyToDatabase } from '../helpers/tcp-proxy.js';

interface Change {
  role: Role;
  reason: string;
  atMs: number;
}

interface Instance {
  elector: PostgresLeaderElector;
  changes: Change[];
  /** Resolves with the time this instance next becomes `role`; rejects after `withinMs`. */
  next(role: Role, withinMs: number): Promise<number>;
}

function instance(url: string, takeoverSeconds: number): Instance {
  const elector = createLeaderElector({ url, takeoverSeconds, logger: silentLogger });
  const changes: Change[] = [];
  const waiters = new Set<(c: Change) => void>();
  elector.onChange((role, reason) => {
    const change = { role, reason, atMs: Date.now() };
    changes.push(change);
    for (const w of waiters) w(change);
  });
  onTestFinished(() => elector.stop());
  return {
    elector,
    changes,
    next(role, withinMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`did not become ${role} within ${withinMs} ms (changes: ${JSON.stringify(changes)})`));
        }, withinMs);
        const waiter = (c: Change) => {
          if (c.role !== role) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(c.atMs);
        };
        waiters.add(waiter);
      });
    },
  };
}

/** A connection of the test's own to `url`, closed when the test ends. */
async function observer(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  onTestFinished(() => client.end());
  return client;
}

async function lockHolders(db: pg.Client): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    // Advisory locks belong to a database: instances on other tests' databases hold the same key at once.
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 2
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [ADVISORY_LOCK_NAMESPACE, LEADER_LOCK_KEY],
  );
  return rows.map((r) => r.pid);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leader timings', () => {
  it(
    'step a leader down before the server can release its lock, ' +
      'and let a standby take over within the takeover time',
    () => {
      for (let seconds = MIN_TAKEOVER_SECONDS; seconds <= 3_600; seconds++) {
        const t = leaderTimings(seconds);
        const k = t.serverKeepalive;
        const serverGivesUpMs = (k.idleSeconds + k.intervalSeconds * k.count) * 1000;
        expect(k.idleSeconds).toBeGreaterThanOrEqual(1);
        expect(t.serverUserTimeoutMs).toBe(serverGivesUpMs);
        // A leader cut off believes it leads for at most one check interval and one unanswered check...
        expect(t.checkMs + t.queryTimeoutMs).toBeLessThan(serverGivesUpMs);
        // ...and the server lets the lock go, give or take a second of keepalive timers, early enough for a
        // standby's next request to get it within the takeover time.
        expect(serverGivesUpMs + 1_000 + t.retryMs + t.queryTimeoutMs).toBeLessThanOrEqual(seconds * 1000);
      }
    },
  );
});

describe('leader election on a real PostgreSQL', { timeout: 60_000 }, () => {
  it('tells the server to give up on a silent elector connection within half the takeover time', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const client = new pg.Client(electorClientConfig(TEST_DATABASE_URL!, leaderTimings(15)));
    await client.connect();
    onTestFinished(() => client.end());
    const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0][name] as string;
    expect([
      await show('tcp_keepalives_idle'),
      await show('tcp_keepalives_interval'),
      await show('tcp_keepalives_count'),
      await show('tcp_user_timeout'),
    ]).toEqual(['5', '1', '2', '7000']);
  });

  it('elects exactly one leader among instances on one database', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const db = await observer(url);
    const a = instance(url, 6);
    const b = instance(url, 6);
    a.elector.start();
    await a.next('leader', 6_000);
    b.elector.start();
    await sleep(3 * leaderTimings(6).retryMs);
    expect([a.elector.role(), b.elector.role()]).toEqual(['leader', 'standby']);
    expect(b.changes).toEqual([]);
    expect(await lockHolders(db)).toHaveLength(1);
  });

  it(
    'steps a leader down as soon as its connection is killed, ' + 'and a standby takes over within the takeover time',
    async ({ skip }) => {
      skip(!TEST_DATABASE_URL, NO_SERVER);
      const url = await emptyServerDatabase();
      const db = await observer(url);
      // The leader re-checks only every 10 s: stepping down within a second shows it heard the connection die.
      const a = instance(url, 60);
      const b = instance(url, 6);
      a.elector.start();
      await a.next('leader', 6_000);
      b.elector.start();
      const [leaderPid] = await lockHolders(db);

      const aSteppedDown = a.next('standby', 10_000);
      const bLeads = b.next('leader', 6_000);
      const killedAt = Date.now();
      await db.query('SELECT pg_terminate_backend($1)', [leaderPid]);
      expect((await aSteppedDown) - killedAt).toBeLessThan(1_000);
      expect((await bLeads) - killedAt).toBeLessThanOrEqual(6_000);
      expect(a.changes.at(-1)?.reason).toMatch(/database connection/);

      // The old leader reconnects after its retry interval (10 s), as a standby: one holder, the new leader.
      const electorConnections = async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
             AND application_name = 'opg-bot leader elector'`,
          )
        ).rows[0]!.n;
      for (let waited = 0; (await electorConnections()) < 2 && waited < 15_000; waited += 250) await sleep(250);
      expect(await electorConnections()).toBe(2);
      await sleep(500);
      expect([a.elector.role(), b.elector.role()]).toEqual(['standby', 'leader']);
      const holders = await lockHolders(db);
      expect(holders).toHaveLength(1);
      expect(holders[0]).not.toBe(leaderPid);
    },
  );

  it('steps a leader down when its lock check gets no answer, and its lock goes with the connection', async ({
    skip,
  }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const { proxy, url: throughProxy } = await proxyToDatabase(url);
    const a = instance(throughProxy, 6);
    const b = instance(url, 6);
    a.elector.start();
    await a.next('leader', 6_000);
    b.elector.start();
    await sleep(500);

    const aSteppedDown = a.next('standby', 10_000);
    const bLeads = b.next('leader', 10_000);
    const frozenAt = Date.now();
    proxy.freeze();
    const t = leaderTimings(6);
    // The next check is due within checkMs and gets no answer for queryTimeoutMs.
    expect((await aSteppedDown) - frozenAt).toBeLessThanOrEqual(t.checkMs + t.queryTimeoutMs + 500);
    expect((await bLeads) - frozenAt).toBeLessThanOrEqual(6_000);
    expect(a.changes.at(-1)?.reason).toMatch(/could not be checked/);
    // What readiness reports: the silent server is unreachable for a, while b's connection is answered.
    expect(a.elector.reach()).toMatchObject({ state: 'unreachable', reason: expect.stringMatching(/timeout/i) });
    expect(b.elector.reach()).toEqual({ state: 'reachable' });
  });

  it('hands over on stop with no overlap: the leader finishes stepping down before the standby leads', async ({
    skip,
  }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const a = instance(url, 6);
    const b = instance(url, 6);
    let leaderWorkStoppedAt = 0;
    a.elector.onChange(async (role) => {
      if (role !== 'standby') return;
      await sleep(300);
      leaderWorkStoppedAt = Date.now();
    });
    a.elector.start();
    await a.next('leader', 6_000);
    b.elector.start();
    await sleep(500);

    const bLeads = b.next('leader', 6_000);
    const stoppedAt = Date.now();
    await a.elector.stop();
    const bLeadAt = await bLeads;
    expect(leaderWorkStoppedAt).toBeGreaterThan(0);
    expect(bLeadAt).toBeGreaterThanOrEqual(leaderWorkStoppedAt);
    expect(bLeadAt - stoppedAt).toBeLessThanOrEqual(6_000);
    expect(a.changes.map((c) => [c.role, c.reason])).toEqual([
      ['leader', 'took the leader lock'],
      ['standby', 'this instance is stopping'],
    ]);
  });

  it('keeps retrying while the database is unreachable, and leads once it answers', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    // Nothing listens on the proxy's port until the proxy starts: a database that is down, then back.
    const { proxy: probe, url: throughProxy } = await proxyToDatabase(url);
    const port = probe.port;
    await probe.close();
    const a = instance(throughProxy, 6);
    expect(a.elector.reach()).toEqual({ state: 'connecting' });
    a.elector.start();
    await sleep(2_500);
    expect(a.elector.role()).toBe('standby');
    expect(a.elector.reach()).toMatchObject({ state: 'unreachable', reason: expect.stringContaining('ECONNREFUSED') });
    await proxyToDatabase(url, port);
    await a.next('leader', 6_000);
    expect(a.elector.reach()).toEqual({ state: 'reachable' });
  });
});
