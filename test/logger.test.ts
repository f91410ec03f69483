import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { UpstreamError } from '../src/core/errors.js';
import { repeatedKeys } from './helpers/log-lines.js';

function capture(secrets: string[]) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', secrets, destination: { write: (l: string) => lines.push(l) } });
  return { logger, lines };
}

describe('logger', () => {
  it('writes a key twice when a child is made from a child with the same binding (what repeatedKeys catches)', () => {
    const { logger, lines } = capture([]);
    logger.child({ part: 'a' }).child({ part: 'b' }).info('twice');
    logger.child({ part: 'a' }).info({ x: { y: 1 } }, 'once');
    expect(repeatedKeys(lines[0]!)).toEqual(['part']);
    expect(repeatedKeys(lines[1]!)).toEqual([]);
    // Keys count per object; strings with quotes, colons and backslashes are not keys.
    expect(repeatedKeys('{"a":1,"b":{"a":2,"m":"x\\":"},"c":["a",{"x":1,"x":2}],"s":"q\\"","s":0}')).toEqual([
      'x',
      's',
    ]);
  });

  it('scrubs tokens and keys from messages, fields, URLs and error stacks', () => {
    const token = '42:fake-secret-token_value';
    const { logger, lines } = capture([token, 'CG-key-123']);
    logger.info({ url: `https://api.telegram.org/bot${token}/getUpdates` }, 'polling');
    logger.warn(`failed with key CG-key-123 and ${encodeURIComponent(token)}`);
    logger.error({ err: new UpstreamError('Telegram', `bad bot${token}`) }, 'oops');
    logger.info({ config: { token: 'any', apiKey: 'other' } }, 'config');
    const all = lines.join('');
    expect(all).not.toContain('fake-secret');
    expect(all).not.toContain('CG-key-123');
    expect(all).not.toContain('"other"');
    expect(all.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', secrets: [], destination: { write: (l: string) => lines.push(l) } });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });

  it(
    'writes one short line per entry for a person at a terminal: the message and the error, no stack, secrets ' +
      'scrubbed',
    () => {
      const lines: string[] = [];
      const logger = createLogger({
        level: 'warn',
        secrets: ['CG-key-123'],
        short: true,
        destination: { write: (l: string) => lines.push(l) },
      });
      logger.warn(
        { err: new UpstreamError('CoinGecko', 'HTTP 500 for https://x/?k=CG-key-123') },
        'market refresh failed; keeping the last good figures',
      );
      logger.error('indexing stopped');
      expect(lines).toEqual([
        'warning: market refresh failed; keeping the last good figures (CoinGecko: HTTP 500 for ' +
          'https://x/?k=[redacted])\n',
        'error: indexing stopped\n',
      ]);
    },
  );

  it('keeps the reason at a terminal when the error was logged as a described string', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      secrets: [],
      short: true,
      destination: { write: (l: string) => lines.push(l) },
    });
    logger.warn({ err: 'OpenGradient RPC: HTTP 429', attempt: 2 }, 'OpenGradient RPC failed; backing off');
    logger.error({ error: '404: Not Found', status: 404 }, 'answering an interaction failed');
    logger.warn({ reason: 'connect ECONNREFUSED 127.0.0.1:5432' }, 'leader election: the database did not answer');
    logger.warn({ outboxId: 7, reason: 'HTTP 502' }, 'alert given up');
    logger.error({ status: 400, errors: '{"content":"too long"}' }, 'Discord refused an alert');
    expect(lines).toEqual([
      'warning: OpenGradient RPC failed; backing off (OpenGradient RPC: HTTP 429)\n',
      'error: answering an interaction failed (404: Not Found)\n',
      'warning: leader election: the database did not answer (connect ECONNREFUSED 127.0.0.1:5432)\n',
      'warning: alert given up (HTTP 502)\n',
      'error: Discord refused an alert ({"content":"too long"})\n',
    ]);
  });
});
