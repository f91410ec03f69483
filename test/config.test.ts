import { describe, expect, it } from 'vitest';
import { loadConfig, secretsOf } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills the documented defaults', () => {
    const c = loadConfig({});
    expect(c.telegram).toBeNull();
    expect(c.discord).toBeNull();
    expect(c.coingecko).toEqual({
      apiUrl: 'https://api.coingecko.com/api/v3',
      apiKey: null,
      plan: 'demo',
      coinId: 'opengradient',
    });
    expect(c.refreshCron).toBe('*/5 * * * *');
    expect(c.alerts.defaultThresholds).toEqual([1, 5, 10]);
    expect(c.alerts.hysteresis).toBe(0.1);
    expect(c.opengradient.confirmations).toBe(12);
    expect(c.databasePath).toBe('./data/opg-bot.sqlite');
  });

  it('picks the Pro host for the pro plan and keeps an explicit URL', () => {
    expect(loadConfig({ COINGECKO_API_PLAN: 'pro' }).coingecko.apiUrl).toBe('https://pro-api.coingecko.com/api/v3');
    expect(loadConfig({ COINGECKO_API_URL: 'http://127.0.0.1:9/api/v3/' }).coingecko.apiUrl).toBe(
      'http://127.0.0.1:9/api/v3',
    );
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.coingecko)).toBe(true);
  });

  it('lists every bad variable in one error, with the form it expects', () => {
    const found = problems({
      REFRESH_CRON: 'every five minutes',
      COINGECKO_API_PLAN: 'enterprise',
      OG_CONFIRMATIONS: '-1',
      ALERT_DEFAULT_THRESHOLDS: '1,abc',
      TELEGRAM_API_ROOT: 'not a url',
    });
    expect(found).toHaveLength(5);
    expect(found.join('\n')).toMatch(/REFRESH_CRON: expected a cron expression/);
    expect(found.join('\n')).toMatch(/COINGECKO_API_PLAN: expected 'demo' or 'pro' \(got 'enterprise'\)/);
    expect(found.join('\n')).toMatch(/OG_CONFIRMATIONS: expected a whole number/);
    expect(found.join('\n')).toMatch(/ALERT_DEFAULT_THRESHOLDS: expected up to 10 distinct/);
    expect(found.join('\n')).toMatch(/TELEGRAM_API_ROOT: expected an http\(s\) URL/);
  });

  it('never echoes a secret in its error', () => {
    const found = problems({ DISCORD_GUILD_ID: 'abc', COINGECKO_API_KEY: 'CG-secret', LOG_LEVEL: 'loud' });
    expect(found.join('\n')).not.toContain('CG-secret');
  });

  it('treats empty values as unset', () => {
    const c = loadConfig({ TELEGRAM_BOT_TOKEN: '', COINGECKO_API_KEY: ' ' });
    expect(c.telegram).toBeNull();
    expect(c.coingecko.apiKey).toBeNull();
  });

  it('lists the secrets to redact', () => {
    const c = loadConfig({
      TELEGRAM_BOT_TOKEN: '123:abc-secret',
      DISCORD_TOKEN: 'disc-secret',
      COINGECKO_API_KEY: 'CG-key',
    });
    expect(secretsOf(c).sort()).toEqual(['123:abc-secret', 'CG-key', 'disc-secret']);
  });
});
