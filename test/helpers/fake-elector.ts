import type { LeaderElector, Role, RoleListener } from '../../src/db/leader-elector.js';

export interface FakeElector extends LeaderElector {
  /** Plays the lock being granted or lost; resolves once every listener's returned promise settled, as the real one
   * waits. */
  become(role: Role, reason?: string): Promise<void>;
  /** Whether `start()` was called and `stop()` not since. */
  readonly running: boolean;
  /** Every role handed to listeners, in order. */
  readonly changes: Role[];
}

/**
 * An in-memory elector with the real one's interface and behaviour (src/db/leader-elector.ts): standby until
 * told otherwise, listeners told of every change, and `stop()` stepping a leader down (waiting for its
 * listeners) before it lets go.
 */
export function createFakeElector(): FakeElector {
  const listeners = new Set<RoleListener>();
  let role: Role = 'standby';
  let running = false;
  const changes: Role[] = [];
  async function become(next: Role, reason = 'test'): Promise<void> {
    if (next === role) return;
    role = next;
    changes.push(next);
    await Promise.allSettled([...listeners].map(async (l) => l(next, reason)));
  }
  return {
    become,
    get running() {
      return running;
    },
    changes,
    role: () => role,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      running = true;
    },
    async stop() {
      running = false;
      if (role === 'leader') await become('standby', 'stopping');
    },
  };
}
