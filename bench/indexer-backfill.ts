/**
 * One backfill, in a process of its own started the way `npm start` starts the bot (see indexer.bench.ts):
 * `indexer-backfill.ts <node url> <events>` indexes every block the node serves into a fresh SQLite file and
 * prints one line of JSON with the figures. Memory is sampled every 50 ms and after each chunk; the kernel's
 * high-water mark (VmHWM) covers the whole process, start-up included, and no sampling interval can miss it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createInferenceStore } from '../src/db/inference-store.js';
import { createParticipantStore } from '../src/db/participant-store.js';
import { openDatabase } from '../src/db/open.js';
import { DEFAULT_CONTRACTS } from '../src/sources/opengradient/events.js';
import { DEFAULT_TASK_SCHEDULER, DEFAULT_TEE_REGISTRIES } from '../src/sources/opengradient/participant-events.js';
import { createInferenceIndexer } from '../src/sources/opengradient/indexer.js';
import { createOgRpc } from '../src/sources/opengradient/rpc.js';
import { LOGS_PER_BLOCK } from './og-node-shape.js';
import { Agent } from 'undici';

export interface BackfillFigures {
  logs: number;
  inferences: number;
  /** Distinct callers and caller-days recorded. */
  callers: number;
  callerDays: number;
  chunks: number;
  seconds: number;
  /** CPU time of this process during the backfill (all its threads, user and system). */
  cpuSeconds: number;
  /** After loading every module, before the backfill. */
  startRss: number;
  startHeap: number;
  peakRss: number;
  peakHeapUsed: number;
  peakHeapTotal: number;
  peakExternal: number;
  /** The kernel's peak resident set of this process (Linux), null elsewhere. */
  vmHwm: number | null;
  /** rss at each quarter of the history. */
  quarters: number[];
  /** V8's heap limit in this process: shows the node flags took effect. */
  heapLimit: number;
  execArgv: string[];
}

/** The kernel's peak resident set of this process (Linux), which no sampling interval can miss; null elsewhere. */
function rssHighWaterMark(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

async function backfill(url: string, events: number): Promise<BackfillFigures> {
  const blocks = Math.ceil(events / LOGS_PER_BLOCK);
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-'));
  const database = openDatabase(join(dir, 'bench.sqlite'));
  let peakRss = 0;
  let peakHeapUsed = 0;
  let peakHeapTotal = 0;
  let peakExternal = 0;
  const quarters: number[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeapUsed = Math.max(peakHeapUsed, m.heapUsed);
    peakHeapTotal = Math.max(peakHeapTotal, m.heapTotal);
    peakExternal = Math.max(peakExternal, m.external);
    return m;
  };
  const timer = setInterval(sample, 50);
  const participants = createParticipantStore(database);
  // Knobs for comparing within one run: `BENCH_INDEXER_PARTICIPANTS=off` indexes inferences only,
  // `BENCH_INDEXER_READ_AHEAD=N` asks N ranges ahead (the indexer's default when unset).
  const withParticipants = process.env.BENCH_INDEXER_PARTICIPANTS !== 'off';
  const readAhead = process.env.BENCH_INDEXER_READ_AHEAD ? Number(process.env.BENCH_INDEXER_READ_AHEAD) : undefined;
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({ dispatcher: new Agent(), url, clock: systemClock }),
    store: createInferenceStore(database, participants),
    clock: systemClock,
    logger: silentLogger,
    fromBlock: 0,
    confirmations: 12,
    contracts: DEFAULT_CONTRACTS,
    participants: withParticipants
      ? { store: participants, teeRegistries: DEFAULT_TEE_REGISTRIES, taskScheduler: DEFAULT_TASK_SCHEDULER }
      : undefined,
    readAhead,
    afterChunk: (c) => {
      const { rss } = sample();
      if (quarters.length < Math.floor((4 * (c.toBlock + 1)) / blocks)) quarters.push(rss);
    },
  });
  const { rss: startRss, heapUsed: startHeap } = process.memoryUsage();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = await indexer.runOnce();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  sample();
  const totals = await indexer.totals();
  const callers = (database.sqlite.prepare('select count(*) as n from callers').get() as { n: number }).n;
  const callerDays = (database.sqlite.prepare('select count(*) as n from caller_days').get() as { n: number }).n;
  database.close();
  rmSync(dir, { recursive: true, force: true });
  if (!run.ok) throw new Error(`backfill failed: ${run.error}`);
  return {
    logs: run.logs,
    inferences: totals.total,
    callers,
    callerDays,
    chunks: run.chunks,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startRss,
    startHeap,
    peakRss,
    peakHeapUsed,
    peakHeapTotal,
    peakExternal,
    vmHwm: rssHighWaterMark(),
    quarters,
    heapLimit: v8.getHeapStatistics().heap_size_limit,
    execArgv: process.execArgv,
  };
}

const [url, events] = process.argv.slice(2);
process.stdout.write(`${JSON.stringify(await backfill(url!, Number(events)))}\n`);
