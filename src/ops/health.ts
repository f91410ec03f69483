/**
 * Liveness and readiness, as an orchestrator asks them. Liveness is "the event loop answers" and calls
 * nothing. Readiness is every check below passing: the store is open (it was migrated when it opened) and,
 * on PostgreSQL, the server answered the last time this instance asked it; each configured platform is
 * connected; and the last good market reading is younger than the stale limit. A single failed refresh does
 * not make the bot unready; figures older than the limit do, because from then on every reply says they are
 * stale. A standby is ready without the connections only the leader makes, so a load balancer keeps sending
 * it webhook updates, which it answers from the shared store; but not while the server does not answer it.
 */
import type { Platform } from '../core/chat.js';

/** What one check found; `state` is a word an operator can grep for, `detail` says why. */
export interface CheckResult {
  name: string;
  ok: boolean;
  state: string;
  detail?: string;
}

/** The state of one front end's connection, as main.ts sees it. */
export type PlatformState = 'starting' | 'connected' | 'reconnecting' | 'failed' | 'stopped';

export interface PlatformConnection {
  readonly platform: Platform;
  /**
   * Connected by the leader only (Discord's gateway, Telegram long polling): on a standby it is not this
   * instance's to connect, and readiness does not wait for it. A Telegram webhook is served by every instance.
   */
  readonly leaderOnly?: boolean;
  state(): PlatformState;
}

/**
 * The store as this instance last found it: `open` (the SQLite file is open, or PostgreSQL answered the last time
 * it was asked), `connecting` (PostgreSQL has not answered yet since start), `unreachable` (PostgreSQL did not
 * answer; `detail` says why) or `closed` (this process closed it). Only `open` is ready.
 */
export interface StoreState {
  state: 'open' | 'connecting' | 'unreachable' | 'closed';
  detail?: string;
}

/** This instance's part when several share one store (the PostgreSQL issue); always `leader` on SQLite. */
export type InstanceRole = 'leader' | 'standby';

/**
 * What the shared store's own connection last found (the leader elector's `reach()` in src/db, which has the
 * same shape): the probe reads it without a query of its own.
 */
export type StoreReach = { state: 'connecting' } | { state: 'reachable' } | { state: 'unreachable'; reason: string };

export interface ReadinessOptions {
  /** What the store check found; read from memory, never by a query per probe. */
  store(): StoreState;
  platforms: readonly PlatformConnection[];
  /** Epoch ms of the last good market reading, or null when there is none. */
  marketFetchedAtMs(): number | null;
  /** The market's last refresh error, if it failed after the last good reading. */
  marketError(): string | null;
  staleAfterMs: number;
  nowMs(): number;
  /**
   * This instance's role, which the body then names. operations.ts always passes it: the elector's with a shared
   * PostgreSQL store, `leader` on the SQLite file (one instance, which always leads).
   */
  role?: () => InstanceRole;
}

export interface HealthBody {
  status: 'ok' | 'unavailable';
  role?: InstanceRole;
  checks: CheckResult[];
}

/** `/healthz`: the process runs its event loop. Nothing upstream is asked. */
export function liveness(startedAtMs: number, nowMs: number): HealthBody {
  return {
    status: 'ok',
    checks: [
      { name: 'process', ok: true, state: 'running', detail: `up ${Math.round((nowMs - startedAtMs) / 1000)} s` },
    ],
  };
}

/** `/readyz`: every check, ready only when all pass. */
export function readiness(options: ReadinessOptions): HealthBody {
  const checks: CheckResult[] = [];
  const store = options.store();
  checks.push({ name: 'store', ok: store.state === 'open', ...store });
  const role = options.role?.();
  for (const p of options.platforms) {
    if (role === 'standby' && p.leaderOnly) {
      checks.push({ name: p.platform, ok: true, state: 'on-leader', detail: 'connected by the leader instance' });
      continue;
    }
    const state = p.state();
    checks.push({ name: p.platform, ok: state === 'connected', state });
  }
  checks.push(marketCheck(options));
  const body: HealthBody = { status: checks.every((c) => c.ok) ? 'ok' : 'unavailable', checks };
  if (role) body.role = role;
  return body;
}

/**
 * `/readyz/webhook`: whether this instance can take the Telegram webhook updates a load balancer sends it: the
 * store answers and each platform served through the endpoint (not the leader's own connections: Discord's
 * gateway, Telegram long polling) is set up. Market figures are not checked: a command answered during a
 * CoinGecko outage says how old its figures are, which beats an update Telegram can deliver nowhere (with
 * `/readyz` as the check, a stale reading takes every instance out of the balancer at once).
 */
export function webhookReadiness(options: Pick<ReadinessOptions, 'store' | 'platforms' | 'role'>): HealthBody {
  const store = options.store();
  const checks: CheckResult[] = [{ name: 'store', ok: store.state === 'open', ...store }];
  for (const p of options.platforms) {
    if (p.leaderOnly) continue;
    const state = p.state();
    checks.push({ name: p.platform, ok: state === 'connected', state });
  }
  const body: HealthBody = { status: checks.every((c) => c.ok) ? 'ok' : 'unavailable', checks };
  const role = options.role?.();
  if (role) body.role = role;
  return body;
}

function marketCheck(options: ReadinessOptions): CheckResult {
  const fetchedAtMs = options.marketFetchedAtMs();
  const error = options.marketError();
  const failing = error ? `; last refresh failed: ${error}` : '';
  if (fetchedAtMs === null)
    return { name: 'market', ok: false, state: 'missing', detail: `no market reading yet${failing}` };
  const ageMs = Math.max(0, options.nowMs() - fetchedAtMs);
  const age = `${Math.round(ageMs / 1000)} s old, limit ${Math.round(options.staleAfterMs / 1000)} s`;
  if (ageMs > options.staleAfterMs) return { name: 'market', ok: false, state: 'stale', detail: `${age}${failing}` };
  return { name: 'market', ok: true, state: 'fresh', detail: `${age}${failing}` };
}
