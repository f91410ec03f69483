/**
 * The inference indexer end to end: a loopback node serves lazily generated logs (a few pre-encoded blobs
 * reused, so the node holds no history), the indexer decodes each with viem and commits hourly counts to a
 * real SQLite file, with the callers of its precompile inferences (50,000 distinct accounts, read from full
 * blocks in JSON-RPC batches) as the bot records them. Figures: logs decoded and counted per second, and peak memory
 * over a 2,000,000-event
 * backfill and a 500,000-event one (memory should not depend on the history's length).
 *
 * Each backfill runs in a fresh process started the way `npm start` starts the bot: the node flags are read
 * from package.json's `start` script, so the figures are the ones a deployed bot would see (V8's heap
 * sizing depends on them more than on anything in the code). The fake node runs in a process of its own
 * too (a real node is another machine: its work must not be billed to the indexer).
 * `BENCH_INDEXER_EVENTS=N` runs one backfill of N events; `BENCH_QUICK` one of 200,000.
 * `BENCH_INDEXER_PARTICIPANTS=off` records no callers (inference counts only), `BENCH_INDEXER_READ_AHEAD=N`
 * sets the ranges asked ahead: both for comparing figures within one run on a noisy machine.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE_ARGS } from '../test/helpers/spawn.js';
import type { BackfillFigures } from './indexer-backfill.js';
import type { BenchLog } from './run.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts the fake node in a child process; resolves its URL and a stop function. */
async function startNodeProcess(events: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./og-node-process.ts', import.meta.url)), String(events)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: chunk.toString().trim(), stop: () => child.kill() };
}

/** Runs one backfill in a fresh process with the bot's node flags. */
async function runBackfill(url: string, events: number): Promise<BackfillFigures> {
  const child = spawn(
    process.execPath,
    [...NODE_ARGS, fileURLToPath(new URL('./indexer-backfill.ts', import.meta.url)), url, String(events)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`backfill process exited with ${code}`);
  return JSON.parse(out) as BackfillFigures;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1_048_576)} MB`;
}

async function backfill(log: BenchLog, events: number, label: string): Promise<void> {
  const node = await startNodeProcess(events);
  let f: BackfillFigures;
  try {
    f = await runBackfill(node.url, events);
  } finally {
    node.stop();
  }
  log(
    `${label}: ${f.logs.toLocaleString('en-US')} logs (${f.inferences.toLocaleString('en-US')} inferences) in ` +
      `${f.seconds.toFixed(1)} s over ${f.chunks} chunks`,
  );
  log(
    `  callers recorded: ${f.callers.toLocaleString('en-US')} accounts, ${f.callerDays.toLocaleString('en-US')} ` +
      `caller-days (each block with precompile logs read once with full transactions, in JSON-RPC batches)`,
  );
  log(
    `  ${Math.round(f.logs / f.seconds).toLocaleString('en-US')} logs decoded and counted per second (target ≥ 20,000)`,
  );
  log(
    `  CPU of the indexer's process: ${f.cpuSeconds.toFixed(1)} s (${Math.round((100 * f.cpuSeconds) / f.seconds)}% ` +
      `of one core, V8's helper threads included; short of 100% is time spent waiting for the node)`,
  );
  log(`  process: node ${f.execArgv.join(' ')} (V8 heap limit ${mb(f.heapLimit)})`);
  log(
    `  memory: at start rss ${mb(f.startRss)} / heap ${mb(f.startHeap)}; peak rss ${mb(f.peakRss)}, ` +
      `heap used ${mb(f.peakHeapUsed)} / total ${mb(f.peakHeapTotal)}, external ${mb(f.peakExternal)} ` +
      `(sampled every 50 ms and after each chunk)`,
  );
  if (f.vmHwm !== null)
    log(`  kernel's rss high-water mark of the process, start-up included (VmHWM): ${mb(f.vmHwm)} (target < 200 MB)`);
  log(`  rss at quarters: ${f.quarters.map((rss, i) => `${25 * (i + 1)}%: ${mb(rss)}`).join(', ')}`);
}

export default async function bench(log: BenchLog): Promise<void> {
  if (process.env.BENCH_QUICK) return backfill(log, 200_000, 'backfill of 200,000 events');
  const events = Number(process.env.BENCH_INDEXER_EVENTS ?? '');
  if (Number.isSafeInteger(events) && events > 0)
    return backfill(log, events, `backfill of ${events.toLocaleString('en-US')} events`);
  await backfill(log, 2_000_000, 'backfill of 2,000,000 events');
  await backfill(log, 500_000, 'backfill of 500,000 events');
}
