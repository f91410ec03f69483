/**
 * Discord front end, end to end: the loopback gateway dispatches real-shaped INTERACTION_CREATE payloads for
 * `/opg stats`, the real discord.js client answers through the loopback REST, and each answer is timed from
 * the dispatch to the callback's arrival. That span is everything the bot adds (parse, run, render, REST)
 * plus two loopback hops, so the figures are an upper bound on the bot's own latency.
 * The gateway, REST and load run in a child process (`discord-driver.ts`), so they do not share the bot's
 * event loop. Targets: 500 interactions a second, under 5 ms added at p99.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDiscordAdapter } from '../src/adapters/discord/adapter.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createDiscordStore } from '../src/db/discord-store.js';
import { GUILD_ID } from '../test/helpers/discord-server.js';
import type { BenchLog } from './run.js';
import { startBenchCoinGecko } from './support.js';

export default async function bench(log: BenchLog): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-discord-'));
  const coingecko = await startBenchCoinGecko();
  const driver = fork(fileURLToPath(new URL('./discord-driver.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
  });
  const messages: Array<{ apiUrl?: string; line?: string; done?: boolean }> = [];
  let wake: (() => void) | null = null;
  driver.on('message', (m: (typeof messages)[number]) => {
    messages.push(m);
    wake?.();
  });
  driver.on('error', (err) => log(`driver failed: ${err.message}`));
  const next = async () => {
    while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return messages.shift()!;
  };
  const { apiUrl } = await next();

  const config = loadConfig({ DATABASE_PATH: join(dir, 'bench.sqlite'), COINGECKO_API_URL: coingecko.url });
  const app = createApp({ config, logger: silentLogger, clock: systemClock });
  await app.core.refresh();
  const adapter = createDiscordAdapter({
    core: app.core,
    services: app.services,
    commands: app.commands,
    token: 'bench-token',
    apiUrl: apiUrl!,
    guildId: GUILD_ID,
    logger: silentLogger,
    store: createDiscordStore(app.database!),
  });
  await adapter.start();
  driver.send('go');
  for (let m = await next(); !m.done; m = await next()) if (m.line) log(m.line);

  await adapter.stop();
  driver.kill();
  await coingecko.close();
  app.close();
  rmSync(dir, { recursive: true, force: true });
}
