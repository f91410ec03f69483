/**
 * A loopback stand-in for the Telegram Bot API's `sendMessage` that enforces Telegram's limits as the
 * bot is told them (25 a second overall, 1 a second per chat, 20 a minute per group: negative ids) and
 * answers 429 with `parameters.retry_after` past them. No vitest import: the benchmarks use it too.
 * `now` is the server's clock, so a test clock can drive it.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, startLoopbackServer, type LoopbackServer } from './http-server.js';
import { parseTelegramHtml, telegramRefusal } from './telegram-contract.js';

export interface BotApiLimits {
  perSecond: number;
  perChatMs: number;
  groupPerMinute: number;
}

export const BOT_API_LIMITS: BotApiLimits = { perSecond: 25, perChatMs: 1_000, groupPerMinute: 20 };

export interface SentMessage {
  chatId: string;
  threadId: number | null;
  text: string;
  atMs: number;
}

export interface BotApiServer extends LoopbackServer {
  token: string;
  sent: SentMessage[];
  /** How many requests were answered 429. */
  tooMany(): number;
  /** Chats that answer 403 "bot was kicked" from now on. */
  kick(chatId: string): void;
  /** A group that became a supergroup: 400 with `migrate_to_chat_id`. */
  migrate(fromChatId: string, toChatId: string): void;
  /** Calls refused as Telegram would (telegram-contract.ts); `close()` rejects naming them. */
  refusals: string[];
}

export async function startBotApiServer(options: { now?: () => number; limits?: BotApiLimits; token?: string } = {}): Promise<BotApiServer> {
  const now = options.now ?? (() => performance.now());
  const limits = options.limits ?? BOT_API_LIMITS;
  const token = options.token ?? '123456:test-token';
  const sent: SentMessage[] = [];
  const accepted: number[] = [];
  const byChat = new Map<string, number[]>();
  const kicked = new Set<string>();
  const migrated = new Map<string, string>();
  let tooMany = 0;
  const refusals: string[] = [];

  const refuse = (res: ServerResponse, retryAfterS: number) => {
    tooMany += 1;
    sendJson(res, 429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfterS}`, parameters: { retry_after: retryAfterS } });
  };

  const server = await startLoopbackServer((req, res) => {
    if (req.method !== 'POST' || req.url !== `/bot${token}/sendMessage`) {
      return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    }
    const body = JSON.parse(req.body) as { chat_id: string | number; text: string; message_thread_id?: number; parse_mode?: string };
    const refusal = telegramRefusal({ method: 'sendMessage', params: body, fileParts: [], form: false });
    if (refusal !== null) {
      refusals.push(refusal);
      return sendJson(res, 400, { ok: false, error_code: 400, description: refusal });
    }
    const chatId = String(body.chat_id);
    if (kicked.has(chatId)) return sendJson(res, 403, { ok: false, error_code: 403, description: 'Forbidden: bot was kicked from the group chat' });
    const to = migrated.get(chatId);
    if (to) {
      return sendJson(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: group chat was upgraded to a supergroup chat',
        parameters: { migrate_to_chat_id: Number(to) },
      });
    }
    const t = now();
    while (accepted.length > 0 && accepted[0]! <= t - 1_000) accepted.shift();
    if (accepted.length >= limits.perSecond) return refuse(res, 1);
    const chatTimes = (byChat.get(chatId) ?? []).filter((x) => x > t - 60_000);
    const last = chatTimes[chatTimes.length - 1];
    if (last !== undefined && t - last < limits.perChatMs) return refuse(res, 1);
    if (chatId.startsWith('-') && chatTimes.length >= limits.groupPerMinute) return refuse(res, Math.ceil((chatTimes[0]! + 60_000 - t) / 1000));
    accepted.push(t);
    chatTimes.push(t);
    byChat.set(chatId, chatTimes);
    // What the chat shows: the text after Telegram's HTML parsing (checked valid above).
    const shown = body.parse_mode === 'HTML' ? (parseTelegramHtml(body.text) as string) : body.text;
    sent.push({ chatId, threadId: body.message_thread_id ?? null, text: shown, atMs: t });
    sendJson(res, 200, { ok: true, result: { message_id: sent.length, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId), type: 'group' }, text: body.text } });
  });

  return {
    ...server,
    async close() {
      await server.close();
      if (refusals.length > 0) throw new Error(`Telegram would refuse ${refusals.length} request(s):\n${refusals.join('\n')}`);
    },
    refusals,
    token,
    sent,
    tooMany: () => tooMany,
    kick: (chatId) => void kicked.add(chatId),
    migrate: (from, to) => void migrated.set(from, to),
  };
}
