/**
 * Telegram front end, end to end against the loopback Bot API: `/opg stats` updates handled per second
 * (updates queued at once across many chats, until every reply has reached the server), and the latency the
 * bot adds over a bare loopback round trip (one update at a time: update queued → `sendMessage` arrives,
 * for the real bot and for a minimal fetch client that answers with fixed text; p50 and p99 of each and the
 * difference). Targets: 1,000 updates a second, under 5 ms added at p99.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelegramAdapter } from '../src/adapters/telegram/adapter.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { startTelegramServer, type TelegramServer } from '../test/helpers/telegram-server.js';
import { messageUpdate, type TgChat } from '../test/helpers/telegram-updates.js';
import type { BenchLog } from './run.js';
import { percentile, startBenchCoinGecko } from './support.js';

const THROUGHPUT_UPDATES = 10_000;
const CHATS = 200;
const LATENCY_SAMPLES = 2_000;

const chat = (i: number): TgChat => ({ id: -1_001_000_000_000 - i, type: 'supergroup', title: `bench ${i}` });

/** Queues one update at a time and times it until its `sendMessage` reaches the server. */
async function latencies(tg: TelegramServer, samples: number): Promise<number[]> {
  const out: number[] = [];
  let resolveSent: ((atMs: number) => void) | null = null;
  tg.onCall((call) => {
    if (call.method === 'sendMessage' && resolveSent) resolveSent(call.atMs);
  });
  for (let i = 0; i < samples; i++) {
    const sent = new Promise<number>((resolve) => (resolveSent = resolve));
    const startMs = performance.now();
    tg.push(messageUpdate({ chat: chat(i % CHATS), text: '/opg stats' }));
    out.push((await sent) - startMs);
  }
  resolveSent = null;
  return out.sort((a, b) => a - b);
}

/** The floor: a bare long-polling client on node:http (keep-alive) that answers every update with fixed text. */
async function runBareClient(tg: TelegramServer, stopped: () => boolean): Promise<void> {
  const agent = new Agent({ keepAlive: true });
  const { port } = new URL(tg.url);
  const call = (method: string, body: unknown) =>
    new Promise<{ result: Array<{ update_id: number; message: { chat: { id: number } } }> }>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/bot${tg.token}/${method}`,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  let offset = 0;
  try {
    while (!stopped()) {
      const { result } = await call('getUpdates', { offset, timeout: 30 });
      for (const u of result) {
        offset = u.update_id + 1;
        await call('sendMessage', { chat_id: u.message.chat.id, text: 'OPG stats' });
      }
    }
  } catch {
    // the server closed: done
  } finally {
    agent.destroy();
  }
}

export default async function bench(log: BenchLog): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-tg-'));
  const cg = await startBenchCoinGecko();
  const tg = await startTelegramServer();
  const app = createApp({
    config: loadConfig({ DATABASE_PATH: join(dir, 'bench.sqlite'), COINGECKO_API_URL: cg.url }),
    logger: silentLogger,
    clock: systemClock,
  });
  await app.core.refresh();
  const adapter = createTelegramAdapter({
    core: app.core,
    services: app.services,
    commands: app.commands,
    token: tg.token,
    apiRoot: tg.url,
    logger: silentLogger,
    clock: systemClock,
  });
  try {
    // The floor first, on a quiet process.
    const bare = await startTelegramServer();
    let bareStopped = false;
    const client = runBareClient(bare, () => bareStopped);
    await latencies(bare, 300);
    const floor = await latencies(bare, LATENCY_SAMPLES);
    bareStopped = true;
    await bare.close();
    await client;

    await adapter.start();
    await latencies(tg, 300); // warm-up: JIT, keep-alive sockets
    const bot = await latencies(tg, LATENCY_SAMPLES);

    let sent = 0;
    let allSent: () => void = () => {};
    const done = new Promise<void>((resolve) => (allSent = resolve));
    tg.onCall((c) => {
      if (c.method === 'sendMessage' && ++sent === THROUGHPUT_UPDATES) allSent();
    });
    const startMs = performance.now();
    for (let i = 0; i < THROUGHPUT_UPDATES; i++) tg.push(messageUpdate({ chat: chat(i % CHATS), text: '/opg stats' }));
    await done;
    const elapsedMs = performance.now() - startMs;

    const f = (ms: number) => `${ms.toFixed(2)} ms`;
    log(
      `throughput: ${THROUGHPUT_UPDATES} /opg stats updates across ${CHATS} chats in ${elapsedMs.toFixed(0)} ms = ` +
        `${Math.round((THROUGHPUT_UPDATES / elapsedMs) * 1000)} updates/s (target 1,000)`,
    );
    log(
      `loopback floor (bare node:http client), update queued → sendMessage arrives: p50 ${f(percentile(floor, 50))}, ` +
        `p99 ${f(percentile(floor, 99))}`,
    );
    log(
      `opg-bot (grammY + runner + parse + run + render), same path: p50 ${f(percentile(bot, 50))}, ` +
        `p99 ${f(percentile(bot, 99))}`,
    );
    log(
      `added by the bot: p50 ${f(percentile(bot, 50) - percentile(floor, 50))}, ` +
        `p99 ${f(percentile(bot, 99) - percentile(floor, 99))} (target < 5 ms at p99); ${LATENCY_SAMPLES} samples each`,
    );
  } finally {
    await adapter.stop();
    app.close();
    await tg.close();
    await cg.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
