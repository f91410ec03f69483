/**
 * Alerts: (1) evaluation of 100,000 subscriptions × 3 thresholds after one refresh (target < 200 ms; seven
 * rounds on fresh databases, `BENCH_EVAL_ROUNDS` to change, reported as min / median / max), in
 * the cases a refresh can bring: first sight, a quiet tick, every subscription crossing, every crossing
 * deferred by the cooldown, and the steady state after (the last alerts delivered, pending crossings due,
 * several thresholds at once), on a test clock so cooldowns pass at once; the same steps on PostgreSQL
 * (`BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else 127.0.0.1:5432/test; target for the worst case,
 * 0.5x → 13.2x, a median under 1 s; skipped, saying so, without a server). An evaluation writes one outbox
 * fan-out row per distinct message; the split into per-chat rows, which the dispatcher's next sweep does, is
 * timed on its own line after the worst case; (2) a fan-out of Telegram alerts through the
 * dispatcher against a loopback Bot
 * API that enforces 25/s overall, 1/s per chat and 20/min per group and answers 429 past them (target ≥ 90%
 * of 25/s, no 429). The fan-out runs on the real clock: 10,000 alerts take ~7 min, so the default is 2,000;
 * `BENCH_FANOUT_ALERTS=10000 npx tsx bench/run.ts alerts` runs the full one, `BENCH_FANOUT_ALERTS=0` skips it.
 *
 * The sink is the one the bot delivers alerts through: the Telegram front end's `createTelegramSink`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock, type Clock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import type { Snapshot } from '../src/core/snapshot.js';
import { BOT_API_LIMITS, startTelegramServer } from '../test/helpers/telegram-server.js';
import { createTestClock } from '../test/helpers/clock.js';
import { marketWithRatio } from '../test/helpers/alerts.js';
import pg from 'pg';
import { alertReply } from '../src/core/alert-messages.js';
import { crossingsAt, downBoundOf } from '../src/core/alerts.js';
import { prepareFanoutSplit } from '../src/db/alert-outbox.js';
import { createPgAlertStores } from '../src/db/pg-alert-stores.js';
import { splitFanouts } from '../src/db/pg-alert-outbox.js';
import { openPostgres } from '../src/db/postgres.js';
import { describePostgresUrl } from '../src/db/postgres-settings.js';
import { createTelegramSink } from '../src/adapters/telegram/sink.js';
import type { BenchLog } from './run.js';

const SUBSCRIPTIONS = 100_000;
/** The default `ALERT_HYSTERESIS`. */
const HYSTERESIS = 0.1;

function snapshot(ratio: number, nowMs: number): Snapshot {
  return {
    market: { source: 'CoinGecko', data: marketWithRatio(ratio), fetchedAtMs: nowMs, error: null, failedAtMs: null },
  };
}

function freshApp(dir: string, name: string, clock: Clock = systemClock) {
  const config = loadConfig({ DATABASE_PATH: join(dir, `${name}.sqlite`) });
  return createApp({ config, logger: silentLogger, clock });
}

interface StepResult {
  label: string;
  ms: number;
  counts: string;
}

/**
 * The evaluation bench, `BENCH_EVAL_ROUNDS` times (default 7) on a fresh database each, reported per step
 * as min / median / max: a single run on two shared cores can be off by half.
 */
async function evaluation(log: BenchLog, dir: string): Promise<void> {
  const rounds = Math.max(1, Number(process.env.BENCH_EVAL_ROUNDS ?? 7));
  const results: StepResult[][] = [];
  for (let round = 0; round < rounds; round++) results.push(await evaluationRound(dir, `evaluation-${round}`));
  report(
    log,
    `SQLite: ${SUBSCRIPTIONS.toLocaleString('en-US')} subscriptions × 3 thresholds (1x, 5x, 10x), cooldown 60 min; ` +
      `${rounds} rounds, min / median / max`,
    results,
  );
}

function report(log: BenchLog, title: string, results: StepResult[][]): void {
  log(title);
  results[0]!.forEach((step, i) => {
    const times = results.map((r) => r[i]!.ms).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const figures = [times[0]!, median, times.at(-1)!].map((t) => t.toFixed(1)).join(' / ');
    log(`${step.label.padEnd(58)} ${figures.padStart(23)} ms  (${step.counts})`);
  });
}

/** The refreshes every evaluation round goes through, in order; `advance` lets a cooldown pass first. */
const STEPS: ReadonlyArray<{ label: string; ratio: number; advanceMinutes?: number }> = [
  { label: 'first sight at 0.8x (300k thresholds: sides recorded)', ratio: 0.8 },
  { label: 'quiet refresh 0.8x → 0.85x', ratio: 0.85 },
  { label: 'quiet refresh 0.85x → 0.9x', ratio: 0.9 },
  { label: 'every subscription crosses 1x (0.9x → 2x)', ratio: 2 },
  { label: 'every subscription crosses 5x inside cooldown', ratio: 6 },
  { label: 'quiet refresh with 100k pending (6x → 6.1x)', ratio: 6.1 },
  { label: 'cooldown over: 10x crossed, merged with pending 5x', ratio: 12, advanceMinutes: 60 },
  { label: 'all three cross down at once, inside cooldown', ratio: 0.5 },
  { label: 'cooldown over: 100k pending messages due, nothing fresh', ratio: 0.5, advanceMinutes: 60 },
  { label: '0.5x → 13.2x: three thresholds at once, 300k crossings', ratio: 13.2, advanceMinutes: 60 },
];

/** The line for the split of the worst case's fan-outs, which the dispatcher does at its next sweep. */
const SPLIT_LABEL = '  then its fan-out split into outbox rows (next sweep)';

/** The PostgreSQL server the bench uses: `BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else this machine's. */
const PG_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The same rounds on the real PostgreSQL server, through the PostgreSQL alert stores (one fresh database
 * per round, created and dropped here), evaluated as the alerts service does (its `crossingsAt`, its
 * alert message). Skipped, saying so, when no server answers.
 */
async function postgresEvaluation(log: BenchLog): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch (err) {
    log(`PostgreSQL evaluation skipped: no server at ${describePostgresUrl(PG_URL)} (${(err as Error).message})`);
    return;
  }
  const rounds = Math.max(1, Number(process.env.BENCH_EVAL_ROUNDS ?? 7));
  const results: StepResult[][] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const name = `opg_bench_${process.pid}_${round}`;
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const url = new URL(PG_URL);
        url.pathname = `/${name}`;
        results.push(await postgresRound(url.toString()));
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
  } finally {
    await admin.end();
  }
  report(
    log,
    `PostgreSQL (${describePostgresUrl(PG_URL)}): the same steps; ${rounds} rounds, min / median / max`,
    results,
  );
}

async function postgresRound(url: string): Promise<StepResult[]> {
  const store = await openPostgres(url, { setting: 'BENCH_DATABASE_URL' });
  try {
    const { pool } = store;
    const startMs = Date.now();
    // What `alerts subscribe` writes: the subscription, its cooldown row, its thresholds in the unseen level of their
    // ratio.
    await pool.query(`INSERT INTO alert_levels (ratio, side) VALUES (1, NULL), (5, NULL), (10, NULL)`);
    await pool.query(
      `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status)
       SELECT 'telegram', '-100' || i, 'bench', $1, 'active' FROM generate_series(0, $2 - 1) AS i`,
      [startMs, SUBSCRIPTIONS],
    );
    await pool.query(
      `INSERT INTO alert_cooldowns (subscription_id, cooldown_minutes) SELECT id, 60 FROM alert_subscriptions`,
    );
    await pool.query(
      `INSERT INTO alert_thresholds (subscription_id, ratio, level_id) ` +
        `SELECT s.id, l.ratio, l.id FROM alert_subscriptions s CROSS JOIN alert_levels l`,
    );
    await pool.query('VACUUM ANALYZE');
    const evaluation = createPgAlertStores(store.db).evaluation;
    let nowMs = startMs;
    const steps: StepResult[] = [];
    for (const step of STEPS) {
      nowMs += (step.advanceMinutes ?? 0) * 60_000;
      const market = marketWithRatio(step.ratio);
      const fetchedAtMs = nowMs;
      const started = performance.now();
      const r = await evaluation.evaluate({
        ratio: step.ratio,
        nowMs,
        fetchedAtMs,
        downBound: downBoundOf(step.ratio, HYSTERESIS),
        crossingsOf: crossingsAt(step.ratio, nowMs, HYSTERESIS),
        message: (crossings) => alertReply(crossings, market, fetchedAtMs, 'CoinGecko', HYSTERESIS),
      });
      const ms = performance.now() - started;
      steps.push({
        label: step.label,
        ms,
        counts: r ? `${r.crossings} crossings, ${r.messages} messages, ${r.deferred} deferred` : 'superseded',
      });
      // Between steps: the dispatcher's next sweep splits the fan-outs (timed after the last step), then it
      // delivered everything queued so far (not timed).
      const splitStarted = performance.now();
      const rows = await splitFanouts(store.db);
      if (step === STEPS.at(-1))
        steps.push({ label: SPLIT_LABEL, ms: performance.now() - splitStarted, counts: `${rows} rows` });
      await pool.query(`UPDATE alert_outbox SET sent_at_ms = $1, attempts = 1 WHERE sent_at_ms IS NULL`, [nowMs]);
      nowMs += 60_000;
    }
    return steps;
  } finally {
    await store.close();
  }
}

async function evaluationRound(dir: string, name: string): Promise<StepResult[]> {
  // A test clock (starting now), so the bench can let a cooldown pass without waiting an hour.
  const clock = createTestClock(Date.now());
  const app = freshApp(dir, name, clock);
  const db = app.database!.sqlite;
  const insertSub = db.prepare(
    `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status) ` +
      `VALUES ('telegram', ?, 'bench', ?, 'active')`,
  );
  // What `alerts subscribe` writes: the subscription, its cooldown row, its thresholds in the unseen level of their
  // ratio.
  const insertLevel = db.prepare(`INSERT INTO alert_levels (ratio, side) VALUES (?, NULL)`);
  const insertThreshold = db.prepare(
    `INSERT INTO alert_thresholds (subscription_id, ratio, level_id) VALUES (?, ?, ?)`,
  );
  const insertCooldown = db.prepare(`INSERT INTO alert_cooldowns (subscription_id, cooldown_minutes) VALUES (?, 60)`);
  db.transaction(() => {
    const levels = [1, 5, 10].map((t) => [t, Number(insertLevel.run(t).lastInsertRowid)] as const);
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const id = Number(insertSub.run(`-100${i}`, Date.now()).lastInsertRowid);
      insertCooldown.run(id);
      for (const [t, level] of levels) insertThreshold.run(id, t, level);
    }
  })();
  // Between steps: the dispatcher splits the evaluation's fan-outs into per-chat rows at its next sweep (timed
  // after the last step, as its own line), then delivered everything queued so far (not timed).
  const split = prepareFanoutSplit(app.database!);
  const deliverAll = db.prepare(`UPDATE alert_outbox SET sent_at_ms = ?, attempts = 1 WHERE sent_at_ms IS NULL`);

  const steps: StepResult[] = [];
  for (const [i, s] of STEPS.entries()) {
    clock.advance((s.advanceMinutes ?? 0) * 60_000);
    const started = performance.now();
    const r = await app.alerts.evaluate(snapshot(s.ratio, clock.now()));
    const ms = performance.now() - started;
    steps.push({
      label: s.label,
      ms,
      counts: `${r.crossings} crossings, ${r.messages} messages, ${r.deferred} deferred`,
    });
    const splitStarted = performance.now();
    const rows = split();
    if (i === STEPS.length - 1)
      steps.push({ label: SPLIT_LABEL, ms: performance.now() - splitStarted, counts: `${rows} rows` });
    deliverAll.run(clock.now());
    clock.advance(60_000);
  }
  app.close();
  rmSync(join(dir, `${name}.sqlite`), { force: true });
  return steps;
}

async function fanOut(log: BenchLog, dir: string): Promise<void> {
  const alerts = Number(process.env.BENCH_FANOUT_ALERTS ?? 2_000);
  if (alerts <= 0) return;
  const chats = Math.max(1, Math.round(alerts / 10));
  const bot = await startTelegramServer({ limits: BOT_API_LIMITS });
  const app = freshApp(dir, 'fanout');
  const db = app.database!.sqlite;
  const insertSub = db.prepare(
    `INSERT INTO alert_subscriptions (platform, chat_id, created_by, created_at_ms, status) ` +
      `VALUES ('telegram', ?, 'bench', ?, 'active')`,
  );
  const payload = Number(
    db.prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, '[]', ?)`).run(
      JSON.stringify({
        kind: 'info',
        title: 'OPG volume / market cap crossed above 5x',
        lines: [],
        fields: [],
        notices: [],
        buttons: [],
        ephemeral: false,
      }),
      Date.now(),
    ).lastInsertRowid,
  );
  const enqueue = db.prepare(
    `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, next_attempt_at_ms) ` +
      `VALUES (?, 'alert', ?, ?, 0)`,
  );
  db.transaction(() => {
    // Half groups (negative ids, 20/min each), half private chats; one refresh's worth of alerts at a time.
    const ids = Array.from({ length: chats }, (_, i) =>
      Number(insertSub.run(i % 2 === 0 ? `-100${i}` : `${10_000 + i}`, Date.now()).lastInsertRowid),
    );
    for (let n = 0; n < alerts; n++) enqueue.run(ids[n % chats]!, payload, Date.now());
  })();
  const sink = createTelegramSink({ apiRoot: bot.url, token: bot.token, logger: silentLogger });
  app.alerts.registerSink(sink);
  log(
    `fan-out: ${alerts.toLocaleString('en-US')} alerts over ${chats.toLocaleString('en-US')} chats (half groups), ` +
      `Bot API limits 25/s, 1/s per chat, 20/min per group`,
  );
  const started = performance.now();
  await app.alerts.dispatcher.drain();
  const tookS = (performance.now() - started) / 1000;
  const sent = bot.sent.length;
  const spanS = sent > 1 ? (bot.sent[sent - 1]!.atMs - bot.sent[0]!.atMs) / 1000 : tookS;
  const rate = (sent - 1) / spanS;
  log(
    `delivered ${sent} in ${tookS.toFixed(1)} s: ${rate.toFixed(2)} msg/s = ${((rate / 25) * 100).toFixed(1)}% ` +
      `of 25/s; 429 answers: ${bot.tooMany()}`,
  );
  const unsent = (db.prepare(`SELECT count(*) AS n FROM alert_outbox WHERE sent_at_ms IS NULL`).get() as { n: number })
    .n;
  log(`rows left unsent: ${unsent}`);
  await bot.close();
  app.close();
}

export default async function alertsBench(log: BenchLog): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-alerts-'));
  try {
    await evaluation(log, dir);
    await postgresEvaluation(log);
    await fanOut(log, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
