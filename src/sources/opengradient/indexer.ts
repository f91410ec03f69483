/**
 * The OpenGradient inference indexer. One pass reads `eth_getLogs` from the stored cursor up to head minus
 * confirmations in adaptive block ranges, decodes each log with viem as it streams in, buckets inferences
 * by hour × mode × kind, and commits each range's counts with the new cursor in one transaction once its
 * answer is complete: a range cut off half-way counts nothing and is read again, so memory stays flat
 * whatever the answer's size and no log is counted twice. While one range streams in, the next ones are
 * asked for (up to `readAhead`), so the node and the decoder work at the same time. A range the node
 * refuses is halved; small answers double the next range. Transient failures back off and retry the same
 * range; when retries are spent the pass ends with the cursor where it was, to resume at the next pass.
 * With `participants`, the same ranges also ask for the TEE registry and task scheduler events, and each
 * range records who sent its precompile inferences, which TEEs settled, and the registry and task events
 * (participant-tally.ts), committed by the store's `commitChunk` in the same transaction as its counts and cursor.
 * Limits: reorgs deeper than the confirmations are not undone; logs flagged `removed` are ignored.
 */
import { retry, type RetryOptions } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { NetworkError, RateLimitedError, UpstreamError, describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import {
  countKey,
  type IndexerStatus,
  type InferenceIndex,
  type InferenceStore,
  type NetworkActivity,
} from '../../core/inferences.js';
import type { ParticipantChunk, ParticipantStore } from '../../core/participants.js';
import { decodeInference, INFERENCE_TOPICS, type InferenceKind, type InferenceMode } from './events.js';
import type { ExplorerSource } from './explorer.js';
import { PARTICIPANT_TOPICS, type ParticipantContracts } from './participant-events.js';
import {
  createParticipantTally,
  resolveParticipants,
  tallyInferenceLog,
  tallyOtherLog,
  type ParticipantTally,
} from './participant-tally.js';
import { JsonRpcError, OG_RPC, type BlockSenders, type OgRpc, type RpcLog } from './rpc.js';

export const HOUR_MS = 3_600_000;

export interface RangeLimits {
  /** Blocks asked for in the first `eth_getLogs`. Default 100. */
  initialBlocks: number;
  /** Never ask for more blocks than this at once. Default 10,000. */
  maxBlocks: number;
  /** An answer with fewer logs than this doubles the next range. Default 250. */
  growBelowLogs: number;
  /**
   * An answer with more logs than this halves the next range. Answers are read as they stream in, so their
   * size costs no memory; this keeps each under the node's limits and its deadline, and a range cut off
   * cheap to read again (inference logs carry 0.3–4 KB of data each). Default 500.
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
  /** Ranges asked for ahead of the one being committed. Default 3. */
  readAhead?: number;
  /** Runs after each committed chunk; tests throw here to simulate a crash. */
  afterChunk?: (chunk: ChunkInfo) => void;
  /** Record callers, TEE operators and workflow developers with each range (DATA-SOURCES.md §4). */
  participants?: ParticipantOptions;
}

export interface ParticipantOptions {
  store: ParticipantStore;
  /** TEE registry contracts whose events are read. */
  teeRegistries: readonly string[];
  /** The workflow task scheduler whose events are read; none when null. */
  taskScheduler: string | null;
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

/** What one range's answer adds up to, built as its logs stream in. */
interface RangeTally {
  /** Logs answered, removed ones included. */
  logs: number;
  /** `hourMs|mode|kind` → inferences. */
  counts: Map<string, number>;
  /** Logs without `blockTimestamp`: block → `mode|kind` → inferences, until their headers are read. */
  untimed: Map<number, Map<string, number>>;
  inferences: number;
  undecodable: number;
  /** The first few undecodable logs and unknown modes, logged once the range is committed. */
  undecodableNotes: Array<{ kind: InferenceKind; tx: string; block: number; reason: string }>;
  unknownModes: Map<string, { kind: InferenceKind; modeNumber: number | null; tx: string }>;
  /** Block time of the range's last block. */
  endTimeMs: number;
  /** Who sent, settled, registered: gathered while streaming, resolved once complete. */
  participants: ParticipantTally | null;
  resolved: ParticipantChunk | null;
}

/** A range asked for, its answer streaming in. */
interface Pending {
  from: number;
  to: number;
  result: Promise<RangeTally>;
  answering: Promise<void>;
  abandon(): void;
}

/** Whether the node refused the range as too wide or the answer as too large, so a smaller one may pass. */
export function isRangeRefusal(err: unknown): boolean {
  if (err instanceof JsonRpcError) {
    return (
      err.code === -32005 ||
      /limit|exceed|more than \d+|too (many|large|big|wide)|range|response size|size/i.test(err.rpcMessage)
    );
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
  const limits: RangeLimits = {
    initialBlocks: 100,
    maxBlocks: 10_000,
    growBelowLogs: 250,
    shrinkAboveLogs: 500,
    ...options.range,
  };
  const retryPolicy: IndexerRetry = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000, ...options.retry };
  const concurrency = options.headerConcurrency ?? 8;
  const readAhead = Math.max(0, options.readAhead ?? 3);
  const inferenceContracts = new Set(options.contracts.map((a) => a.toLowerCase()));
  const participants = options.participants;
  const participantContracts: ParticipantContracts = {
    teeRegistries: new Set(participants?.teeRegistries.map((a) => a.toLowerCase()) ?? []),
    taskScheduler: participants?.taskScheduler?.toLowerCase() ?? null,
  };
  const addresses = [
    ...new Set([
      ...inferenceContracts,
      ...participantContracts.teeRegistries,
      ...(participantContracts.taskScheduler ? [participantContracts.taskScheduler] : []),
    ]),
  ];
  const topic0 = participants ? [...INFERENCE_TOPICS, ...PARTICIPANT_TOPICS] : INFERENCE_TOPICS;
  let participantNotes = 0;
  const unknownModesSeen = new Set<string>();
  let undecodableLogged = 0;
  let span = Math.max(1, Math.min(limits.initialBlocks, limits.maxBlocks));
  let inFlight: Promise<IndexRun> | null = null;
  let stopping = false;

  /** Transient failures are retried unless the indexer is stopping; a rate limit is waited out up to the cap. */
  const retrying: Omit<RetryOptions, 'onRetry'> = {
    attempts: retryPolicy.attempts,
    baseMs: retryPolicy.baseDelayMs,
    maxMs: retryPolicy.maxDelayMs,
    clock,
    shouldRetry: (err) => isTransient(err) && !stopping,
    waitFor: (err) => (err instanceof RateLimitedError ? err.retryAfterMs : undefined),
  };

  /** Logs the notes of a committed range once, so a range read twice (after a failure) never warns twice. */
  function report(tally: RangeTally): void {
    for (const note of tally.unknownModes.values()) {
      const seen = `${note.kind}:${note.modeNumber}`;
      if (unknownModesSeen.has(seen)) continue;
      unknownModesSeen.add(seen);
      logger.warn(note, 'inference with an unknown verification mode; counted as unknown');
    }
    for (const note of tally.undecodableNotes) {
      // A broken contract could emit thousands: the first few are enough to investigate.
      const level = ++undecodableLogged <= 20 ? 'warn' : 'debug';
      logger[level](note, 'undecodable inference log; counted once as unknown');
    }
    const unreported = tally.undecodable - tally.undecodableNotes.length;
    if (unreported > 0)
      logger.debug({ logs: unreported }, 'more undecodable inference logs in this range; counted once each as unknown');
    for (const note of tally.participants?.undecodable ?? []) {
      const level = ++participantNotes <= 20 ? 'warn' : 'debug';
      logger[level](note, 'undecodable TEE registry or task scheduler log; not counted');
    }
  }

  /** Counts one log into the tally of its range. */
  function tallyLog(tally: RangeTally, log: RpcLog): void {
    tally.logs++;
    if (log.removed) return;
    const decoded = decodeInference(log.topics, log.data);
    if (decoded.kind === null) {
      if (tally.participants) tallyOtherLog(tally.participants, log, participantContracts);
      return;
    }
    // The filter asks for registry and scheduler addresses too: an inference event counts from ours only.
    if (!inferenceContracts.has(log.address)) return;
    let kind: InferenceKind;
    let mode: InferenceMode;
    let n: number;
    if (decoded.ok) {
      kind = decoded.kind;
      mode = decoded.mode;
      n = decoded.inferences;
      if (mode === 'unknown' && tally.unknownModes.size < 20) {
        const seen = `${decoded.kind}:${decoded.modeNumber}`;
        if (!tally.unknownModes.has(seen))
          tally.unknownModes.set(seen, { kind: decoded.kind, modeNumber: decoded.modeNumber, tx: log.transactionHash });
      }
    } else {
      kind = decoded.kind;
      mode = 'unknown';
      n = 1;
      tally.undecodable++;
      if (tally.undecodableNotes.length < 20)
        tally.undecodableNotes.push({
          kind: decoded.kind,
          tx: log.transactionHash,
          block: log.blockNumber,
          reason: decoded.reason,
        });
    }
    tally.inferences += n;
    if (tally.participants) tallyInferenceLog(tally.participants, log, kind, n);
    if (log.blockTimestampSec !== null) {
      const key = countKey(Math.floor((log.blockTimestampSec * 1000) / HOUR_MS) * HOUR_MS, mode, kind);
      tally.counts.set(key, (tally.counts.get(key) ?? 0) + n);
    } else {
      let block = tally.untimed.get(log.blockNumber);
      if (!block) tally.untimed.set(log.blockNumber, (block = new Map()));
      const key = `${mode}|${kind}`;
      block.set(key, (block.get(key) ?? 0) + n);
    }
  }

  /** Buckets the counts of logs that came without `blockTimestamp`, by their blocks' cached headers. */
  async function placeUntimed(tally: RangeTally): Promise<void> {
    const blocks = [...tally.untimed.keys()];
    for (let i = 0; i < blocks.length; i += concurrency) {
      const batch = blocks.slice(i, i + concurrency);
      const times = await Promise.all(batch.map((b) => rpc.blockTimeMs(b)));
      batch.forEach((b, j) => {
        const hourMs = Math.floor(times[j]! / HOUR_MS) * HOUR_MS;
        for (const [modeKind, n] of tally.untimed.get(b)!) {
          const key = `${hourMs}|${modeKind}`;
          tally.counts.set(key, (tally.counts.get(key) ?? 0) + n);
        }
      });
    }
    tally.untimed.clear();
  }

  /**
   * Full-block reads of the blocks not yet committed, shared by the ranges that ask for them: a range asked
   * ahead and dropped (split, or asked again at a smaller span) leaves its reads to the range that reads
   * those blocks again, so each block is read once. Entries go once their range is committed, and all of
   * them after a failure other than a refused range (a block may have been read from another fork).
   */
  const blockReads = new Map<number, Promise<BlockSenders | null>>();
  const blockReadsRpc: OgRpc = {
    ...rpc,
    async blocksWithSenders(blocks) {
      const fresh = [...new Set(blocks)].filter((b) => !blockReads.has(b));
      if (fresh.length > 0) {
        const read = rpc.blocksWithSenders(fresh);
        for (const b of fresh) {
          const one = read.then((got) => {
            if (!got.has(b)) throw new UpstreamError(OG_RPC, `block ${b} was not answered`);
            return got.get(b)!;
          });
          one.catch(() => {
            if (blockReads.get(b) === one) blockReads.delete(b);
          });
          blockReads.set(b, one);
        }
      }
      return new Map(await Promise.all(blocks.map(async (b) => [b, await blockReads.get(b)!] as const)));
    },
  };
  const forgetBlockReads = (upTo: number) => {
    for (const b of blockReads.keys()) if (b <= upTo) blockReads.delete(b);
  };

  /**
   * Asks for one range and counts its logs as they stream in. `answering` resolves when the first log has
   * arrived (or the answer is complete, if it has none): the node is answering, and the next range can be
   * asked for. `abandon` stops reading the answer at its next log.
   */
  function scanRange(from: number, to: number): Pending {
    let abandoned = false;
    let answered!: () => void;
    const answering = new Promise<void>((resolve) => (answered = resolve));
    const tally: RangeTally = {
      logs: 0,
      counts: new Map(),
      untimed: new Map(),
      inferences: 0,
      undecodable: 0,
      undecodableNotes: [],
      unknownModes: new Map(),
      endTimeMs: 0,
      participants: participants ? createParticipantTally(blockReadsRpc) : null,
      resolved: null,
    };
    const result = (async () => {
      try {
        // The range's last header too: a node that lacks it (behind its peers) would answer fewer blocks.
        const [endTimeMs] = await Promise.all([
          rpc.blockTimeMs(to),
          rpc.scanLogs({ fromBlock: from, toBlock: to, addresses, topic0 }, (log) => {
            if (abandoned) throw new Error('range abandoned');
            if (tally.logs === 0) answered();
            tallyLog(tally, log);
          }),
        ]);
        answered();
        tally.endTimeMs = endTimeMs;
        // Full blocks first: they fill the header cache that placing untimed counts reads.
        if (tally.participants) tally.resolved = await resolveParticipants(tally.participants, network, concurrency);
        await placeUntimed(tally);
        return tally;
      } catch (err) {
        abandoned = true; // the header may fail first: stop reading logs nobody will count
        throw err;
      }
    })();
    result.catch(() => {}); // a range asked ahead may be dropped unawaited when the pass ends or a range fails
    return {
      from,
      to,
      result,
      answering,
      abandon: () => {
        abandoned = true;
      },
    };
  }

  function withAttempts<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retry(() => fn(), {
      ...retrying,
      onRetry: (err, attempt) =>
        logger.warn({ err: describeError(err), attempt, what }, 'OpenGradient RPC failed; backing off'),
    });
  }

  async function pass(): Promise<IndexRun> {
    const run: IndexRun = {
      ok: true,
      chunks: 0,
      logs: 0,
      inferences: 0,
      nextBlock: options.fromBlock,
      headBlock: null,
      error: null,
    };
    try {
      const state = await store.ensureState(network, options.fromBlock);
      run.nextBlock = state.nextBlock;
      const head = await withAttempts('eth_blockNumber', () => rpc.blockNumber());
      run.headBlock = head;
      if (state.headBlock !== null && head < state.headBlock) {
        logger.warn(
          { head, previousHead: state.headBlock },
          'OpenGradient head moved backwards; reading only up to the new head',
        );
      }
      await store.recordHead(network, head, clock.now());
      const safe = head - options.confirmations;
      let next = state.nextBlock;
      // Where participant history starts: the first range recorded with participants (after an upgrade, the
      // cursor's block then, not the inference history's start).
      let coverage =
        participants && next <= safe && !(await participants.store.coverageOf(network))
          ? {
              fromBlock: next,
              fromBlockTimeMs: await withAttempts('eth_getBlockByNumber', () => rpc.blockTimeMs(next)),
            }
          : undefined;
      // The next range is asked for as soon as the node starts answering the last one asked, so the node
      // prepares it while the ones before stream in, have their blocks read and are counted: up to `readAhead`
      // ranges ahead of the one being committed; none while retrying. Each holds only its tally (its logs are
      // counted as they arrive), and the client's batch limit bounds the full-block answers in flight.
      const ahead: Pending[] = [];
      let reading: Pending | null = null;
      let retries = 0; // failed reads of the range at `next` so far
      const askAhead = () => {
        const last = ahead.at(-1) ?? reading;
        if (!last || ahead.length >= readAhead || retries > 0 || stopping || last.to >= safe) return;
        const asked = scanRange(last.to + 1, Math.min(safe, last.to + span));
        ahead.push(asked);
        void asked.answering.then(askAhead);
      };
      const takeAhead = (): Pending | null => ahead.shift() ?? null;
      const dropAhead = () => {
        for (const p of ahead.splice(0)) p.abandon();
      };
      let failed: Pending | null = null;
      // One committed range from `next`, or nothing once stopping. A range the node refuses is split at once
      // and costs no attempt; any other failure is thrown for `retry` to judge.
      const readRange = async (attempt: number): Promise<void> => {
        retries = attempt - 1;
        while (!stopping) {
          let current = takeAhead();
          if (current?.from !== next) {
            current?.abandon();
            dropAhead();
            current = scanRange(next, Math.min(safe, next + span - 1));
          }
          reading = current;
          void current.answering.then(askAhead);
          try {
            const tally = await current.result;
            const { from, to } = current;
            if (tally.logs < limits.growBelowLogs && to - from + 1 >= span) span = Math.min(limits.maxBlocks, span * 2);
            else if (tally.logs > limits.shrinkAboveLogs) {
              span = Math.max(1, Math.floor((to - from + 1) / 2));
              // Ranges asked ahead at the wider span would answer as much again: ask again at the new one.
              if (ahead.some((p) => p.to - p.from + 1 > span)) dropAhead();
            }
            const found = tally.resolved ? { ...tally.resolved, coverage } : undefined;
            await store.commitChunk(
              {
                network,
                fromBlock: from,
                nextBlock: to + 1,
                counts: tally.counts,
                undecodableLogs: tally.undecodable,
                indexedBlockTimeMs: tally.endTimeMs,
              },
              found,
            );
            coverage = undefined;
            forgetBlockReads(to);
            report(tally);
            run.chunks++;
            run.logs += tally.logs;
            run.inferences += tally.inferences;
            next = to + 1;
            run.nextBlock = next;
            retries = 0;
            options.afterChunk?.({ fromBlock: from, toBlock: to, logs: tally.logs, inferences: tally.inferences });
            return;
          } catch (err) {
            // The range ahead starts after a range that may now be split or retried: ask again later.
            reading = null;
            dropAhead();
            const width = current.to - current.from + 1;
            if (!isRangeRefusal(err)) blockReads.clear();
            if (isRangeRefusal(err) && width > 1) {
              span = Math.max(1, Math.floor(width / 2));
              logger.debug({ fromBlock: current.from, toBlock: current.to, span }, 'range refused; splitting');
              continue;
            }
            failed = current;
            throw err;
          }
        }
      };
      try {
        while (next <= safe && !stopping) {
          await retry(readRange, {
            ...retrying,
            onRetry: (err, attempt) => {
              const { from, to } = failed!;
              // A timeout may be an answer too big to send in time: ask for less as well.
              if (err instanceof NetworkError && to > from) span = Math.max(1, Math.floor((to - from + 1) / 2));
              logger.warn(
                { err: describeError(err), attempt, fromBlock: from, toBlock: to },
                'eth_getLogs failed; backing off',
              );
            },
          });
        }
      } finally {
        reading = null;
        dropAhead();
        blockReads.clear();
      }
    } catch (err) {
      run.ok = false;
      run.error = describeError(err);
      logger.error({ err: run.error, nextBlock: run.nextBlock }, 'indexing pass stopped; the cursor keeps its place');
    }
    try {
      await store.recordRun(network, clock.now(), run.error);
      // The caller figures take a month of caller-days to compute: done here, not when someone asks.
      if (participants && !stopping) await participants.store.warm(clock.now());
      if (options.explorer && !stopping) {
        try {
          await store.saveNetworkActivity(network, await options.explorer.fetchActivity());
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
    async status(): Promise<IndexerStatus | null> {
      const s = await store.state(network);
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
    network: (): Promise<NetworkActivity | null> => store.networkActivity(network),
  };
}
