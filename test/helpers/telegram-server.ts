/**
 * A loopback stand-in for the Telegram Bot API that speaks its wire format: `POST /bot<token>/<method>`
 * with JSON or multipart bodies, answers `{"ok":true,"result":…}` or `{"ok":false,"error_code":…,
 * "description":…,"parameters":…}`, and serves `getUpdates` with Telegram's offset and long-polling
 * semantics (an offset confirms every earlier update; with nothing pending the call waits up to `timeout`
 * seconds). Faults can be queued per method: an error answer, a dropped connection, or no answer at all.
 * It does not import vitest, so benchmarks can use it; the caller closes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitMultipart } from './multipart.js';
import { telegramRefusal } from './telegram-contract.js';

export interface BotApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Multipart file fields by name. */
  files: Record<string, { filename: string; size: number; bytes: Uint8Array }>;
  /** `performance.now()` when the request body had arrived. */
  atMs: number;
}

export type Fault =
  | { status: number; errorCode?: number; description: string; parameters?: Record<string, unknown> }
  | 'drop'
  | 'hang';

export interface TelegramServer {
  /** The `apiRoot` to give the bot: `http://127.0.0.1:<port>`. */
  url: string;
  token: string;
  botUsername: string;
  calls: BotApiCall[];
  /** Queues an update (its `update_id` is assigned here) and returns the id. */
  push(update: Record<string, unknown>): number;
  callsOf(method: string): BotApiCall[];
  /** Resolves once `count` calls of `method` matching `where` have arrived (counting those already here). */
  waitFor(method: string, count?: number, where?: (call: BotApiCall) => boolean): Promise<BotApiCall[]>;
  /** The next `times` calls of `method` get this fault instead of an answer. */
  failNext(method: string, fault: Fault, times?: number): void;
  /** What `getChatMember` answers for this user in this chat (default `member`). */
  setMember(chatId: number, userId: number, status: string): void;
  /** The highest `offset` any `getUpdates` has sent: every update below it is confirmed. */
  confirmedOffset(): number;
  /** Updates queued and not yet confirmed. */
  pending(): number;
  onCall(listener: (call: BotApiCall) => void): void;
  /**
   * Calls refused as Telegram would refuse them (telegram-contract.ts): each answered 400. `close()` rejects
   * naming them unless `allowRefusals()` was called, so no test passes on a request Telegram would refuse.
   */
  refusals: Array<{ method: string; description: string }>;
  /** For tests that send a bad request on purpose and check how the bot handles the 400. */
  allowRefusals(): void;
  close(): Promise<void>;
}

export interface TelegramServerOptions {
  token?: string;
  botUsername?: string;
  botId?: number;
}

export const TEST_BOT_TOKEN = '123456:TEST-token_loopback';

export async function startTelegramServer(options: TelegramServerOptions = {}): Promise<TelegramServer> {
  const token = options.token ?? TEST_BOT_TOKEN;
  const botUsername = options.botUsername ?? 'opg_test_bot';
  const botId = options.botId ?? Number(token.split(':')[0]);
  const calls: BotApiCall[] = [];
  const listeners: Array<(call: BotApiCall) => void> = [];
  const faults = new Map<string, Fault[]>();
  const members = new Map<string, string>();
  let queue: Array<Record<string, unknown> & { update_id: number }> = [];
  let nextUpdateId = 100_000;
  let nextMessageId = 1;
  let confirmed = 0;
  let waiters: Array<() => void> = [];
  const refusals: TelegramServer['refusals'] = [];
  let refusalsAllowed = false;

  function ok(res: ServerResponse, result: unknown): void {
    const body = JSON.stringify({ ok: true, result });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function fail(res: ServerResponse, status: number, description: string, parameters?: Record<string, unknown>, errorCode = status): void {
    const body = JSON.stringify({ ok: false, error_code: errorCode, description, ...(parameters ? { parameters } : {}) });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function parseBody(req: IncomingMessage, raw: Buffer): Promise<Pick<BotApiCall, 'params' | 'files'> & { fileParts: string[]; form: boolean }> {
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
        const value = part.body.toString('utf8');
        params[name] = /^[[{]/.test(value) ? JSON.parse(value) : /^-?\d+$/.test(value) ? Number(value) : value;
      }
      // grammY names the file part at random and points at it with `attach://<name>`, as the Bot API allows.
      for (const [key, value] of Object.entries(params)) {
        const ref = typeof value === 'string' && value.startsWith('attach://') ? uploads[value.slice(9)] : undefined;
        if (ref) files[key] = ref;
      }
      for (const [name, upload] of Object.entries(uploads)) if (!Object.values(files).includes(upload)) files[name] = upload;
      return { params, files, fileParts: Object.keys(uploads), form: true };
    }
    const text = raw.toString('utf8');
    if (type.startsWith('application/x-www-form-urlencoded')) {
      return { params: Object.fromEntries(new URLSearchParams(text)), files, fileParts: [], form: true };
    }
    return { params: text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>), files, fileParts: [], form: false };
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
      ...(params.message_thread_id !== undefined ? { message_thread_id: params.message_thread_id, is_topic_message: true } : {}),
      ...(params.reply_markup !== undefined ? { reply_markup: params.reply_markup } : {}),
      ...extra,
    };
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

  function handle(method: string, params: Record<string, unknown>, files: BotApiCall['files'], req: IncomingMessage, res: ServerResponse): void {
    switch (method) {
      case 'getMe':
        return ok(res, { id: botId, is_bot: true, first_name: 'OPG Bot', username: botUsername, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'getUpdates':
        return getUpdates(params, req, res);
      case 'setMyCommands':
      case 'deleteWebhook':
      case 'answerCallbackQuery':
        return ok(res, true);
      case 'sendMessage':
        if (typeof params.text !== 'string' || params.text.length === 0) return fail(res, 400, 'Bad Request: message text is empty');
        if (params.text.length > 4096) return fail(res, 400, 'Bad Request: message is too long');
        return ok(res, sentMessage(params, { text: params.text }));
      case 'sendPhoto': {
        const photo = files.photo ?? (typeof params.photo === 'string' ? { size: 0 } : undefined);
        if (!photo) return fail(res, 400, 'Bad Request: there is no photo in the request');
        if (typeof params.caption === 'string' && params.caption.length > 1024) return fail(res, 400, 'Bad Request: message caption is too long');
        return ok(res, sentMessage(params, { photo: [{ file_id: `photo-${nextMessageId}`, file_unique_id: 'u', width: 800, height: 400, file_size: photo.size }], caption: params.caption }));
      }
      case 'editMessageText':
      case 'editMessageMedia':
        return ok(res, sentMessage(params, { message_id: params.message_id, edit_date: Math.floor(Date.now() / 1000), text: params.text }));
      case 'getChatMember': {
        const status = members.get(`${Number(params.chat_id)}:${Number(params.user_id)}`) ?? 'member';
        return ok(res, { status, user: { id: Number(params.user_id), is_bot: false, first_name: 'user' } });
      }
      default:
        return fail(res, 404, 'Not Found');
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const match = /^\/bot([^/]+)\/(\w+)$/.exec((req.url ?? '').split('?')[0] ?? '');
        if (!match) return fail(res, 404, 'Not Found');
        if (match[1] !== token) return fail(res, 401, 'Unauthorized');
        const method = match[2]!;
        const { params, files, fileParts, form } = await parseBody(req, Buffer.concat(chunks));
        const call: BotApiCall = { method, params, files, atMs: performance.now() };
        calls.push(call);
        const refusal = telegramRefusal({ method, params, fileParts, form });
        const fault = refusal === null ? faults.get(method)?.shift() : undefined;
        if (refusal !== null) {
          refusals.push({ method, description: refusal });
          fail(res, 400, refusal);
        } else if (fault === 'drop') req.socket.destroy();
        else if (fault === undefined) handle(method, params, files, req, res);
        else if (fault !== 'hang') fail(res, fault.status, fault.description, fault.parameters, fault.errorCode);
        for (const listener of [...listeners]) listener(call);
      })().catch((err: unknown) => fail(res, 500, `Internal Server Error: ${String(err)}`));
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
    push(update) {
      const update_id = nextUpdateId++;
      queue.push({ ...update, update_id });
      for (const w of [...waiters]) w();
      return update_id;
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
    failNext(method, fault, times = 1) {
      const list = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(fault);
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
    allowRefusals() {
      refusalsAllowed = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const w of [...waiters]) w();
        server.closeAllConnections();
        server.close(() => {
          if (refusals.length === 0 || refusalsAllowed) resolve();
          else reject(new Error(`Telegram would refuse ${refusals.length} request(s):\n${refusals.map((r) => `${r.method}: ${r.description}`).join('\n')}`));
        });
      }),
  };
}
