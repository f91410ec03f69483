import { describe, expect, it } from 'vitest';
import {
  webhookReadiness,
  liveness,
  readiness,
  type PlatformState,
  type ReadinessOptions,
} from '../../src/ops/health.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const MIN = 60_000;

function options(over: Partial<ReadinessOptions> = {}, telegram: PlatformState = 'connected'): ReadinessOptions {
  return {
    store: () => ({ state: 'open' }),
    platforms: [{ platform: 'telegram', state: () => telegram }],
    marketFetchedAtMs: () => NOW - 3 * MIN,
    marketError: () => null,
    staleAfterMs: 15 * MIN,
    nowMs: () => NOW,
    ...over,
  };
}

describe('readiness', () => {
  it('is ok when the store is open, every platform connected and the reading younger than the limit', () => {
    expect(readiness(options())).toEqual({
      status: 'ok',
      checks: [
        { name: 'store', ok: true, state: 'open' },
        { name: 'telegram', ok: true, state: 'connected' },
        { name: 'market', ok: true, state: 'fresh', detail: '180 s old, limit 900 s' },
      ],
    });
  });

  it('stays ready through a failed refresh while the last good reading is younger than the limit', () => {
    const body = readiness(
      options({ marketError: () => 'CoinGecko: HTTP 503', marketFetchedAtMs: () => NOW - 15 * MIN }),
    );
    expect(body.status).toBe('ok');
    expect(body.checks[2]).toEqual({
      name: 'market',
      ok: true,
      state: 'fresh',
      detail: '900 s old, limit 900 s; last refresh failed: CoinGecko: HTTP 503',
    });
  });

  it('is unavailable once the reading is older than the limit, or missing', () => {
    const stale = readiness(options({ marketFetchedAtMs: () => NOW - 15 * MIN - 1_000 }));
    expect(stale.status).toBe('unavailable');
    expect(stale.checks[2]).toMatchObject({ ok: false, state: 'stale', detail: '901 s old, limit 900 s' });
    const missing = readiness(
      options({ marketFetchedAtMs: () => null, marketError: () => 'no answer from CoinGecko' }),
    );
    expect(missing.checks[2]).toEqual({
      name: 'market',
      ok: false,
      state: 'missing',
      detail: 'no market reading yet; last refresh failed: no answer from CoinGecko',
    });
  });

  it('is unavailable while a platform is starting or reconnecting, or the store is closed', () => {
    for (const state of ['starting', 'reconnecting', 'failed', 'stopped'] as const) {
      const body = readiness(options({}, state));
      expect(body.status).toBe('unavailable');
      expect(body.checks[1]).toEqual({ name: 'telegram', ok: false, state });
    }
    expect(readiness(options({ store: () => ({ state: 'closed' }) })).checks[0]).toEqual({
      name: 'store',
      ok: false,
      state: 'closed',
    });
  });

  it('is unavailable while PostgreSQL does not answer, on a standby too, naming why', () => {
    const platforms = [{ platform: 'discord' as const, leaderOnly: true, state: () => 'stopped' as const }];
    const detail = 'postgres://127.0.0.1:5432/opg does not answer: connect ECONNREFUSED 127.0.0.1:5432';
    for (const state of ['unreachable', 'connecting'] as const) {
      const body = readiness(options({ platforms, role: () => 'standby', store: () => ({ state, detail }) }));
      expect(body.status).toBe('unavailable');
      expect(body.checks[0]).toEqual({ name: 'store', ok: false, state, detail });
    }
  });

  it('on a standby, does not wait for the connections only the leader makes; a webhook it serves still counts', () => {
    const platforms = [
      { platform: 'discord' as const, leaderOnly: true, state: () => 'starting' as const },
      { platform: 'telegram' as const, leaderOnly: false, state: () => 'connected' as const },
    ];
    const standby = readiness(options({ platforms, role: () => 'standby' }));
    expect(standby.status).toBe('ok');
    expect(standby.checks[1]).toEqual({
      name: 'discord',
      ok: true,
      state: 'on-leader',
      detail: 'connected by the leader instance',
    });
    // The leader waits for its gateway; a standby whose webhook front end is down is not ready either.
    expect(readiness(options({ platforms, role: () => 'leader' })).status).toBe('unavailable');
    const webhookDown = [platforms[0]!, { ...platforms[1]!, state: () => 'failed' as const }];
    expect(readiness(options({ platforms: webhookDown, role: () => 'standby' })).status).toBe('unavailable');
  });

  it("names this instance's role when leader election provides one, and only then", () => {
    expect(readiness(options())).not.toHaveProperty('role');
    expect(readiness(options({ role: () => 'standby' })).role).toBe('standby');
  });
});

describe('liveness', () => {
  it('is ok with the uptime', () => {
    expect(liveness(NOW - 90_000, NOW)).toEqual({
      status: 'ok',
      checks: [{ name: 'process', ok: true, state: 'running', detail: 'up 90 s' }],
    });
  });
});

describe('webhook readiness (/readyz/webhook, for the load balancer in front of a Telegram webhook)', () => {
  it('stays ready while the market figures are stale, and ignores the connections only the leader makes', () => {
    const stale = options({ marketFetchedAtMs: () => NOW - 60 * MIN, marketError: () => 'CoinGecko: HTTP 503' });
    const platforms = [
      { platform: 'telegram' as const, state: () => 'connected' as const },
      { platform: 'discord' as const, leaderOnly: true, state: () => 'reconnecting' as const },
    ];
    expect(readiness({ ...stale, platforms }).status).toBe('unavailable');
    expect(webhookReadiness({ ...stale, platforms, role: () => 'standby' })).toEqual({
      status: 'ok',
      role: 'standby',
      checks: [
        { name: 'store', ok: true, state: 'open' },
        { name: 'telegram', ok: true, state: 'connected' },
      ],
    });
  });

  it('is unavailable while the store does not answer or the webhook is not set up', () => {
    const down = webhookReadiness(
      options({ store: () => ({ state: 'unreachable', detail: 'postgres://db does not answer: ECONNREFUSED' }) }),
    );
    expect(down).toMatchObject({
      status: 'unavailable',
      checks: [
        { name: 'store', ok: false, state: 'unreachable' },
        { name: 'telegram', ok: true },
      ],
    });
    expect(webhookReadiness(options({}, 'starting'))).toMatchObject({
      status: 'unavailable',
      checks: [{ ok: true }, { name: 'telegram', ok: false, state: 'starting' }],
    });
  });
});
