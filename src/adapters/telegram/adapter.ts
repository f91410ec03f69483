/**
 * The Telegram front end: grammY long polling through @grammyjs/runner (chats in parallel, each chat in
 * order), `/opg …` text run through the shared command definitions, replies in HTML. Platform rules it
 * lives by: a 429 names its own wait (`retry_after`, honoured by @grammyjs/auto-retry); a callback query
 * must be answered even when nothing changes; an update the bot does not understand (a sticker, an edit,
 * another bot's command) gets no reply; a forum topic is answered in the same topic. Stopping confirms the
 * last update taken, and the update ledger in the store skips one that already ran should Telegram hand it
 * out again (a leader or process killed before its next `getUpdates` confirmed what it had answered).
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { LRUCache } from 'lru-cache';
import { run, sequentialize, type RunnerHandle } from '@grammyjs/runner';
import type { IncomingMessage } from 'node:http';
import {
  Bot,
  BotError,
  GrammyError,
  HttpError,
  InputFile,
  webhookCallback,
  type Context,
  type Transformer,
} from 'grammy';
import type { ApiError, Chat, Message, Update, User } from 'grammy/types';
import type { Clock } from '../../core/clock.js';
import { type Actor, type AnyCommand, type ChatRef, type CommandContext } from '../../core/command.js';
import type { Core } from '../../core/core.js';
import { retry } from '../../core/backoff.js';
import {
  DEFAULT_REFRESH_MIN_AGE_MS,
  REFRESH_BUTTON_PATTERN,
  refreshIfOlderThan,
  refreshCommand,
} from '../../core/buttons.js';
import { runCommand, runText } from '../../core/execute.js';
import { utc } from '../../core/format.js';
import type { Logger } from '../../core/logger.js';
import type { Reply } from '../../core/reply.js';
import type { Services } from '../../core/services.js';
import type { ChatLifecycle } from '../../core/sink.js';
import type { UpdateLedger } from '../../core/update-ledger.js';
import { telegramCommandList, telegramCommandRoutes } from './commands.js';
import { createModeratorCheck, type SenderInfo } from './moderators.js';
import { plainTelegramText, TELEGRAM_CAPTION_LIMIT, telegramMessage, type TelegramMessage } from './render.js';

export interface TelegramAdapterOptions {
  core: Core;
  services: Services;
  commands: readonly AnyCommand[];
  token: string;
  /** Bot API root without a trailing slash: `https://api.telegram.org`, a local Bot API server, a test server. */
  apiRoot: string;
  logger: Logger;
  clock: Clock;
  /** Told about group → supergroup migrations and removals (the alerts service, which moves or pauses the chat). */
  lifecycle?: ChatLifecycle;
  /** Long-polling wait per `getUpdates`. Default 30 s. */
  pollTimeoutSeconds?: number;
  /** Deadline for one Bot API request; must exceed the polling wait. Default the polling wait + 30 s. */
  requestTimeoutSeconds?: number;
  /** Wait between failed `getUpdates` calls, doubling from here. Default 100 ms (the runner's default). */
  pollRetryMs?: number;
  /** Tries for an outgoing call that meets a 5xx or no answer, with doubling waits from `retryDelayMs`. */
  retryAttempts?: number;
  retryDelayMs?: number;
  /** A Refresh button edits its message at most once per this interval, however many people tap. Default 5 s. */
  refreshEditIntervalMs?: number;
  /** A Refresh tap fetches new figures only when the current ones are at least this old. Default 5 min. */
  refreshMinAgeMs?: number;
  /** How long an administrator check is trusted. Default 60 s. */
  adminCacheTtlMs?: number;
  /**
   * Updates taken, by id, in the store (core/update-ledger.ts): an update delivered again runs once across
   * every instance. By webhook Telegram re-sends an update it saw no 200 for; by long polling `getUpdates`
   * hands out again every update not yet confirmed, as to a new leader when the old one died after answering
   * and before its next `getUpdates`. Required with `webhook`.
   */
  ledger?: UpdateLedger;
  /** Receive updates by webhook instead of long polling: `webhookHandler()` serves them with `secret` checked. */
  webhook?: { secret: string };
  /**
   * Bot API transformers that watch every call (connection state, rate-limit counts): installed closest to the
   * Bot API, inside the retries, so they see each answer, a 429 that auto-retry then waits out included.
   */
  observers?: readonly Transformer[];
}

/** What the webhook handler answers; the operations endpoint sends it as is. */
export interface WebhookAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** Updates the bot reads; the same list for polling and for the webhook. */
const ALLOWED_UPDATES = ['message', 'channel_post', 'callback_query', 'my_chat_member'] as const;
/** A Bot API update is small; anything far larger is not one. */
const MAX_WEBHOOK_BODY_BYTES = 1_000_000;

/** Telegram answered `getMe` with 401 Unauthorized (or 404 Not Found, its answer to a malformed token). */
export class TelegramTokenRefused extends Error {
  constructor(status: number) {
    super(`Telegram refused the bot token (${status})`);
    this.name = 'TelegramTokenRefused';
  }
}

export interface TelegramAdapter {
  readonly bot: Bot;
  /**
   * grammY's `bot.init()` (`getMe`, retried while the Bot API is down, 5xx or no answer).
   * @throws TelegramTokenRefused when Telegram refuses the token: no retry can help.
   */
  init(): Promise<void>;
  /** Resolves once polling has begun: after `getMe` succeeded (retried while the API is down) and `setMyCommands` was
   * tried. */
  start(): Promise<void>;
  /** Stops polling and confirms the last update taken to Telegram. */
  stop(): Promise<void>;
  /**
   * With `webhook`: the handler for Telegram's POSTs (grammY's webhookCallback). A wrong or missing secret
   * gets 401 and nothing runs; a body that is not an update gets 400; an update that already ran (on any
   * instance) is acknowledged and not run again; one running under a live claim gets 503 (Telegram re-sends
   * it); one whose run fails gets 500 and runs again when Telegram re-sends it.
   */
  webhookHandler(): (req: IncomingMessage) => Promise<WebhookAnswer>;
  /** With `webhook`: asks Telegram to post updates to `url` with the secret (the leader does this). */
  setWebhook(url: string): Promise<void>;
  /**
   * Sets the command menu (`setMyCommands`) from the definitions; a failure is logged, never thrown. `start()`
   * does it for long polling; by webhook the leader does it each term.
   */
  setCommandMenu(): Promise<void>;
}

const MAX_TRACKED = 10_000;
const REFUSED_NOTICE =
  "Sorry, that answer could not be shown here. The bot's operator has been told; try another command meanwhile.";

/** A 400 about the request itself, not about the chat (a migrated group answers 400 too, with where it went). */
class BadUpdateError extends Error {}

/** A re-sent update whose earlier claim is still within its lease: answered 503, so Telegram sends it again. */
class UpdateRunningError extends Error {
  constructor(readonly updateId: number) {
    super(`update ${updateId} is being handled under another claim`);
  }
}

/** Reads a request body as JSON, refusing one that is too large or not an object. */
function readUpdate(req: IncomingMessage): Promise<Update> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_WEBHOOK_BODY_BYTES) {
        reject(new BadUpdateError('the body is too large for an update'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (
          typeof value !== 'object' ||
          value === null ||
          typeof (value as { update_id?: unknown }).update_id !== 'number'
        ) {
          reject(new BadUpdateError('the body is not a Telegram update'));
        } else resolve(value as Update);
      } catch {
        reject(new BadUpdateError('the body is not JSON'));
      }
    });
  });
}

/** grammY's request-response handler (its ReqResHandler, which grammY does not export by name). */
interface WebhookExchange {
  readonly update: Promise<Update>;
  header?: string;
  end(): void;
  respond(json: string): void;
  unauthorized(): void;
  handlerReturn: Promise<WebhookAnswer>;
}

/** grammY's webhookCallback over a node request, answering in the operations endpoint's terms. */
function routeAdapter(req: IncomingMessage): WebhookExchange {
  let settle!: (answer: WebhookAnswer) => void;
  const handlerReturn = new Promise<WebhookAnswer>((resolve) => (settle = resolve));
  const secret = req.headers['x-telegram-bot-api-secret-token'];
  let update: Promise<Update> | null = null;
  return {
    // Read only when the secret matched: a stranger's body is never parsed.
    get update() {
      update ??= readUpdate(req);
      return update;
    },
    header: typeof secret === 'string' ? secret : undefined,
    end: () => settle({ status: 200, body: '' }),
    respond: (json: string) => settle({ status: 200, body: json, contentType: 'application/json' }),
    unauthorized: () =>
      settle({
        status: 401,
        body: JSON.stringify({ error: 'unauthorized' }),
        contentType: 'application/json; charset=utf-8',
      }),
    handlerReturn,
  };
}

/** Telegram's answer to an edit that would leave a message as it is: the edit is done already. */
function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && /message is not modified/i.test(err.description);
}

function isRefusedRequest(err: unknown): err is GrammyError {
  return (
    err instanceof GrammyError &&
    err.error_code === 400 &&
    err.parameters.migrate_to_chat_id === undefined &&
    !/chat not found/i.test(err.description)
  );
}
const CONFIRM_TIMEOUT_MS = 3_000;
/** By polling, how often a claim another run holds is asked for again (it finishes, or its lease ends). */
const CLAIM_RECHECK_MS = 1_000;

type ChatMessage = Message & { chat: Chat };
type RefreshCommand = NonNullable<ReturnType<typeof refreshCommand>>;

/** A 5xx answer thrown out of one try so that `retry` counts it; unwrapped again when the tries are spent. */
class ServerErrorAnswer {
  constructor(readonly answer: ApiError) {}
}

export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const { core, services, commands, logger, clock, lifecycle } = options;
  const pollTimeoutSeconds = options.pollTimeoutSeconds ?? 30;
  const retryAttempts = options.retryAttempts ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const refreshEditIntervalMs = options.refreshEditIntervalMs ?? 5_000;
  const refreshMinAgeMs = options.refreshMinAgeMs ?? DEFAULT_REFRESH_MIN_AGE_MS;

  const bot = new Bot(options.token, {
    client: { apiRoot: options.apiRoot, timeoutSeconds: options.requestTimeoutSeconds ?? pollTimeoutSeconds + 30 },
  });
  // The first transformer installed is the innermost: the observers see every answer before any retry.
  for (const observer of options.observers ?? []) bot.api.config.use(observer);
  // auto-retry waits out 429s; 5xx and network failures are retried below on the injected clock instead.
  bot.api.config.use(
    autoRetry({ maxDelaySeconds: 60, maxRetryAttempts: 3, rethrowInternalServerErrors: true, rethrowHttpErrors: true }),
  );
  bot.api.config.use(transientRetry());

  const isModerator = createModeratorCheck({ api: bot.api, clock, logger, ttlMs: options.adminCacheTtlMs });
  // Bounded: the oldest entries go first, so memory stays flat however many chats tap or migrate.
  const lastEditAt = new LRUCache<string, number>({ max: MAX_TRACKED });
  const migrations = new LRUCache<string, true>({ max: MAX_TRACKED });
  let lastUpdateId: number | null = null;
  let handle: RunnerHandle | null = null;
  let stopping = false;

  function transientRetry(): Transformer {
    return async (prev, method, payload, signal) => {
      if (method === 'getUpdates') {
        try {
          const res = await prev(method, payload, signal);
          if (!res.ok)
            logger.warn({ code: res.error_code, description: res.description }, 'getUpdates failed; polling again');
          return res;
        } catch (err) {
          if (!signal?.aborted) logger.warn({ err }, 'getUpdates got no answer; polling again');
          throw err;
        }
      }
      try {
        return await retry(
          async () => {
            const res = await prev(method, payload, signal);
            if (!res.ok && res.error_code >= 500) throw new ServerErrorAnswer(res);
            return res;
          },
          {
            attempts: retryAttempts,
            baseMs: retryDelayMs,
            maxMs: 30_000,
            clock,
            shouldRetry: (err) => err instanceof ServerErrorAnswer || (err instanceof HttpError && !signal?.aborted),
            onRetry: (err, attempt) => {
              if (err instanceof ServerErrorAnswer)
                logger.warn({ method, code: err.answer.error_code, attempt }, 'Bot API server error; retrying');
              else logger.warn({ method, err, attempt }, 'no answer from the Bot API; retrying');
            },
          },
        );
      } catch (err) {
        // Tries spent on 5xx answers: the last answer goes back to grammY, which turns it into a GrammyError.
        if (err instanceof ServerErrorAnswer) return err.answer;
        throw err;
      }
    };
  }

  function chatRefOf(msg: ChatMessage): ChatRef {
    const { chat } = msg;
    return {
      platform: 'telegram',
      chatId: String(chat.id),
      threadId: msg.is_topic_message && msg.message_thread_id !== undefined ? String(msg.message_thread_id) : null,
      kind: chat.type,
      title: chat.title ?? chat.username ?? chat.first_name ?? String(chat.id),
    };
  }

  function actorOf(sender: SenderInfo & { from?: User; sender_chat?: Chat }): Actor {
    const { from, sender_chat: senderChat } = sender;
    const name = senderChat
      ? (senderChat.title ?? String(senderChat.id))
      : from
        ? from.username
          ? `@${from.username}`
          : [from.first_name, from.last_name].filter(Boolean).join(' ')
        : sender.chat.type;
    let answer: Promise<boolean> | null = null;
    return {
      id: String(senderChat?.id ?? from?.id ?? sender.chat.id),
      name,
      isModerator: () => (answer ??= isModerator(sender)),
    };
  }

  function contextOf(chat: ChatRef, actor: Actor): CommandContext {
    return { core, services, chat, actor, commands };
  }

  /** Where an answer to `msg` goes: its forum topic, if any, and as a reply to it. */
  function placementOf(msg: ChatMessage) {
    return {
      thread:
        msg.is_topic_message && msg.message_thread_id !== undefined ? { message_thread_id: msg.message_thread_id } : {},
      replyTo: { reply_parameters: { message_id: msg.message_id, allow_sending_without_reply: true } },
    };
  }

  async function sendReply(msg: ChatMessage, r: Reply): Promise<void> {
    const chatId = msg.chat.id;
    const { thread, replyTo } = placementOf(msg);
    const message = telegramMessage(r);
    const markup = message.keyboard ? { reply_markup: message.keyboard } : {};
    if (message.kind === 'photo') {
      await bot.api.sendPhoto(chatId, new InputFile(message.png, message.filename), {
        caption: message.caption,
        parse_mode: 'HTML',
        ...thread,
        ...replyTo,
        ...markup,
      });
      return;
    }
    for (const [i, text] of message.parts.entries()) {
      await bot.api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...thread,
        ...(i === 0 ? replyTo : {}),
        ...(i === message.parts.length - 1 ? markup : {}),
      });
    }
  }

  async function migrate(fromId: number, toId: number): Promise<void> {
    const key = `${fromId}>${toId}`;
    // Telegram reports a migration twice (in the old group and in the new supergroup): act once.
    if (migrations.has(key)) return;
    migrations.set(key, true);
    logger.info({ fromChatId: fromId, toChatId: toId }, 'group became a supergroup');
    await lifecycle?.migrateChat('telegram', String(fromId), String(toId));
  }

  async function onMigration(ctx: Context): Promise<void> {
    const msg = ctx.msg;
    if (msg?.migrate_to_chat_id !== undefined) return migrate(msg.chat.id, msg.migrate_to_chat_id);
    if (msg?.migrate_from_chat_id !== undefined) return migrate(msg.migrate_from_chat_id, msg.chat.id);
  }

  async function onCommand(ctx: Context, words: string): Promise<void> {
    const msg = (ctx.message ?? ctx.channelPost) as ChatMessage | undefined;
    if (!msg) return;
    const r = await runText(words, contextOf(chatRefOf(msg), actorOf(msg)), logger);
    try {
      await sendReply(msg, r);
    } catch (err) {
      if (!isRefusedRequest(err)) throw err;
      await answerRefused(msg, r, err);
    }
  }

  /**
   * Telegram refused a reply with 400: our request was malformed (a rendering bug), so it is never retried as
   * is. The same reply goes as plain text (no parse mode, no keyboard, no photo: nothing to break), else a
   * short notice, and the refusal is logged once, saying which went. A long reply refused after its first
   * part goes again whole: a repeat is better than figures missing.
   */
  async function answerRefused(msg: ChatMessage, r: Reply, refusal: GrammyError): Promise<void> {
    const { thread, replyTo } = placementOf(msg);
    const where = { ...thread, ...replyTo };
    let answered: 'plain text' | 'a notice' | 'nothing' = 'nothing';
    try {
      try {
        await bot.api.sendMessage(msg.chat.id, plainTelegramText(r), {
          link_preview_options: { is_disabled: true },
          ...where,
        });
        answered = 'plain text';
      } catch (err) {
        if (!isRefusedRequest(err)) throw err;
        await bot.api.sendMessage(msg.chat.id, REFUSED_NOTICE, where);
        answered = 'a notice';
      }
    } finally {
      logger.error(
        { method: refusal.method, description: refusal.description, answered },
        `Telegram refused a reply; answered with ${answered} instead`,
      );
    }
  }

  /**
   * Answers a button tap so the client stops its spinner. Only a courtesy: Telegram refuses an answer to a query
   * that is old or already answered (400 "query is too old…", a webhook update re-sent after a failed run),
   * and nothing here may stop the edit that follows or fail the update, which by webhook would be re-sent and
   * refused again without end. A failure is logged once at warn.
   */
  async function answerTap(ctx: Context, text?: string): Promise<void> {
    try {
      await ctx.answerCallbackQuery(text === undefined ? undefined : { text });
    } catch (err) {
      logger.warn(
        err instanceof GrammyError
          ? { code: err.error_code, description: err.description }
          : { reason: err instanceof Error ? err.message : String(err) },
        'answering a Telegram button tap failed; going on without it',
      );
    }
  }

  async function onCallback(ctx: Context): Promise<void> {
    const query = ctx.callbackQuery;
    if (!query) return;
    const msg = query.message;
    const parsed = refreshCommand(query.data ?? '', commands);
    if (parsed === null || !msg || msg.date === 0) {
      await answerTap(ctx);
      return;
    }
    const key = `${msg.chat.id}:${msg.message_id}`;
    const now = clock.now();
    const last = lastEditAt.get(key);
    if (last !== undefined && now - last < refreshEditIntervalMs) {
      await answerTap(ctx, 'Just refreshed. Try again in a few seconds.');
      return;
    }
    lastEditAt.set(key, now);
    await answerTap(ctx);
    try {
      await refreshMessage(query.from, msg as ChatMessage, parsed);
    } catch (err) {
      // Not edited: a re-send of this update (by webhook) or the next tap may edit at once.
      if (lastEditAt.get(key) === now) lastEditAt.delete(key);
      throw err;
    }
  }

  /** Runs a Refresh button's command and edits its message with the answer. */
  async function refreshMessage(from: User, msg: ChatMessage, parsed: RefreshCommand): Promise<void> {
    await refreshIfOlderThan(core, refreshMinAgeMs);
    const actor = actorOf({ chat: msg.chat, from });
    const r = await runCommand(() => parsed, contextOf(chatRefOf(msg), actor), logger);
    // Figures already on screen are better than an error in their place.
    if (r.kind !== 'info') return;
    const message = telegramMessage(r, { single: true });
    const markup = message.keyboard ? { reply_markup: message.keyboard } : {};
    try {
      if (message.kind === 'photo') {
        const media = {
          type: 'photo' as const,
          media: new InputFile(message.png, message.filename),
          caption: message.caption,
          parse_mode: 'HTML' as const,
        };
        await bot.api.editMessageMedia(msg.chat.id, msg.message_id, media, markup);
      } else {
        await bot.api.editMessageText(msg.chat.id, msg.message_id, message.parts[0] ?? '', {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          ...markup,
        });
      }
    } catch (err) {
      if (isNotModified(err)) return;
      if (!isRefusedRequest(err)) throw err;
      await editRefused(msg, message, r, err);
    }
  }

  /**
   * Telegram refused a Refresh edit with 400 (a rendering bug, never retried as is): the message is edited
   * again with the same figures as plain text (no parse mode, no button), so the person who tapped sees new
   * figures rather than nothing; refused again, the message keeps the figures it showed. Logged once.
   */
  async function editRefused(msg: ChatMessage, message: TelegramMessage, r: Reply, refusal: GrammyError) {
    let answered: 'plain text' | 'nothing' = 'nothing';
    try {
      if (message.kind === 'photo') {
        const caption = plainTelegramText(r, 'OPG', TELEGRAM_CAPTION_LIMIT);
        const media = { type: 'photo' as const, media: new InputFile(message.png, message.filename), caption };
        await bot.api.editMessageMedia(msg.chat.id, msg.message_id, media);
      } else {
        await bot.api.editMessageText(msg.chat.id, msg.message_id, plainTelegramText(r), {
          link_preview_options: { is_disabled: true },
        });
      }
      answered = 'plain text';
    } catch (err) {
      if (isNotModified(err)) answered = 'plain text';
      else if (!isRefusedRequest(err)) throw err;
    } finally {
      logger.error(
        { method: refusal.method, description: refusal.description, answered },
        answered === 'nothing'
          ? 'Telegram refused a Refresh edit; the message keeps the figures it showed'
          : 'Telegram refused a Refresh edit; edited with plain text instead',
      );
    }
  }

  async function onMembership(ctx: Context): Promise<void> {
    const update = ctx.myChatMember;
    if (!update) return;
    const member = update.new_chat_member;
    const by = update.from.username ? `@${update.from.username}` : update.from.first_name;
    const when = utc(update.date * 1000);
    let reason: string | null = null;
    if (member.status === 'kicked' || member.status === 'left') {
      reason =
        update.chat.type === 'private'
          ? `the user blocked the bot (${when})`
          : `the bot was removed from the chat by ${by} (${when})`;
    } else if (member.status === 'restricted' && !member.can_send_messages) {
      reason = `the bot may no longer send messages here, restricted by ${by} (${when})`;
    }
    if (reason === null) return;
    logger.info({ chatId: update.chat.id, status: member.status }, 'bot lost access to a chat');
    await lifecycle?.pauseChat('telegram', String(update.chat.id), reason);
  }

  const { ledger, webhook } = options;
  if (webhook && !ledger) throw new Error('the webhook option needs a ledger');

  /**
   * Claims `updateId` in the ledger: the claim's time, or null when the update is not to run (it ran already).
   * A claim another run holds (within its lease) is answered 503 by webhook, so Telegram re-sends it. By
   * polling nothing is re-sent: the claim is asked for again until that run finishes (nothing to do) or its
   * lease ends (its instance died mid-run: this one runs it).
   */
  async function claim(store: UpdateLedger, updateId: number): Promise<number | null> {
    let waiting = false;
    for (;;) {
      const claimedAtMs = clock.now();
      const taken = await store.claim(updateId, claimedAtMs);
      if (taken === 'claimed') return claimedAtMs;
      if (taken === 'finished') {
        logger.info({ updateId }, 'a Telegram update delivered again already ran; not run again');
        return null;
      }
      if (webhook) throw new UpdateRunningError(updateId);
      if (stopping) {
        logger.info({ updateId }, 'stopping; a Telegram update running under another claim is left to it');
        return null;
      }
      if (!waiting) {
        waiting = true;
        logger.info({ updateId }, 'a Telegram update delivered again is running under another claim; waiting for it');
      }
      await clock.sleep(CLAIM_RECHECK_MS);
    }
  }

  // Every update taken counts for the confirmation at stop, one the ledger skips included.
  bot.use(async (ctx, next) => {
    const id = ctx.update.update_id;
    if (lastUpdateId === null || id > lastUpdateId) lastUpdateId = id;
    await next();
  });
  if (ledger) {
    // Before anything runs: an update delivered again (to this or another instance) runs once, and runs again
    // only when its earlier run failed or its instance died (core/update-ledger.ts).
    bot.use(async (ctx, next) => {
      const updateId = ctx.update.update_id;
      let claimedAtMs: number | null;
      try {
        claimedAtMs = await claim(ledger, updateId);
      } catch (err) {
        // By webhook, an error answer makes Telegram re-send. By polling the next getUpdates confirms the
        // update whatever happens here, so skipping it would lose it: it runs unguarded.
        if (webhook) throw err;
        logger.warn({ err, updateId }, 'could not claim a Telegram update in the store; running it unguarded');
        return next();
      }
      if (claimedAtMs === null) return;
      try {
        await next();
      } catch (err) {
        // By webhook, Telegram gets an error and re-sends: the re-send (here or on another instance) runs it
        // again. By polling, only a re-delivery of an unconfirmed update would.
        await ledger
          .release(updateId, claimedAtMs)
          .catch((releaseErr: unknown) =>
            logger.warn({ err: releaseErr, updateId }, 'could not release a failed update; it runs after its lease'),
          );
        throw err;
      }
      try {
        await ledger.finish(updateId, clock.now());
      } catch (err) {
        // It ran, and by webhook Telegram gets its 200 and does not re-send: the unfinished claim only lapses.
        logger.warn({ err, updateId }, 'could not record a Telegram update as finished');
      }
    });
  }
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
  bot.on([':migrate_to_chat_id', ':migrate_from_chat_id'], onMigration);
  for (const [name, words] of telegramCommandRoutes(commands)) {
    bot.command(name, (ctx) => onCommand(ctx, words(typeof ctx.match === 'string' ? ctx.match : '')));
  }
  bot.callbackQuery(REFRESH_BUTTON_PATTERN, onCallback);
  // Any other button (an old or forged one) is acknowledged, so the client stops its spinner.
  bot.on('callback_query', (ctx) => answerTap(ctx));
  bot.on('my_chat_member', onMembership);
  bot.catch((err) => {
    logger.error({ err: err.error, updateId: err.ctx.update.update_id }, 'a Telegram update failed');
  });

  function webhookHandler(): (req: IncomingMessage) => Promise<WebhookAnswer> {
    if (!webhook) throw new Error('webhookHandler() needs the webhook option');
    const callback = webhookCallback(bot, (req: IncomingMessage) => routeAdapter(req), {
      secretToken: webhook.secret,
      // A slow answer (a chart) goes on after Telegram has its 200, so it is not re-sent meanwhile.
      onTimeout: 'return',
      timeoutMilliseconds: 10_000,
    });
    return async (req) => {
      try {
        return await callback(req);
      } catch (err) {
        if (err instanceof BadUpdateError)
          return {
            status: 400,
            body: JSON.stringify({ error: err.message }),
            contentType: 'application/json; charset=utf-8',
          };
        if (err instanceof BotError && err.error instanceof UpdateRunningError) {
          // Not a 200: should that run's instance die, Telegram's next re-send takes the claim over.
          logger.info(
            { updateId: err.error.updateId },
            'a re-sent Telegram update is running elsewhere; asked to re-send',
          );
          return {
            status: 503,
            body: JSON.stringify({ error: 'this update is being handled; send it again later' }),
            contentType: 'application/json; charset=utf-8',
          };
        }
        throw err;
      }
    };
  }

  async function setCommandMenu(): Promise<void> {
    try {
      await bot.api.setMyCommands(telegramCommandList(commands));
    } catch (err) {
      logger.warn({ err }, 'setMyCommands failed; the command menu may be out of date');
    }
  }

  async function init(): Promise<void> {
    try {
      // grammY's init retries getMe itself while the Bot API is down (5xx, 429, no answer), with backoff;
      // each failed attempt is logged by the transformer above. Anything else (a bad token) ends it.
      await bot.init();
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404))
        throw new TelegramTokenRefused(err.error_code);
      throw err;
    }
  }

  return {
    bot,
    webhookHandler,
    setCommandMenu,
    async setWebhook(url) {
      if (!webhook) throw new Error('setWebhook() needs the webhook option');
      await bot.api.setWebhook(url, {
        secret_token: webhook.secret,
        allowed_updates: [...ALLOWED_UPDATES],
        drop_pending_updates: false,
      });
      logger.info({ path: new URL(url).pathname }, 'Telegram webhook set');
    },
    init,
    async start() {
      await init();
      if (stopping) return;
      await setCommandMenu();
      // Back to polling after a webhook: Telegram refuses getUpdates (409) while a webhook is set.
      try {
        await bot.api.deleteWebhook({ drop_pending_updates: false });
      } catch (err) {
        logger.warn({ err }, 'deleteWebhook failed; polling may be refused while a webhook is set');
      }
      handle = run(bot, {
        runner: {
          fetch: { timeout: pollTimeoutSeconds, allowed_updates: [...ALLOWED_UPDATES] },
          retryInterval: options.pollRetryMs ?? 'exponential',
          silent: true,
        },
      });
      handle.task()?.catch((err: unknown) => logger.error({ err }, 'Telegram polling stopped'));
      logger.info({ username: bot.botInfo.username }, 'Telegram front end polling');
    },
    async stop() {
      stopping = true;
      if (handle) await handle.stop();
      handle = null;
      // By webhook, Telegram had its 200 for every update taken; there is nothing to confirm.
      if (lastUpdateId === null || webhook) return;
      try {
        // Bounded: a process manager allows a stop only a few seconds before it kills.
        const deadline = AbortSignal.timeout(CONFIRM_TIMEOUT_MS) as unknown as Parameters<typeof bot.api.getUpdates>[1];
        await bot.api.getUpdates({ offset: lastUpdateId + 1, limit: 1, timeout: 0 }, deadline);
      } catch (err) {
        logger.warn({ err }, 'could not confirm the last update; it may be answered again after a restart');
      }
    },
  };
}
