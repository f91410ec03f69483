/**
 * The inference indexer end to end: a loopback node serves lazily generated logs (a few pre-encoded blobs
 * reused, so the node holds no history), the indexer decodes each with viem and commits hourly counts to a
 * real SQLite file. Figures: logs decoded and counted per second, and a 2,000,000-event backfill with peak
 * memory sampled through the run. Memory figures are this process's alone: the fake node runs in a child
 * process (a real node is elsewhere), and this module does not load its encoders. Peak RSS is sampled every
 * 50 ms, after each chunk and at the end, and the kernel's high-water mark (VmHWM) is printed beside it.
 * Under default V8 settings the peak is mostly garbage: V8 lets the old generation grow to about four times
 * the live set (~20 MB) before a full collection. To see a capped heap, run
 * `node --max-old-space-size=256 --import tsx bench/run.ts indexer` (V8 then grows it about twofold).
 * `BENCH_INDEXER_EVENTS=N` runs one backfill of N events only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createInferenceStore } from '../src/db/inference-store.js';
import { openDatabase } from '../src/db/open.js';
import { createInferenceIndexer } from '../src/sources/opengradient/indexer.js';
import { createOgRpc } from '../src/sources/opengradient/rpc.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONTRACTS } from '../src/sources/opengradient/events.js';
import { LOGS_PER_BLOCK } from './og-node-shape.js';
import type { BenchLog } from './run.js';

/** Starts the fake node in a child process; resolves its URL and a stop function. */
async function startNodeProcess(events: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./og-node-process.ts', import.meta.url)), String(events)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: chunk.toString().trim(), stop: () => child.kill() };
}

async function backfill(log: BenchLog, events: number, label: string): Promise<void> {
  const blocks = Math.ceil(events / LOGS_PER_BLOCK);
  const node = await startNodeProcess(events);
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-'));
  const database = openDatabase(join(dir, 'bench.sqlite'));
  let peakRss = 0;
  let peakHeap = 0;
  let peakHeapTotal = 0;
  let peakExternal = 0;
  const samples: string[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakHeapTotal = Math.max(peakHeapTotal, m.heapTotal);
    peakExternal = Math.max(peakExternal, m.external);
  };
  const timer = setInterval(sample, 50);
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({ url: node.url, clock: systemClock }),
    store: createInferenceStore(database),
    clock: systemClock,
    logger: silentLogger,
    fromBlock: 0,
    confirmations: 12,
    contracts: DEFAULT_CONTRACTS,
    afterChunk: (c) => {
      sample();
      const quarter = Math.floor((4 * (c.toBlock + 1)) / blocks);
      if (samples.length < quarter) samples.push(`${25 * quarter}%: rss ${mb(process.memoryUsage().rss)}`);
    },
  });
  const { rss: startRss, heapUsed: startHeap } = process.memoryUsage();
  const t0 = performance.now();
  const run = await indexer.runOnce();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  const totals = indexer.totals();
  database.close();
  node.stop();
  rmSync(dir, { recursive: true, force: true });
  if (!run.ok) throw new Error(`backfill failed: ${run.error}`);
  log(`${label}: ${run.logs.toLocaleString('en-US')} logs (${totals.total.toLocaleString('en-US')} inferences) in ${seconds.toFixed(1)} s over ${run.chunks} chunks`);
  log(`  ${Math.round(run.logs / seconds).toLocaleString('en-US')} logs decoded and counted per second (target ≥ 20,000)`);
  log(`  memory of this (the indexer's) process: at start rss ${mb(startRss)} / heap ${mb(startHeap)}; sampled every 50 ms, after each chunk and at the end: peak rss ${mb(peakRss)} (target < 200 MB), peak heap used ${mb(peakHeap)} / total ${mb(peakHeapTotal)}, peak external ${mb(peakExternal)}`);
  const hwm = rssHighWaterMark();
  if (hwm !== null) log(`  kernel's rss high-water mark of this process since it started (VmHWM, all runs so far): ${mb(hwm)}`);
  log(`  rss at quarters: ${samples.join(', ')}`);
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

function mb(bytes: number): string {
  return `${Math.round(bytes / 1_048_576)} MB`;
}

export default async function bench(log: BenchLog): Promise<void> {
  if (process.env.BENCH_QUICK) return backfill(log, 200_000, 'throughput');
  const events = Number(process.env.BENCH_INDEXER_EVENTS ?? '');
  if (Number.isSafeInteger(events) && events > 0) return backfill(log, events, `backfill of ${events.toLocaleString('en-US')} events`);
  // The long backfill first, so its memory figures start from a fresh process.
  await backfill(log, 2_000_000, 'backfill of 2,000,000 events');
  await backfill(log, 200_000, 'throughput');
}
