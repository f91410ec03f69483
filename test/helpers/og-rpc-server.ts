/**
 * A loopback OpenGradient node: `eth_blockNumber`, `eth_getLogs` and `eth_getBlockByNumber` over a chain
 * whose logs come from a function of the block number, so a long history costs no memory. It enforces a
 * block-range limit and a result limit the way public nodes do, and fails on cue.
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
}

export interface OgNodeOptions {
  /** Include `blockTimestamp` in logs (some nodes do). Default true. */
  blockTimestamps?: boolean;
  /** Widest range one `eth_getLogs` may ask for. Default 5,000. */
  maxRangeBlocks?: number;
  /** Most logs one `eth_getLogs` may answer. Default 10,000. */
  maxResults?: number;
}

export interface OgNode<C extends FakeChain = FakeChain> extends LoopbackServer {
  chain: C;
  /** The next `times` calls of `method` (or any method) fail with `fault`. */
  failNext(fault: Fault, times?: number, method?: string): void;
  /** The node only has blocks up to this one (logs beyond are silently left out, headers are null). */
  setHasUpTo(block: number | null): void;
  /** Calls per JSON-RPC method so far. */
  calls(method: string): number;
  /** Widest `eth_getLogs` range that was answered. */
  widestAnsweredRange(): number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The part of a log's JSON that does not depend on its block, serialized once per log object. */
const serialized = new WeakMap<EncodedLog, string>();
function staticPart(log: EncodedLog): string {
  let text = serialized.get(log);
  if (text === undefined) {
    text = `{"address":"${log.address}","topics":${JSON.stringify(log.topics)},"data":"${log.data}","removed":${log.removed === true},`;
    serialized.set(log, text);
  }
  return text;
}

export async function startOgNode<C extends FakeChain>(chain: C, options: OgNodeOptions = {}): Promise<OgNode<C>> {
  const withTimestamps = options.blockTimestamps ?? true;
  const maxRange = options.maxRangeBlocks ?? 5_000;
  const maxResults = options.maxResults ?? 10_000;
  const faults: Array<{ fault: Fault; method?: string }> = [];
  const counts = new Map<string, number>();
  let hasUpTo: number | null = null;
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
        if (parts.length >= maxResults) return rpcError(res, id, -32005, `query returned more than ${maxResults} results`);
        parts.push(`${staticPart(log)}"blockNumber":"${bn}","transactionHash":"${blockHash}","transactionIndex":"${hex(i)}","blockHash":"${blockHash}","logIndex":"${hex(i)}"${ts}}`);
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

  const server = await startLoopbackServer((req: RecordedRequest, res) => {
    let body: { id?: unknown; method?: string; params?: unknown[] };
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    const method = body.method ?? '';
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const at = faults.findIndex((f) => f.method === undefined || f.method === method);
    if (at >= 0) {
      const [f] = faults.splice(at, 1);
      if (f!.fault === 'truncated') return getLogs(res, body.id, body.params?.[0] as never, true);
      return applyFault(f!.fault, res, body.id);
    }
    switch (method) {
      case 'eth_blockNumber':
        return sendJson(res, 200, { jsonrpc: '2.0', id: body.id, result: hex(chain.head) });
      case 'eth_getLogs':
        return getLogs(res, body.id, body.params?.[0] as never);
      case 'eth_getBlockByNumber': {
        const n = Number.parseInt(String(body.params?.[0]), 16);
        const known = n <= chain.head && (hasUpTo === null || n <= hasUpTo);
        const block = known ? { number: hex(n), hash: `0x${n.toString(16).padStart(64, '0')}`, timestamp: hex(chain.blockTimeSec(n)), transactions: [] } : null;
        return sendJson(res, 200, { jsonrpc: '2.0', id: body.id, result: block });
      }
      default:
        return rpcError(res, body.id, -32601, `method ${method} not found`);
    }
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
    calls: (method) => counts.get(method) ?? 0,
    widestAnsweredRange: () => widest,
  };
}
