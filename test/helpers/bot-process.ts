/**
 * The bot as `npm start` runs it (`src/main.ts` with npm start's node arguments, a real process) against
 * loopback stand-ins for Telegram, Discord's REST and gateway, CoinGecko and the OpenGradient node, with a
 * real SQLite file. Every request the stand-ins receive is checked against the platforms' published specs
 * (discord-contract.ts, telegram-contract.ts); waits poll what the stand-ins recorded, with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { marketChartBody, marketItem, startCoinGeckoServer, type CoinGeckoServer } from './coingecko-server.js';
import { bodyJson, CHANNEL_ID, GUILD_ID, startDiscordStandIn, type DiscordStandIn } from './discord-server.js';
import type { RecordedRequest } from './http-server.js';
import { multipartBoundary, parseMultipart, type MultipartFile } from './multipart.js';
import { linesWithRepeatedKeys } from './log-lines.js';
import { entriesIn } from './og-chain.js';
import { startOgNode, type FakeChain, type OgNode } from './og-rpc-server.js';
import { inheritedClockEnv, NODE_ARGS, ROOT } from './spawn.js';
import { startTelegramServer, type BotApiCall, type TelegramServer } from './telegram-server.js';
import { tempDbPath } from './temp-dir.js';

export const DISCORD_TEST_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.process-secret-token';

export interface World {
  tg: TelegramServer;
  discord: DiscordStandIn;
  cg: CoinGeckoServer;
  og: OgNode | null;
  databasePath: string;
  env: Record<string, string>;
}

export interface WorldOptions {
  /** Serve CoinGecko's `market_chart` (history for charts) ending now. Default true. */
  marketChart?: boolean;
  /** Run an OpenGradient node whose last `chainBlocks` blocks (2 s apart) end now. Default: none (a closed port). */
  chainBlocks?: number;
  /** Run an OpenGradient node serving this chain instead (a scenario with callers, TEEs and tasks). */
  chain?: FakeChain;
  env?: Record<string, string>;
  /** Shards Discord's `/gateway/bot` recommends. Default 1. */
  discordShards?: number;
  /** Give the bot Discord's settings (token, API, guild). Default true; false runs it on Telegram alone. */
  discord?: boolean;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const tg = await startTelegramServer();
  onTestFinished(() => tg.close());
  const discord = await startDiscordStandIn({ shards: options.discordShards });
  onTestFinished(() => discord.close());
  const cg = await startCoinGeckoServer([marketItem()]);
  if (options.marketChart ?? true) cg.setMarketChart((days) => marketChartBody({ endMs: Date.now(), days }));
  let og: OgNode | null = null;
  if (options.chain) {
    og = await startOgNode(options.chain);
    onTestFinished(() => og!.close());
  } else if (options.chainBlocks) {
    const head = options.chainBlocks;
    const nowSec = Math.floor(Date.now() / 1000);
    og = await startOgNode({
      head,
      logsInBlock: (b) => entriesIn(b).map((e) => e.log),
      blockTimeSec: (b) => nowSec - 2 * (head - b),
    });
    onTestFinished(() => og!.close());
  }
  const databasePath = tempDbPath();
  const env = {
    PATH: process.env.PATH ?? '',
    DOTENV_PATH: '/nonexistent/.env',
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.url,
    ...((options.discord ?? true) && {
      DISCORD_TOKEN: DISCORD_TEST_TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: GUILD_ID,
    }),
    COINGECKO_API_URL: cg.url,
    OG_RPC_URL: og ? og.url : 'http://127.0.0.1:9',
    OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
    OG_CONFIRMATIONS: '0',
    INDEX_CRON: '0 0 1 1 *',
    DATABASE_PATH: databasePath,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  return { tg, discord, cg, og, databasePath, env };
}

export interface BotProcess {
  child: ChildProcess;
  exited: Promise<[number | null, string | null]>;
  output(): string;
  /**
   * pino lines at error level or above (50+), and every line the logger did not write (a Node warning, a
   * library's console output): a process with a clean log writes nothing else.
   */
  errorLines(): string[];
  /** JSON lines that write a key twice (`"part":"alerts","part":"dispatcher"`), which JSON.parse hides. */
  repeatedKeyLines(): Array<{ line: string; keys: string[] }>;
}

export function startBot(w: World): BotProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, resolve(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...inheritedClockEnv(), ...w.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    exited,
    output: () => output,
    errorLines: () =>
      output.split('\n').filter((line) => {
        if (line.trim() === '') return false;
        try {
          return (JSON.parse(line) as { level?: number }).level! >= 50;
        } catch {
          return true; // not the logger's: a Node warning, a library writing to the console, a stack trace
        }
      }),
    repeatedKeyLines: () => linesWithRepeatedKeys(output),
  };
}

/** Polls `probe` (sync or async) until it gives something other than undefined; fails naming `what` after a time. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  bot?: BotProcess,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${bot ? `\n--- bot output ---\n${bot.output().slice(-4000)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once both front ends are up: Telegram polling and Discord's gateway session ready. */
export async function bothReady(w: World, bot: BotProcess, discordShards = 1): Promise<void> {
  await until(
    'the Telegram front end polling',
    () => (w.tg.callsOf('getUpdates').length > 0 ? true : undefined),
    bot,
    30_000,
  );
  await Promise.race([
    w.discord.waitForSession(discordShards),
    bot.exited.then(() => Promise.reject(new Error(`the bot exited\n${bot.output()}`))),
  ]);
}

const REPLY_METHODS = new Set([
  'sendMessage',
  'sendPhoto',
  'editMessageText',
  'editMessageMedia',
  'answerCallbackQuery',
]);

/** The `text` a Bot API call sent ('' for none). */
export const tgText = (c: BotApiCall): string => String(c.params.text ?? '');

export interface TgAskOptions {
  /** Wait for the first `sendMessage` whose text contains this, rather than the first reply of any kind. */
  containing?: string;
  timeoutMs?: number;
}

/**
 * Sends a Telegram update and resolves with the bot's first reply call (message, photo or edit) after it, or
 * with its first message containing `options.containing`. A number is the timeout alone.
 */
export async function tgAsk(
  w: World,
  bot: BotProcess,
  update: Record<string, unknown>,
  options: TgAskOptions | number = {},
): Promise<BotApiCall> {
  const { containing, timeoutMs = 10_000 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const since = w.tg.calls.length;
  w.tg.push(update);
  return until(
    containing === undefined ? 'a Telegram reply' : `a Telegram reply containing '${containing}'`,
    () =>
      w.tg.calls
        .slice(since)
        .find((c) =>
          containing === undefined
            ? REPLY_METHODS.has(c.method)
            : c.method === 'sendMessage' && tgText(c).includes(containing),
        ),
    bot,
    timeoutMs,
  );
}

/** A message the bot posts to the stand-in guild's channel (alerts and listings go there). */
export const isChannelPost = (r: RecordedRequest): boolean =>
  r.method === 'POST' && r.url === `/api/v10/channels/${CHANNEL_ID}/messages`;

export interface DiscordAnswer {
  /** The interaction callback's type: 4 answered at once, 5 deferred, 6 deferred update, 7 updated. */
  type: number;
  /** The message JSON: the callback's `data`, or the deferred edit's body. */
  data: { embeds?: Array<Record<string, any>>; flags?: number; components?: any[]; attachments?: any[] } & Record<
    string,
    unknown
  >;
  /** The request that carried the message (callback or edit), for its file parts. */
  request: RecordedRequest;
}

/**
 * Dispatches an interaction through the gateway and resolves with its answer (the deferred edit if it was deferred).
 */
export async function discordAsk(
  w: World,
  bot: BotProcess,
  payload: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<DiscordAnswer> {
  const since = w.discord.rest.requests.length;
  const { id, token } = w.discord.interact(payload);
  const callback = await until(
    `the callback of interaction ${id}`,
    () => w.discord.rest.requests.slice(since).find((r) => r.url.includes(`/interactions/${id}/`)),
    bot,
    timeoutMs,
  );
  const answer = bodyJson(callback) as { type: number; data?: DiscordAnswer['data'] };
  if (answer.type !== 5 && answer.type !== 6) return { type: answer.type, data: answer.data ?? {}, request: callback };
  const edit = await until(
    `the edit of deferred interaction ${id}`,
    () =>
      w.discord.rest.requests
        .slice(since)
        .find(
          (r) => (r.method === 'PATCH' || r.method === 'POST') && r.url.includes(`/webhooks/`) && r.url.includes(token),
        ),
    bot,
    timeoutMs,
  );
  return { type: answer.type, data: bodyJson(edit) as DiscordAnswer['data'], request: edit };
}

/** The file parts of a multipart request, by part name (`files[0]`, …). */
export function fileParts(req: RecordedRequest): Record<string, MultipartFile> {
  const boundary = multipartBoundary(req.headers['content-type']);
  return boundary ? parseMultipart(req.raw, boundary).files : {};
}
