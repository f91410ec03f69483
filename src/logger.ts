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
  const stream = { write: (line: string) => target.write(scrubSecrets(line, secrets)) };
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: ['token', '*.token', 'apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization', 'headers["x-cg-demo-api-key"]', 'headers["x-cg-pro-api-key"]'],
        censor: '[redacted]',
      },
    },
    stream,
  ) as unknown as Logger;
}
