/**
 * Network activity from the OpenGradient Blockscout explorer: `GET {apiUrl}/stats`. Blockscout sends its
 * counters as decimal strings (sometimes numbers); both are accepted, anything else is an `UpstreamError`
 * naming the field.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../../core/clock.js';
import { UpstreamError } from '../../core/errors.js';
import type { NetworkActivity } from '../../core/inferences.js';
import { requestJson, withRetries } from '../http.js';

export const OG_EXPLORER = 'OpenGradient explorer';

export interface ExplorerOptions {
  /** Blockscout REST root, ending in `/api/v2`. */
  apiUrl: string;
  clock: Clock;
  /** Never left to undici's process-wide global agent: see adapters/discord/rest-request.ts. */
  dispatcher: Dispatcher;
  timeoutMs?: number;
}

export interface ExplorerSource {
  fetchActivity(): Promise<NetworkActivity>;
}

function counter(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UpstreamError(OG_EXPLORER, `/stats: field '${field}' is not a whole number`);
  return n;
}

/** Validates a `/stats` answer. */
export function parseExplorerStats(body: unknown, fetchedAtMs: number): NetworkActivity {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UpstreamError(OG_EXPLORER, '/stats did not answer with an object');
  const b = body as Record<string, unknown>;
  return {
    totalTransactions: counter(b, 'total_transactions'),
    transactionsToday: counter(b, 'transactions_today'),
    fetchedAtMs,
  };
}

/** `/stats`, tried twice. */
export function createExplorerSource(options: ExplorerOptions): ExplorerSource {
  const http = { dispatcher: options.dispatcher, timeoutMs: options.timeoutMs ?? 10_000 };
  return {
    async fetchActivity() {
      const body = await withRetries(
        () => requestJson(http, { source: OG_EXPLORER, url: `${options.apiUrl}/stats` }, options.clock.now()),
        { attempts: 2, baseDelayMs: 1_000, maxWaitMs: 10_000 },
        options.clock,
      );
      return parseExplorerStats(body, options.clock.now());
    },
  };
}
