/**
 * The Telegram alert sink. Platform rules: a 429 carries `parameters.retry_after` in seconds; a 403 means
 * the bot was kicked or blocked and a 400 "chat not found" that the chat is gone, both for good; a group
 * that became a supergroup answers 400 with `parameters.migrate_to_chat_id`. Any other 400 refuses the
 * message itself ("can't parse entities", "message is too long": a rendering bug): the alert goes at once as
 * plain text, which cannot fail the same way, instead of the same refused request every 10 minutes. A 400 on
 * that plain text too is a request of ours Telegram will never take: the alert is not retried (it would be, 12
 * times over hours, two refused requests each) but answered `gone`, so the chat's subscription is paused with
 * Telegram's reason, kept for a moderator to see and resume. Either way one line is logged, with Telegram's
 * descriptions. It sends through its own transformer-free `Api`: the dispatcher owns retry timing, so nothing
 * here sleeps or retries.
 */
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { Logger } from '../../core/logger.js';
import type { Reply } from '../../core/reply.js';
import type { AlertTarget, DeliveryResult, Sink } from '../../core/sink.js';
import { plainTelegramText, telegramMessage } from './render.js';

export interface TelegramSinkOptions {
  token: string;
  /** Bot API root without a trailing slash. */
  apiRoot: string;
  logger: Logger;
  /** Per-request deadline; a request that gets no answer by then is retried later. Default 20 s. */
  timeoutSeconds?: number;
  /** Post alerts without a sound, so an alert never pings a whole group at night. Default true. */
  silent?: boolean;
  /** Retry delay for a 5xx or a network failure, which come with no `retry_after`. Default 5 s. */
  transientRetryMs?: number;
}

/** Telegram chat ids are 64-bit but fit a double; a numeric id is sent as a number, anything else as is. */
export function chatIdParam(chatId: string): number | string {
  return /^-?\d{1,16}$/.test(chatId) ? Number(chatId) : chatId;
}

const GONE_400 = new RegExp(
  [
    'chat not found',
    'group chat was deactivated',
    'group chat was upgraded',
    'message thread not found',
    'topic_deleted',
    'topic_closed',
    'not enough rights',
    'need administrator rights',
    'have no rights',
  ].join('|'),
  'i',
);

/** Turns what the Bot API said into the dispatcher's terms. */
export function classifyTelegramError(err: unknown, transientRetryMs = 5_000): DeliveryResult {
  if (err instanceof GrammyError) {
    const { error_code: code, description, parameters } = err;
    if (parameters?.migrate_to_chat_id !== undefined)
      return { status: 'moved', toChatId: String(parameters.migrate_to_chat_id) };
    if (code === 429)
      return {
        status: 'retry',
        retryAfterMs: (parameters?.retry_after ?? 1) * 1000,
        reason: 'Telegram rate limit (429)',
        rateLimited: true,
      };
    if (code >= 500)
      return {
        status: 'retry',
        retryAfterMs: (parameters?.retry_after ?? 0) * 1000 || transientRetryMs,
        reason: `Telegram server error ${code}`,
      };
    if (code === 403) return { status: 'gone', reason: `Telegram refused: ${description}` };
    if (code === 400 && GONE_400.test(description))
      return { status: 'gone', reason: `Telegram refused: ${description}` };
    // A token Telegram no longer accepts, or a request it cannot parse, is not this chat's fault:
    // keep the subscription and try much later, so an operator can fix it without losing anything.
    return { status: 'retry', retryAfterMs: 10 * 60_000, reason: `Telegram answered ${code}: ${description}` };
  }
  if (err instanceof HttpError)
    return { status: 'retry', retryAfterMs: transientRetryMs, reason: 'no answer from the Telegram Bot API' };
  return { status: 'retry', retryAfterMs: transientRetryMs, reason: err instanceof Error ? err.message : String(err) };
}

/** The alert as plain text (no parse mode, so no entity to break), clipped to one message. */
export function plainTelegramAlert(r: Reply): string {
  return plainTelegramText(r, 'OPG alert');
}

/** A 400 about the message itself: not a lost chat, not a migration. */
function refusesMessage(err: unknown, result: DeliveryResult): err is GrammyError {
  return err instanceof GrammyError && err.error_code === 400 && result.status === 'retry';
}

/** Delivers one reply as one message (trimmed to Telegram's limits) and reports the outcome. */
export function createTelegramSink(options: TelegramSinkOptions): Sink {
  const api = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds: options.timeoutSeconds ?? 20 });
  const silent = options.silent ?? true;
  const logger = options.logger.child({ part: 'telegram-sink' });

  async function send(target: AlertTarget, r: Reply): Promise<void> {
    const common = {
      parse_mode: 'HTML' as const,
      disable_notification: silent,
      ...(target.threadId ? { message_thread_id: Number(target.threadId) } : {}),
    };
    const chatId = chatIdParam(target.chatId);
    // An alert is one message: a retry must never send half of it again.
    const message = telegramMessage(r, { single: true });
    if (message.kind === 'photo') {
      await api.sendPhoto(chatId, new InputFile(message.png, message.filename), {
        ...common,
        caption: message.caption,
      });
      return;
    }
    await api.sendMessage(chatId, message.parts[0] ?? '', { ...common, link_preview_options: { is_disabled: true } });
  }

  /**
   * The alert as plain text, after Telegram refused it. A 400 on this too (one that is not about the chat:
   * those are `gone` already) is answered `failed` (`refused`: its description): no parse mode, no markup, one
   * message within the limit, so nothing is left to mend and no retry can succeed; the chat keeps its alerts.
   */
  async function sendPlain(target: AlertTarget, r: Reply): Promise<{ result: DeliveryResult; refused?: string }> {
    try {
      await api.sendMessage(chatIdParam(target.chatId), plainTelegramAlert(r), {
        disable_notification: silent,
        link_preview_options: { is_disabled: true },
        ...(target.threadId ? { message_thread_id: Number(target.threadId) } : {}),
      });
      return { result: { status: 'delivered' } };
    } catch (err) {
      const result = classifyTelegramError(err, options.transientRetryMs);
      if (!refusesMessage(err, result)) return { result };
      return {
        result: { status: 'failed', reason: `Telegram refused the alert, even as plain text (${err.description})` },
        refused: err.description,
      };
    }
  }

  return {
    platform: 'telegram',
    async deliver(target, r) {
      let refusal: GrammyError;
      try {
        await send(target, r);
        return { status: 'delivered' };
      } catch (err) {
        const result = classifyTelegramError(err, options.transientRetryMs);
        if (!refusesMessage(err, result)) return result;
        refusal = err;
      }
      const { result, refused } = await sendPlain(target, r);
      logger.error(
        {
          method: refusal.method,
          description: refusal.description,
          chatId: target.chatId,
          then: result.status,
          ...(refused === undefined ? {} : { plainDescription: refused }),
        },
        result.status === 'delivered'
          ? 'Telegram refused an alert; sent it as plain text'
          : refused !== undefined
            ? 'Telegram refused an alert and its plain text; the alert is given up'
            : `Telegram refused an alert; its plain text did not go through (${result.status})`,
      );
      return result;
    },
  };
}
