/**
 * Which work this instance does, by role. Every instance keeps its store and answers commands where the
 * platform lets any instance take them; only the leader runs what must happen once (refresh, indexing, alert
 * evaluation, digests, pruning, the markets schedule, the outbox dispatcher, Discord's gateway, Telegram long
 * polling), and a standby follows the shared store instead. With the SQLite file there is one instance and it
 * always leads (`alwaysLeader`); with PostgreSQL the leader elector (src/db/leader-elector.ts) decides.
 *
 * Role changes are carried out one at a time, in order, and only the latest wish counts: a step-down stops
 * the leader's work (waiting for it) before the standby's starts, and the reverse, so leader work never runs
 * twice at once in one process, and the elector lets its lock go only once the leader's work has stopped.
 */
import type { Logger } from './core/logger.js';
import type { LeaderElector, Role, RoleListener } from './db/leader-elector.js';

export type { LeaderElector, Role };

/** What runs while this instance holds a role; `stop()` ends it and resolves once it has ended. */
export interface RoleWork {
  stop(): Promise<void> | void;
}

export interface RolesOptions {
  elector: LeaderElector;
  logger: Logger;
  /** Starts every leader-only job; resolves once they are started (a failure must undo what it started). */
  leader(): Promise<RoleWork> | RoleWork;
  /** Starts what a standby does instead (following the shared store). Default: nothing. */
  standby?(): Promise<RoleWork> | RoleWork;
  /** A role's work failed to start after `start()` resolved. Default: logged. */
  onFailure?(err: unknown, role: Role): void;
}

export interface Roles {
  /** The role whose work runs now; `standby` while none does (before start, during a change, after stop). */
  role(): Role;
  /** Starts competing for leadership; resolves once the first role's work has started, rejects if it failed. */
  start(): Promise<void>;
  /** Stops the current role's work, then lets the elector go (a leader's lock is released last). */
  stop(): Promise<void>;
  /** Resolves once every role change asked for so far has been carried out. */
  settled(): Promise<void>;
}

export function createRoles(options: RolesOptions): Roles {
  const { elector, logger } = options;
  let wanted: Role = 'standby';
  let held: Role | null = null;
  let work: RoleWork | null = null;
  let stopping = false;
  let started = false;
  let firstFailure: unknown = null;
  let chain: Promise<void> = Promise.resolve();
  let unlisten: (() => void) | null = null;

  async function transition(reason: string): Promise<void> {
    const next = stopping ? null : wanted;
    if (next === held && work) return;
    if (work) {
      const was = held!;
      const w = work;
      work = null;
      held = null;
      try {
        await w.stop();
      } catch (err) {
        logger.error({ err, role: was }, 'stopping the work of a role failed');
      }
      logger.info({ role: was, reason }, was === 'leader' ? 'leader-only work stopped' : 'standby work stopped');
    }
    if (next === null) return;
    try {
      work = await (next === 'leader' ? options.leader() : (options.standby?.() ?? { stop() {} }));
      held = next;
      logger.info(
        { role: next, reason },
        next === 'leader'
          ? 'this instance runs the leader-only work'
          : 'this instance is a standby: it follows the shared store',
      );
    } catch (err) {
      if (!started) firstFailure ??= err;
      else if (options.onFailure) options.onFailure(err, next);
      else logger.error({ err, role: next }, 'the work of a role failed to start');
    }
  }

  function apply(next: Role, reason: string): Promise<void> {
    wanted = next;
    chain = chain.then(() => transition(reason));
    return chain;
  }

  const listener: RoleListener = (role, reason) => apply(role, reason);

  return {
    role: () => held ?? 'standby',
    async start() {
      if (unlisten) return;
      unlisten = elector.onChange(listener);
      void apply(elector.role(), 'starting');
      elector.start();
      await chain;
      started = true;
      if (firstFailure !== null) {
        const err = firstFailure;
        firstFailure = null;
        throw err;
      }
    },
    async stop() {
      stopping = true;
      await apply(wanted, 'this instance is stopping');
      await elector.stop();
      unlisten?.();
      await chain;
    },
    settled: () => chain,
  };
}

/**
 * The elector of the one instance on a SQLite file: it leads from `start()` to `stop()`, with the same
 * interface and role-change callbacks as the PostgreSQL elector.
 */
export function alwaysLeader(logger: Logger): LeaderElector {
  const listeners = new Set<RoleListener>();
  let role: Role = 'standby';
  function become(next: Role, reason: string): Promise<void> {
    role = next;
    logger.info(
      { role: next, reason },
      next === 'leader' ? 'this instance is now the leader' : 'this instance is now a standby',
    );
    return Promise.allSettled([...listeners].map(async (l) => l(next, reason))).then(() => {});
  }
  return {
    role: () => role,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      if (role !== 'leader') void become('leader', 'the only instance on the SQLite store');
    },
    async stop() {
      if (role === 'leader') await become('standby', 'this instance is stopping');
    },
  };
}
