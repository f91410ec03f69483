/**
 * What the core knows about inferences: the indexer's read model (totals, hourly buckets, progress) and the
 * store the indexer keeps them in. `src/sources/opengradient/indexer.ts` implements `InferenceIndex`,
 * `src/db/inference-store.ts` (SQLite) and `src/db/pg-inference-store.ts` (PostgreSQL) implement
 * `InferenceStore`. Everything answers with Promises, so a store over an asynchronous driver fits the ports.
 */
import type { ParticipantChunk } from './participants.js';

/** One hour of inferences, by verification mode. */
export interface InferenceHour {
  hourMs: number;
  vanilla: number;
  tee: number;
  zkml: number;
  unknown: number;
}

/** Read access to the indexed inference counts (the indexer implements it). */
export interface InferenceReader {
  /** Hourly buckets from `sinceMs` on, oldest first, hours with no inferences omitted. */
  hourly(sinceMs: number): Promise<InferenceHour[]>;
}

/** Inferences per verification mode, and their sum. */
export interface ModeCounts {
  vanilla: number;
  tee: number;
  zkml: number;
  unknown: number;
  total: number;
}

/** The explorer's network counters (Blockscout `/stats`). */
export interface NetworkActivity {
  totalTransactions: number;
  transactionsToday: number;
  fetchedAtMs: number;
}

/** Where the inference indexer stands. Blocks are chain heights; times epoch ms. */
export interface IndexerStatus {
  fromBlock: number;
  /** Everything before this block is counted. */
  nextBlock: number;
  /** The head as last seen, and the highest block the indexer will read (head minus confirmations). */
  headBlock: number | null;
  safeHeadBlock: number | null;
  headSeenAtMs: number | null;
  /** Block time of the last counted block, when known. */
  indexedBlockTimeMs: number | null;
  lastRunAtMs: number | null;
  lastError: string | null;
  lastErrorAtMs: number | null;
  /** Logs that matched an inference event but could not be decoded (counted as `unknown`). */
  undecodableLogs: number;
}

/** Read access to the indexer's totals and progress, for `inferences`, `stats` and `supply`. */
export interface InferenceIndex {
  /** Inferences per mode in hours starting at or after `sinceMs`; all time when omitted. */
  totals(sinceMs?: number): Promise<ModeCounts>;
  /** Null until the indexer has run once. */
  status(): Promise<IndexerStatus | null>;
  network(): Promise<NetworkActivity | null>;
}

/** The indexer's stored place in the chain (one per network); blocks are heights, times epoch ms. */
export interface IndexerStateRow {
  network: string;
  fromBlock: number;
  nextBlock: number;
  indexedBlockTimeMs: number | null;
  headBlock: number | null;
  headSeenAtMs: number | null;
  undecodableLogs: number;
  lastRunAtMs: number | null;
  lastError: string | null;
  lastErrorAtMs: number | null;
}

export interface ChunkCommit {
  network: string;
  /** The cursor the chunk started from; the commit fails if the stored cursor is elsewhere. */
  fromBlock: number;
  /** The new cursor: the block after the chunk's last. */
  nextBlock: number;
  /** `hourMs|mode|kind` → inferences. */
  counts: ReadonlyMap<string, number>;
  undecodableLogs: number;
  /** Block time of `nextBlock - 1` when known; the stored one is kept otherwise. */
  indexedBlockTimeMs: number | null;
}

/** The indexer's store: its cursor, the inference counts and, with each range, the participant findings. */
export interface InferenceStore {
  /** The stored state, created at `fromBlock` on first use. */
  ensureState(network: string, fromBlock: number): Promise<IndexerStateRow>;
  state(network: string): Promise<IndexerStateRow | null>;
  /**
   * Moves the cursor, adds the range's counts and, when given, its participant findings (callers, TEEs,
   * tasks), all in one transaction: a crash leaves either the whole range counted or none of it.
   * @throws Error when the stored cursor is not `commit.fromBlock` (nothing is written then), or when
   * `participants` is given to a store built without a participant store.
   */
  commitChunk(commit: ChunkCommit, participants?: ParticipantChunk): Promise<void>;
  recordHead(network: string, headBlock: number, seenAtMs: number): Promise<void>;
  recordRun(network: string, atMs: number, error: string | null): Promise<void>;
  /** Inferences per mode from `sinceMs` (an hour bucket start) on; all time when omitted. */
  totals(sinceMs?: number): Promise<ModeCounts>;
  hourly(sinceMs: number): Promise<InferenceHour[]>;
  saveNetworkActivity(network: string, activity: NetworkActivity): Promise<void>;
  networkActivity(network: string): Promise<NetworkActivity | null>;
}

/** The key of one count in `ChunkCommit.counts`. */
export const countKey = (hourMs: number, mode: string, kind: string) => `${hourMs}|${mode}|${kind}`;
