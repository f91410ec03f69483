import { describe, expect, it } from 'vitest';
import { createOpsMetrics } from '../../src/ops/metrics.js';

const fresh = () =>
  createOpsMetrics({ platforms: ['telegram', 'discord'], marketFetchedAtMs: () => null, nowMs: () => 0 });

const samples = (scrape: string) => scrape.split('\n').filter((l) => l.startsWith('opg_'));

describe('a fresh registry', () => {
  it('exports at 0 every series whose label values are known up front, before any event', async () => {
    const lines = samples((await fresh().scrape()).body);
    for (const platform of ['telegram', 'discord']) {
      expect(lines).toContain(`opg_command_duration_seconds_count{platform="${platform}"} 0`);
      expect(lines).toContain(`opg_command_duration_seconds_sum{platform="${platform}"} 0`);
      expect(lines).toContain(`opg_command_duration_seconds_bucket{le="+Inf",platform="${platform}"} 0`);
      expect(lines).toContain(`opg_platform_rate_limited_total{platform="${platform}"} 0`);
      for (const result of ['delivered', 'retry', 'gone', 'failed'])
        expect(lines).toContain(`opg_alert_deliveries_total{platform="${platform}",result="${result}"} 0`);
      expect(lines).toContain(`opg_alert_deliveries_given_up_total{platform="${platform}"} 0`);
    }
    for (const result of ['ok', 'failed']) expect(lines).toContain(`opg_market_refresh_total{result="${result}"} 0`);
    // No platform that is not configured, and no invented command name or status code.
    expect(lines.filter((l) => l.includes('platform="console"'))).toEqual([]);
    expect(lines.filter((l) => /^opg_(commands|upstream_requests)_total[{ ]/.test(l))).toEqual([]);
  });

  it('counts a command on top of the zeroed histogram', async () => {
    const m = fresh();
    m.commandRan('telegram', 'stats', 'ok', 30);
    const lines = samples((await m.scrape()).body);
    expect(lines).toContain('opg_command_duration_seconds_count{platform="telegram"} 1');
    expect(lines).toContain('opg_command_duration_seconds_bucket{le="0.025",platform="telegram"} 0');
    expect(lines).toContain('opg_command_duration_seconds_bucket{le="0.05",platform="telegram"} 1');
    expect(lines).toContain('opg_command_duration_seconds_count{platform="discord"} 0');
    expect(lines).toContain('opg_commands_total{platform="telegram",command="stats",outcome="ok"} 1');
  });
});
