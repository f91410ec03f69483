/**
 * Warm command latency (p50, p99 per command) and how many CoinGecko calls 10,000 commands from 1,000
 * chats cause while the cron refreshes run (goal: the refreshes, not one call more).
 */
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Actor, ChatRef } from '../src/core/command.js';
import { silentLogger } from '../src/core/logger.js';
import type { BenchLog } from './run.js';
import { benchClock, benchDbPath, percentile, startBenchCoinGecko } from './support.js';

const actor: Actor = { id: 'bench', name: 'bench', isModerator: async () => false };

export default async function bench(log: BenchLog): Promise<void> {
  const cg = await startBenchCoinGecko();
  const clock = benchClock();
  const app = createApp({
    config: loadConfig({ COINGECKO_API_URL: cg.url, DATABASE_PATH: benchDbPath() }),
    logger: silentLogger,
    clock,
  });
  try {
    await app.core.refresh();
    for (const command of ['stats', 'volume', 'supply', 'help']) {
      const chat: ChatRef = { platform: 'console', chatId: 'bench' };
      for (let i = 0; i < 200; i++) await app.runText(command, chat, actor); // warm-up
      const samples: number[] = [];
      for (let i = 0; i < 5_000; i++) {
        const t = process.hrtime.bigint();
        await app.runText(`/opg ${command}`, chat, actor);
        samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      log(
        `warm ${command}: p50 ${percentile(samples, 50).toFixed(3)} ms, p99 ${percentile(samples, 99).toFixed(3)} ms ` +
          `(5,000 runs)`,
      );
    }

    // 10,000 commands from 1,000 chats spread over 50 minutes of clock time, with a refresh every 5 minutes.
    const before = cg.requests.length;
    let refreshes = 0;
    for (let minute = 0; minute < 50; minute++) {
      // A cron tick refreshes while commands keep arriving; it finishes long before the next tick.
      const refresh = minute % 5 === 0 ? app.core.refresh() : null;
      if (refresh) refreshes += 1;
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          app.runText('stats', { platform: 'telegram', chatId: String(-1000 - ((minute * 200 + i) % 1000)) }, actor),
        ),
      );
      await refresh;
      clock.advance(60_000);
    }
    await app.core.refresh().then(() => (refreshes += 1));
    log(
      `10,000 commands from 1,000 chats with ${refreshes} refreshes: ` +
        `${cg.requests.length - before} CoinGecko calls (goal: ${refreshes})`,
    );
  } finally {
    app.close();
    await cg.close();
  }
}
