/**
 * Environment → a typed, frozen `Config`. Every variable is checked at once and every problem is reported
 * in one error, so an operator fixes a deployment in one pass rather than one restart per typo.
 * Only `src/main.ts` and `src/cli.ts` call this; everything else receives the parts it needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import cron from 'node-cron';
import { z } from 'zod';
import { ConfigError } from './core/errors.js';
import { MIN_TAKEOVER_SECONDS, postgresUrlSecrets } from './db/postgres-settings.js';
import { DEFAULT_CONTRACTS } from './sources/opengradient/events.js';
import { DEFAULT_TASK_SCHEDULER, DEFAULT_TEE_REGISTRIES } from './sources/opengradient/participant-events.js';

export type CoinGeckoPlan = 'demo' | 'pro';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly telegram: {
    readonly token: string;
    readonly apiRoot: string;
    /** Receive updates on the HTTP endpoint at this public URL instead of long polling; null: long polling. */
    readonly webhook: { readonly url: string; readonly secret: string } | null;
  } | null;
  readonly discord: { readonly token: string; readonly apiUrl: string; readonly guildId: string | null } | null;
  readonly coingecko: {
    readonly apiUrl: string;
    readonly apiKey: string | null;
    readonly plan: CoinGeckoPlan;
    readonly coinId: string;
  };
  readonly opengradient: {
    readonly rpcUrl: string;
    readonly explorerApiUrl: string;
    readonly indexFromBlock: number;
    readonly confirmations: number;
    readonly indexCron: string;
    /** Contracts whose inference events count. */
    readonly contracts: readonly string[];
    /** The widest block range one `eth_getLogs` asks for. */
    readonly logRangeMaxBlocks: number;
    /** TEE registry contracts read for operators. */
    readonly teeRegistryContracts: readonly string[];
    /** The workflow task scheduler read for developers. */
    readonly taskSchedulerContract: string;
    /**
     * A block no later than the earliest deployment of the TEE registries and the task scheduler above: none of
     * them emitted anything before it, so a history read from there on has every registration.
     */
    readonly contractsFromBlock: number;
  };
  readonly alerts: { readonly defaultThresholds: readonly number[]; readonly hysteresis: number };
  readonly databasePath: string;
  /** `DATABASE_URL`: the PostgreSQL store, used instead of the SQLite file; null for the file. */
  readonly databaseUrl: string | null;
  /** With PostgreSQL: the most time a standby waits after the leader is gone before it leads. */
  readonly leaderTakeoverSeconds: number;
  readonly refreshCron: string;
  /** CoinGecko tickers (venues, depth) and new-listing alerts. */
  readonly marketsCron: string;
  /** Market figures older than this are shown as stale even if no refresh failed. */
  readonly staleAfterMs: number;
  readonly logLevel: LogLevel;
  /**
   * The operations endpoint (health, readiness, metrics), or null when `HTTP_PORT` is unset. Port 0 picks a free one.
   */
  readonly http: { readonly host: string; readonly port: number } | null;
}

export const COINGECKO_URL_BY_PLAN: Record<CoinGeckoPlan, string> = {
  demo: 'https://api.coingecko.com/api/v3',
  pro: 'https://pro-api.coingecko.com/api/v3',
};

const optional = z
  .string()
  .transform((v) => v.trim())
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const httpUrl = (what: string) =>
  optional.pipe(
    z
      .string()
      .url(`expected an http(s) URL (${what})`)
      .refine((v) => /^https?:\/\//.test(v), `expected an http(s) URL (${what})`)
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  );

const cronExpr = optional.pipe(
  z
    .string()
    .refine((v) => cron.validate(v), "expected a cron expression such as '*/5 * * * *'")
    .optional(),
);

const wholeNumber = (min: number, max: number) =>
  optional.pipe(
    z
      .string()
      .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
      .transform(Number)
      .pipe(
        z
          .number()
          .int()
          .min(min, `expected a whole number from ${min} to ${max}`)
          .max(max, `expected a whole number from ${min} to ${max}`),
      )
      .optional(),
  );

const thresholdList = optional.pipe(
  z
    .string()
    .transform((v, ctx) => {
      const parts = v.split(',').map((p) => p.trim());
      const values = parts.map(Number);
      const bad = parts.filter(
        (p, i) => p === '' || !Number.isFinite(values[i]) || values[i]! < 0.01 || values[i]! > 1000,
      );
      if (bad.length > 0 || new Set(values).size !== values.length || values.length > 10) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'expected up to 10 distinct comma-separated ratios from 0.01 to 1000, such as 1,5,10',
        });
        return z.NEVER;
      }
      return values.sort((a, b) => a - b);
    })
    .optional(),
);

/** Telegram's webhook ports on its own Bot API servers; a local Bot API server posts anywhere. */
const TELEGRAM_WEBHOOK_PORTS = ['443', '80', '88', '8443'];
const TELEGRAM_DEFAULT_API_ROOT = 'https://api.telegram.org';

/** The variables whose values never appear in an error: secrets, and URLs that may carry a password. */
const UNECHOED = new Set([
  'TELEGRAM_BOT_TOKEN',
  'DISCORD_TOKEN',
  'COINGECKO_API_KEY',
  'TELEGRAM_WEBHOOK_SECRET',
  'DATABASE_URL',
]);

const addressList = optional.pipe(
  z
    .string()
    .transform((v) => v.split(',').map((a) => a.trim()))
    .pipe(
      z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected comma-separated 0x addresses of 40 hex digits')).min(1),
    )
    .optional(),
);

const envSchema = z.object({
  TELEGRAM_BOT_TOKEN: optional,
  TELEGRAM_API_ROOT: httpUrl('the Bot API root'),
  DISCORD_TOKEN: optional,
  DISCORD_API_URL: httpUrl('the Discord REST root'),
  DISCORD_GUILD_ID: optional.pipe(
    z
      .string()
      .regex(/^\d{15,21}$/, 'expected a Discord guild id (a snowflake of digits)')
      .optional(),
  ),
  COINGECKO_API_URL: httpUrl('the CoinGecko API root'),
  COINGECKO_API_KEY: optional,
  COINGECKO_API_PLAN: optional.pipe(z.enum(['demo', 'pro'], { message: "expected 'demo' or 'pro'" }).optional()),
  OPG_COINGECKO_ID: optional.pipe(
    z
      .string()
      .regex(/^[a-z0-9-]+$/, 'expected a CoinGecko coin id such as opengradient')
      .optional(),
  ),
  OG_RPC_URL: httpUrl('the OpenGradient JSON-RPC endpoint'),
  OG_EXPLORER_API_URL: httpUrl('the Blockscout REST root, ending in /api/v2'),
  OG_INDEX_FROM_BLOCK: wholeNumber(0, Number.MAX_SAFE_INTEGER),
  OG_CONTRACTS_FROM_BLOCK: wholeNumber(0, Number.MAX_SAFE_INTEGER),
  OG_CONFIRMATIONS: wholeNumber(0, 10_000),
  INDEX_CRON: cronExpr,
  OG_INFERENCE_CONTRACTS: addressList,
  OG_LOG_RANGE_MAX: wholeNumber(1, 1_000_000),
  OG_TEE_REGISTRY_CONTRACTS: addressList,
  OG_TASK_SCHEDULER_CONTRACT: optional.pipe(
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x address of 40 hex digits')
      .optional(),
  ),
  ALERT_DEFAULT_THRESHOLDS: thresholdList,
  ALERT_HYSTERESIS: optional.pipe(
    z.coerce
      .number({ message: 'expected a fraction from 0 to 0.9, such as 0.1' })
      .min(0, 'expected a fraction from 0 to 0.9, such as 0.1')
      .max(0.9, 'expected a fraction from 0 to 0.9, such as 0.1')
      .optional(),
  ),
  DATABASE_PATH: optional,
  DATABASE_URL: optional.pipe(
    z
      .string()
      .refine((v) => {
        try {
          return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'expected a PostgreSQL URL such as postgres://opg@db.example:5432/opg_bot')
      .optional(),
  ),
  LEADER_TAKEOVER_SECONDS: wholeNumber(MIN_TAKEOVER_SECONDS, 3_600),
  TELEGRAM_WEBHOOK_URL: optional.pipe(
    z.string().url('expected the public https URL Telegram posts updates to').optional(),
  ),
  TELEGRAM_WEBHOOK_SECRET: optional.pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,256}$/,
        "expected 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for a webhook secret_token)",
      )
      .optional(),
  ),
  REFRESH_CRON: cronExpr,
  MARKETS_CRON: cronExpr,
  STALE_AFTER_MINUTES: wholeNumber(1, 10_080),
  HTTP_PORT: wholeNumber(0, 65_535),
  HTTP_HOST: optional.pipe(
    z
      .string()
      .regex(/^[0-9A-Za-z.:-]+$/, 'expected an address to listen on, such as 127.0.0.1 or 0.0.0.0')
      .optional(),
  ),
  LOG_LEVEL: optional.pipe(
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'expected one of fatal, error, warn, info, debug, trace, silent',
      })
      .optional(),
  ),
});

/** Every variable the bot reads, in the order `.env.example` lists them. */
export const CONFIG_KEYS = Object.keys(envSchema.shape) as ReadonlyArray<keyof typeof envSchema.shape>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function show(value: unknown): string {
  const text = String(value ?? '');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Reads `.env` from `path` if it exists. Values already in the environment win, as with dotenv. */
export function readDotenv(path = '.env'): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

/** Problems that involve more than one variable, keyed by the variable to fix. */
function crossProblems(env: Record<string, string | undefined>): Array<[string, string]> {
  const set = (key: string) => (env[key]?.trim() ?? '') !== '';
  const problems: Array<[string, string]> = [];
  if (set('TELEGRAM_WEBHOOK_URL')) {
    if (!set('TELEGRAM_BOT_TOKEN'))
      problems.push(['TELEGRAM_WEBHOOK_URL', "needs TELEGRAM_BOT_TOKEN (the webhook receives that bot's updates)"]);
    if (!set('TELEGRAM_WEBHOOK_SECRET')) {
      problems.push([
        'TELEGRAM_WEBHOOK_URL',
        'needs TELEGRAM_WEBHOOK_SECRET, so only Telegram can post updates to the endpoint',
      ]);
    }
    const root = (env.TELEGRAM_API_ROOT?.trim() || TELEGRAM_DEFAULT_API_ROOT).replace(/\/+$/, '');
    try {
      const url = new URL(env.TELEGRAM_WEBHOOK_URL!.trim());
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      if (root === TELEGRAM_DEFAULT_API_ROOT && (url.protocol !== 'https:' || !TELEGRAM_WEBHOOK_PORTS.includes(port))) {
        problems.push([
          'TELEGRAM_WEBHOOK_URL',
          'expected an https URL on port 443, 80, 88 or 8443 (what Telegram posts to; ' +
            'any URL works with a local Bot API server in TELEGRAM_API_ROOT)',
        ]);
      } else if (!['https:', 'http:'].includes(url.protocol)) {
        problems.push(['TELEGRAM_WEBHOOK_URL', 'expected an http(s) URL']);
      }
    } catch {
      // Reported by the field's own check.
    }
  } else if (set('TELEGRAM_WEBHOOK_SECRET')) {
    problems.push([
      'TELEGRAM_WEBHOOK_SECRET',
      'set without TELEGRAM_WEBHOOK_URL; set both to receive updates by webhook, neither for long polling',
    ]);
  }
  return problems;
}

/**
 * Builds the config from an environment (normally `process.env` merged over `.env`).
 * @throws ConfigError listing every bad variable with the form it expects.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const byKey = new Map<string, string>();
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const key = String(issue.path[0]);
    if (byKey.has(key)) continue;
    const got = UNECHOED.has(key) ? '' : ` (got '${show(env[key])}')`;
    byKey.set(key, `${key}: ${issue.message}${got}`);
  }
  for (const [key, message] of crossProblems(env)) if (!byKey.has(key)) byKey.set(key, `${key}: ${message}`);
  if (!parsed.success || byKey.size > 0) throw new ConfigError([...byKey.values()]);
  const e = parsed.data;
  const plan: CoinGeckoPlan = e.COINGECKO_API_PLAN ?? 'demo';
  const config: Config = {
    telegram: e.TELEGRAM_BOT_TOKEN
      ? {
          token: e.TELEGRAM_BOT_TOKEN,
          apiRoot: e.TELEGRAM_API_ROOT ?? TELEGRAM_DEFAULT_API_ROOT,
          webhook:
            e.TELEGRAM_WEBHOOK_URL && e.TELEGRAM_WEBHOOK_SECRET
              ? { url: e.TELEGRAM_WEBHOOK_URL, secret: e.TELEGRAM_WEBHOOK_SECRET }
              : null,
        }
      : null,
    discord: e.DISCORD_TOKEN
      ? {
          token: e.DISCORD_TOKEN,
          apiUrl: e.DISCORD_API_URL ?? 'https://discord.com/api',
          guildId: e.DISCORD_GUILD_ID ?? null,
        }
      : null,
    coingecko: {
      apiUrl: e.COINGECKO_API_URL ?? COINGECKO_URL_BY_PLAN[plan],
      apiKey: e.COINGECKO_API_KEY ?? null,
      plan,
      coinId: e.OPG_COINGECKO_ID ?? 'opengradient',
    },
    opengradient: {
      rpcUrl: e.OG_RPC_URL ?? 'https://ogevmdevnet.opengradient.ai',
      explorerApiUrl: e.OG_EXPLORER_API_URL ?? 'https://explorer.opengradient.ai/api/v2',
      indexFromBlock: e.OG_INDEX_FROM_BLOCK ?? 0,
      confirmations: e.OG_CONFIRMATIONS ?? 12,
      indexCron: e.INDEX_CRON ?? '* * * * *',
      contracts: e.OG_INFERENCE_CONTRACTS ?? [...DEFAULT_CONTRACTS],
      logRangeMaxBlocks: e.OG_LOG_RANGE_MAX ?? 10_000,
      teeRegistryContracts: e.OG_TEE_REGISTRY_CONTRACTS ?? [...DEFAULT_TEE_REGISTRIES],
      taskSchedulerContract: e.OG_TASK_SCHEDULER_CONTRACT ?? DEFAULT_TASK_SCHEDULER,
      contractsFromBlock: e.OG_CONTRACTS_FROM_BLOCK ?? 0,
    },
    alerts: {
      defaultThresholds: e.ALERT_DEFAULT_THRESHOLDS ?? [1, 5, 10],
      hysteresis: e.ALERT_HYSTERESIS ?? 0.1,
    },
    databasePath: e.DATABASE_PATH ?? './data/opg-bot.sqlite',
    databaseUrl: e.DATABASE_URL ?? null,
    leaderTakeoverSeconds: e.LEADER_TAKEOVER_SECONDS ?? 15,
    refreshCron: e.REFRESH_CRON ?? '*/5 * * * *',
    marketsCron: e.MARKETS_CRON ?? '0 * * * *',
    staleAfterMs: (e.STALE_AFTER_MINUTES ?? 15) * 60_000,
    logLevel: e.LOG_LEVEL ?? 'info',
    http: e.HTTP_PORT === undefined ? null : { host: e.HTTP_HOST ?? '127.0.0.1', port: e.HTTP_PORT },
  };
  return deepFreeze(config);
}

/** The values that must never reach a log line, an error or a reply. */
export function secretsOf(config: Config): string[] {
  return [
    config.telegram?.token,
    config.telegram?.webhook?.secret,
    config.discord?.token,
    config.coingecko.apiKey,
    ...(config.databaseUrl ? postgresUrlSecrets(config.databaseUrl) : []),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
