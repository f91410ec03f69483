import { describe, expect, it } from 'vitest';
import { runEntry } from './helpers/spawn.js';
import { tempDbPath } from './helpers/temp-dir.js';

describe('npm start with settings for more than one machine', () => {
  it('refuses to start rather than run on the SQLite file when DATABASE_URL is set, and echoes no secret', async () => {
    const r = await runEntry('src/main.ts', [], {
      DATABASE_PATH: tempDbPath(),
      DATABASE_URL: 'postgres://opg:Db-pass-4471@127.0.0.1:9/opg_bot',
      TELEGRAM_BOT_TOKEN: 'fake-test-token:never-echoed',
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg',
      TELEGRAM_WEBHOOK_SECRET: 'Hook_secret_5512',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^opg-bot: this version does not run with DATABASE_URL \(PostgreSQL\) yet; unset it/);
    expect(r.stdout + r.stderr).not.toMatch(/Db-pass|Hook_secret|never-echoed/);
  });

  it('refuses a webhook without the operations endpoint it is served on', async () => {
    const r = await runEntry('src/main.ts', [], {
      DATABASE_PATH: tempDbPath(),
      TELEGRAM_BOT_TOKEN: 'fake-test-token:never-echoed',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/tg',
      TELEGRAM_WEBHOOK_SECRET: 'Hook_secret_5512',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TELEGRAM_WEBHOOK_URL needs HTTP_PORT/);
    expect(r.stdout + r.stderr).not.toMatch(/Hook_secret|never-echoed/);
  });
});
