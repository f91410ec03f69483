/**
 * Thin wrappers that feed the metrics from the outside of what they measure: an undici interceptor counts
 * every HTTP request a source makes (retries included), a market source wrapper counts refresh results, a
 * sink wrapper counts deliveries and rate limits, and an indexer wrapper counts each pass once, however
 * many callers shared it. The wrapped parts know nothing about metrics.
 */
import { DecoratorHandler, type Dispatcher } from 'undici';
import type { MarketSource } from '../core/core.js';
import type { InferenceIndex } from '../core/services.js';
import type { DeliveryResult, Sink } from '../core/sink.js';
import type { IndexRun } from '../sources/opengradient/indexer.js';
import type { IndexerFigures, OpsMetrics, UpstreamSource } from './metrics.js';

/** A dispatcher that counts each request to `source` by status code, or as "error" when no answer came. */
export function countingDispatcher(
  base: Dispatcher,
  source: UpstreamSource,
  metrics: Pick<OpsMetrics, 'upstreamRequest'>,
): Dispatcher {
  return base.compose((dispatch) => (opts, handler) => {
    // DecoratorHandler adapts a handler of either undici API to the current one.
    const inner = new DecoratorHandler(handler) as Dispatcher.DispatchHandler;
    let answered = false;
    const count = (statusCode: number | null) => {
      if (!answered) metrics.upstreamRequest(source, statusCode);
      answered = true;
    };
    return dispatch(opts, {
      onRequestStart: (controller, context) => inner.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, statusCode, headers, socket) =>
        inner.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart(controller, statusCode, headers, statusMessage) {
        count(statusCode);
        return inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
      },
      onResponseData: (controller, chunk) => inner.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => inner.onResponseEnd?.(controller, trailers),
      onResponseError(controller, error) {
        count(null);
        return inner.onResponseError?.(controller, error);
      },
    });
  });
}

/** The market source, counting each fetch the core makes as a refresh that worked or failed. */
export function countingMarketSource<S extends MarketSource>(
  source: S,
  metrics: Pick<OpsMetrics, 'marketRefreshed'>,
): S {
  return {
    ...source,
    name: source.name,
    async fetchMarket() {
      try {
        const data = await source.fetchMarket();
        metrics.marketRefreshed(true);
        return data;
      } catch (err) {
        metrics.marketRefreshed(false);
        throw err;
      }
    },
  };
}

const isRateLimit = (result: DeliveryResult) => result.status === 'retry' && result.rateLimited === true;

/** The sink, counting each delivery by its result (a moved chat as a retry) and each 429 the platform answered. */
export function countingSink(sink: Sink, metrics: Pick<OpsMetrics, 'delivery' | 'rateLimited'>): Sink {
  return {
    platform: sink.platform,
    async deliver(target, reply) {
      let result: DeliveryResult;
      try {
        result = await sink.deliver(target, reply);
      } catch (err) {
        // The dispatcher retries a sink that threw.
        metrics.delivery(sink.platform, 'retry');
        throw err;
      }
      // A moved chat's row is released and sent again to the new chat id: to the operator, a retry.
      metrics.delivery(sink.platform, result.status === 'moved' ? 'retry' : result.status);
      if (isRateLimit(result)) metrics.rateLimited(sink.platform);
      return result;
    },
  };
}

/** Where the index stands, read from the store: one row and the hourly totals. */
export async function indexerFigures(index: InferenceIndex): Promise<IndexerFigures> {
  const status = await index.status();
  return {
    indexedBlock: status && status.nextBlock > status.fromBlock ? status.nextBlock - 1 : null,
    headBlock: status?.headBlock ?? null,
    totals: await index.totals(),
  };
}

/**
 * `runOnce` of the indexer, reporting each pass once, by its result (`runOnce` never throws; a failed pass says
 * so): concurrent callers share one pass (and one promise), so the logs of a shared pass are not counted twice.
 * Resolves with the pass once it is counted.
 */
export function countingIndexPass(
  indexer: InferenceIndex & { runOnce(): Promise<IndexRun> },
  metrics: Pick<OpsMetrics, 'indexerPass'>,
): () => Promise<IndexRun> {
  let counted: Promise<IndexRun> | null = null;
  let reported: Promise<IndexRun> | null = null;
  return () => {
    const pass = indexer.runOnce();
    if (pass !== counted || !reported) {
      counted = pass;
      // Resolves once the pass is counted, so whoever awaited the pass reads its figures.
      reported = pass.then(async (run) => {
        let figures: IndexerFigures | null = null;
        try {
          figures = await indexerFigures(indexer);
        } catch {
          // The store closed under a stopping pass: the pass is counted, the figures stay.
        }
        metrics.indexerPass(run.ok, run.logs, figures);
        return run;
      });
    }
    return reported;
  };
}
