import { describe, expect, it, onTestFinished } from 'vitest';
import { createTelegramAdapter, type TelegramAdapter } from '../../../src/adapters/telegram/adapter.js';
import type { App } from '../../../src/app.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTelegramUpdateStore } from '../../../src/db/telegram-update-store.js';
import { createHttpServer } from '../../../src/ops/http-server.js';
import { createTestApp } from '../../helpers/app.js';
import { startCoinGeckoServer } from '../../helpers/coingecko-server.js';
import { startTelegramServer, type TelegramServer } from '../../helpers/telegram-server.js';
import { message, supergroup } from '../../helpers/telegram-updates.js';
import { tempDbPath } from '../../helpers/temp-dir.js';

const SECRET = 'Hook_secret_5512';

/** One instance: the real adapter in webhook mode, served on its own operations endpoint at /tg/hook. */
async function instance(tg: TelegramServer, app: App): Promise<{ adapter: TelegramAdapter; url: string }> {
  const adapter = createTelegramAdapter({
    core: app.core,
    services: app.services,
    commands: app.commands,
    token: tg.token,
    apiRoot: tg.url,
    logger: silentLogger,
    clock: app.core.clock,
    webhook: { secret: SECRET, ledger: createTelegramUpdateStore(app.database!) },
  });
  const server = createHttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  const handler = adapter.webhookHandler();
  server.route('POST', '/tg/hook', (req) => handler(req), { readsBody: true });
  const { port } = await server.listen();
  onTestFinished(() => server.close());
  return { adapter, url: `http://127.0.0.1:${port}/tg/hook` };
}

describe('Telegram by webhook', () => {
  it('checks the secret (401, nothing runs), answers a command once, and runs a re-sent update once across instances', async () => {
    const tg = await startTelegramServer();
    onTestFinished(() => tg.close());
    const cg = await startCoinGeckoServer();
    onTestFinished(() => cg.close());
    const databasePath = tempDbPath();
    const appA = createTestApp({ databasePath, env: { COINGECKO_API_URL: cg.url } });
    const appB = createTestApp({ databasePath, env: { COINGECKO_API_URL: cg.url } });
    await appA.core.refresh();
    const a = await instance(tg, appA);
    const b = await instance(tg, appB);

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
  });
});
