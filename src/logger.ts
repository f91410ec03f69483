/**
 * pino, with every configured secret scrubbed from the finished line. Redacting by path alone is not
 * enough: a bot token also travels inside URLs (`/bot<token>/getUpdates`) and inside library error
 * messages, so the last step before the line is written replaces every secret wherever it appears.
 */
import pino from 'pino';
import type { Logger } from './core/logger.js';

export interface LoggerOptions {
  level: string;
  /** Values to replace with `[redacted]` wherever they occur. */
  secrets: readonly string[];
  /** Where lines go; stderr by default, so a one-shot CLI's stdout holds only the reply. */
  destination?: { write(line: string): unknown };
  /**
   * One short line per entry (`warning: <message> (<error>)`) instead of JSON with stacks: for a person
   * at a terminal running the one-shot CLI, who needs the reason, not a trace.
   */
  short?: boolean;
}

const LEVEL_WORDS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** Fields that say why, in the order a terminal line looks for them. */
const REASON_KEYS = ['err', 'error', 'reason', 'description', 'errors'] as const;

/** `warning: market refresh failed; keeping the last good figures (CoinGecko: HTTP 500 …)` from a pino JSON line. */
export function shortLine(jsonLine: string): string {
  try {
    const entry = JSON.parse(jsonLine) as Record<string, unknown> & { level?: number; msg?: string };
    // The reason is logged as pino's serialized `err`, or as text under one of these keys (first found wins).
    const cause = REASON_KEYS.map((key) => entry[key]).find((value) => value !== undefined);
    const text = typeof cause === 'string' ? cause : (cause as { message?: unknown } | undefined)?.message;
    const reason = typeof text === 'string' && text !== '' ? ` (${text})` : '';
    return `${LEVEL_WORDS[entry.level ?? 30] ?? 'log'}: ${entry.msg ?? ''}${reason}\n`;
  } catch {
    return jsonLine;
  }
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('[redacted]');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('[redacted]');
  }
  return out;
}

export function createLogger(options: LoggerOptions): Logger {
  const target = options.destination ?? process.stderr;
  const secrets = [...options.secrets];
  const stream = {
    write: (line: string) => target.write(scrubSecrets(options.short ? shortLine(line) : line, secrets)),
  };
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: [
          'token',
          '*.token',
          'apiKey',
          '*.apiKey',
          'headers.authorization',
          '*.headers.authorization',
          'headers["x-cg-demo-api-key"]',
          'headers["x-cg-pro-api-key"]',
        ],
        censor: '[redacted]',
      },
    },
    stream,
  ) as unknown as Logger;
}
