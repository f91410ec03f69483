/**
 * The indexer's answers, split into items while they arrive: `src/sources/json-item-splitter.ts` against a
 * maintained streaming JSON parser (@streamparser/json, path `$.result.*`) and, as the floor, `JSON.parse` of
 * the whole body (which must hold the body and every item at once). The body is an `eth_getLogs` answer of
 * real shape (precompile inference logs, ABI-encoded by viem), fed in 64 KiB chunks as undici hands them over.
 * Figures: time per body (min / median of 7) and MB/s, and the most heap in use above the start while parsing.
 * Issue 13 asked: keep the splitter only if it beats a maintained parser here.
 */
import { JSONParser } from '@streamparser/json';
import { createJsonItemSplitter } from '../src/sources/json-item-splitter.js';
import { llmChat, mlInference } from '../test/helpers/og-events.js';
import type { BenchLog } from './run.js';
import { percentile } from './support.js';

const LOGS = 10_000;
const CHUNK = 64 * 1024;
const ROUNDS = 7;

function logsBody(): Buffer {
  const shapes = [mlInference(0), mlInference(2), llmChat(1)];
  const logs = Array.from({ length: LOGS }, (_, i) => {
    const log = shapes[i % shapes.length]!;
    const block = 4_000_000 + Math.floor(i / 10);
    return {
      address: log.address,
      topics: log.topics,
      data: log.data,
      blockNumber: `0x${block.toString(16)}`,
      transactionHash: `0x${(i + 1).toString(16).padStart(64, 'a')}`,
      transactionIndex: `0x${(i % 10).toString(16)}`,
      blockHash: `0x${block.toString(16).padStart(64, 'b')}`,
      logIndex: `0x${(i % 10).toString(16)}`,
      removed: false,
    };
  });
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, result: logs }));
}

interface Run {
  ms: number;
  items: number;
  peakHeapMb: number;
}

function measure(body: Buffer, parse: (chunks: Buffer[], sample: () => void) => number): Run {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += CHUNK) chunks.push(body.subarray(at, at + CHUNK));
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  };
  const started = performance.now();
  const items = parse(chunks, sample);
  const ms = performance.now() - started;
  return { ms, items, peakHeapMb: peak / 1e6 };
}

const parsers: Record<string, (chunks: Buffer[], sample: () => void) => number> = {
  'json-item-splitter': (chunks, sample) => {
    let items = 0;
    const splitter = createJsonItemSplitter('result', () => items++);
    for (const [i, chunk] of chunks.entries()) {
      splitter.push(chunk);
      if (i % 16 === 0) sample();
    }
    splitter.end();
    sample();
    return items;
  },
  '@streamparser/json': (chunks, sample) => {
    let items = 0;
    const parser = new JSONParser({ paths: ['$.result.*'], keepStack: false });
    parser.onValue = () => items++;
    for (const [i, chunk] of chunks.entries()) {
      parser.write(chunk);
      if (i % 16 === 0) sample();
    }
    if (!parser.isEnded) parser.end();
    sample();
    return items;
  },
  'JSON.parse (whole body)': (chunks, sample) => {
    const whole = Buffer.concat(chunks);
    const value = JSON.parse(whole.toString('utf8')) as { result: unknown[] };
    sample();
    return value.result.length;
  },
};

export default async function jsonStream(log: BenchLog): Promise<void> {
  const body = logsBody();
  const mb = body.length / 1e6;
  log(`eth_getLogs answer: ${LOGS} logs, ${mb.toFixed(1)} MB, in ${CHUNK / 1024} KiB chunks`);
  for (const [name, parse] of Object.entries(parsers)) {
    measure(body, parse); // warm-up
    const runs = Array.from({ length: ROUNDS }, () => measure(body, parse));
    if (runs.some((r) => r.items !== LOGS)) throw new Error(`${name} found ${runs[0]!.items} items, not ${LOGS}`);
    const times = runs.map((r) => r.ms).sort((a, b) => a - b);
    const median = percentile(times, 50);
    const peak = Math.max(...runs.map((r) => r.peakHeapMb));
    log(
      `${name}: min ${times[0]!.toFixed(1)} ms / median ${median.toFixed(1)} ms ` +
        `(${(mb / (median / 1000)).toFixed(0)} MB/s), heap above start up to ${peak.toFixed(1)} MB`,
    );
  }
}
