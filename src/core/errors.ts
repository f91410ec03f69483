/**
 * The small family of errors the bot distinguishes. Adapters turn a `UserInputError` into a short reply
 * shown as is; everything else is logged with its cause and becomes a generic "data unavailable" reply.
 * No message here ever carries a token or an API key: sources name themselves, never their credentials.
 */

/** Something a person typed is not acceptable. The message is shown to them verbatim. */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** An upstream answered, but badly: an error status, a body that is not what its API documents. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly source: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** No usable answer arrived at all: connection refused, reset, or the timeout passed. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** The upstream asked us to slow down. `retryAfterMs` is what it asked for, or our own estimate. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly source: string,
    readonly retryAfterMs: number,
  ) {
    super(`${source}: rate limited, retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** The environment does not describe a runnable bot. Lists every bad variable at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A short, secret-free description of any thrown value, for logs and stale notices. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
