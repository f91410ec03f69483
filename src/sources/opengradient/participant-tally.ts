/**
 * What one indexed range says about who uses the network (DATA-SOURCES.md §4), gathered as its logs stream
 * in and resolved once the range's answer is complete:
 * - callers: each precompile inference log's transaction, by block; the block is then read once with full
 *   transactions (`eth_getBlockByNumber(n, true)`, in batches) for the transaction's `from` and the day;
 * - operators: each `IndividualSettlement`'s `teeId` (topic 1), by block; registry events in chain order;
 * - developers: task scheduler events in chain order.
 * `IndividualSettlement.ethAddress` and `BatchSettlement` name no user and are not read as callers.
 */
import { UpstreamError } from '../../core/errors.js';
import { callerDayKey, dayStart, type ParticipantChunk } from '../../core/participants.js';
import type { InferenceKind } from './events.js';
import { decodeParticipant, type ParticipantContracts, type ParticipantEvent } from './participant-events.js';
import { OG_RPC, type BlockSenders, type OgRpc, type RpcLog } from './rpc.js';

const PRECOMPILE_KINDS: ReadonlySet<InferenceKind> = new Set(['ml', 'llm_chat', 'llm_completion']);

export interface ParticipantTally {
  /** block → transaction hash → precompile inference events in it. */
  txs: Map<number, Map<string, number>>;
  /** block → teeId → `IndividualSettlement` events. */
  settlements: Map<number, Map<string, number>>;
  events: Array<{ block: number; event: ParticipantEvent }>;
  /** Block times the logs carried (`blockTimestamp`), for the blocks above. */
  logTimesMs: Map<number, number>;
  /** The first few participant logs that did not decode, for the log. */
  undecodable: Array<{ tx: string; block: number; reason: string }>;
  undecodableCount: number;
  /** Blocks with precompile logs not yet asked for, and the full-block reads under way. */
  unfetched: number[];
  fetches: Array<Promise<Map<number, BlockSenders | null>>>;
  rpc: OgRpc;
  /** Blocks gathered before their full-block read starts, while the range still streams in. */
  prefetchBlocks: number;
}

/**
 * A tally for one range. Full blocks are asked for while the range's logs still stream in, every
 * `prefetchBlocks` new blocks with precompile logs, so the node prepares them while the logs are decoded
 * and little is left to read once the range's answer is complete. The client's batch limit (rpc.ts) bounds
 * how many of these reads are in flight, whatever the number of ranges asking.
 */
export function createParticipantTally(rpc: OgRpc, prefetchBlocks = 10): ParticipantTally {
  return {
    txs: new Map(),
    settlements: new Map(),
    events: [],
    logTimesMs: new Map(),
    undecodable: [],
    undecodableCount: 0,
    unfetched: [],
    fetches: [],
    rpc,
    prefetchBlocks,
  };
}

function fetchUnfetched(t: ParticipantTally): void {
  if (t.unfetched.length === 0) return;
  const fetch = t.rpc.blocksWithSenders(t.unfetched);
  fetch.catch(() => {}); // awaited in resolveParticipants; an abandoned range may never await it
  t.fetches.push(fetch);
  t.unfetched = [];
}

function bump<K>(outer: Map<number, Map<K, number>>, block: number, key: K, n: number): void {
  let inner = outer.get(block);
  if (!inner) outer.set(block, (inner = new Map()));
  inner.set(key, (inner.get(key) ?? 0) + n);
}

function noteTime(t: ParticipantTally, log: RpcLog): void {
  if (log.blockTimestampSec !== null) t.logTimesMs.set(log.blockNumber, log.blockTimestampSec * 1000);
}

/** An inference log (already counted): its transaction, or its TEE, for the participant figures. */
export function tallyInferenceLog(t: ParticipantTally, log: RpcLog, kind: InferenceKind, inferences: number): void {
  if (PRECOMPILE_KINDS.has(kind)) {
    if (!t.txs.has(log.blockNumber)) {
      t.unfetched.push(log.blockNumber);
      if (t.unfetched.length >= t.prefetchBlocks) fetchUnfetched(t);
    }
    bump(t.txs, log.blockNumber, log.transactionHash.toLowerCase(), inferences);
    noteTime(t, log);
  } else if (kind === 'individual_settlement' && log.topics[1] !== undefined) {
    // The teeId is topic 1, which needs no decoding: a settlement whose data did not decode still names it.
    bump(t.settlements, log.blockNumber, log.topics[1].toLowerCase(), 1);
    noteTime(t, log);
  }
}

/** A log that is not an inference event: a registry or scheduler event, or nothing of ours. */
export function tallyOtherLog(t: ParticipantTally, log: RpcLog, contracts: ParticipantContracts): void {
  const decoded = decodeParticipant(log.address, log.topics, log.data, contracts);
  if (decoded === null) return;
  if (!decoded.ok) {
    t.undecodableCount++;
    if (t.undecodable.length < 20)
      t.undecodable.push({ tx: log.transactionHash, block: log.blockNumber, reason: decoded.reason });
    return;
  }
  t.events.push({ block: log.blockNumber, event: decoded.event });
  noteTime(t, log);
}

/**
 * Reads the blocks holding precompile inferences (full transactions, batched; for a block too large to be
 * read whole, its inference transactions and its header) and the headers of the other blocks that lack
 * `blockTimestamp`, and turns the tally into rows for the store.
 * @throws UpstreamError when a block lacks a transaction one of its logs names.
 */
export async function resolveParticipants(
  t: ParticipantTally,
  network: string,
  headerConcurrency = 8,
): Promise<ParticipantChunk> {
  const { rpc } = t;
  fetchUnfetched(t);
  const full = new Map<number, BlockSenders>();
  const tooLarge: number[] = [];
  for (const part of await Promise.all(t.fetches))
    for (const [block, b] of part) {
      if (b) full.set(block, b);
      else tooLarge.push(block);
    }
  if (tooLarge.length > 0) {
    // Blocks too large to read whole: the senders of their inference transactions one by one (batched),
    // and the time from the header.
    const senders = await rpc.transactionSenders(tooLarge.flatMap((block) => [...t.txs.get(block)!.keys()]));
    for (let i = 0; i < tooLarge.length; i += headerConcurrency) {
      const batch = tooLarge.slice(i, i + headerConcurrency);
      const ms = await Promise.all(batch.map((b) => rpc.blockTimeMs(b)));
      batch.forEach((b, j) => full.set(b, { timeMs: ms[j]!, senders }));
    }
  }
  const callerDays = new Map<string, number>();
  for (const [block, txs] of t.txs) {
    const b = full.get(block);
    if (!b) throw new UpstreamError(OG_RPC, `block ${block} was not answered`);
    const day = dayStart(b.timeMs);
    for (const [hash, n] of txs) {
      const from = b.senders.get(hash);
      if (from === undefined)
        throw new UpstreamError(
          OG_RPC,
          `block ${block} lacks transaction ${hash || '(no hash)'} that emitted an inference log`,
        );
      const key = callerDayKey(day, from);
      callerDays.set(key, (callerDays.get(key) ?? 0) + n);
    }
  }
  const times = new Map(t.logTimesMs);
  for (const [block, b] of full) times.set(block, b.timeMs);
  const untimed = [...new Set([...t.settlements.keys(), ...t.events.map((e) => e.block)])].filter((b) => !times.has(b));
  for (let i = 0; i < untimed.length; i += headerConcurrency) {
    const batch = untimed.slice(i, i + headerConcurrency);
    const ms = await Promise.all(batch.map((b) => rpc.blockTimeMs(b)));
    batch.forEach((b, j) => times.set(b, ms[j]!));
  }
  const teeDays = new Map<string, number>();
  for (const [block, tees] of t.settlements) {
    const day = dayStart(times.get(block)!);
    for (const [teeId, n] of tees) teeDays.set(`${day}|${teeId}`, (teeDays.get(`${day}|${teeId}`) ?? 0) + n);
  }
  const events = t.events.map(({ block, event }) => ({ event, blockTimeMs: times.get(block)! }));
  return { network, callerDays, teeDays, events };
}
