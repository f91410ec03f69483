/**
 * The one way sources talk HTTP: undici with an injected dispatcher (so tests and operators can route it),
 * a hard timeout, and errors sorted into the family in `core/errors`. Bodies are parsed here but validated
 * by each source, which knows what its API promises; an answer built around one long array can be parsed
 * item by item as it arrives (`requestJsonItems`).
 */
import { retry } from '../core/backoff.js';
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { NetworkError, RateLimitedError, UpstreamError } from '../core/errors.js';
import { createJsonItemSplitter, JsonStreamError } from './json-item-splitter.js';

export interface HttpOptions {
  /**
   * undici dispatcher, always given: a request without one would make undici 7's agent the process-wide global
   * that discord.js's own undici also reads (adapters/discord/rest-request.ts tells why that breaks uploads).
   */
  dispatcher: Dispatcher;
  /** Whole-request deadline, headers and body together. */
  timeoutMs: number;
}

export interface JsonRequest {
  source: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds from `nowMs`. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** Strips the query string, which may carry keys on some APIs, from a URL before it goes in an error. */
function safeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

interface Sent {
  res: Dispatcher.ResponseData;
  signal: AbortSignal;
}

async function send(http: HttpOptions, req: JsonRequest): Promise<Sent> {
  const signal = AbortSignal.timeout(http.timeoutMs);
  try {
    const res = await request(req.url, {
      method: req.method ?? 'GET',
      headers: { accept: 'application/json', ...req.headers },
      body: req.body,
      dispatcher: http.dispatcher,
      signal,
      headersTimeout: http.timeoutMs,
      bodyTimeout: http.timeoutMs,
    });
    return { res, signal };
  } catch (err) {
    const reason = signal.aborted
      ? `no answer within ${http.timeoutMs} ms`
      : `request failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).name})`;
    throw new NetworkError(req.source, `${reason} for ${safeUrl(req.url)}`, { cause: err });
  }
}

function bodyCutOff(http: HttpOptions, req: JsonRequest, signal: AbortSignal, err: unknown): NetworkError {
  const reason = signal.aborted ? `body not received within ${http.timeoutMs} ms` : 'body cut off';
  return new NetworkError(req.source, `${reason} for ${safeUrl(req.url)}`, { cause: err });
}

async function readText(http: HttpOptions, req: JsonRequest, { res, signal }: Sent): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw bodyCutOff(http, req, signal, err);
  }
}

/** The error for a status other than 2xx, or null. */
function statusError(req: JsonRequest, res: Dispatcher.ResponseData, text: string, nowMs: number): Error | null {
  if (res.statusCode === 429) {
    return new RateLimitedError(req.source, parseRetryAfter(res.headers['retry-after'], nowMs) ?? 60_000);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    return new UpstreamError(
      req.source,
      `HTTP ${res.statusCode} for ${safeUrl(req.url)}${errorHint(text)}`,
      res.statusCode,
    );
  }
  return null;
}

function notJson(req: JsonRequest, res: Dispatcher.ResponseData, cause?: unknown): UpstreamError {
  const type = String(res.headers['content-type'] ?? 'unknown type');
  return new UpstreamError(req.source, `answered ${type} that is not JSON for ${safeUrl(req.url)}`, res.statusCode, {
    cause,
  });
}

export async function requestJson(http: HttpOptions, req: JsonRequest, nowMs = Date.now()): Promise<unknown> {
  const sent = await send(http, req);
  const text = await readText(http, req, sent);
  const refused = statusError(req, sent.res, text, nowMs);
  if (refused) throw refused;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw notJson(req, sent.res, err);
  }
}

/** What `requestJsonItems` resolves with once the whole body has arrived. */
export interface JsonItemsAnswer {
  /** The answer, with the streamed array left empty (`[]`). */
  value: unknown;
  /** Items handed to `onItem`. */
  items: number;
  /** Whether the answer had an array at the key; when not, `value` holds whatever was there. */
  streamed: boolean;
}

/**
 * Like `requestJson`, for an answer that is an object carrying one long array under `itemsAt` (a JSON-RPC
 * `result`): each item is parsed and handed to `onItem` as soon as its last byte arrives, so neither the
 * body nor the array is ever held whole, and a large answer costs the memory of one item. `onItem` may
 * throw to refuse the answer; the request is then abandoned and its error is the one that comes out.
 * Items handed over before a failure (a body cut off, malformed JSON) belong to an answer that did not
 * arrive: a caller that keeps anything from them must drop it when this rejects.
 */
export async function requestJsonItems(
  http: HttpOptions,
  req: JsonRequest,
  itemsAt: string,
  onItem: (item: unknown) => void,
  nowMs = Date.now(),
): Promise<JsonItemsAnswer> {
  const sent = await send(http, req);
  const { res, signal } = sent;
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw statusError(req, res, await readText(http, req, sent), nowMs)!;
  }
  const splitter = createJsonItemSplitter(itemsAt, onItem);
  let refused: { err: unknown } | null = null;
  try {
    for await (const chunk of res.body) {
      try {
        splitter.push(chunk as Buffer);
      } catch (err) {
        refused = { err };
        break;
      }
    }
  } catch (err) {
    throw bodyCutOff(http, req, signal, err);
  }
  try {
    if (refused) throw refused.err;
    return splitter.end();
  } catch (err) {
    throw err instanceof JsonStreamError ? notJson(req, res, err) : err;
  }
}

/** A short reason from an error body, when it is JSON with an error field; never the raw body. */
function errorHint(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const status = body.status as Record<string, unknown> | undefined;
    const msg = status?.error_message ?? body.error ?? body.message;
    if (typeof msg === 'string' && msg.length > 0) return `: ${msg.slice(0, 120)}`;
  } catch {
    // not JSON: nothing worth quoting
  }
  return '';
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** First backoff; doubles each time. */
  baseDelayMs: number;
  /** A `Retry-After` longer than this is not waited out within one call: the error goes up instead. */
  maxWaitMs: number;
}

/**
 * Runs `fn` until it succeeds or the policy is spent. A 429 waits what the server asked for (when that is
 * within `maxWaitMs`); network failures and 5xx back off exponentially; a 4xx other than 429 is final.
 */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy, clock: Clock): Promise<T> {
  return retry(() => fn(), {
    attempts: policy.attempts,
    baseMs: policy.baseDelayMs,
    maxMs: Number.MAX_SAFE_INTEGER,
    clock,
    shouldRetry: (err) =>
      err instanceof RateLimitedError
        ? err.retryAfterMs <= policy.maxWaitMs
        : err instanceof NetworkError ||
          (err instanceof UpstreamError && err.status !== undefined && err.status >= 500),
    waitFor: (err) => (err instanceof RateLimitedError ? err.retryAfterMs : undefined),
  });
}
