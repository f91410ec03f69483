/**
 * A loopback OpenGradient node: `eth_blockNumber`, `eth_getLogs`, `eth_getBlockByNumber` (with
 * transaction hashes, or full transactions) and `eth_getTransactionByHash`, over a chain whose logs come
 * from a function of the block number, so a long history costs no memory. Each log sits in a transaction
 * of its block (its own unless the chain groups them) sent by the chain's `senderOf`; every block also
 * holds one unrelated transfer.
 * It enforces a block-range limit and a result limit the way public nodes do, takes JSON-RPC batches
 * within geth's limits (too many calls: one 'batch too large' error for the whole batch; an answer grown
 * past the size limit: 'response too large' for each call left), and fails on cue.
 * `eth_getLogs` is not taken inside a batch here (the indexer never batches it).
 */
import type { ServerResponse } from 'node:http';
import { sendJson, startLoopbackServer, type LoopbackServer, type RecordedRequest } from './http-server.js';
import type { EncodedLog } from './og-events.js';

export type Fault =
  | 'limit-exceeded'
  | 'too-many-results'
  | 'http-429'
  | 'timeout'
  | 'non-json'
  | 'rpc-error'
  | 'http-500'
  /** `eth_getLogs` only: the real answer's first half, then the connection closes. */
  | 'truncated';

export interface FakeChain {
  head: number;
  /** Logs in one block, in order. Called on demand; keep it cheap and deterministic. */
  logsInBlock(block: number): readonly EncodedLog[];
  /** Seconds. */
  blockTimeSec(block: number): number;
  /** The `from` of the transaction holding log `logIndex` of `block`. Default: one fixed account. */
  senderOf?(block: number, logIndex: number): string;
  /** The index of the transaction in its block that holds log `logIndex`. Default: `logIndex`. */
  txIndexOf?(block: number, logIndex: number): number;
}

/** The account that sends every transaction of a chain without `senderOf`. */
export const DEFAULT_SENDER = '0x00000000000000000000000000000000000c0ffe';
/** The account that sends each block's unrelated transfer. */
export const TRANSFER_SENDER = '0x000000000000000000000000000000000000beef';

/** The hash of transaction `index` of `block` on the fake chain. */
export function txHash(block: number, index: number): string {
  return `0x${block.toString(16).padStart(48, '0')}${index.toString(16).padStart(16, '0')}`;
}

export interface OgNodeOptions {
  /** Include `blockTimestamp` in logs (some nodes do). Default true. */
  blockTimestamps?: boolean;
  /** Widest range one `eth_getLogs` may ask for. Default 5,000. */
  maxRangeBlocks?: number;
  /** Most logs one `eth_getLogs` may answer. Default 10,000. */
  maxResults?: number;
  /** Most calls in one batch (geth's BatchRequestLimit). Default 1,000. */
  maxBatchCalls?: number;
  /** Most bytes of one batch's answer (geth's BatchResponseMaxSize). Default 25,000,000. */
  maxBatchBytes?: number;
  /** Bytes of `input` data in each inference transaction. Default 68 (a call with two words). */
  txInputBytes?: number;
  /** Take JSON-RPC batches at all; when false, a batch gets one 'invalid request' error object. Default true. */
  acceptBatches?: boolean;
  /** Answer each batch this many ms after it arrived, so batches overlap and can be counted. Default 0. */
  batchDelayMs?: number;
}

export interface OgNode<C extends FakeChain = FakeChain> extends LoopbackServer {
  chain: C;
  /** The next `times` calls of `method` (or any method) fail with `fault`. */
  failNext(fault: Fault, times?: number, method?: string): void;
  /** The node only has blocks up to this one (logs beyond are silently left out, headers are null). */
  setHasUpTo(block: number | null): void;
  /** Full blocks of these blocks leave out the transactions their logs name (null: none). */
  setBlocksMissingTransactions(blocks: ReadonlySet<number> | null): void;
  /** Full reads of these blocks are refused for size, alone or in a batch (geth: -32003; null: none). */
  setBlocksTooLarge(blocks: ReadonlySet<number> | null): void;
  /** The most JSON-RPC batches received and not yet answered at one time. */
  mostBatchesInFlight(): number;
  /** Calls per JSON-RPC method so far. */
  calls(method: string): number;
  /** HTTP requests received so far (a batch is one), whatever their answer. */
  httpRequests(): number;
  /** Widest `eth_getLogs` range that was answered. */
  widestAnsweredRange(): number;
  /** JSON-RPC batches received, those refused as too large, and the most calls an answered one held. */
  batches(): number;
  refusedBatches(): number;
  largestAnsweredBatch(): number;
  /** Blocks asked for with full transactions, each time asked. */
  fullBlocksServed(): number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The part of a log's JSON that does not depend on its block, serialized once per log object. */
const serialized = new WeakMap<EncodedLog, string>();
function staticPart(log: EncodedLog): string {
  let text = serialized.get(log);
  if (text === undefined) {
    text =
      `{"address":"${log.address}","topics":${JSON.stringify(log.topics)},"data":"${log.data}",` +
      `"removed":${log.removed === true},`;
    serialized.set(log, text);
  }
  return text;
}

export async function startOgNode<C extends FakeChain>(chain: C, options: OgNodeOptions = {}): Promise<OgNode<C>> {
  const withTimestamps = options.blockTimestamps ?? true;
  const maxRange = options.maxRangeBlocks ?? 5_000;
  const maxResults = options.maxResults ?? 10_000;
  const maxBatchCalls = options.maxBatchCalls ?? 1_000;
  const maxBatchBytes = options.maxBatchBytes ?? 25_000_000;
  const input = `0x${'ab'.repeat(options.txInputBytes ?? 68)}`;
  const senderOf = chain.senderOf ?? (() => DEFAULT_SENDER);
  const txIndexOf = chain.txIndexOf ?? ((_b: number, i: number) => i);
  let batches = 0;
  let refusedBatches = 0;
  let largestBatch = 0;
  let fullBlocks = 0;
  const faults: Array<{ fault: Fault; method?: string }> = [];
  const counts = new Map<string, number>();
  let hasUpTo: number | null = null;
  let missingTxs: ReadonlySet<number> | null = null;
  let tooLarge: ReadonlySet<number> | null = null;
  let batchesInFlight = 0;
  let mostBatchesInFlight = 0;
  let widest = 0;

  function rpcError(res: ServerResponse, id: unknown, code: number, message: string) {
    sendJson(res, 200, { jsonrpc: '2.0', id, error: { code, message } });
  }

  function applyFault(fault: Fault, res: ServerResponse, id: unknown): void {
    switch (fault) {
      case 'limit-exceeded':
        return rpcError(res, id, -32005, 'limit exceeded');
      case 'too-many-results':
        return rpcError(res, id, -32005, `query returned more than ${maxResults} results`);
      case 'http-429':
        res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' });
        return void res.end('Too Many Requests');
      case 'timeout':
        return; // never answers; the client's deadline ends it
      case 'non-json':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<html><body>502 Bad Gateway</body></html>');
      case 'rpc-error':
        return rpcError(res, id, -32603, 'internal error');
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' });
        return void res.end('oops');
      case 'truncated':
        throw new Error('a truncated answer needs the real one: see getLogs');
    }
  }

  function getLogs(
    res: ServerResponse,
    id: unknown,
    filter: { fromBlock: string; toBlock: string; address?: string[]; topics?: (string[] | null)[] },
    truncate = false,
  ) {
    const from = Number.parseInt(filter.fromBlock, 16);
    let to = Number.parseInt(filter.toBlock, 16);
    if (!(from <= to)) return rpcError(res, id, -32602, 'invalid block range');
    if (to - from + 1 > maxRange) return rpcError(res, id, -32005, `block range too large: max ${maxRange} blocks`);
    to = Math.min(to, chain.head, hasUpTo ?? Number.MAX_SAFE_INTEGER);
    const addresses = filter.address?.map((a) => a.toLowerCase());
    const topic0 = filter.topics?.[0]?.map((t) => t.toLowerCase());
    const parts: string[] = [];
    for (let b = from; b <= to; b++) {
      const logs = chain.logsInBlock(b);
      if (logs.length === 0) continue;
      const bn = hex(b);
      const ts = withTimestamps ? `,"blockTimestamp":"${hex(chain.blockTimeSec(b))}"` : '';
      const blockHash = `0x${b.toString(16).padStart(64, '0')}`;
      for (let i = 0; i < logs.length; i++) {
        const log = logs[i]!;
        if (addresses && !addresses.includes(log.address.toLowerCase())) continue;
        if (topic0 && !topic0.includes(log.topics[0]!.toLowerCase())) continue;
        if (parts.length >= maxResults)
          return rpcError(res, id, -32005, `query returned more than ${maxResults} results`);
        const tx = txIndexOf(b, i);
        parts.push(
          `${staticPart(log)}"blockNumber":"${bn}","transactionHash":"${txHash(b, tx)}",` +
            `"transactionIndex":"${hex(tx)}","blockHash":"${blockHash}","logIndex":"${hex(i)}"${ts}}`,
        );
      }
    }
    const body = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":[${parts.join(',')}]}`;
    if (truncate) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      return void res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    }
    widest = Math.max(widest, to - from + 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  }

  /** A block's transactions (index → sender): its log-bearing ones, then one transfer, the last. */
  function blockTxs(n: number): Map<number, string> {
    const logs = chain.logsInBlock(n);
    const senders = new Map<number, string>();
    for (let i = 0; i < logs.length && !missingTxs?.has(n); i++) {
      const tx = txIndexOf(n, i);
      if (!senders.has(tx)) senders.set(tx, senderOf(n, i));
    }
    senders.set(senders.size === 0 ? 0 : Math.max(...senders.keys()) + 1, TRANSFER_SENDER);
    return senders;
  }

  function txJson(n: number, index: number, from: string): string {
    const isTransfer = from === TRANSFER_SENDER;
    return (
      `{"blockHash":"0x${n.toString(16).padStart(64, '0')}","blockNumber":"${hex(n)}","from":"${from}",` +
      `"gas":"0x5208","gasPrice":"0x3b9aca00","hash":"${txHash(n, index)}",` +
      `"input":"${isTransfer ? '0x' : input}","nonce":"${hex(index)}",` +
      `"to":"${isTransfer ? DEFAULT_SENDER : '0x8383c9bd7462f12eb996dd02f78234c0421a6fae'}",` +
      `"transactionIndex":"${hex(index)}","value":"0x0","type":"0x0",` +
      '"chainId":"0x29f8","v":"0x53f3","r":"0x1","s":"0x2"}'
    );
  }

  /** A block as `eth_getBlockByNumber` answers it: its log-bearing transactions, then one transfer. */
  function blockJson(n: number, full: boolean): string {
    const blockHash = `0x${n.toString(16).padStart(64, '0')}`;
    const txs = [...blockTxs(n)].map(([index, from]) => (full ? txJson(n, index, from) : `"${txHash(n, index)}"`));
    const parentHash = Math.max(0, n - 1)
      .toString(16)
      .padStart(64, '0');
    return (
      `{"number":"${hex(n)}","hash":"${blockHash}","parentHash":"0x${parentHash}",` +
      `"timestamp":"${hex(chain.blockTimeSec(n))}","gasLimit":"0x1c9c380","gasUsed":"0x0",` +
      `"miner":"0x0000000000000000000000000000000000000000","transactions":[${txs.join(',')}]}`
    );
  }

  /** The answer to one call other than `eth_getLogs`, as JSON text. */
  function answerCall(call: { id?: unknown; method?: string; params?: unknown[] }): string {
    const id = JSON.stringify(call.id ?? null);
    const error = (code: number, message: string) =>
      `{"jsonrpc":"2.0","id":${id},"error":${JSON.stringify({ code, message })}}`;
    switch (call.method) {
      case 'eth_blockNumber':
        return `{"jsonrpc":"2.0","id":${id},"result":"${hex(chain.head)}"}`;
      case 'eth_getBlockByNumber': {
        const tag = call.params?.[0];
        const full = call.params?.[1];
        if (typeof tag !== 'string' || typeof full !== 'boolean')
          return error(-32602, 'invalid argument: expected [block, fullTransactions]');
        const n = Number.parseInt(tag, 16);
        const known = n <= chain.head && (hasUpTo === null || n <= hasUpTo);
        if (full && known && tooLarge?.has(n)) return error(-32003, 'response too large');
        if (full && known) fullBlocks++;
        return `{"jsonrpc":"2.0","id":${id},"result":${known ? blockJson(n, full) : 'null'}}`;
      }
      case 'eth_getTransactionByHash': {
        const hash = call.params?.[0];
        if (typeof hash !== 'string' || !/^0x[0-9a-f]{64}$/.test(hash))
          return error(-32602, 'invalid argument 0: hex string has length != 64');
        // txHash's layout: the block in the first 24 bytes, the index in the last 8.
        const n = Number.parseInt(hash.slice(2, 50), 16);
        const index = Number.parseInt(hash.slice(50), 16);
        const known = n <= chain.head && (hasUpTo === null || n <= hasUpTo);
        const from = known ? blockTxs(n).get(index) : undefined;
        return `{"jsonrpc":"2.0","id":${id},"result":${from === undefined ? 'null' : txJson(n, index, from)}}`;
      }
      default:
        return error(-32601, `the method ${call.method} does not exist/is not available`);
    }
  }

  function answerBatch(res: ServerResponse, calls: unknown[]): void {
    batches++;
    if (options.batchDelayMs) {
      mostBatchesInFlight = Math.max(mostBatchesInFlight, ++batchesInFlight);
      setTimeout(() => {
        batchesInFlight--;
        sendBatch(res, calls);
      }, options.batchDelayMs);
      return;
    }
    mostBatchesInFlight = Math.max(mostBatchesInFlight, 1);
    sendBatch(res, calls);
  }

  function sendBatch(res: ServerResponse, calls: unknown[]): void {
    if (calls.length === 0)
      return sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } });
    if (calls.length > maxBatchCalls) {
      refusedBatches++;
      const first = calls.find((c) => typeof c === 'object' && c !== null && 'id' in c) as { id?: unknown } | undefined;
      return sendJson(res, 200, [
        { jsonrpc: '2.0', id: first?.id ?? null, error: { code: -32600, message: 'batch too large' } },
      ]);
    }
    largestBatch = Math.max(largestBatch, calls.length);
    const parts: string[] = [];
    let bytes = 0;
    for (const raw of calls) {
      const call = raw as { id?: unknown; method?: string; params?: unknown[] };
      if (call.method) counts.set(call.method, (counts.get(call.method) ?? 0) + 1);
      const text =
        bytes > maxBatchBytes
          ? `{"jsonrpc":"2.0","id":${JSON.stringify(call.id ?? null)},` +
            '"error":{"code":-32003,"message":"response too large"}}'
          : call.method === 'eth_getLogs'
            ? `{"jsonrpc":"2.0","id":${JSON.stringify(call.id ?? null)},` +
              '"error":{"code":-32601,"message":"eth_getLogs is not served in a batch by this stand-in"}}'
            : answerCall(call);
      bytes += text.length;
      parts.push(text);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`[${parts.join(',')}]`);
  }

  let httpRequests = 0;
  const server = await startLoopbackServer((req: RecordedRequest, res) => {
    httpRequests++;
    let body: { id?: unknown; method?: string; params?: unknown[] } | unknown[];
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    // A fault aimed at a method hits a batch of its calls as a whole, as a proxy in front of the node would.
    const method = Array.isArray(body)
      ? ((body[0] as { method?: string } | undefined)?.method ?? '')
      : (body.method ?? '');
    const at = faults.findIndex((f) => f.method === undefined || f.method === method);
    if (at >= 0 && !(Array.isArray(body) && faults[at]!.fault === 'truncated')) {
      const [f] = faults.splice(at, 1);
      if (!Array.isArray(body)) counts.set(method, (counts.get(method) ?? 0) + 1);
      if (f!.fault === 'truncated')
        return getLogs(res, (body as { id?: unknown }).id, (body as { params?: unknown[] }).params?.[0] as never, true);
      return applyFault(f!.fault, res, Array.isArray(body) ? null : body.id);
    }
    if (Array.isArray(body) && options.acceptBatches === false) {
      batches++;
      refusedBatches++;
      return sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } });
    }
    if (Array.isArray(body)) return answerBatch(res, body);
    counts.set(method, (counts.get(method) ?? 0) + 1);
    if (method === 'eth_getLogs') return getLogs(res, body.id, body.params?.[0] as never);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answerCall(body));
  });
  // The recorded bodies of a long backfill would hold the whole history in memory.
  const record = server.requests;
  const trim = setInterval(() => record.splice(0, record.length), 1_000);
  trim.unref();
  return {
    ...server,
    chain,
    close: async () => {
      clearInterval(trim);
      await server.close();
    },
    failNext(fault, times = 1, method) {
      for (let i = 0; i < times; i++) faults.push({ fault, method });
    },
    setHasUpTo(block) {
      hasUpTo = block;
    },
    setBlocksMissingTransactions(blocks) {
      missingTxs = blocks;
    },
    setBlocksTooLarge(blocks) {
      tooLarge = blocks;
    },
    mostBatchesInFlight: () => mostBatchesInFlight,
    calls: (method) => counts.get(method) ?? 0,
    httpRequests: () => httpRequests,
    widestAnsweredRange: () => widest,
    batches: () => batches,
    refusedBatches: () => refusedBatches,
    largestAnsweredBatch: () => largestBatch,
    fullBlocksServed: () => fullBlocks,
  };
}
