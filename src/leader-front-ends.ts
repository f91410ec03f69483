/**
 * The front ends a leader term starts, as `leaderWork` takes them (each resolves with its stop). None of them
 * holds up the term: a platform that is down while a term starts is retried in the background with the one
 * backoff rule (core/backoff.ts) until it answers or the term ends, and its connection state says `starting`
 * meanwhile. Only what no retry can mend (a token the platform refuses) ends the tries, and is handed to
 * `onFatal`, since leading without the front end would silence it for every instance.
 */
import { DiscordAPIError, DiscordjsError, DiscordjsErrorCodes } from 'discord.js';
import type { DiscordAdapter } from './adapters/discord/adapter.js';
import type { TelegramAdapter } from './adapters/telegram/adapter.js';
import { retryUntilStopped, type BackoffPolicy } from './core/backoff.js';
import { describeError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import type { ConnectionState } from './ops/connections.js';
import type { RoleWork } from './roles.js';

/** Waits between login tries: from 1 s, doubling to a minute. */
export const FRONT_END_RETRY: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

/** Discord refused the token: `/gateway/bot` answered 401 (discord.js turns it into TokenInvalid). */
export function isInvalidDiscordToken(err: unknown): boolean {
  return (
    (err instanceof DiscordjsError && err.code === DiscordjsErrorCodes.TokenInvalid) ||
    (err instanceof DiscordAPIError && err.status === 401)
  );
}

export interface DiscordFrontEndOptions {
  /** A new adapter (a new discord.js client: one whose login failed is destroyed and not logged in again). */
  create(): DiscordAdapter;
  /** Follows a client's shards into `state` (ops/connections.ts `watchDiscord`). */
  watch(adapter: DiscordAdapter): void;
  state: ConnectionState;
  logger: Logger;
  /** The token was refused: no try can work. */
  onFatal(err: unknown): void;
  /** Default `FRONT_END_RETRY`. */
  retry?: BackoffPolicy;
  /** Tests pass their own wait. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** How long stopping waits for a login under way before it closes the client anyway. Default 5 s. */
  stopGraceMs?: number;
}

/**
 * Discord's gateway for one leader term, connected in the background: a login that fails (Discord's
 * `/gateway/bot` down, no network) is tried again with a new client until one logs in or the term ends.
 */
export function discordFrontEnd(options: DiscordFrontEndOptions): () => Promise<RoleWork> {
  const { state, logger } = options;
  return async () => {
    state.set('starting');
    let current: DiscordAdapter | null = null;
    let inFlight: Promise<unknown> | null = null;
    const tries = retryUntilStopped(
      async () => {
        // Each try starts over: a failed client's last events (a shard's disconnect) do not outlast it.
        state.set('starting');
        const discord = options.create();
        current = discord;
        options.watch(discord);
        const starting = discord.start();
        inFlight = starting;
        try {
          await starting;
        } catch (err) {
          await discord.stop().catch(() => {});
          throw err;
        } finally {
          inFlight = null;
        }
        return discord;
      },
      {
        ...(options.retry ?? FRONT_END_RETRY),
        isFatal: isInvalidDiscordToken,
        sleep: options.sleep,
        onRetry: (err, attempt, waitMs) =>
          logger.warn({ error: describeError(err), attempt, waitMs }, 'Discord login failed; trying again'),
      },
    );
    tries.result
      .then(
        // A login that worked just as the term ended closes again.
        async (discord) => {
          if (discord && tries.stopped()) await discord.stop();
        },
        (err: unknown) => {
          if (tries.stopped()) return;
          state.set('failed');
          options.onFatal(err);
        },
      )
      .catch((err: unknown) => logger.error({ error: describeError(err) }, 'closing Discord after the term failed'));
    return {
      async stop() {
        state.set('stopped');
        tries.stop();
        // A login under way is given a moment to settle first: discord.js ignores a second destroy, so a client
        // destroyed mid-login that connects after it could not be closed again.
        const login = inFlight;
        if (login) {
          let timer: NodeJS.Timeout | undefined;
          const grace = new Promise((resolve) => (timer = setTimeout(resolve, options.stopGraceMs ?? 5_000)));
          await Promise.race([login.catch(() => {}), grace]);
          clearTimeout(timer);
        }
        await current?.stop();
      },
    };
  };
}

export interface TelegramWebhookOptions {
  telegram: Pick<TelegramAdapter, 'setWebhook' | 'setCommandMenu'>;
  /** TELEGRAM_WEBHOOK_URL. */
  url: string;
  /** The instance's Telegram connection, as `/readyz` reads it. */
  state: ConnectionState;
  logger: Logger;
  /** Default `FRONT_END_RETRY`. */
  retry?: BackoffPolicy;
  /** Tests pass their own wait. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export interface TelegramWebhook {
  /** The Bot API knows the token (`getMe` worked): this instance can answer the updates posted to it. */
  answered(): void;
  /** `getMe` failed for good (a refused token). */
  failed(): void;
  /**
   * One leader term: sets the command menu, and the webhook, tried again until Telegram takes it or the term
   * ends. The leader reads `starting` until the webhook is set; when the term ends the instance reads as any
   * instance serving the webhook does again.
   */
  leaderTerm(): Promise<RoleWork>;
}

/**
 * The Telegram webhook's connection state and the leader's part in it. Every instance serves the webhook once
 * `getMe` worked; the leader also keeps it set, and a `setWebhook` that fails is retried, never left as a
 * failure that would outlive the term (a standby reading 503 for good).
 */
export function telegramWebhook(options: TelegramWebhookOptions): TelegramWebhook {
  const { telegram, url, state, logger } = options;
  let instance: 'starting' | 'answered' | 'failed' = 'starting';
  let term: 'none' | 'setting' | 'set' = 'none';
  const show = () => {
    if (state.state() === 'stopped') return;
    if (instance !== 'answered') state.set(instance);
    else state.set(term === 'setting' ? 'starting' : 'connected');
  };
  return {
    answered() {
      instance = 'answered';
      show();
    },
    failed() {
      instance = 'failed';
      show();
    },
    async leaderTerm() {
      term = 'setting';
      show();
      void telegram.setCommandMenu();
      const tries = retryUntilStopped(() => telegram.setWebhook(url), {
        ...(options.retry ?? FRONT_END_RETRY),
        sleep: options.sleep,
        onRetry: (err, attempt, waitMs) =>
          // The error alone: grammY's carries the request's payload, which holds the webhook secret.
          logger.warn({ error: describeError(err), attempt, waitMs }, 'setWebhook failed; trying again'),
      });
      tries.result.then(
        () => {
          if (tries.stopped()) return;
          term = 'set';
          show();
        },
        () => {},
      );
      return {
        stop() {
          tries.stop();
          term = 'none';
          show();
        },
      };
    },
  };
}
