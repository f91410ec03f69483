/**
 * A small deterministic inference history for tests: which events sit in which block, and the totals a
 * correct indexer must reach for any block range, computed from the same table (never by decoding).
 */
import type { ModeCounts } from '../../src/core/services.js';
import {
  batchSettlement,
  individualSettlement,
  llmChat,
  llmCompletion,
  mlInference,
  oldBatchSettlement,
  type EncodedLog,
} from './og-events.js';
import type { FakeChain } from './og-rpc-server.js';

type Mode = 'vanilla' | 'tee' | 'zkml' | 'unknown';
interface Entry {
  log: EncodedLog;
  mode: Mode;
  inferences: number;
}

/** Block 0's time; blocks are 2 s apart, so an hour is 1,800 blocks. */
export const GENESIS_SEC = Date.parse('2026-11-20T00:00:00Z') / 1000;

const E = {
  mlVanilla: { log: mlInference(0), mode: 'vanilla', inferences: 1 },
  mlZkml: { log: mlInference(1), mode: 'zkml', inferences: 1 },
  mlTee: { log: mlInference(2), mode: 'tee', inferences: 1 },
  mlOdd: { log: mlInference(7), mode: 'unknown', inferences: 1 },
  chatTee: { log: llmChat(2), mode: 'tee', inferences: 1 },
  chatVanilla: { log: llmChat(0), mode: 'vanilla', inferences: 1 },
  completion: { log: llmCompletion(0), mode: 'vanilla', inferences: 1 },
  batch5: { log: batchSettlement(5), mode: 'tee', inferences: 5 },
  individual: { log: individualSettlement(), mode: 'tee', inferences: 1 },
  oldBatch3: { log: oldBatchSettlement(3), mode: 'tee', inferences: 3 },
} satisfies Record<string, Entry>;

/** The events in block `b`: a mix of every kind and mode, some blocks empty. */
export function entriesIn(b: number): Entry[] {
  const out: Entry[] = [];
  if (b % 3 === 0) out.push([E.mlVanilla, E.mlZkml, E.mlTee][(b % 9) / 3]!);
  if (b % 5 === 0) out.push(b % 2 === 0 ? E.chatTee : E.chatVanilla);
  if (b % 7 === 0) out.push(E.completion);
  if (b % 11 === 0) out.push(E.batch5);
  if (b % 13 === 0) out.push(E.individual);
  if (b % 97 === 0) out.push(E.mlOdd);
  if (b % 250 === 0) out.push(E.oldBatch3);
  return out;
}

export interface TestChain extends FakeChain {
  /** Extra logs (undecodable, removed, foreign) placed in given blocks. */
  extra: Map<number, EncodedLog[]>;
}

export function testChain(head: number): TestChain {
  const extra = new Map<number, EncodedLog[]>();
  return {
    head,
    extra,
    logsInBlock: (b) => [...entriesIn(b).map((e) => e.log), ...(extra.get(b) ?? [])],
    blockTimeSec: (b) => GENESIS_SEC + 2 * b,
  };
}

/** What a correct count of blocks `from..to` is. */
export function expectedTotals(from: number, to: number): ModeCounts {
  const c: ModeCounts = { vanilla: 0, tee: 0, zkml: 0, unknown: 0, total: 0 };
  for (let b = from; b <= to; b++) {
    for (const e of entriesIn(b)) {
      c[e.mode] += e.inferences;
      c.total += e.inferences;
    }
  }
  return c;
}
