/**
 * The one backoff rule every retry in the bot uses (HTTP sources, the indexer, the Telegram front end, the
 * alert dispatcher): the wait before retry `attempt` (1 for the first retry) starts at `baseMs` and doubles,
 * never past `maxMs`. A wait the other side asked for (HTTP `Retry-After`, Telegram's `retry_after`) is
 * honoured on top by each caller, since what to do with a long one differs: a source gives up within one
 * call, the dispatcher keeps the row for later.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffMs(attempt: number, policy: BackoffPolicy): number {
  const doublings = Math.max(0, Math.min(attempt - 1, 52));
  return Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
}
