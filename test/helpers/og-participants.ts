/**
 * A chain with known callers, days, TEEs and workflow tasks, for the `network` figures. Registry and task
 * scheduler logs are encoded with viem from the signatures in DATA-SOURCES.md §4, written out here
 * independently of `src/`; inference logs come from og-events.ts. The scenario is laid out relative to a
 * moment `nowMs`, so the same chain serves a test with a fixed clock and one with the real clock, and
 * its expected figures are written out by hand below, from the layout, never by decoding.
 */
import { parseAbi, type AbiEvent, type Hex } from 'viem';
import {
  batchSettlement,
  encode,
  individualSettlement,
  llmChat,
  llmCompletion,
  mlInference,
  type EncodedLog,
} from './og-events.js';
import type { FakeChain } from './og-rpc-server.js';

export const REGISTRY_ABI = parseAbi([
  'event TEERegistered(bytes32 indexed teeId, address indexed owner, uint8 teeType)',
  'event TEEEnabled(bytes32 indexed teeId)',
  'event TEEDisabled(bytes32 indexed teeId)',
  'event HeartbeatReceived(bytes32 indexed teeId, uint256 timestamp)',
  'event TaskRegistered(address indexed user, address indexed contractAddress, uint256 endTime, uint256 frequency)',
  'event TaskUpdated(address indexed user, address indexed contractAddress, uint256 newEndTime, uint256 newFrequency)',
  'event TaskStopped(address indexed user, address indexed contractAddress)',
]);
const [registered, enabled, disabled, heartbeat, taskRegistered, taskUpdated, taskStopped] =
  REGISTRY_ABI as unknown as AbiEvent[];

/** og-evm 758e149's registry (March 2026) emitted this, and only this, when `removeTEE` deleted a TEE. */
const [removed] = parseAbi(['event TEERemoved(bytes32 indexed teeId)']) as unknown as AbiEvent[];

export const REGISTRY_1 = '0x4e72238852f3c918f4e4e57aec9280ddb0c80248';
export const REGISTRY_2 = '0x703cb174aeadb35d611858369b4b1111dc9abda6';
export const SCHEDULER = '0x7179724de4e7ff9271fa40c0337c7f90c0508ef6';

export const TOPIC0_PARTICIPANTS = {
  teeRegistered: '0x97d0af70a4d2c616e9c1093d5f57c8b31b3a7d824f1d335e5d5416402ec14931',
  teeEnabled: '0xcfe7e61b35fbf35c6b0d5c7ebe6feb619ab832dc476c4a02dbdc041fb92b5ca6',
  teeDisabled: '0x01c235337ed5406ee8cebb3f299d60f237a2837430f8a14fbc81f94ce50236b6',
  teeRemoved: '0x4ab9710007a3e16a71a3f091f5053360806e7b825e1f91138e87a5ffaf894345',
  heartbeat: '0x3cf0bf7708060bf073b6ddb921eef0485b3eb9da828e0ed751fa6582ef337f57',
  taskRegistered: '0x2f401f04107164177693d79d92457c4baa184a9b5a5265d3e6d4ab0ab6716724',
  taskUpdated: '0x8e337393daef41df7da28202ae5795388856a55cccc6993dc6c60991de8af034',
  taskStopped: '0x241f6a996425ccc55c93e17e9edc6e85a05deaf40ba91ab84dd4a4ccfa04070a',
} as const;

export const teeId = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex;
export const account = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

export const teeRegistered = (registry: string, id: Hex, owner: string, type: number) =>
  encode(registered!, registry, [id, owner, type]);
export const teeEnabled = (registry: string, id: Hex) => encode(enabled!, registry, [id]);
export const teeDisabled = (registry: string, id: Hex) => encode(disabled!, registry, [id]);
export const teeRemoved = (registry: string, id: Hex) => encode(removed!, registry, [id]);
export const heartbeatReceived = (registry: string, id: Hex, atSec: number) =>
  encode(heartbeat!, registry, [id, BigInt(atSec)]);
export const taskRegisteredLog = (user: string, contract: string, endSec: bigint, frequency: bigint) =>
  encode(taskRegistered!, SCHEDULER, [user, contract, endSec, frequency]);
export const taskUpdatedLog = (user: string, contract: string, endSec: bigint, frequency: bigint) =>
  encode(taskUpdated!, SCHEDULER, [user, contract, endSec, frequency]);
export const taskStoppedLog = (user: string, contract: string) => encode(taskStopped!, SCHEDULER, [user, contract]);

export const BLOCK_SEC = 60;
const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

interface Placed {
  log: EncodedLog;
  from: string;
  /** Logs with the same `tx` in one block share a transaction. */
  tx: number;
  /** Inferences the log counts (precompile and settlements), 0 for registry and task events. */
  inferences: number;
}

/** A chain of one-minute blocks whose logs are placed by time; `senderOf` and `txIndexOf` follow the layout. */
export interface ScriptedChain extends FakeChain {
  genesisSec: number;
  /** The first block at or after `ms`. */
  blockAt(ms: number): number;
  timeOf(block: number): number;
  /** Inferences of every kind in blocks whose time is in `[fromMs, toMs)`. */
  inferencesBetween(fromMs: number, toMs: number): number;
  /** Places a log in the first block at or after `atMs`; `tx` groups logs into one transaction. */
  place(atMs: number, log: EncodedLog, from: string, inferences?: number, tx?: number): number;
}

export function scriptedChain(genesisMs: number, nowMs: number): ScriptedChain {
  const genesisSec = genesisMs / 1000;
  const blocks = new Map<number, Placed[]>();
  const blockAt = (ms: number) => Math.ceil((ms / 1000 - genesisSec) / BLOCK_SEC);
  const timeOf = (b: number) => (genesisSec + b * BLOCK_SEC) * 1000;
  let nextTx = 1_000;
  return {
    head: Math.floor((nowMs / 1000 - genesisSec) / BLOCK_SEC),
    genesisSec,
    blockAt,
    timeOf,
    logsInBlock: (b) => (blocks.get(b) ?? []).map((p) => p.log),
    blockTimeSec: (b) => genesisSec + b * BLOCK_SEC,
    senderOf: (b, i) => blocks.get(b)![i]!.from,
    txIndexOf: (b, i) => blocks.get(b)![i]!.tx,
    place(atMs, log, from, inferences = 0, tx = nextTx++) {
      const b = blockAt(atMs);
      const list = blocks.get(b) ?? [];
      list.push({ log, from, tx, inferences });
      blocks.set(b, list);
      return b;
    },
    inferencesBetween(fromMs, toMs) {
      let n = 0;
      for (const [b, list] of blocks) {
        const t = timeOf(b);
        if (t >= fromMs && t < toMs) for (const p of list) n += p.inferences;
      }
      return n;
    },
  };
}

export const A = account(0xa1);
export const B = account(0xb1);
export const C = account(0xc1);
export const D = account(0xd1);
export const E = account(0xe1);
export const H = account(0x41);
export const G = account(0x61);
export const F = Array.from({ length: 10 }, (_, i) => account(0xf00 + i));
export const RELAYER = account(0x5e7);
export const [T1, T2, T3, T4] = [teeId(0x71), teeId(0x72), teeId(0x73), teeId(0x74)] as const;
export const [U1, U2, U3] = [account(0x101), account(0x102), account(0x103)];
export const CONFIRMATIONS = 2;

/**
 * The network scenario, relative to `nowMs` (at least 10 minutes after a UTC midnight). `today` is the
 * start of now's UTC day; the windows are whole UTC days ending at today: the last 7 days start at
 * today − 7 days, the 7 before at today − 14, the last 30 at today − 30. Today so far is in none of them.
 * Genesis is 91 days before today.
 *
 * Callers (precompile inference transactions):
 * - A: today−7d minus 10 min (the 7 days before) and today−7d 00:00 (the last 7): retained; 2 days in 30.
 * - B: today−7d minus 20 min only: active the 7 days before, not again.
 * - C: one transaction with 2 ML logs at today−3d 12:00 (new), one completion 10 min before now (today:
 *   in no window); 1 day in 30.
 * - D: today−47d 12:00, then again 40 days later at today−7d 12:00: returning, not retained, 1 day in 30.
 * - E: 20 chat logs in 20 transactions at today−20d 12:00. F0..F9: one each at today−25d 12:00.
 * - H: today−30d minus 10 min (outside 30 days) and today−30d 00:00 (inside). G: today−80d only.
 * Settlements (relayer-sent, never callers): T1 ×3 at today−5d 12:00, T3 ×1 at today−7d 00:00, T2 ×2 at
 * today−7d minus 10 min (outside the last 7 days); a batch of 5 at today−40d.
 * TEEs: T1 LLM proxy (registry 1, heartbeat 22 h ago); T2 validator (registry 2, heartbeat 24 h 10 min ago,
 * disabled 10 h ago); T3 LLM proxy (registry 2, disabled then enabled again, heartbeat at the first block
 * 24 h ago or later); T4 validator (registry 1, no heartbeat).
 * Tasks: (U1, 1) ends in 30 days; (U1, 2) ended a day ago; (U2, 3) stopped; (U3, 4) only updated, ends in
 * 10 days; (U2, 5) ends at 2^256−1.
 */
export function networkScenario(nowMs: number) {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const chain = scriptedChain(today - 91 * DAY_MS, nowMs);
  const p = (atMs: number, log: EncodedLog, from: string, inferences = 0, tx?: number) =>
    chain.place(atMs, log, from, inferences, tx);
  const d = (days: number) => today - days * DAY_MS;
  const noon = (days: number) => d(days) + 12 * 60 * MIN_MS;

  p(d(7) - 10 * MIN_MS, mlInference(0), A, 1);
  p(d(7), llmCompletion(2), A, 1);
  p(d(7) - 20 * MIN_MS, llmChat(0), B, 1);
  p(noon(3), mlInference(1), C, 1, 7);
  p(noon(3), mlInference(2), C, 1, 7);
  p(nowMs - 10 * MIN_MS, llmCompletion(0), C, 1);
  p(noon(47), mlInference(0), D, 1);
  p(noon(7), mlInference(0), D, 1);
  for (let i = 0; i < 20; i++) p(noon(20), llmChat(2), E, 1);
  F.forEach((f, i) => p(noon(25) + i * MIN_MS, llmCompletion(0), f, 1));
  p(d(30) - 10 * MIN_MS, mlInference(0), H, 1);
  p(d(30), mlInference(0), H, 1);
  p(d(80), mlInference(0), G, 1);

  for (let i = 0; i < 3; i++) p(noon(5), individualSettlement(0x71), RELAYER, 1);
  p(d(7), individualSettlement(0x73), RELAYER, 1);
  p(d(7) - 10 * MIN_MS, individualSettlement(0x72), RELAYER, 1);
  p(d(7) - 10 * MIN_MS, individualSettlement(0x72), RELAYER, 1);
  p(d(40), batchSettlement(5), RELAYER, 5);

  const owner = account(0x0e1);
  p(d(80), teeRegistered(REGISTRY_1, T1, owner, 0), owner);
  p(nowMs - 22 * 60 * MIN_MS, heartbeatReceived(REGISTRY_1, T1, 0), RELAYER);
  p(d(60), teeRegistered(REGISTRY_2, T2, owner, 1), owner);
  p(nowMs - 24 * 60 * MIN_MS - 10 * MIN_MS, heartbeatReceived(REGISTRY_2, T2, 0), RELAYER);
  p(nowMs - 10 * 60 * MIN_MS, teeDisabled(REGISTRY_2, T2), owner);
  p(d(70), teeRegistered(REGISTRY_2, T3, owner, 0), owner);
  p(d(50), teeDisabled(REGISTRY_2, T3), owner);
  p(d(49), teeEnabled(REGISTRY_2, T3), owner);
  p(nowMs - 24 * 60 * MIN_MS, heartbeatReceived(REGISTRY_2, T3, 0), RELAYER);
  p(d(10), teeRegistered(REGISTRY_1, T4, owner, 1), owner);

  const sec = (ms: number) => BigInt(Math.floor(ms / 1000));
  p(d(30), taskRegisteredLog(U1, account(1), sec(nowMs + 30 * DAY_MS), 3600n), U1);
  p(d(30), taskRegisteredLog(U1, account(2), sec(nowMs - DAY_MS), 3600n), U1);
  p(d(20), taskRegisteredLog(U2, account(3), sec(nowMs + 30 * DAY_MS), 60n), U2);
  p(d(2), taskStoppedLog(U2, account(3)), U2);
  p(d(5), taskUpdatedLog(U3, account(4), sec(nowMs + 10 * DAY_MS), 600n), U3);
  p(d(3), taskRegisteredLog(U2, account(5), 2n ** 256n - 1n, 60n), U2);

  return { chain, today, d };
}

/** The figures `networkScenario` must produce, written out from its layout. */
export const SCENARIO = {
  active7: 3, // A, C, D
  new7: 1, // C
  returning7: 2, // A, D
  previous7: 2, // A, B
  retained7: 1, // A
  callers30: 16, // A, B, C, D, E, H, F0..F9
  inferences30: 37, // A 2, B 1, C 2, D 1, E 20, F 10, H 1
  repeatInferences30: 2, // A's 2 (C's today and D's and H's other days are outside)
  top10Inferences30: 31, // E 20, A 2, C 2 and seven of the 1s
  registered: 4,
  registeredLlmProxy: 2, // T1, T3
  registeredValidator: 2, // T2, T4
  enabled: 3, // T1, T3, T4 (T2 disabled)
  llmProxy: 2,
  validator: 1,
  settling7: 2,
  settlements7: 4,
  busiest7: 3,
  heartbeats: 2,
  registrants: 2,
  activeTasks: 3,
  /**
   * Inferences of every kind in the 30 days to the last whole hour counted, and in the 30 before: for a now at
   * 10:00 the last counted block is from 09:58 (head minus confirmations), so the windows are today−30d 09:00
   * to today 09:00, and today−60d 09:00 to today−30d 09:00. Recent: A 2, B 1, C 2 (its completion at 09:50
   * today is after the window), D 1, E 20, F 10, settlements T1 3, T3 1, T2 2 = 42. Before: H 2 (both before
   * today−30d 09:00, though one is inside the 30 UTC days of callers), D's first 1, the batch 5 = 8.
   */
  recent30: 42,
  prior30: 8,
} as const;
