/**
 * A minimal Telegram alert sink (sendMessage over undici, plain text) for tests and benchmarks until the
 * Telegram front end's real sink is used. It maps the Bot API's answers onto the dispatcher's terms:
 * 429 → retry after `retry_after`, `migrate_to_chat_id` → moved, 403 or "chat not found" → gone.
 */
import { Agent, request } from 'undici';
import type { Reply } from '../../src/core/reply.js';
import type { DeliveryResult, Sink } from '../../src/core/sink.js';

export function plainText(r: Reply): string {
  return [r.title, ...r.lines, ...r.fields.map((f) => `${f.label}: ${f.value}`), ...r.notices, r.footer ?? ''].filter((s) => s !== '').join('\n');
}

export function createMinimalTelegramSink(options: { apiRoot: string; token: string; connections?: number }): Sink & { close(): Promise<void> } {
  const agent = new Agent({ connections: options.connections ?? 16 });
  const url = `${options.apiRoot}/bot${options.token}/sendMessage`;
  return {
    platform: 'telegram',
    async deliver(target, reply): Promise<DeliveryResult> {
      let status: number;
      let body: { ok?: boolean; description?: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            chat_id: target.chatId,
            text: plainText(reply).slice(0, 4096),
            ...(target.threadId ? { message_thread_id: Number(target.threadId) } : {}),
            link_preview_options: { is_disabled: true },
          }),
        });
        status = res.statusCode;
        body = (await res.body.json()) as typeof body;
      } catch (err) {
        return { status: 'retry', retryAfterMs: 0, reason: `network: ${(err as Error).message}` };
      }
      if (status === 200 && body.ok) return { status: 'delivered' };
      if (body.parameters?.migrate_to_chat_id !== undefined) return { status: 'moved', toChatId: String(body.parameters.migrate_to_chat_id) };
      if (status === 429) return { status: 'retry', retryAfterMs: (body.parameters?.retry_after ?? 1) * 1000, reason: 'Telegram 429' };
      if (status === 403 || /chat not found|kicked|blocked/i.test(body.description ?? '')) {
        return { status: 'gone', reason: `Telegram: ${body.description ?? status}` };
      }
      return { status: 'retry', retryAfterMs: 0, reason: `Telegram ${status}: ${body.description ?? ''}` };
    },
    close: () => agent.close(),
  };
}
