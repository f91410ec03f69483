import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createTelegramAdapter,
  type TelegramAdapter,
  type TelegramAdapterOptions,
} from '../../../src/adapters/telegram/adapter.js';
import type { App } from '../../../src/app.js';
import { silentLogger } from '../../../src/core/logger.js';
import { UPDATE_CLAIM_LEASE_MS, type UpdateLedger } from '../../../src/core/update-ledger.js';
import { createTelegramUpdateStore } from '../../../src/db/telegram-update-store.js';
import { createHttpServer } from '../../../src/ops/http-server.js';
import { createTestApp } from '../../helpers/app.js';
import { startCoinGeckoServer } from '../../helpers/coingecko-server.js';
import { QUERY_TOO_OLD, startTelegramServer, type TelegramServer } from '../../helpers/telegram-server.js';
import { bob, callbackUpdate, message, supergroup } from '../../helpers/telegram-updates.js';
import { tempDbPath } from '../../helpers/temp-dir.js';

const SECRET = 'Hook_secret_5512';

/** One instance: the real adapter in webhook mode, served on its own operations endpoint at /tg/hook. */
async function instance(
  tg: TelegramServer,
  app: App,
  options: Partial<TelegramAdapterOptions> = {},
): Promise<{ adapter: TelegramAdapter; url: string; ledger: UpdateLedger }> {
  const ledger = createTelegramUpdateStore(app.database!);
  const adapter = createTelegramAdapter({
    ...options,
    core: app.core,
    services: app.services,
    commands: app.commands,
    token: tg.token,
    apiRoot: tg.url,
    logger: silentLogger,
    clock: app.core.clock,
    ledger,
    webhook: { secret: SECRET },
  });
  const server = createHttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  const handler = adapter.webhookHandler();
  server.route('POST', '/tg/hook', (req) => handler(req), { readsBody: true });
  const { port } = await server.listen();
  onTestFinished(() => server.close());
  return { adapter, url: `http://127.0.0.1:${port}/tg/hook`, ledger };
}

/** Two instances on one store (one SQLite file) with a clock each, a Telegram stand-in and fresh figures. */
async function twoInstances(options: Partial<TelegramAdapterOptions> = {}) {
  const tg = await startTelegramServer();
  onTestFinished(() => tg.close());
  const cg = await startCoinGeckoServer();
  onTestFinished(() => cg.close());
  const databasePath = tempDbPath();
  const appA = createTestApp({ databasePath, env: { COINGECKO_API_URL: cg.url } });
  const appB = createTestApp({ databasePath, env: { COINGECKO_API_URL: cg.url } });
  await appA.core.refresh();
  const a = await instance(tg, appA, options);
  const b = await instance(tg, appB, options);
  return { tg, appA, appB, a, b };
}

describe('Telegram by webhook', () => {
  it(
    'checks the secret (401, nothing runs), answers a command once, and runs a re-sent update once across ' +
      'instances',
    async () => {
      const { tg, a, b } = await twoInstances();
      await a.adapter.setWebhook(a.url);
      expect(tg.webhook()).toEqual({ url: a.url, secret: SECRET });
      const set = tg.callsOf('setWebhook')[0]!;
      expect(set.params.secret_token).toBe(SECRET);

      const stats = { message: message({ chat: supergroup, text: '/opg stats' }) };
      for (const secret of [null, 'wrong_secret']) {
        const r = await tg.postUpdate(stats, { secret });
        expect(r.status).toBe(401);
      }
      expect(tg.callsOf('sendMessage')).toHaveLength(0);

      const first = await tg.postUpdate(stats);
      expect(first.status).toBe(200);
      const sends = tg.callsOf('sendMessage');
      expect(sends).toHaveLength(1);
      expect(String(sends[0]!.params.text)).toContain('OPG stats');

      // Telegram re-sends the same update (no 200 seen): to the same instance, then to the other one.
      expect((await tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
      tg.setWebhookUrl(b.url);
      expect((await tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
      expect(tg.callsOf('sendMessage')).toHaveLength(1);

      // A new update on the other instance runs there.
      expect((await tg.postUpdate({ message: message({ chat: supergroup, text: '/opg stats' }) })).status).toBe(200);
      expect(tg.callsOf('sendMessage')).toHaveLength(2);

      // A body that is not an update is refused; nothing runs.
      const bad = await fetch(b.url, {
        method: 'POST',
        headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': 'application/json' },
        body: '{"nope":1}',
      });
      expect(bad.status).toBe(400);
      expect(tg.callsOf('sendMessage')).toHaveLength(2);
    },
  );

  it('answers Telegram with an error when a command fails, and runs the re-sent update on any instance', async () => {
    // Two tries per Bot API call, so one failed send is two refused calls.
    const { tg, a, b } = await twoInstances({ retryAttempts: 2 });
    await a.adapter.setWebhook(a.url);
    tg.failNext('sendMessage', { status: 500, errorCode: 500, description: 'Internal Server Error' }, 2);

    const stats = { message: message({ chat: supergroup, text: '/opg stats' }) };
    const first = await tg.postUpdate(stats);
    expect(first.status).toBe(500);
    expect(tg.callsOf('sendMessage')).toHaveLength(2);
    expect(tg.sent).toHaveLength(0);

    // Telegram saw no 200 and re-sends, here to the other instance: the command runs and is answered.
    tg.setWebhookUrl(b.url);
    expect((await tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
    expect(tg.sent).toHaveLength(1);
    expect(tg.sent[0]!.text).toContain('OPG stats');
    // Answered once: any later re-send, on either instance, runs nothing.
    expect((await tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
    tg.setWebhookUrl(a.url);
    expect((await tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
    expect(tg.sent).toHaveLength(1);
  });

  it(
    'asks Telegram to re-send an update another instance holds, and runs it once that claim outlived its ' + 'lease',
    async () => {
      const { tg, appB, a, b } = await twoInstances();
      // The webhook points at B. Instance A took the update and was killed before it answered: its claim stays.
      await a.adapter.setWebhook(b.url);
      const updateId = 4_000_001;
      await a.ledger.claim(updateId, appB.clock.now());
      const stats = { message: message({ chat: supergroup, text: '/opg stats' }), update_id: updateId };

      const early = await tg.postUpdate(stats);
      expect(early.status).toBe(503);
      appB.clock.advance(UPDATE_CLAIM_LEASE_MS - 1);
      expect((await tg.postUpdate(stats)).status).toBe(503);
      expect(tg.callsOf('sendMessage')).toHaveLength(0);

      appB.clock.advance(1);
      expect((await tg.postUpdate(stats)).status).toBe(200);
      expect(tg.sent.map((m) => m.text.split('\n')[0])).toEqual([expect.stringContaining('OPG stats')]);
      expect((await tg.postUpdate(stats)).status).toBe(200);
      expect(tg.sent).toHaveLength(1);
    },
  );

  it(
    'runs a re-sent Refresh tap whose edit failed once more and then never again, though Telegram refuses its ' +
      'second answer',
    async () => {
      // Two tries per Bot API call, so one failed edit is two calls answered 500.
      const { tg, a, b } = await twoInstances({ retryAttempts: 2 });
      await a.adapter.setWebhook(a.url);
      tg.allowRefusals();
      const shown = { message_id: 4_242, date: 1_795_000_000, chat: supergroup, text: 'OPG stats (old figures)' };
      const tap = callbackUpdate({ from: bob, message: shown, data: 'refresh:stats', id: 'q-hook' });
      tg.failNext('editMessageText', { status: 500, errorCode: 500, description: 'Internal Server Error' }, 2);
      const counts = () => [tg.callsOf('answerCallbackQuery').length, tg.callsOf('editMessageText').length];

      const first = await tg.postUpdate(tap);
      expect(first.status).toBe(500);
      expect(counts()).toEqual([1, 2]);

      // Telegram re-sends it: the query was answered already and Telegram refuses the answer; the edit is made.
      const resend = { ...tap, update_id: first.updateId };
      expect((await tg.postUpdate(resend)).status).toBe(200);
      expect(counts()).toEqual([2, 3]);
      expect(tg.refusals).toEqual([{ method: 'answerCallbackQuery', description: QUERY_TOO_OLD }]);
      const edit = tg.callsOf('editMessageText')[2]!;
      expect(edit.params).toMatchObject({ chat_id: supergroup.id, message_id: 4_242 });
      expect(String(edit.params.text)).toContain('OPG stats');

      // Any later re-send, on either instance, runs nothing: no loop of refused answers.
      expect((await tg.postUpdate(resend)).status).toBe(200);
      tg.setWebhookUrl(b.url);
      expect((await tg.postUpdate(resend)).status).toBe(200);
      expect(counts()).toEqual([2, 3]);
      expect(tg.refusals).toHaveLength(1);
    },
  );
});
