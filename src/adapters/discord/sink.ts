/**
 * The Discord alert sink: one embed posted to one channel (`POST channels/{id}/messages`), and the answer in
 * the dispatcher's terms. discord.js's REST would wait out a 429 and retry 5xx by itself; here it must not,
 * because the dispatcher owns pacing across every subscription, so this REST rejects rate limits and never
 * retries. 10003 (unknown channel), 50001 (missing access) and 50013 (missing permissions) mean the bot lost
 * the channel for good: the dispatcher stops trying and pauses the subscription (its record and thresholds
 * stay, for a moderator to resubscribe once the bot may post there again), and this sink says so once at warn
 * level with the channel's id. Without Embed Links Discord takes the post but drops its embeds, with no error:
 * the created message it answers shows none, so the alert is edited at once into plain text (one more request,
 * only then), logged once per channel. A 400 means the message itself was refused (a rendering bug): it is
 * logged once with Discord's field errors and the alert goes at once as one plain embed that cannot be
 * malformed the same way, instead of the same refused request every 15 minutes.
 */
import { DiscordAPIError, HTTPError, RateLimitError, REST } from 'discord.js';
import { Routes } from 'discord.js';
import { Agent, type Dispatcher } from 'undici';
import { describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { LRUCache } from 'lru-cache';
import { plainReplyText, type Reply } from '../../core/reply.js';
import { plainDiscordText } from './render.js';
import { isBodyRefusal } from './refusal.js';
import type { AlertTarget, DeliveryResult, Sink } from '../../core/sink.js';
import { clip, EMBED_LIMITS, escapeMarkdown, renderDiscord } from './render.js';
import { createDiscordRequest, DISCORD_SINK_REQUESTS_PER_SECOND } from './rest-request.js';

export interface DiscordSinkOptions {
  token: string;
  /** REST root such as `https://discord.com/api`. */
  apiUrl: string;
  logger: Logger;
  /** undici dispatcher for every request (see rest-request.ts); a private Agent when omitted. */
  dispatcher?: Dispatcher;
  /** Per-request deadline. Default 10 s. */
  timeoutMs?: number;
  /** Wait suggested after a 5xx, a timeout or a network failure. Default 30 s. */
  failureRetryMs?: number;
  /** Wait suggested after a refusal that may be ours (a 400, a 401): a person must look. Default 15 min. */
  refusedRetryMs?: number;
}

const GONE_CODES: Record<number, string> = {
  10003: 'the channel no longer exists (Discord 10003)',
  50001: 'the bot has no access to the channel (Discord 50001)',
  50013: 'the bot lacks permission to post there (Discord 50013)',
};

/**
 * The alert as one embed with a clipped title and a description of its text (lines, fields as `label:
 * value`, notices, footer): no fields, files or components, the parts a rendering bug can break.
 */
export function plainDiscordAlert(reply: Reply): {
  embeds: Array<{ title: string; description?: string }>;
  allowed_mentions: { parse: [] };
} {
  const title = reply.title.trim() === '' ? 'OPG alert' : reply.title;
  // The title has its own place in the embed; the rest is the shared plain text.
  const text = plainReplyText({ ...reply, title: '' }, '');
  const description = clip(escapeMarkdown(text), EMBED_LIMITS.description);
  return {
    embeds: [
      { title: clip(escapeMarkdown(title), EMBED_LIMITS.title), ...(description === '' ? {} : { description }) },
    ],
    allowed_mentions: { parse: [] },
  };
}

export function createDiscordSink(
  options: DiscordSinkOptions,
): Sink & { close(): void; /** Its REST, which keeps to its share of the global limit. */ readonly rest: REST } {
  const logger = options.logger.child({ part: 'discord-sink' });
  const failureRetryMs = options.failureRetryMs ?? 30_000;
  const refusedRetryMs = options.refusedRetryMs ?? 15 * 60_000;
  const ownDispatcher = options.dispatcher ? null : new Agent();
  const rest = new REST({
    api: options.apiUrl,
    timeout: options.timeoutMs ?? 10_000,
    retries: 0,
    rejectOnRateLimit: () => true,
    globalRequestsPerSecond: DISCORD_SINK_REQUESTS_PER_SECOND,
    makeRequest: createDiscordRequest(options.dispatcher ?? ownDispatcher!),
  }).setToken(options.token);

  async function deliver(target: AlertTarget, reply: Reply): Promise<DeliveryResult> {
    const channelId = target.threadId ?? target.chatId;
    const message = renderDiscord({ ...reply, ephemeral: false });
    const body = {
      embeds: message.embeds,
      components: message.components,
      allowed_mentions: message.allowedMentions,
      ...(message.files.length > 0
        ? {
            attachments: message.files.map((f, id) => ({
              id: String(id),
              filename: f.name,
              description: f.description,
            })),
          }
        : {}),
    };
    try {
      const created = (await rest.post(Routes.channelMessages(channelId), {
        body,
        files: message.files.map((f) => ({ name: f.name, data: f.attachment })),
      })) as { id?: unknown; embeds?: unknown } | null;
      if (body.embeds.length > 0 && Array.isArray(created?.embeds) && created.embeds.length === 0)
        return await fillDroppedEmbeds(channelId, String(created.id), reply);
      return { status: 'delivered' };
    } catch (err) {
      if (!isBodyRefusal(err)) return classify(err, channelId);
      const errors = (err.rawError as { errors?: unknown }).errors;
      logger.error(
        {
          status: err.status,
          code: err.code,
          channelId,
          ...(errors === undefined ? {} : { errors: JSON.stringify(errors).slice(0, 2_000) }),
        },
        'Discord refused an alert; sending it as plain text',
      );
    }
    try {
      await rest.post(Routes.channelMessages(channelId), { body: plainDiscordAlert(reply) });
      return { status: 'delivered' };
    } catch (err) {
      // The plain embed refused for its body too: a request of ours Discord will never take, so no retry.
      if (!isBodyRefusal(err)) return classify(err, channelId);
      logger.error({ status: err.status, code: err.code, channelId }, 'Discord refused an alert as plain text too');
      return { status: 'failed', reason: `Discord refused the alert, even as plain text (code ${err.code})` };
    }
  }

  /** Channels already logged as lacking Embed Links, so each is said once (bounded: the most recent 10,000). */
  const noEmbedsLogged = new LRUCache<string, true>({ max: 10_000 });

  /**
   * Discord dropped the alert's embeds (the bot lacks Embed Links there): the posted message shows at most its
   * picture and buttons, so it is edited to carry the alert as plain text. The alert was posted either way.
   */
  async function fillDroppedEmbeds(channelId: string, messageId: string, reply: Reply): Promise<DeliveryResult> {
    if (!noEmbedsLogged.has(channelId)) {
      noEmbedsLogged.set(channelId, true);
      logger.warn({ channelId }, 'the bot lacks Embed Links in a channel; its alerts go as plain text');
    }
    try {
      await rest.patch(Routes.channelMessage(channelId, messageId), {
        body: { content: plainDiscordText(reply), allowed_mentions: { parse: [] } },
      });
    } catch (err) {
      const e = err as { status?: unknown; code?: unknown };
      logger.warn({ channelId, status: e.status, code: e.code }, 'an alert without its embeds could not be edited');
    }
    return { status: 'delivered' };
  }

  /** What a failed post means for the dispatcher. */
  function classify(err: unknown, channelId: string): DeliveryResult {
    if (err instanceof RateLimitError) {
      const retryAfterMs = Math.max(err.retryAfter > 0 ? err.retryAfter : err.timeToReset, 1);
      return {
        status: 'retry',
        retryAfterMs,
        reason: `rate limited (${err.global ? 'global' : err.route})`,
        rateLimited: true,
      };
    }
    if (err instanceof DiscordAPIError) {
      const code = typeof err.code === 'number' ? err.code : Number(err.code);
      const gone = GONE_CODES[code];
      if (gone) {
        // Once per channel: the dispatcher pauses the subscription, so no further alert comes here.
        logger.warn({ status: err.status, code, channelId, reason: gone }, 'the bot may no longer post alerts here');
        return { status: 'gone', reason: gone };
      }
      if (err.status >= 500)
        return { status: 'retry', retryAfterMs: failureRetryMs, reason: `Discord answered ${err.status}` };
      logger.warn({ status: err.status, code, channelId }, 'Discord refused an alert');
      return {
        status: 'retry',
        retryAfterMs: refusedRetryMs,
        reason: `Discord refused the message (${err.status}, code ${code})`,
      };
    }
    if (err instanceof HTTPError)
      return { status: 'retry', retryAfterMs: failureRetryMs, reason: `Discord answered ${err.status}` };
    return { status: 'retry', retryAfterMs: failureRetryMs, reason: `no answer from Discord: ${describeError(err)}` };
  }

  return {
    platform: 'discord',
    deliver,
    rest,
    close() {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
      if (ownDispatcher && !ownDispatcher.closed) void ownDispatcher.close();
    },
  };
}
