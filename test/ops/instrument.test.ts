import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Sink } from '../../src/core/sink.js';
import type { IndexRun } from '../../src/sources/opengradient/indexer.js';
import type { InferenceIndex, ModeCounts } from '../../src/core/services.js';
import { countingDispatcher, countingIndexPass, countingSink } from '../../src/ops/instrument.js';
import { createOpsMetrics } from '../../src/ops/metrics.js';
import { sendJson, startLoopbackServer, loopbackAgent } from '../helpers/http-server.js';

function metrics() {
  return createOpsMetrics({ platforms: ['telegram'], marketFetchedAtMs: () => null, nowMs: () => 0 });
}

async function series(m: ReturnType<typeof metrics>, name: string): Promise<Record<string, number>> {
  const json = await m.registry.getSingleMetric(name)!.get();
  return Object.fromEntries(
    json.values
      .filter((v) => !('metricName' in v) || v.metricName === name)
      .map((v) => [JSON.stringify(v.labels), v.value]),
  );
}

describe('countingDispatcher', () => {
  it('counts each request to a source once, by status code, and a request with no answer as error', async () => {
    const server = await startLoopbackServer((req, res) => sendJson(res, req.url === '/down' ? 503 : 200, {}));
    try {
      const m = metrics();
      const dispatcher = countingDispatcher(loopbackAgent, 'coingecko', m);
      for (const path of ['/up', '/up', '/down']) {
        const res = await request(`${server.url}${path}`, { dispatcher });
        await res.body.text();
      }
      await expect(request('http://127.0.0.1:9/', { dispatcher })).rejects.toThrow();
      expect(await series(m, 'opg_upstream_requests_total')).toEqual({
        '{"source":"coingecko","status":"200"}': 2,
        '{"source":"coingecko","status":"503"}': 1,
        '{"source":"coingecko","status":"error"}': 1,
      });
    } finally {
      await server.close();
    }
  });
});

describe('countingSink', () => {
  it(
    'counts deliveries by result, a moved chat and a sink that throws as a retry, a 429 as rate limited; no ' +
      'other result label',
    async () => {
      const m = metrics();
      const results = [
        { status: 'delivered' },
        { status: 'retry', retryAfterMs: 1_000, reason: 'Telegram rate limit (429)', rateLimited: true },
        { status: 'retry', retryAfterMs: 5_000, reason: 'Telegram server error 502' },
        { status: 'gone', reason: 'kicked' },
        { status: 'moved', toChatId: '-1002' },
        { status: 'failed', reason: 'refused even as plain text' },
      ] as const;
      let i = 0;
      const sink = countingSink(
        {
          platform: 'telegram',
          async deliver() {
            if (i >= results.length) throw new Error('socket hang up');
            return results[i++]!;
          },
        } satisfies Sink,
        m,
      );
      const target = { platform: 'telegram' as const, chatId: '-100' };
      const reply = { kind: 'info' as const, title: 't', lines: [], fields: [] } as never;
      for (let n = 0; n < results.length; n++) expect(await sink.deliver(target, reply)).toBe(results[n]);
      await expect(sink.deliver(target, reply)).rejects.toThrow('socket hang up');
      expect(await series(m, 'opg_alert_deliveries_total')).toEqual({
        '{"platform":"telegram","result":"delivered"}': 1,
        '{"platform":"telegram","result":"retry"}': 4,
        '{"platform":"telegram","result":"gone"}': 1,
        '{"platform":"telegram","result":"failed"}': 1,
      });
      expect(await series(m, 'opg_platform_rate_limited_total')).toEqual({ '{"platform":"telegram"}': 1 });
    },
  );
});

describe('countingIndexPass', () => {
  const counts = (vanilla: number, tee: number): ModeCounts => ({
    vanilla,
    tee,
    zkml: 0,
    unknown: 0,
    total: vanilla + tee,
  });

  it('counts a pass shared by concurrent callers once, and follows the stored totals as counters', async () => {
    let totals = counts(10, 2);
    let finish: (run: IndexRun) => void = () => {};
    let passes = 0;
    const indexer: InferenceIndex & { runOnce(): Promise<IndexRun> } = {
      totals: async () => totals,
      status: async () => ({
        fromBlock: 0,
        nextBlock: 1_001,
        headBlock: 1_050,
        safeHeadBlock: 1_038,
        headSeenAtMs: 0,
        indexedBlockTimeMs: null,
        lastRunAtMs: 0,
        lastError: null,
        lastErrorAtMs: null,
        undecodableLogs: 0,
      }),
      network: async () => null,
      runOnce: (() => {
        let inFlight: Promise<IndexRun> | null = null;
        return () =>
          (inFlight ??= new Promise<IndexRun>((resolve) => {
            passes += 1;
            finish = (run) => {
              inFlight = null;
              resolve(run);
            };
          }));
      })(),
    };
    const m = metrics();
    const pass = countingIndexPass(indexer, m);
    const a = pass();
    const b = pass();
    expect(a).toBe(b);
    totals = counts(15, 2);
    finish({ ok: true, chunks: 1, logs: 7, inferences: 5, nextBlock: 1_001, headBlock: 1_050, error: null });
    await a;
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(1);
    expect(await series(m, 'opg_indexer_logs_total')).toEqual({ '{}': 7 });
    expect(await series(m, 'opg_indexer_block')).toEqual({ '{}': 1_000 });
    expect(await series(m, 'opg_indexer_head_lag_blocks')).toEqual({ '{}': 50 });
    expect(await series(m, 'opg_inferences_total')).toMatchObject({ '{"mode":"vanilla"}': 15, '{"mode":"tee"}': 2 });

    const c = pass();
    totals = counts(16, 4);
    finish({ ok: true, chunks: 1, logs: 3, inferences: 3, nextBlock: 1_001, headBlock: 1_050, error: null });
    await c;
    await new Promise((r) => setImmediate(r));
    expect(await series(m, 'opg_indexer_logs_total')).toEqual({ '{}': 10 });
    expect(await series(m, 'opg_inferences_total')).toMatchObject({ '{"mode":"vanilla"}': 16, '{"mode":"tee"}': 4 });
  });
  it('counts failed and completed passes, and stamps the last one that completed', async () => {
    let nowMs = Date.parse('2026-12-07T10:00:00Z');
    const failed = { ok: false, chunks: 0, logs: 0, inferences: 0, nextBlock: 1_001, headBlock: null, error: 'x' };
    let next: IndexRun = failed;
    const indexer: InferenceIndex & { runOnce(): Promise<IndexRun> } = {
      totals: async () => counts(0, 0),
      status: async () => null,
      network: async () => null,
      runOnce: async () => next,
    };
    const m = createOpsMetrics({ platforms: [], marketFetchedAtMs: () => null, nowMs: () => nowMs });
    const pass = countingIndexPass(indexer, m);
    expect(await series(m, 'opg_indexer_passes_total')).toEqual({ '{"result":"ok"}': 0, '{"result":"failed"}': 0 });
    expect((await series(m, 'opg_indexer_last_success_timestamp_seconds'))['{}']).toBeNaN();

    // The RPC is down: the pass fails, and nothing says the index moved on.
    await pass();
    expect(await series(m, 'opg_indexer_passes_total')).toEqual({ '{"result":"ok"}': 0, '{"result":"failed"}': 1 });
    expect((await series(m, 'opg_indexer_last_success_timestamp_seconds'))['{}']).toBeNaN();

    nowMs += 60_000;
    next = { ok: true, chunks: 1, logs: 2, inferences: 2, nextBlock: 1_011, headBlock: 1_020, error: null };
    await pass();
    expect(await series(m, 'opg_indexer_passes_total')).toEqual({ '{"result":"ok"}': 1, '{"result":"failed"}': 1 });
    expect(await series(m, 'opg_indexer_last_success_timestamp_seconds')).toEqual({ '{}': nowMs / 1000 });

    // Failing again: the stamp keeps the last pass that completed, so time() minus it grows.
    const stamped = nowMs / 1000;
    nowMs += 60_000;
    next = { ...next, ok: false, logs: 0, error: 'RPC down' };
    await pass();
    expect(await series(m, 'opg_indexer_passes_total')).toEqual({ '{"result":"ok"}': 1, '{"result":"failed"}': 2 });
    expect(await series(m, 'opg_indexer_last_success_timestamp_seconds')).toEqual({ '{}': stamped });
  });
});
