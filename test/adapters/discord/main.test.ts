import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startCoinGeckoServer } from '../../helpers/coingecko-server.js';
import { bodyJson, GUILD_ID, startDiscordStandIn } from '../../helpers/discord-server.js';
import { sendJson } from '../../helpers/http-server.js';
import { NODE_ARGS } from '../../helpers/spawn.js';
import { tempDbPath } from '../../helpers/temp-dir.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../../helpers/postgres.js';

const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-test-token';

async function run(entry: string, env: Record<string, string> = {}) {
  const coingecko = await startCoinGeckoServer();
  const discord = await startDiscordStandIn();
  onTestFinished(() => discord.close());
  const child = spawn(process.execPath, [...NODE_ARGS, entry], {
    env: {
      PATH: process.env.PATH,
      DOTENV_PATH: '/nonexistent/.env',
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: GUILD_ID,
      COINGECKO_API_URL: coingecko.url,
      DATABASE_PATH: tempDbPath(),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { discord, child, exited, output: () => output };
}

describe('npm start with Discord', () => {
  it('stops cleanly on a SIGTERM that arrives while its front end is still starting', async () => {
    const { discord, child, exited, output } = await run('src/main.ts');
    // Registration hangs until the signal has been sent: the process is inside its start when SIGTERM comes.
    let release: (() => void) | null = null;
    discord.failNext(
      (r) => r.method === 'PUT',
      (req, res) => {
        release = () =>
          sendJson(
            res,
            200,
            (JSON.parse(req.body) as object[]).map((c, i) => ({ ...c, id: `9${i}`, version: '1' })),
          );
      },
    );
    await discord.waitForRequest((r) => r.method === 'PUT', 0);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    release!();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output()).toContain('"signal":"SIGTERM"');
  });

  it('registers /opg, answers /opg stats with an embed, and stops cleanly on SIGTERM', async () => {
    const { discord, child, exited, output } = await run('src/main.ts');
    await discord.waitForRequest((r) => r.method === 'PUT' && r.url.endsWith(`/guilds/${GUILD_ID}/commands`), 0);
    await discord.waitForSession();
    const since = discord.rest.requests.length;
    const { id } = discord.interact(discord.slash({ subcommand: 'stats' }));
    const callback = await discord.waitForRequest((r) => r.url.includes(`/interactions/${id}/`), since);
    const body = bodyJson(callback) as any;
    const fields = body.type === 4 ? body.data.embeds[0].fields : null;
    if (body.type === 5) {
      const edit = await discord.waitForRequest((r) => r.method === 'PATCH', since);
      expect((bodyJson(edit) as any).embeds[0].title).toBe('OPG stats');
    } else {
      expect(fields.find((f: any) => f.name === 'Price').value).toContain('$0.04123');
    }
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(output()).toContain('slash commands');
    expect(output()).not.toContain('secret-test-token');
  });

  it('registers /opg on demand with npm run discord:deploy, recording the hash in the SQLite store', async () => {
    const databasePath = tempDbPath();
    const { discord, exited, output } = await run('src/adapters/discord/deploy.ts', { DATABASE_PATH: databasePath });
    const [code] = await exited;
    expect(output()).toContain(`Registered /opg in guild ${GUILD_ID}`);
    expect(code).toBe(0);
    expect(discord.rest.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    const db = new Database(databasePath, { readonly: true });
    const rows = db.prepare('select scope from discord_command_registrations').all();
    db.close();
    expect(rows).toEqual([{ scope: expect.stringContaining(`:guild:${GUILD_ID}`) }]);
  });

  it(
    'records the hash in PostgreSQL when DATABASE_URL is set, as npm start would read it, and opens no SQLite ' +
      'file',
    async ({ skip }) => {
      skip(!TEST_DATABASE_URL, NO_SERVER);
      // An empty database: deploy opens and migrates it as main.ts does.
      const url = await emptyServerDatabase();
      const databasePath = tempDbPath();
      const { discord, exited, output } = await run('src/adapters/discord/deploy.ts', {
        DATABASE_URL: url,
        DATABASE_PATH: databasePath,
      });
      const [code] = await exited;
      expect(output()).toContain(`Registered /opg in guild ${GUILD_ID}`);
      expect(code).toBe(0);
      expect(discord.rest.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
      expect(existsSync(databasePath)).toBe(false);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query('select scope from discord_command_registrations');
        expect(rows).toEqual([{ scope: expect.stringContaining(`:guild:${GUILD_ID}`) }]);
      } finally {
        await client.end();
      }
    },
  );
});
