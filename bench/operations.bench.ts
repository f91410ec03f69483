/**
 * The operations endpoint under a full store: 100,000 alert subscriptions, a full outbox (one undelivered
 * alert for each, the fan-out of one evaluation) and every metric series a busy bot has (each command ×
 * outcome × platform, histograms with samples). Measures `/metrics` over real HTTP on loopback with a
 * kept-alive connection, as Prometheus scrapes it (target p99 < 5 ms), `/readyz` the same way, and the
 * outbox recount that keeps `opg_alert_outbox_pending` current, which runs off the scrape path every 10 s.
 *
 * `BENCH_SCRAPES` (default 2,000) scrapes per route, after 100 to warm up.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Agent, request } from 'undici';
import { commands } from '../commands/index.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { commandPath } from '../src/core/command.js';
import { silentLogger } from '../src/core/logger.js';
import { systemClock } from '../src/core/clock.js';
import { connectionState } from '../src/ops/connections.js';
import { createOperations } from '../src/ops/operations.js';
import type { BenchLog } from './run.js';
import { benchDbPath, percentile, startBenchCoinGecko } from './support.js';

const SUBSCRIPTIONS = 100_000;

function seed(app: ReturnType<typeof createApp>): void {
  const db = app.database!.sqlite;
  const now = Date.now();
  const insertSub = db.prepare(
    `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status) ` +
      `VALUES (?, ?, 'bench', ?, 'active')`,
  );
  const insertLevel = db.prepare(`INSERT INTO alert_levels (ratio, side) VALUES (?, 'above')`);
  const insertThreshold = db.prepare(
    `INSERT INTO alert_thresholds (subscription_id, ratio, level_id) VALUES (?, ?, ?)`,
  );
  const insertCooldown = db.prepare(
    `INSERT INTO alert_cooldowns (subscription_id, cooldown_minutes, last_alert_at_ms) VALUES (?, 60, ?)`,
  );
  const insertOutbox = db.prepare(
    `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, ` +
      `next_attempt_at_ms) VALUES (?, 'alert', ?, ?, 0, ?)`,
  );
  db.transaction(() => {
    const levels = [1, 5, 10].map((t) => [t, Number(insertLevel.run(t).lastInsertRowid)] as const);
    const payload = Number(
      db.prepare(`INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', ?)`).run(now).lastInsertRowid,
    );
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      // Four in five chats on Telegram, the rest Discord channels.
      const platform = i % 5 === 0 ? 'discord' : 'telegram';
      const id = Number(
        insertSub.run(platform, platform === 'discord' ? `1${String(i).padStart(18, '0')}` : `-100${i}`, now)
          .lastInsertRowid,
      );
      insertCooldown.run(id, now);
      for (const [t, level] of levels) insertThreshold.run(id, t, level);
      insertOutbox.run(id, payload, now, now);
    }
  })();
}

async function timed(
  agent: Agent,
  url: string,
  n: number,
): Promise<{ samples: number[]; bytes: number; status: number; cpuMs: number }> {
  const samples: number[] = [];
  let bytes = 0;
  let status = 0;
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await request(url, { dispatcher: agent });
    const body = await res.body.text();
    samples.push(performance.now() - started);
    bytes = body.length;
    status = res.statusCode;
  }
  const used = process.cpuUsage(cpu);
  // Client and server share this process: the CPU figure is both sides of each request.
  return { samples, bytes, status, cpuMs: (used.user + used.system) / 1000 / n };
}

const figures = (s: number[]) =>
  `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms, max ${Math.max(...s).toFixed(2)} ms`;

export default async function operations(log: BenchLog): Promise<void> {
  const scrapes = Math.max(100, Number(process.env.BENCH_SCRAPES ?? 2_000));
  const coingecko = await startBenchCoinGecko();
  const config = loadConfig({ DATABASE_PATH: benchDbPath(), COINGECKO_API_URL: coingecko.url });
  const ops = createOperations({
    host: '127.0.0.1',
    port: 0,
    platforms: ['telegram', 'discord'],
    logger: silentLogger,
    clock: systemClock,
    secrets: [],
  });
  const app = createApp({ config, logger: silentLogger, clock: systemClock, instruments: ops.instruments });
  const seedStart = performance.now();
  seed(app);
  log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} on ${availableParallelism()} cores (figures stretch with it)`,
  );
  log(
    `seeded ${SUBSCRIPTIONS.toLocaleString('en-US')} subscriptions and ${SUBSCRIPTIONS.toLocaleString('en-US')} ` +
      `undelivered alerts in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  // A reading in memory (its evaluation finds every level already above: no new rows); and every command
  // series a busy bot would have.
  await app.core.refresh();
  for (const platform of ['telegram', 'discord'] as const) {
    for (const def of commands) {
      for (const outcome of ['ok', 'refused', 'usage', 'error'] as const)
        ops.metrics.commandRan(platform, commandPath(def), outcome, 1 + Math.random() * 200);
    }
  }
  for (let i = 0; i < 500; i++) ops.metrics.alertsEvaluated(50 + Math.random() * 150);

  const platforms = [connectionState('telegram'), connectionState('discord')];
  for (const p of platforms) p.set('connected');
  const { port } = await ops.start(app, platforms);
  // This instance leads (the one on a SQLite file always does), so it exports the outbox gauge.
  const outboxGauge = ops.outboxGauge(app)();
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 1, pipelining: 1 });

  const stats = app.store.stores.outboxStats;
  const recounts: number[] = [];
  let pending = new Map();
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    pending = await stats.pendingByPlatform();
    recounts.push(performance.now() - started);
  }
  log(
    `outbox recount (off the scrape path, every 10 s while scraped): ${figures(recounts)} over 7 runs; ` +
      `pending ${JSON.stringify(Object.fromEntries(pending))}`,
  );

  await timed(agent, `${base}/metrics`, 100);
  const metrics = await timed(agent, `${base}/metrics`, scrapes);
  log(
    `GET /metrics (${metrics.bytes.toLocaleString('en-US')} bytes, status ${metrics.status}): ` +
      `${figures(metrics.samples)} over ${scrapes.toLocaleString('en-US')} scrapes (target p99 < 5 ms); ` +
      `CPU ${metrics.cpuMs.toFixed(2)} ms per scrape`,
  );
  const readyz = await timed(agent, `${base}/readyz`, scrapes);
  log(
    `GET /readyz (status ${readyz.status}), the machine's floor for one loopback request: ` +
      `${figures(readyz.samples)}; CPU ${readyz.cpuMs.toFixed(2)} ms per request`,
  );

  const inProcess: number[] = [];
  for (let i = 0; i < scrapes; i++) {
    const started = performance.now();
    await ops.metrics.scrape();
    inProcess.push(performance.now() - started);
  }
  log(`registry.metrics() alone, in process: ${figures(inProcess)}`);

  await agent.close();
  outboxGauge.stop();
  await ops.close();
  app.close();
  await coingecko.close();
}
