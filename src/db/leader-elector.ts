/**
 * One leader among the instances sharing a PostgreSQL store: the instance whose dedicated connection holds a
 * session advisory lock. PostgreSQL releases a session lock the moment the session ends, so the lock lives
 * and dies with that one connection, never with a pool's.
 *
 * How the timings fit `LEADER_TAKEOVER_SECONDS` (T), all derived in `leaderTimings`:
 * - the leader re-checks that it holds the lock every T/6 s, and a check that fails or gets no answer within
 *   T/6 s steps it down at once (as does the connection erroring or closing), closing the connection;
 * - the server is told, for this session only, to give up on a silent client after floor(T/2) s (TCP
 *   keepalive and `tcp_user_timeout`), so a leader whose host vanished without closing its socket loses the
 *   lock then, always after that leader has stopped believing it leads (T/3 s at most);
 * - standbys ask for the lock every T/6 s (a request may take T/6 s), so one takes over within T of the
 *   leader's death: within T/3 s when its process dies (the kernel closes the socket, the lock goes at once),
 *   within floor(T/2) s + 1 s + T/3 s when its host does (`test/db/leader-elector.test.ts` checks the sums
 *   for every T).
 *
 * The same asking tells whether the server answers at all (`reach()`, which readiness reports): a lock request or
 * check every T/6 s on both roles, so a server that is gone is noticed within T/3 s (at once when the
 * connection closes), and reading it costs no query.
 *
 * Connect the elector straight to PostgreSQL, not through a transaction-mode pooler (PgBouncer): a session
 * lock needs a session.
 */
import pg from 'pg';
import type { Logger } from '../core/logger.js';
import {
  ADVISORY_LOCK_NAMESPACE,
  failureReason,
  LEADER_LOCK_KEY,
  MIN_TAKEOVER_SECONDS,
  postgresUrlSecrets,
} from './postgres-settings.js';

export { MIN_TAKEOVER_SECONDS };

export type Role = 'leader' | 'standby';

/** Called on every change of role. On `stop()`, the elector waits for what a listener returns before it lets the lock
 * go. */
export type RoleListener = (role: Role, reason: string) => void | Promise<void>;

export interface LeaderTimings {
  /** How often the leader re-checks its lock. */
  checkMs: number;
  /** How often a standby asks for the lock. */
  retryMs: number;
  /** How long a check, a lock request or a connection attempt may take before it counts as failed. */
  queryTimeoutMs: number;
  /** The server's TCP keepalive for the elector's session: silence before probing, between probes, probes. */
  serverKeepalive: { idleSeconds: number; intervalSeconds: number; count: number };
  /** The server's `tcp_user_timeout`: how long data it sent may go unacknowledged. */
  serverUserTimeoutMs: number;
}

/** @param takeoverSeconds `LEADER_TAKEOVER_SECONDS`, at least `MIN_TAKEOVER_SECONDS`. */
export function leaderTimings(takeoverSeconds: number): LeaderTimings {
  const seconds = Math.max(MIN_TAKEOVER_SECONDS, takeoverSeconds);
  const sixth = Math.floor((seconds * 1000) / 6);
  const serverDeadSeconds = Math.floor(seconds / 2);
  const intervalSeconds = 1;
  const count = 2;
  return {
    checkMs: sixth,
    retryMs: sixth,
    queryTimeoutMs: sixth,
    serverKeepalive: { idleSeconds: serverDeadSeconds - intervalSeconds * count, intervalSeconds, count },
    serverUserTimeoutMs: serverDeadSeconds * 1000,
  };
}

/** The elector's connection: client keepalive on, the server's keepalive for this session set from the timings. */
export function electorClientConfig(url: string, timings: LeaderTimings): pg.ClientConfig {
  const k = timings.serverKeepalive;
  return {
    connectionString: url,
    application_name: 'opg-bot leader elector',
    keepAlive: true,
    keepAliveInitialDelayMillis: k.idleSeconds * 1000,
    connectionTimeoutMillis: timings.queryTimeoutMs,
    query_timeout: timings.queryTimeoutMs,
    options: [
      `-c tcp_keepalives_idle=${k.idleSeconds}`,
      `-c tcp_keepalives_interval=${k.intervalSeconds}`,
      `-c tcp_keepalives_count=${k.count}`,
      `-c tcp_user_timeout=${timings.serverUserTimeoutMs}`,
    ].join(' '),
  };
}

export interface LeaderElectorOptions {
  /** The PostgreSQL store's URL (`DATABASE_URL`). */
  url: string;
  /** `LEADER_TAKEOVER_SECONDS`. */
  takeoverSeconds: number;
  logger: Logger;
  /** Instances that should elect one leader share a key; the default is the bot's. */
  lockKey?: number;
}

/**
 * Whether the server answers this instance, as the elector's own connection last found: `connecting` until
 * its first answer, `reachable` while its lock requests and checks are answered, `unreachable` (with why,
 * credentials left out) from a failed connection, request or check until one is answered again.
 */
export type StoreReach = { state: 'connecting' } | { state: 'reachable' } | { state: 'unreachable'; reason: string };

export interface LeaderElector {
  role(): Role;
  /** @returns a function that removes the listener. */
  onChange(listener: RoleListener): () => void;
  /** Starts competing for the lock (as standby until it is granted). */
  start(): void;
  /**
   * Stops competing. A leader first steps down (waiting for its listeners, so leader-only work has stopped),
   * then releases the lock, so a standby takes over with no overlap.
   */
  stop(): Promise<void>;
}

export interface PostgresLeaderElector extends LeaderElector {
  /** What the elector's connection last found; reading it asks the server nothing. */
  reach(): StoreReach;
}

export function createLeaderElector(options: LeaderElectorOptions): PostgresLeaderElector {
  const { url, logger } = options;
  const key = options.lockKey ?? LEADER_LOCK_KEY;
  const timings = leaderTimings(options.takeoverSeconds);
  const secrets = postgresUrlSecrets(url);
  const listeners = new Set<RoleListener>();
  let role: Role = 'standby';
  let client: pg.Client | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let wakeUp: (() => void) | null = null;
  /** The last failure logged, so a database that stays down is logged once, not every retry. */
  let lastFailure: string | null = null;
  let reach: StoreReach = { state: 'connecting' };

  function become(next: Role, reason: string): Promise<void> {
    role = next;
    logger.info(
      { role: next, reason },
      next === 'leader' ? 'this instance is now the leader' : 'this instance is now a standby',
    );
    const results = [...listeners].map(async (listener) => listener(next, reason));
    return Promise.allSettled(results).then((settled) => {
      for (const r of settled)
        if (r.status === 'rejected') logger.error({ err: r.reason, role: next }, 'a role change listener failed');
    });
  }

  function wake(): void {
    wakeUp?.();
  }

  /** The connection `c` is no longer trusted: close it (which ends any lock it held) and step down. */
  function drop(c: pg.Client, reason: string): void {
    if (client !== c) return;
    client = null;
    void c.end().catch(() => {});
    // end() waits for the server; a connection that gets no answer must not linger with the lock.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    // No wake(): the loop reconnects after its usual pause, which gives the other instances the first go at
    // the lock rather than handing it straight back to the instance whose connection just failed.
    if (role === 'leader') void become('standby', reason);
  }

  /** The server ended or broke the connection `c` (not this elector, which forgets `c` before it closes it). */
  function lost(c: pg.Client, reason: string, stepDownReason: string): void {
    if (client !== c) return;
    reach = { state: 'unreachable', reason };
    drop(c, stepDownReason);
  }

  async function connect(): Promise<pg.Client> {
    const c = new pg.Client(electorClientConfig(url, timings));
    c.on('error', (err) => {
      const reason = failureReason(err, secrets);
      lost(c, reason, `the database connection failed (${reason})`);
    });
    c.on('end', () => lost(c, 'the connection closed', 'the database connection closed'));
    try {
      await c.connect();
    } catch (err) {
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      throw err;
    }
    return c;
  }

  async function step(): Promise<void> {
    client ??= await connect();
    const c = client;
    if (role === 'standby') {
      const { rows } = await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [
        ADVISORY_LOCK_NAMESPACE,
        key,
      ]);
      if (client === c) reach = { state: 'reachable' };
      if (rows[0]?.got === true && client === c) void become('leader', 'took the leader lock');
      return;
    }
    const { rows } = await c.query<{ held: number }>(
      `SELECT count(*)::int AS held FROM pg_locks
       WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = $1 AND objid = $2
         AND objsubid = 2`,
      [ADVISORY_LOCK_NAMESPACE, key],
    );
    if (client === c) reach = { state: 'reachable' };
    if (rows[0]?.held !== 1) drop(c, 'the leader lock is no longer held by this connection');
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        await step();
        lastFailure = null;
      } catch (err) {
        const reason = failureReason(err, secrets);
        reach = { state: 'unreachable', reason };
        if (client) drop(client, `the leader lock could not be checked (${reason})`);
        if (reason !== lastFailure) logger.warn({ reason }, 'leader election: the database did not answer; retrying');
        lastFailure = reason;
      }
      if (running) await pause(role === 'leader' ? timings.checkMs : timings.retryMs);
    }
  }

  return {
    role: () => role,
    reach: () => reach,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      loop = null;
      const c = client;
      client = null;
      if (role === 'leader') await become('standby', 'this instance is stopping');
      if (!c) return;
      try {
        await c.query('SELECT pg_advisory_unlock_all()');
      } catch {
        // Closing the connection below releases the lock all the same.
      }
      await c.end().catch(() => {});
    },
  };
}
