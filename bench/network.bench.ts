/**
 * `/opg network` from a store holding 1,000,000 caller-days (target: under 50 ms an answer). The store is
 * the real SQLite file with the real migrations, filled the way the indexer leaves it: 200,000 accounts,
 * each of the last 180 UTC days holding 5,556 of them (so the last 30 days hold about 167,000 caller-days
 * and the 14 days of the retention window about 78,000), plus 40 TEEs with settlements and heartbeats and
 * 2,000 workflow tasks. Answers go through the same `runText` the front ends call; ranges are committed
 * between them through an inference store on the app's participant store, as the app's indexer commits them.
 *
 * Measured (p50 / p99 / max):
 * - the caller figures computed with nothing cached (a fresh store's `warm`);
 * - cold: the first answer after a range that adds to a past day. The indexer's pass ends before midnight
 *   (and warms), then the range that crosses midnight adds a caller-day of yesterday; the answer comes before
 *   the pass's own warm-up. To repeat it, each sample first commits a range that sets the counted block time
 *   back to 30 s before midnight (the store takes what it is given; a chain never goes back);
 * - after a head commit: what a person sees while the indexer runs at the head, a range of today's
 *   caller-days committed before each answer (and for `stats` and `chart callers`);
 * - with nothing committed between answers.
 */
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Actor, ChatRef } from '../src/core/command.js';
import { callerDayKey } from '../src/core/participants.js';
import { silentLogger } from '../src/core/logger.js';
import { createInferenceStore } from '../src/db/inference-store.js';
import { openDatabase } from '../src/db/open.js';
import { createParticipantStore, type SqliteParticipantStore } from '../src/db/participant-store.js';
import type { BenchLog } from './run.js';
import { benchClock, benchDbPath, percentile, startBenchCoinGecko } from './support.js';

const DAY_MS = 86_400_000;
const CALLERS = 200_000;
const DAYS = 180;
const PER_DAY = Math.ceil(1_000_000 / DAYS);
const actor: Actor = { id: 'bench', name: 'bench', isModerator: async () => false };
const chat: ChatRef = { platform: 'console', chatId: 'bench' };

/** Fills the store as a long-running indexer would have; returns the caller-days written. */
function fill(path: string, nowMs: number): number {
  const database = openDatabase(path);
  const { sqlite } = database;
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const first = today - (DAYS - 1) * DAY_MS;
  let rows = 0;
  sqlite.transaction(() => {
    sqlite
      .prepare(
        'insert into indexer_state (network, from_block, next_block, indexed_block_time_ms, head_block, ' +
          "head_seen_at_ms, last_run_at_ms) values ('opengradient', 0, 9000000, ?, 9000012, ?, ?)",
      )
      .run(nowMs - 60_000, nowMs, nowMs);
    sqlite
      .prepare(
        "insert into participant_coverage (network, from_block, from_block_time_ms) values ('opengradient', 0, ?)",
      )
      .run(first - DAY_MS);
    const firstDay = new Float64Array(CALLERS).fill(Number.POSITIVE_INFINITY);
    const addDay = sqlite.prepare('insert into caller_days (day_ms, caller_id, inferences) values (?, ?, ?)');
    // Each day a window of PER_DAY accounts sliding by a prime stride: accounts return after varying gaps.
    for (let d = 0; d < DAYS; d++) {
      const dayMs = first + d * DAY_MS;
      const seen = new Set<number>();
      for (let k = 0; k < PER_DAY && rows < 1_000_000; k++) {
        const id = (d * 7_919 + k * 37) % CALLERS;
        if (seen.has(id)) continue;
        seen.add(id);
        addDay.run(dayMs, id + 1, 1 + ((id * 31 + d) % 17));
        if (firstDay[id]! > dayMs) firstDay[id] = dayMs;
        rows++;
      }
    }
    const addCaller = sqlite.prepare('insert into callers (id, address, first_day_ms) values (?, ?, ?)');
    firstDay.forEach((ms, id) => {
      if (Number.isFinite(ms)) addCaller.run(id + 1, `0x${id.toString(16).padStart(40, '0')}`, ms);
    });
    const addTeeDay = sqlite.prepare('insert into tee_days (day_ms, tee_id, settlements) values (?, ?, ?)');
    const addTee = sqlite.prepare(
      'insert into tees (registry, tee_id, tee_type, owner, registered_at_ms, enabled, last_heartbeat_ms) ' +
        'values (?, ?, ?, ?, ?, ?, ?)',
    );
    for (let t = 0; t < 40; t++) {
      const teeId = `0x${t.toString(16).padStart(64, '0')}`;
      addTee.run(
        '0x4e72238852f3c918f4e4e57aec9280ddb0c80248',
        teeId,
        t % 2,
        '0x01',
        first,
        t % 5 === 0 ? 0 : 1,
        nowMs - t * 3_600_000,
      );
      for (let d = 0; d < DAYS; d++) addTeeDay.run(first + d * DAY_MS, teeId, 100 + t);
    }
    const addTask = sqlite.prepare(
      'insert into workflow_tasks (user, contract_address, end_time_sec, frequency, registered, stopped, ' +
        'updated_at_ms) values (?, ?, ?, 60, 1, ?, ?)',
    );
    for (let i = 0; i < 2_000; i++)
      addTask.run(
        `0x${(i % 700).toString(16).padStart(40, '0')}`,
        `0x${i.toString(16).padStart(40, '0')}`,
        Math.floor(nowMs / 1000) + (i % 3 === 0 ? -1 : 1) * 86_400,
        i % 4 === 0 ? 1 : 0,
        nowMs,
      );
  })();
  database.close();
  return rows;
}

/** Times `run` `n` times after 3 unmeasured runs; `before` runs ahead of each, unmeasured. */
async function time(run: () => Promise<unknown>, n: number, before: () => Promise<unknown> = async () => {}) {
  const samples: number[] = [];
  for (let i = -3; i < n; i++) {
    await before();
    const t = process.hrtime.bigint();
    await run();
    if (i >= 0) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples;
}

const summary = (s: number[]) =>
  `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, ` +
  `max ${Math.max(...s).toFixed(1)} ms (${s.length} answers)`;

export default async function bench(log: BenchLog): Promise<void> {
  const path = benchDbPath();
  const clock = benchClock(Date.parse('2026-12-01T10:00:00Z'));
  const t0 = performance.now();
  const rows = fill(path, clock.now());
  log(
    `store: ${rows.toLocaleString('en-US')} caller-days of ${CALLERS.toLocaleString('en-US')} accounts ` +
      `over ${DAYS} days, filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const cg = await startBenchCoinGecko();
  const app = createApp({
    config: loadConfig({ COINGECKO_API_URL: cg.url, DATABASE_PATH: path }),
    logger: silentLogger,
    clock,
  });
  try {
    await app.core.refresh();
    const cold: number[] = [];
    for (let i = 0; i < 7; i++) {
      const fresh = createParticipantStore(app.database!);
      const t = process.hrtime.bigint();
      await fresh.warm(clock.now());
      cold.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    log(`caller figures computed with nothing cached (a fresh store's warm-up): ${summary(cold)}`);

    // Ranges committed as the app's indexer commits them: through an inference store on the app's participants.
    const participants = app.services.participants as SqliteParticipantStore;
    const inferences = createInferenceStore(app.database!, participants);
    const today = Math.floor(clock.now() / DAY_MS) * DAY_MS;
    let next = 9_000_000; // the cursor `fill` left
    let k = 0;
    const commit = async (blockTimeMs: number, days: number[]) => {
      k++;
      const callerDays = new Map(
        days.map((d, i) => [callerDayKey(d, `0x${((k * 7 + i) % CALLERS).toString(16).padStart(40, '0')}`), 1]),
      );
      await inferences.commitChunk(
        {
          network: 'opengradient',
          fromBlock: next,
          nextBlock: next + 5,
          counts: new Map(),
          undecodableLogs: 0,
          indexedBlockTimeMs: blockTimeMs,
        },
        { network: 'opengradient', callerDays, teeDays: new Map(), events: [] },
      );
      next += 5;
    };
    const network = () => app.runText('network', chat, actor);

    const pastDay = async () => {
      await commit(today - 30_000, [today - DAY_MS]); // the last range before midnight
      await participants.warm(clock.now()); // the end of that pass
      await commit(today + 10_000, [today - DAY_MS, today]); // the range across midnight
    };
    const afterPastDay = await time(network, 10, pastDay);
    log(`/opg network, first answer after a range that adds to yesterday (cold): ${summary(afterPastDay)}`);

    const head = () => commit(clock.now() - 30_000 + k, [today, today, today]);
    const r = await network();
    log(`reply: ${r.fields.find((f) => f.label === 'Callers, last 7 full UTC days')?.value}`);
    const afterHead = await time(network, 50, head);
    log(`/opg network, a range at the head committed before each: ${summary(afterHead)} (target < 50 ms)`);
    log(`/opg network, nothing committed between: ${summary(await time(network, 50))}`);
    log(
      `stats (with its callers line), a range at the head before each: ` +
        `${summary(await time(() => app.runText('stats', chat, actor), 50, head))}`,
    );
    log(
      `chart callers 90d (13 weekly bars, PNG rendered each time), a range at the head before each: ` +
        `${summary(await time(() => app.runText('chart callers 90d', chat, actor), 10, head))}`,
    );
  } finally {
    app.close();
    await cg.close();
  }
}
