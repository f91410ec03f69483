import { describe, expect, it } from 'vitest';
import { loadConfig, secretsOf } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';
import { createLogger } from '../src/logger.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const TOKEN = '123456:test-token-not-real';
const SECRET = 'Webhook_secret-0123456789';

describe('PostgreSQL and multi-instance config', () => {
  it('defaults to the SQLite file, a 15 s takeover and long polling', () => {
    const c = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN });
    expect(c.databaseUrl).toBeNull();
    expect(c.leaderTakeoverSeconds).toBe(15);
    expect(c.telegram?.webhook).toBeNull();
  });

  it('reads a PostgreSQL URL, a takeover time and a webhook with its secret', () => {
    const c = loadConfig({
      DATABASE_URL: ' postgresql://opg:pw@db.internal:5432/opg_bot?sslmode=require ',
      LEADER_TAKEOVER_SECONDS: '30',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.org:8443/telegram',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    });
    expect(c.databaseUrl).toBe('postgresql://opg:pw@db.internal:5432/opg_bot?sslmode=require');
    expect(c.leaderTakeoverSeconds).toBe(30);
    expect(c.telegram?.webhook).toEqual({ url: 'https://bot.example.org:8443/telegram', secret: SECRET });
  });

  it(
    'refuses what cannot work, every problem at once, ' + 'without echoing a URL that may hold a password or a secret',
    () => {
      const found = problems({
        DATABASE_URL: 'mysql://root:hunter22@db/opg',
        LEADER_TAKEOVER_SECONDS: '3',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/telegram',
        TELEGRAM_WEBHOOK_SECRET: 'has spaces and a $ign',
      });
      expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
        'DATABASE_URL',
        'LEADER_TAKEOVER_SECONDS',
        'TELEGRAM_WEBHOOK_SECRET',
      ]);
      const text = found.join('\n');
      expect(text).toMatch(/DATABASE_URL: expected a PostgreSQL URL such as postgres:\/\//);
      expect(text).toMatch(/LEADER_TAKEOVER_SECONDS: expected a whole number from 6 to 3600 \(got '3'\)/);
      expect(text).toMatch(/TELEGRAM_WEBHOOK_SECRET: expected 1 to 256 characters of A-Z, a-z, 0-9, _ and -/);
      expect(text).not.toContain('hunter22');
      expect(text).not.toContain('has spaces');
    },
  );

  it("accepts a secret of Telegram's whole alphabet up to 256 characters, and no longer", () => {
    const base = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg' };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
    expect(loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: alphabet.repeat(4) }).telegram?.webhook?.secret).toHaveLength(
      256,
    );
    expect(loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: 'x' }).telegram?.webhook?.secret).toBe('x');
    expect(problems({ ...base, TELEGRAM_WEBHOOK_SECRET: alphabet.repeat(4) + 'a' })).toEqual([
      "TELEGRAM_WEBHOOK_SECRET: expected 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for a " +
        'webhook secret_token)',
    ]);
  });

  it('requires the secret and the bot token with a webhook URL, and the URL with a secret', () => {
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg' })).toEqual([
      'TELEGRAM_WEBHOOK_URL: needs TELEGRAM_WEBHOOK_SECRET, so only Telegram can post updates to the endpoint',
    ]);
    expect(problems({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg', TELEGRAM_WEBHOOK_SECRET: SECRET })).toEqual([
      "TELEGRAM_WEBHOOK_URL: needs TELEGRAM_BOT_TOKEN (the webhook receives that bot's updates)",
    ]);
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET })).toEqual([
      'TELEGRAM_WEBHOOK_SECRET: set without TELEGRAM_WEBHOOK_URL; set both to receive updates by webhook, ' +
        'neither for long polling',
    ]);
  });

  it(
    "holds a webhook URL to Telegram's rules (https, ports 443, 80, 88, 8443) " +
      'unless a local Bot API server takes the updates',
    () => {
      const env = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET };
      for (const url of ['http://bot.example.org/tg', 'https://bot.example.org:3000/tg']) {
        expect(problems({ ...env, TELEGRAM_WEBHOOK_URL: url })).toEqual([
          'TELEGRAM_WEBHOOK_URL: expected an https URL on port 443, 80, 88 or 8443 (what Telegram posts to; ' +
            'any URL works with a local Bot API server in TELEGRAM_API_ROOT)',
        ]);
      }
      expect(problems({ ...env, TELEGRAM_WEBHOOK_URL: 'not a url' })).toEqual([
        "TELEGRAM_WEBHOOK_URL: expected the public https URL Telegram posts updates to (got 'not a url')",
      ]);
      const local = loadConfig({
        ...env,
        TELEGRAM_API_ROOT: 'http://127.0.0.1:8081',
        TELEGRAM_WEBHOOK_URL: 'http://10.0.0.5:3000/tg',
      });
      expect(local.telegram?.webhook?.url).toBe('http://10.0.0.5:3000/tg');
    },
  );

  it('scrubs the webhook secret and the database password from every log line', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://opg:s3cr%40t-pass@db.internal/opg_bot',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    });
    expect(secretsOf(config)).toEqual(expect.arrayContaining([SECRET, 's3cr%40t-pass', 's3cr@t-pass']));
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      secrets: secretsOf(config),
      destination: { write: (line: string) => lines.push(line) },
    });
    logger.warn(
      { url: config.databaseUrl, header: `X-Telegram-Bot-Api-Secret-Token: ${SECRET}` },
      'password s3cr@t-pass refused',
    );
    expect(lines.join('')).not.toMatch(/s3cr|Webhook_secret/);
    expect(lines.join('')).toContain('[redacted]');
  });
});
