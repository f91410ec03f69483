/**
 * A loopback stand-in for the Telegram Bot API that speaks its wire format: `POST /bot<token>/<method>`
 * with JSON or multipart bodies, answers `{"ok":true,"result":…}` or `{"ok":false,"error_code":…,
 * "description":…,"parameters":…}`, and serves `getUpdates` with Telegram's offset and long-polling
 * semantics (an offset confirms every earlier update; with nothing pending the call waits up to `timeout`
 * seconds). Faults can be queued per method: an error answer, a dropped connection, or no answer at all.
 * It remembers the messages it answered (chat, id, text or photo, reply markup) and refuses edits of them
 * as Telegram does: `editMessageText` on a photo, `editMessageMedia` on a text message, and an edit that
 * changes nothing ("message is not modified"). An edit of a message it never sent is taken: tests push
 * callbacks for such messages. A callback query is answered once: `answerCallbackQuery` for an id it never
 * delivered (by `push` or `postUpdate`) or one already answered gets Telegram's 400 "query is too old…".
 * A call it cannot answer (a method it does not implement, a path that names no method, a body it cannot
 * read) counts as a refusal too, so a test never passes on an answer Telegram would have given differently.
 * It does not import vitest, so benchmarks can use it; the caller closes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitMultipart } from './multipart.js';
import { formValue, parseTelegramHtml, telegramRefusal } from './telegram-contract.js';

export interface BotApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Multipart file fields by name. */
  files: Record<string, { filename: string; size: number; bytes: Uint8Array }>;
  /** `performance.now()` when the request body had arrived. */
  atMs: number;
  /** What the stand-in answered with `ok: true` (the sent message, for a send), once it has answered. */
  result?: unknown;
}

export type Fault =
  { status: number; errorCode?: number; description: string; parameters?: Record<string, unknown> } | 'drop' | 'hang';

export interface TelegramServer {
  /** The `apiRoot` to give the bot: `http://127.0.0.1:<port>`. */
  url: string;
  token: string;
  botUsername: string;
  calls: BotApiCall[];
  /** Queues an update (its `update_id` is assigned here) and returns the id. */
  push(update: Record<string, unknown>): number;
  /**
   * Queues updates together, as Telegram holds those that came while no `getUpdates` waited: the next
   * `getUpdates` gets them all (one `push` after another wakes a waiting one with the first alone). Returns the ids.
   */
  pushAll(updates: ReadonlyArray<Record<string, unknown>>): number[];
  /** The webhook `setWebhook` set (url, secret_token), or null after `deleteWebhook` or before any. */
  webhook(): { url: string; secret: string | null } | null;
  /**
   * Posts an update to the webhook as Telegram does (JSON, with `X-Telegram-Bot-Api-Secret-Token` when one
   * was set; `secret` overrides it, null leaves the header out). A new `update_id` is assigned unless the
   * update carries one (a re-send). Resolves with the bot's answer.
   */
  postUpdate(
    update: Record<string, unknown>,
    options?: { secret?: string | null },
  ): Promise<{ status: number; body: string; updateId: number }>;
  /** Posts later updates to `url` instead, with the same secret: a load balancer that routes to another instance. */
  setWebhookUrl(url: string): void;
  callsOf(method: string): BotApiCall[];
  /** Resolves once `count` calls of `method` matching `where` have arrived (counting those already here). */
  waitFor(method: string, count?: number, where?: (call: BotApiCall) => boolean): Promise<BotApiCall[]>;
  /**
   * The next `times` calls of `method` (those whose params match `where`, when given) get this fault instead of
   * an answer.
   */
  failNext(method: string, fault: Fault, times?: number, where?: (params: Record<string, unknown>) => boolean): void;
  /** What `getChatMember` answers for this user in this chat (default `member`). */
  setMember(chatId: number, userId: number, status: string): void;
  /** The highest `offset` any `getUpdates` has sent: every update below it is confirmed. */
  confirmedOffset(): number;
  /** Updates queued and not yet confirmed. */
  pending(): number;
  onCall(listener: (call: BotApiCall) => void): void;
  /**
   * Calls refused as Telegram would refuse them (telegram-contract.ts, edits of a photo's text or a text's
   * media, a second answer to a callback query or one to an id never delivered): each answered
   * 400; and calls the stand-in cannot answer as Telegram would (a method it does not implement, a path that
   * names no method, a body it cannot read, its own failure). `close()` rejects naming them unless
   * `allowRefusals()` was called, so no test passes on a request Telegram would refuse or answer otherwise.
   */
  refusals: Array<{ method: string; description: string }>;
  /** sendMessage and sendPhoto calls accepted, in order, as the chat shows them. */
  sent: SentMessage[];
  /** How many sends were answered 429 under `limits`. */
  tooMany(): number;
  /** This chat answers 403 "bot was kicked" from now on. */
  kick(chatId: string): void;
  /** A group that became a supergroup: 400 with `parameters.migrate_to_chat_id` from now on. */
  migrate(fromChatId: string, toChatId: string): void;
  /** For tests that send a bad request on purpose and check how the bot handles the 400. */
  allowRefusals(): void;
  /**
   * Edits answered 400 "message is not modified". Not refusals: Telegram answers it in ordinary use (two
   * Refresh taps on unchanged figures) and a bot must take it as done, which tests assert through this.
   */
  notModified: Array<{ method: string; chatId: number; messageId: number }>;
  close(): Promise<void>;
}

/** A message the stand-in answered, as far as an edit can change it. */
interface KnownMessage {
  kind: 'text' | 'photo';
  /** The text or caption as sent, with its parse mode: the same source always parses to the same content. */
  text: string | undefined;
  parseMode: unknown;
  /** `JSON.stringify` of the inline keyboard, or undefined when there is none. */
  markup: string | undefined;
}

/** Telegram's answer to `answerCallbackQuery` for a query already answered, too old, or never sent. */
export const QUERY_TOO_OLD = 'Bad Request: query is too old and response timeout expired or query ID is invalid';

export const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a ' +
  'current content and reply markup of the message';

export interface TelegramServerOptions {
  token?: string;
  botUsername?: string;
  botId?: number;
  /**
   * Enforce Telegram's send limits on sendMessage and sendPhoto (429 with `parameters.retry_after` past
   * them), as the alert dispatcher is told them; none when omitted.
   */
  limits?: BotApiLimits;
  /** The clock the limits are measured on (a test clock's `now`); `performance.now` by default. */
  now?: () => number;
}

export interface BotApiLimits {
  perSecond: number;
  perChatMs: number;
  groupPerMinute: number;
}

/** 25 a second overall, 1 a second per chat, 20 a minute per group (negative ids). */
export const BOT_API_LIMITS: BotApiLimits = { perSecond: 25, perChatMs: 1_000, groupPerMinute: 20 };

/** A message the stand-in accepted, as the chat shows it (text after HTML parsing). */
export interface SentMessage {
  chatId: string;
  threadId: number | null;
  text: string;
  atMs: number;
}

export const TEST_BOT_TOKEN = '123456:TEST-token_loopback';

export async function startTelegramServer(options: TelegramServerOptions = {}): Promise<TelegramServer> {
  const token = options.token ?? TEST_BOT_TOKEN;
  const botUsername = options.botUsername ?? 'opg_test_bot';
  const botId = options.botId ?? Number(token.split(':')[0]);
  const calls: BotApiCall[] = [];
  const listeners: Array<(call: BotApiCall) => void> = [];
  const faults = new Map<string, Array<{ fault: Fault; where?: (params: Record<string, unknown>) => boolean }>>();
  const members = new Map<string, string>();
  let queue: Array<Record<string, unknown> & { update_id: number }> = [];
  let nextUpdateId = 100_000;
  let webhook: { url: string; secret: string | null } | null = null;
  let nextMessageId = 1;
  let confirmed = 0;
  let waiters: Array<() => void> = [];
  const refusals: TelegramServer['refusals'] = [];
  const now = options.now ?? (() => performance.now());
  const sent: SentMessage[] = [];
  const acceptedAt: number[] = [];
  const byChat = new Map<string, number[]>();
  const kicked = new Set<string>();
  const migrated = new Map<string, string>();
  let tooMany = 0;
  /** Callback query ids delivered in updates, with whether the bot has answered each. */
  const callbackQueries = new Map<string, { answered: boolean }>();
  const deliver = (update: Record<string, unknown>) => {
    const id = (update.callback_query as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && !callbackQueries.has(id)) callbackQueries.set(id, { answered: false });
  };

  /** Answers a kicked, migrated or rate-limited chat as Telegram does; false when the send may go ahead. */
  function refuseSend(res: ServerResponse, params: Record<string, unknown>): boolean {
    const chatId = String(params.chat_id);
    if (kicked.has(chatId)) {
      fail(res, 403, 'Forbidden: bot was kicked from the group chat');
      return true;
    }
    const to = migrated.get(chatId);
    if (to) {
      fail(res, 400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: Number(to) });
      return true;
    }
    const limits = options.limits;
    if (!limits) return false;
    const t = now();
    const tooManyAfter = (retryAfterS: number) => {
      tooMany += 1;
      fail(res, 429, `Too Many Requests: retry after ${retryAfterS}`, { retry_after: retryAfterS });
      return true;
    };
    while (acceptedAt.length > 0 && acceptedAt[0]! <= t - 1_000) acceptedAt.shift();
    if (acceptedAt.length >= limits.perSecond) return tooManyAfter(1);
    const chatTimes = (byChat.get(chatId) ?? []).filter((x) => x > t - 60_000);
    const last = chatTimes[chatTimes.length - 1];
    if (last !== undefined && t - last < limits.perChatMs) return tooManyAfter(1);
    if (chatId.startsWith('-') && chatTimes.length >= limits.groupPerMinute)
      return tooManyAfter(Math.ceil((chatTimes[0]! + 60_000 - t) / 1000));
    acceptedAt.push(t);
    chatTimes.push(t);
    byChat.set(chatId, chatTimes);
    return false;
  }

  function recordSent(params: Record<string, unknown>, text: unknown): void {
    const raw = typeof text === 'string' ? text : '';
    const shown = params.parse_mode === 'HTML' ? (parseTelegramHtml(raw) as string) : raw;
    const thread = params.message_thread_id;
    sent.push({
      chatId: String(params.chat_id),
      threadId: thread === undefined ? null : Number(thread),
      text: shown,
      atMs: now(),
    });
  }
  let refusalsAllowed = false;
  const notModified: TelegramServer['notModified'] = [];
  const messages = new Map<string, KnownMessage>();
  const messageKey = (chatId: unknown, messageId: unknown) => `${Number(chatId)}:${Number(messageId)}`;
  const markupOf = (params: Record<string, unknown>) =>
    params.reply_markup === undefined ? undefined : JSON.stringify(params.reply_markup);
  const remember = (result: Record<string, unknown>, known: KnownMessage) => {
    messages.set(messageKey((result.chat as { id: number }).id, result.message_id), known);
    return result;
  };

  /**
   * Telegram's answer to an edit of a message it knows, or null when it takes it (and the message is
   * updated). A message this stand-in never sent is taken as it is: tests push callbacks for such
   * messages, and their content is unknown here.
   */
  function editRefusal(method: string, params: Record<string, unknown>): string | null {
    const key = messageKey(params.chat_id, params.message_id);
    const known = messages.get(key);
    if (!known || params.inline_message_id !== undefined) return null;
    if (method === 'editMessageText') {
      if (known.kind === 'photo') return 'Bad Request: there is no text in the message to edit';
      const next: KnownMessage = {
        kind: 'text',
        text: String(params.text),
        parseMode: params.parse_mode,
        markup: markupOf(params),
      };
      if (next.text === known.text && next.parseMode === known.parseMode && next.markup === known.markup)
        return NOT_MODIFIED;
      messages.set(key, next);
      return null;
    }
    if (method === 'editMessageMedia') {
      if (known.kind === 'text') return 'Bad Request: there is no media in the message to edit';
      // A new upload is new content; Telegram compares file ids, so only a reused one could be "not modified".
      const media = params.media as { type?: unknown; caption?: unknown; parse_mode?: unknown } | undefined;
      messages.set(key, {
        kind: media?.type === 'photo' ? 'photo' : known.kind,
        text: typeof media?.caption === 'string' ? media.caption : undefined,
        parseMode: media?.parse_mode,
        markup: markupOf(params),
      });
    }
    return null;
  }

  function ok(res: ServerResponse, result: unknown, call?: BotApiCall): void {
    if (call) call.result = result;
    const body = JSON.stringify({ ok: true, result });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function fail(
    res: ServerResponse,
    status: number,
    description: string,
    parameters?: Record<string, unknown>,
    errorCode = status,
  ): void {
    const body = JSON.stringify({
      ok: false,
      error_code: errorCode,
      description,
      ...(parameters ? { parameters } : {}),
    });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Answers a call Telegram would not answer this way, and records it so the test that sent it fails. */
  function refuse(res: ServerResponse, method: string, description: string, status = 400): void {
    refusals.push({ method, description });
    fail(res, status, description);
  }

  async function parseBody(
    method: string,
    req: IncomingMessage,
    raw: Buffer,
  ): Promise<Pick<BotApiCall, 'params' | 'files'> & { fileParts: string[]; form: boolean }> {
    const type = req.headers['content-type'] ?? '';
    const files: BotApiCall['files'] = {};
    if (type.startsWith('multipart/form-data')) {
      const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
      if (!boundary) throw new Error('multipart without a boundary');
      const params: Record<string, unknown> = {};
      const uploads: BotApiCall['files'] = {};
      for (const part of splitMultipart(raw, boundary)) {
        const name = /name="?([^";\r\n]+)"?/i.exec(part.headers)?.[1] ?? '';
        const filename = /filename="?([^";\r\n]*)"?/i.exec(part.headers)?.[1];
        if (filename !== undefined) {
          uploads[name] = { filename, size: part.body.length, bytes: new Uint8Array(part.body) };
          continue;
        }
        params[name] = formValue(method, name, part.body.toString('utf8'));
      }
      // grammY names the file part at random and points at it with `attach://<name>`, as the Bot API allows.
      for (const [key, value] of Object.entries(params)) {
        const ref = typeof value === 'string' && value.startsWith('attach://') ? uploads[value.slice(9)] : undefined;
        if (ref) files[key] = ref;
      }
      for (const [name, upload] of Object.entries(uploads))
        if (!Object.values(files).includes(upload)) files[name] = upload;
      return { params, files, fileParts: Object.keys(uploads), form: true };
    }
    const text = raw.toString('utf8');
    if (type.startsWith('application/x-www-form-urlencoded')) {
      return { params: Object.fromEntries(new URLSearchParams(text)), files, fileParts: [], form: true };
    }
    return {
      params: text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      files,
      fileParts: [],
      form: false,
    };
  }

  function chatOf(chatId: unknown): { id: number; type: string } {
    const id = Number(chatId);
    return { id, type: id > 0 ? 'private' : String(chatId).startsWith('-100') ? 'supergroup' : 'group' };
  }

  function sentMessage(params: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      message_id: nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: chatOf(params.chat_id),
      from: { id: botId, is_bot: true, first_name: 'OPG Bot', username: botUsername },
      ...(params.message_thread_id !== undefined
        ? { message_thread_id: params.message_thread_id, is_topic_message: true }
        : {}),
      ...(params.reply_markup !== undefined ? { reply_markup: params.reply_markup } : {}),
      ...extra,
    };
  }

  function pushAll(updates: ReadonlyArray<Record<string, unknown>>): number[] {
    const ids = updates.map((update) => {
      const update_id = nextUpdateId++;
      deliver(update);
      queue.push({ ...update, update_id });
      return update_id;
    });
    for (const w of [...waiters]) w();
    return ids;
  }

  function getUpdates(params: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): void {
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeoutS = Number(params.timeout ?? 0);
    if (offset > confirmed) confirmed = offset;
    queue = queue.filter((u) => u.update_id >= offset);
    const answer = () => ok(res, queue.slice(0, limit));
    if (queue.length > 0 || timeoutS <= 0) return answer();
    const forget = () => {
      clearTimeout(timer);
      waiters = waiters.filter((w) => w !== finish);
      req.socket.off('close', forget);
    };
    const finish = () => {
      forget();
      if (!res.destroyed) answer();
    };
    const timer = setTimeout(finish, timeoutS * 1000);
    waiters.push(finish);
    // A client that gives up (an aborted long poll) must not get the next updates written to a dead socket.
    req.socket.on('close', forget);
  }

  function handle(
    method: string,
    params: Record<string, unknown>,
    files: BotApiCall['files'],
    req: IncomingMessage,
    res: ServerResponse,
    call: BotApiCall,
  ): void {
    const answer = (result: unknown) => ok(res, result, call);
    switch (method) {
      case 'getMe':
        return answer({
          id: botId,
          is_bot: true,
          first_name: 'OPG Bot',
          username: botUsername,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case 'getUpdates':
        if (webhook)
          return fail(
            res,
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the " +
              'webhook first',
          );
        return getUpdates(params, req, res);
      case 'setWebhook': {
        const url = typeof params.url === 'string' ? params.url : '';
        if (url === '') {
          webhook = null;
          return answer(true);
        }
        webhook = { url, secret: typeof params.secret_token === 'string' ? params.secret_token : null };
        return answer(true);
      }
      case 'deleteWebhook':
        webhook = null;
        return answer(true);
      case 'setMyCommands':
        return answer(true);
      case 'answerCallbackQuery': {
        const query = callbackQueries.get(String(params.callback_query_id));
        if (!query || query.answered) return refuse(res, method, QUERY_TOO_OLD);
        query.answered = true;
        return answer(true);
      }
      // Text and caption lengths are the contract's (telegram-contract.ts: counted after entity parsing), checked
      // before any call gets here.
      case 'sendMessage': {
        if (refuseSend(res, params)) return;
        const text = String(params.text);
        recordSent(params, text);
        return answer(
          remember(sentMessage(params, { text }), {
            kind: 'text',
            text,
            parseMode: params.parse_mode,
            markup: markupOf(params),
          }),
        );
      }
      case 'sendPhoto': {
        const photo = files.photo ?? (typeof params.photo === 'string' ? { size: 0 } : undefined);
        if (!photo) return refuse(res, method, 'Bad Request: there is no photo in the request');
        if (refuseSend(res, params)) return;
        recordSent(params, params.caption);
        const sent = sentMessage(params, {
          photo: [
            { file_id: `photo-${nextMessageId}`, file_unique_id: 'u', width: 800, height: 400, file_size: photo.size },
          ],
          caption: params.caption,
        });
        return answer(
          remember(sent, {
            kind: 'photo',
            text: typeof params.caption === 'string' ? params.caption : undefined,
            parseMode: params.parse_mode,
            markup: markupOf(params),
          }),
        );
      }
      case 'editMessageText':
      case 'editMessageMedia': {
        const refused = editRefusal(method, params);
        if (refused === NOT_MODIFIED)
          notModified.push({ method, chatId: Number(params.chat_id), messageId: Number(params.message_id) });
        else if (refused !== null) refusals.push({ method, description: refused });
        if (refused !== null) return fail(res, 400, refused);
        return answer(
          sentMessage(params, {
            message_id: params.message_id,
            edit_date: Math.floor(Date.now() / 1000),
            text: params.text,
          }),
        );
      }
      case 'getChatMember': {
        const status = members.get(`${Number(params.chat_id)}:${Number(params.user_id)}`) ?? 'member';
        return answer({ status, user: { id: Number(params.user_id), is_bot: false, first_name: 'user' } });
      }
      default:
        // A method Telegram has (the contract let it through) that this stand-in cannot answer as Telegram would.
        return refuse(res, method, `Not Found: the stand-in does not implement ${method}`, 404);
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        const match = /^\/bot([^/]+)\/(\w+)$/.exec(path);
        if (!match) return refuse(res, `(path ${path.replace(token, '<token>')})`, 'Not Found', 404);
        if (match[1] !== token) return fail(res, 401, 'Unauthorized');
        const method = match[2]!;
        let body: Awaited<ReturnType<typeof parseBody>>;
        try {
          body = await parseBody(method, req, Buffer.concat(chunks));
        } catch (err) {
          return refuse(res, method, `Bad Request: the request body cannot be read (${String(err)})`);
        }
        const { params, files, fileParts, form } = body;
        const call: BotApiCall = { method, params, files, atMs: performance.now() };
        calls.push(call);
        const refusal = telegramRefusal({ method, params, fileParts, form });
        const waiting = refusal === null ? (faults.get(method) ?? []) : [];
        const at = waiting.findIndex((f) => !f.where || f.where(params));
        const fault = at >= 0 ? waiting.splice(at, 1)[0]!.fault : undefined;
        if (refusal !== null) {
          refusals.push({ method, description: refusal });
          fail(res, 400, refusal);
        } else if (fault === 'drop') req.socket.destroy();
        else if (fault === undefined) handle(method, params, files, req, res, call);
        else if (fault !== 'hang') fail(res, fault.status, fault.description, fault.parameters, fault.errorCode);
        for (const listener of [...listeners]) listener(call);
      })().catch((err: unknown) => {
        // A stand-in failure is no answer Telegram would give: it fails the test like a refusal.
        refusals.push({ method: '(stand-in)', description: `Internal Server Error: ${String(err)}` });
        if (!res.headersSent) fail(res, 500, 'Internal Server Error');
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function matching(method: string, where?: (call: BotApiCall) => boolean): BotApiCall[] {
    return calls.filter((c) => c.method === method && (!where || where(c)));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    botUsername,
    calls,
    push: (update) => pushAll([update])[0]!,
    pushAll,
    webhook: () => webhook,
    setWebhookUrl(url) {
      if (!webhook) throw new Error('no webhook is set');
      webhook = { ...webhook, url };
    },
    async postUpdate(update, options = {}) {
      if (!webhook) throw new Error('no webhook is set');
      const updateId = typeof update.update_id === 'number' ? update.update_id : nextUpdateId++;
      const secret = options.secret === undefined ? webhook.secret : options.secret;
      if (secret === webhook.secret) deliver(update);
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
        },
        body: JSON.stringify({ ...update, update_id: updateId }),
      });
      return { status: res.status, body: await res.text(), updateId };
    },
    callsOf: (method) => matching(method),
    waitFor(method, count = 1, where) {
      const found = matching(method, where);
      if (found.length >= count) return Promise.resolve(found);
      return new Promise((resolve) => {
        listeners.push(function check() {
          const now = matching(method, where);
          if (now.length >= count) {
            listeners.splice(listeners.indexOf(check), 1);
            resolve(now);
          }
        });
      });
    },
    failNext(method, fault, times = 1, where) {
      const list = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push({ fault, where });
      faults.set(method, list);
    },
    setMember(chatId, userId, status) {
      members.set(`${chatId}:${userId}`, status);
    },
    confirmedOffset: () => confirmed,
    pending: () => queue.length,
    onCall(listener) {
      listeners.push(listener);
    },
    refusals,
    sent,
    tooMany: () => tooMany,
    kick: (chatId) => void kicked.add(chatId),
    migrate: (from, to) => void migrated.set(from, to),
    notModified,
    allowRefusals() {
      refusalsAllowed = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const w of [...waiters]) w();
        server.closeAllConnections();
        server.close(() => {
          if (refusals.length === 0 || refusalsAllowed) resolve();
          else
            reject(
              new Error(
                `Telegram would refuse ${refusals.length} request(s):\n` +
                  refusals.map((r) => `${r.method}: ${r.description}`).join('\n'),
              ),
            );
        });
      }),
  };
}
