import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runEntry } from './helpers/spawn.js';
import { tempDbPath } from './helpers/temp-dir.js';

describe('npm start with settings for more than one machine', () => {
  it('with DATABASE_URL naming a server that does not answer, exits 1 naming the setting and no secret', async () => {
    const path = tempDbPath();
    const r = await runEntry('src/main.ts', [], {
      DATABASE_PATH: path,
      DATABASE_URL: 'postgres://opg:Db-pass-4471@127.0.0.1:9/opg_bot',
      TELEGRAM_BOT_TOKEN: 'fake-test-token:never-echoed',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
    });
    expect(r.code).toBe(1);
    // Never the SQLite file instead: that would quietly do something other than what the operator set up.
    expect(r.stderr).toMatch(
      new RegExp(
        /^Invalid configuration:\n {2}- DATABASE_URL: /.source +
          /cannot connect to or migrate postgres:\/\/127\.0\.0\.1:9\/opg_bot \(/.source,
      ),
    );
    expect(existsSync(path)).toBe(false);
    expect(r.stdout + r.stderr).not.toMatch(/Db-pass|never-echoed/);
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
