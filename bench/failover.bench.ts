/**
 * Two `npm start` processes on one PostgreSQL database (the real server: `BENCH_DATABASE_URL`, else
 * `TEST_DATABASE_URL`, else this machine's), Telegram by webhook against the loopback Bot API:
 * - failover: the leader is killed (SIGKILL) ten times; each time, the time from the kill until the standby's
 *   `/readyz` says it leads (target: within LEADER_TAKEOVER_SECONDS, 15 s by default), then a fresh standby
 *   is started in its place;
 * - warm command latency on a standby and on the leader: `/opg stats` posted to the instance's webhook one
 *   at a time, until its `sendMessage` reaches the Bot API (p50 / p99).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { describePostgresUrl } from '../src/db/postgres-settings.js';
import { freePort, roleOn } from '../test/helpers/ports.js';
import { NODE_ARGS, ROOT } from '../test/helpers/spawn.js';
import { startTelegramServer } from '../test/helpers/telegram-server.js';
import { message, type TgChat } from '../test/helpers/telegram-updates.js';
import type { BenchLog } from './run.js';
import { benchDbPath, percentile, startBenchCoinGecko } from './support.js';

const PG_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KILLS = 10;
const LATENCY_SAMPLES = 200;
const SECRET = 'bench_secret';
const WEBHOOK_PATH = '/telegram/webhook';
const chat: TgChat = { id: -1_001_000_000_777, type: 'supergroup', title: 'bench' };

interface Instance {
  child: ChildProcess;
  port: number;
}

async function waitForRole(instance: Instance, role: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await roleOn(instance.port)) !== role) {
    if (Date.now() > deadline) throw new Error(`instance on port ${instance.port} never became ${role}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export default async function failover(log: BenchLog): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch (err) {
    log(`skipped: no PostgreSQL server at ${describePostgresUrl(PG_URL)} (${(err as Error).message})`);
    return;
  }
  const name = `opg_bench_failover_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const tg = await startTelegramServer();
  const cg = await startBenchCoinGecko();
  const databasePath = benchDbPath();
  const env = {
    PATH: process.env.PATH ?? '',
    DOTENV_PATH: '/nonexistent/.env',
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.url,
    TELEGRAM_WEBHOOK_URL: `https://opg-bot.example.org${WEBHOOK_PATH}`,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    COINGECKO_API_URL: cg.url,
    OG_RPC_URL: 'http://127.0.0.1:9',
    OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
    INDEX_CRON: '0 0 1 1 *',
    DATABASE_PATH: databasePath,
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'warn',
  };
  const running = new Set<Instance>();
  const start = async (): Promise<Instance> => {
    const port = await freePort();
    const child = spawn(process.execPath, [...NODE_ARGS, resolve(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: { ...env, HTTP_PORT: String(port) },
      stdio: 'ignore',
    });
    const instance = { child, port };
    running.add(instance);
    child.once('exit', () => running.delete(instance));
    return instance;
  };

  try {
    let leader = await start();
    await waitForRole(leader, 'leader', 60_000);
    let standby = await start();
    await waitForRole(standby, 'standby', 60_000);

    let nextUpdateId = 1;
    let resolveSent: ((atMs: number) => void) | null = null;
    tg.onCall((call) => {
      if (call.method === 'sendMessage') resolveSent?.(call.atMs);
    });
    const latencies = async (instance: Instance): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const sent = new Promise<number>((done) => (resolveSent = done));
        const startedMs = performance.now();
        const res = await fetch(`http://127.0.0.1:${instance.port}${WEBHOOK_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
          body: JSON.stringify({ update_id: nextUpdateId++, message: message({ chat, text: '/opg stats' }) }),
        });
        await res.arrayBuffer();
        out.push((await sent) - startedMs);
      }
      return out.sort((a, b) => a - b);
    };
    // Warm both first: the first command of a process pays for loading its modules.
    await latencies(standby);
    await latencies(leader);
    for (const [role, instance] of [
      ['standby', standby],
      ['leader', leader],
    ] as const) {
      const samples = await latencies(instance);
      log(
        `/opg stats by webhook on the ${role}, warm: p50 ${percentile(samples, 50).toFixed(2)} ms, ` +
          `p99 ${percentile(samples, 99).toFixed(2)} ms (${LATENCY_SAMPLES} commands)`,
      );
    }

    const takeovers: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const killedAtMs = performance.now();
      leader.child.kill('SIGKILL');
      await waitForRole(standby, 'leader', 60_000);
      takeovers.push(performance.now() - killedAtMs);
      leader = standby;
      standby = await start();
      await waitForRole(standby, 'standby', 60_000);
    }
    takeovers.sort((a, b) => a - b);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    log(
      `failover after SIGKILL of the leader (LEADER_TAKEOVER_SECONDS 15): ` +
        `min ${s(takeovers[0]!)} / median ${s(percentile(takeovers, 50))} / max ${s(takeovers.at(-1)!)} over ` +
        `${KILLS} kills (PostgreSQL ${describePostgresUrl(PG_URL)})`,
    );
  } finally {
    for (const instance of running) instance.child.kill('SIGKILL');
    await Promise.all([...running].map((i) => once(i.child, 'exit')));
    await tg.close();
    await cg.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(databasePath, { force: true });
  }
}
