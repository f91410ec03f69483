/**
 * The OpenGradient inference indexer. One pass reads `eth_getLogs` from the stored cursor up to head minus
 * confirmations in adaptive block ranges, decodes each log with viem, buckets inferences by hour × mode ×
 * kind, and commits each chunk's counts with the new cursor in one transaction. A range the node refuses
 * is halved; small answers double the next range. Transient failures back off and retry the same range;
 * when retries are spent the pass ends with the cursor where it was, to resume at the next pass.
 * Limits: reorgs deeper than the confirmations are not undone; logs flagged `removed` are ignored.
 */
import type { Clock } from '../../core/clock.js';
import { NetworkError, RateLimitedError, UpstreamError, describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { IndexerStatus, InferenceIndex, NetworkActivity } from '../../core/services.js';
import { countKey, type InferenceStore } from '../../db/inference-store.js';
import { decodeInference, INFERENCE_TOPICS } from './events.js';
import type { ExplorerSource } from './explorer.js';
import { JsonRpcError, type OgRpc, type RpcLog } from './rpc.js';

export const HOUR_MS = 3_600_000;

export interface RangeLimits {
  /** Blocks asked for in the first `eth_getLogs`. Default 100. */
  initialBlocks: number;
  /** Never ask for more blocks than this at once. Default 10,000. */
  maxBlocks: number;
  /** An answer with fewer logs than this doubles the next range. Default 250. */
  growBelowLogs: number;
  /**
   * An answer with more logs than this halves the next range, and the next range is not fetched while it
   * is decoded, to keep memory flat: answers stay around a megabyte (inference logs carry 0.3–4 KB of data
   * each). Default 500.
   */
  shrinkAboveLogs: number;
}

export interface IndexerRetry {
  /** Attempts per chunk (and for the head) before the pass gives up. Default 5. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ChunkInfo {
  fromBlock: number;
  toBlock: number;
  logs: number;
  inferences: number;
}

export interface IndexerOptions {
  rpc: OgRpc;
  store: InferenceStore;
  clock: Clock;
  logger: Logger;
  /** Key of the stored cursor. Default `opengradient`. */
  network?: string;
  fromBlock: number;
  confirmations: number;
  /** Contract addresses whose logs count. */
  contracts: readonly string[];
  explorer?: ExplorerSource;
  range?: Partial<RangeLimits>;
  retry?: Partial<IndexerRetry>;
  /** Header fetches in flight at once when logs lack `blockTimestamp`. Default 8. */
  headerConcurrency?: number;
  /** Runs after each committed chunk; tests throw here to simulate a crash. */
  afterChunk?: (chunk: ChunkInfo) => void;
}

export interface IndexRun {
  ok: boolean;
  chunks: number;
  logs: number;
  inferences: number;
  nextBlock: number;
  headBlock: number | null;
  error: string | null;
}

export interface InferenceIndexer extends InferenceIndex {
  /** One pass up to head minus confirmations. Never throws; concurrent calls share one pass. */
  runOnce(): Promise<IndexRun>;
  /** Ends the current pass after its chunk in flight; resolves once it has. */
  stop(): Promise<void>;
}

/** Whether the node refused the range as too wide or the answer as too large, so a smaller one may pass. */
export function isRangeRefusal(err: unknown): boolean {
  if (err instanceof JsonRpcError) {
    return err.code === -32005 || /limit|exceed|more than \d+|too (many|large|big|wide)|range|response size|size/i.test(err.rpcMessage);
  }
  return err instanceof UpstreamError && err.status === 413;
}

function isTransient(err: unknown): boolean {
  return err instanceof NetworkError || err instanceof RateLimitedError || err instanceof UpstreamError;
}

/** An indexer over one node and one store; `runOnce` is what the schedule and `sync` call. */
export function createInferenceIndexer(options: IndexerOptions): InferenceIndexer {
  const { rpc, store, clock, logger } = options;
  const network = options.network ?? 'opengradient';
  const limits: RangeLimits = { initialBlocks: 100, maxBlocks: 10_000, growBelowLogs: 250, shrinkAboveLogs: 500, ...options.range };
  const retry: IndexerRetry = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000, ...options.retry };
  const concurrency = options.headerConcurrency ?? 8;
  const addresses = options.contracts.map((a) => a.toLowerCase());
  const unknownModesSeen = new Set<string>();
  let undecodableLogged = 0;
  let span = Math.max(1, Math.min(limits.initialBlocks, limits.maxBlocks));
  let inFlight: Promise<IndexRun> | null = null;
  let stopping = false;

  async function backoff(attempt: number, err: unknown): Promise<void> {
    const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    const waitMs = err instanceof RateLimitedError ? Math.min(retry.maxDelayMs, Math.max(exp, err.retryAfterMs)) : exp;
    await clock.sleep(waitMs);
  }

  /** Block times for every log, from `blockTimestamp` or cached headers. */
  async function blockTimes(logs: readonly RpcLog[]): Promise<Map<number, number>> {
    const times = new Map<number, number>();
    const wanted = new Set<number>();
    for (const log of logs) {
      if (times.has(log.blockNumber)) continue;
      if (log.blockTimestampSec !== null) times.set(log.blockNumber, log.blockTimestampSec * 1000);
      else wanted.add(log.blockNumber);
    }
    const missing = [...wanted].filter((b) => !times.has(b));
    for (let i = 0; i < missing.length; i += concurrency) {
      const batch = missing.slice(i, i + concurrency);
      const got = await Promise.all(batch.map((b) => rpc.blockTimeMs(b)));
      batch.forEach((b, j) => times.set(b, got[j]!));
    }
    return times;
  }

  /** Counts and empties `logs` (each entry is released once decoded, to keep memory flat). */
  async function count(logs: (RpcLog | undefined)[], times: ReadonlyMap<number, number>) {
    const counts = new Map<string, number>();
    let inferences = 0;
    let undecodable = 0;
    for (let i = 0; i < logs.length; i++) {
      // Let the prefetched answer stream in while this one is decoded.
      if (i % 1_000 === 999) await new Promise<void>((resolve) => setImmediate(resolve));
      const log = logs[i];
      if (log === undefined) continue;
      if (log.removed) {
        logs[i] = undefined;
        continue;
      }
      const hourMs = Math.floor(times.get(log.blockNumber)! / HOUR_MS) * HOUR_MS;
      const decoded = decodeInference(log.topics, log.data);
      // Released as soon as read: its data (kilobytes of hex) can then die young instead of being promoted.
      logs[i] = undefined;
      let key: string;
      let n: number;
      if (decoded.ok) {
        n = decoded.inferences;
        key = countKey(hourMs, decoded.mode, decoded.kind);
        if (decoded.mode === 'unknown') {
          const seen = `${decoded.kind}:${decoded.modeNumber}`;
          if (!unknownModesSeen.has(seen)) {
            unknownModesSeen.add(seen);
            logger.warn({ kind: decoded.kind, modeNumber: decoded.modeNumber, tx: log.transactionHash }, 'inference with an unknown verification mode; counted as unknown');
          }
        }
      } else {
        if (decoded.kind === null) continue; // another event the node matched by accident: not ours to count
        undecodable++;
        n = 1;
        key = countKey(hourMs, 'unknown', decoded.kind);
        // A broken contract could emit thousands: the first few are enough to investigate.
        const level = ++undecodableLogged <= 20 ? 'warn' : 'debug';
        logger[level]({ kind: decoded.kind, tx: log.transactionHash, block: log.blockNumber, reason: decoded.reason }, 'undecodable inference log; counted once as unknown');
      }
      counts.set(key, (counts.get(key) ?? 0) + n);
      inferences += n;
    }
    return { counts, inferences, undecodable };
  }

  interface RangeAnswer {
    logs: RpcLog[];
    endTimeMs: number;
  }

  function fetchRange(from: number, to: number): Promise<RangeAnswer> {
    const answer = (async () => {
      // The range's last header too: a node that lacks it (behind its peers) would answer fewer blocks.
      const [endTimeMs, logs] = await Promise.all([
        rpc.blockTimeMs(to),
        rpc.getLogs({ fromBlock: from, toBlock: to, addresses, topic0: INFERENCE_TOPICS }),
      ]);
      return { logs, endTimeMs };
    })();
    answer.catch(() => {}); // a prefetch may be dropped unawaited when the pass ends
    return answer;
  }

  async function withAttempts<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransient(err) || attempt >= retry.attempts || stopping) throw err;
        logger.warn({ err: describeError(err), attempt, what }, 'OpenGradient RPC failed; backing off');
        await backoff(attempt, err);
      }
    }
  }

  async function pass(): Promise<IndexRun> {
    const run: IndexRun = { ok: true, chunks: 0, logs: 0, inferences: 0, nextBlock: options.fromBlock, headBlock: null, error: null };
    try {
      const state = store.ensureState(network, options.fromBlock);
      run.nextBlock = state.nextBlock;
      const head = await withAttempts('eth_blockNumber', () => rpc.blockNumber());
      run.headBlock = head;
      if (state.headBlock !== null && head < state.headBlock) {
        logger.warn({ head, previousHead: state.headBlock }, 'OpenGradient head moved backwards; reading only up to the new head');
      }
      store.recordHead(network, head, clock.now());
      const safe = head - options.confirmations;
      let next = state.nextBlock;
      // The next range is asked for while this one is decoded and committed, so the node and the decoder
      // work at the same time. A prefetch that fails is handled like any other failed range.
      let ahead: { from: number; to: number; answer: Promise<RangeAnswer> } | null = null;
      while (next <= safe && !stopping) {
        let attempt = 0;
        for (;;) {
          let to = Math.min(safe, next + span - 1);
          let answer: Promise<RangeAnswer>;
          if (ahead && ahead.from === next && ahead.to <= safe) {
            to = ahead.to;
            answer = ahead.answer;
          } else {
            answer = fetchRange(next, to);
          }
          ahead = null;
          try {
            const { logs, endTimeMs } = await answer;
            const from = next;
            if (logs.length < limits.growBelowLogs && to - from + 1 >= span) span = Math.min(limits.maxBlocks, span * 2);
            else if (logs.length > limits.shrinkAboveLogs) span = Math.max(1, Math.floor((to - from + 1) / 2));
            // No prefetch after a large answer (the next range is halved anyway): two large bodies at once
            // would outlive the young generation and swell the heap.
            if (to < safe && !stopping && logs.length <= limits.shrinkAboveLogs) {
              const aheadTo = Math.min(safe, to + span);
              ahead = { from: to + 1, to: aheadTo, answer: fetchRange(to + 1, aheadTo) };
            }
            const times = await blockTimes(logs);
            const logCount = logs.length;
            const { counts, inferences, undecodable } = await count(logs, times);
            store.commitChunk({ network, fromBlock: from, nextBlock: to + 1, counts, undecodableLogs: undecodable, indexedBlockTimeMs: endTimeMs });
            run.chunks++;
            run.logs += logCount;
            run.inferences += inferences;
            next = to + 1;
            run.nextBlock = next;
            options.afterChunk?.({ fromBlock: from, toBlock: to, logs: logCount, inferences });
            break;
          } catch (err) {
            const width = to - next + 1;
            if (isRangeRefusal(err) && width > 1) {
              span = Math.max(1, Math.floor(width / 2));
              logger.debug({ fromBlock: next, toBlock: to, span }, 'range refused; splitting');
              continue;
            }
            attempt++;
            if (!isTransient(err) || attempt >= retry.attempts || stopping) throw err;
            // A timeout may be an answer too big to send in time: ask for less as well.
            if (err instanceof NetworkError && width > 1) span = Math.max(1, Math.floor(width / 2));
            logger.warn({ err: describeError(err), attempt, fromBlock: next, toBlock: to }, 'eth_getLogs failed; backing off');
            await backoff(attempt, err);
          }
        }
      }
    } catch (err) {
      run.ok = false;
      run.error = describeError(err);
      logger.error({ err: run.error, nextBlock: run.nextBlock }, 'indexing pass stopped; the cursor keeps its place');
    }
    try {
      store.recordRun(network, clock.now(), run.error);
      if (options.explorer && !stopping) {
        try {
          store.saveNetworkActivity(network, await options.explorer.fetchActivity());
        } catch (err) {
          logger.warn({ err: describeError(err) }, 'explorer stats unavailable; keeping the last reading');
        }
      }
    } catch (err) {
      // The store closed under a stopping pass: nothing more to record.
      logger.warn({ err: describeError(err) }, 'indexing pass could not record its end');
    }
    return run;
  }

  return {
    runOnce() {
      if (!inFlight) {
        stopping = false;
        inFlight = pass().finally(() => {
          inFlight = null;
        });
      }
      return inFlight;
    },
    async stop() {
      stopping = true;
      await inFlight;
    },
    totals: (sinceMs) => store.totals(sinceMs),
    status(): IndexerStatus | null {
      const s = store.state(network);
      if (!s || s.lastRunAtMs === null) return null;
      const safe = s.headBlock === null ? null : Math.max(0, s.headBlock - options.confirmations);
      return {
        fromBlock: s.fromBlock,
        nextBlock: s.nextBlock,
        headBlock: s.headBlock,
        safeHeadBlock: safe,
        headSeenAtMs: s.headSeenAtMs,
        indexedBlockTimeMs: s.indexedBlockTimeMs,
        lastRunAtMs: s.lastRunAtMs,
        lastError: s.lastError,
        lastErrorAtMs: s.lastErrorAtMs,
        undecodableLogs: s.undecodableLogs,
      };
    },
    network: (): NetworkActivity | null => store.networkActivity(network),
  };
}
