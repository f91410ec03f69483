import { describe, expect, it, onTestFinished } from 'vitest';
import { createTelegramSink } from '../../../src/adapters/telegram/sink.js';
import { silentLogger, type Logger } from '../../../src/core/logger.js';
import { reply } from '../../../src/core/reply.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { startTelegramServer, type Fault } from '../../helpers/telegram-server.js';

const alert = reply({ title: 'OPG volume / market cap crossed 5x <up>', fields: [{ label: 'Ratio', value: '5.2x' }] });
const target = { platform: 'telegram' as const, chatId: '-1001234567890' };

async function setup(logger: Logger = silentLogger) {
  const tg = await startTelegramServer();
  onTestFinished(() => tg.close());
  return { tg, sink: createTelegramSink({ token: tg.token, apiRoot: tg.url, logger, transientRetryMs: 7_000 }) };
}

describe('Telegram alert sink', () => {
  it('delivers HTML without a sound or link previews, into the topic', async () => {
    const { tg, sink } = await setup();
    expect(await sink.deliver({ ...target, threadId: '12' }, alert)).toEqual({ status: 'delivered' });
    const [call] = tg.callsOf('sendMessage');
    expect(call!.params).toMatchObject({
      chat_id: -1001234567890,
      parse_mode: 'HTML',
      disable_notification: true,
      message_thread_id: 12,
      link_preview_options: { is_disabled: true },
    });
    expect(call!.params.text).toContain('crossed 5x &lt;up&gt;');
  });

  it('sends an image reply as a photo', async () => {
    const { tg, sink } = await setup();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    expect(await sink.deliver(target, { ...alert, image: { png, filename: 'ratio.png', alt: 'ratio chart' } })).toEqual(
      { status: 'delivered' },
    );
    const [call] = tg.callsOf('sendPhoto');
    expect(call!.files.photo?.size).toBe(4);
    expect(call!.params.caption).toContain('crossed 5x');
  });

  const cases: Array<[string, Fault, unknown]> = [
    [
      'a 429 as retry after retry_after',
      { status: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } },
      { status: 'retry', retryAfterMs: 7_000, rateLimited: true },
    ],
    ['a 500 as retry', { status: 500, description: 'Internal Server Error' }, { status: 'retry', retryAfterMs: 7_000 }],
    ['no answer as retry', 'drop', { status: 'retry', retryAfterMs: 7_000 }],
    [
      '403 kicked as gone',
      { status: 403, description: 'Forbidden: bot was kicked from the supergroup chat' },
      { status: 'gone' },
    ],
    ['403 blocked as gone', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { status: 'gone' }],
    ['400 chat not found as gone', { status: 400, description: 'Bad Request: chat not found' }, { status: 'gone' }],
    [
      'a migrated group as moved',
      {
        status: 400,
        description: 'Bad Request: group chat was upgraded to a supergroup chat',
        parameters: { migrate_to_chat_id: -1009999999999 },
      },
      { status: 'moved', toChatId: '-1009999999999' },
    ],
  ];

  it.each(cases)('reports %s, with one request and no waiting', async (_name, fault, expected) => {
    const { tg, sink } = await setup();
    tg.failNext('sendMessage', fault);
    const result = await sink.deliver(target, alert);
    expect(result).toMatchObject(expected as object);
    expect(result.status === 'retry' && result.rateLimited === true).toBe(
      typeof fault === 'object' && fault.status === 429,
    );
    expect(tg.callsOf('sendMessage')).toHaveLength(1);
  });

  it('keeps the reason Telegram gave for a lost chat', async () => {
    const { tg, sink } = await setup();
    tg.failNext('sendMessage', { status: 403, description: 'Forbidden: bot was kicked from the supergroup chat' });
    const result = await sink.deliver(target, alert);
    expect(result.status === 'gone' && result.reason).toContain('bot was kicked');
  });

  const cantParse = {
    status: 400,
    description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
  };

  it('sends plain text at once when Telegram refuses the alert with 400, logging the description once', async () => {
    const logger = recordingLogger();
    const { tg, sink } = await setup(logger);
    tg.failNext('sendMessage', cantParse);
    const withNotice = {
      ...alert,
      lines: ['Now 5.2x & rising'],
      notices: ['Volume is 12 min old'],
      footer: 'CoinGecko',
    };
    expect(await sink.deliver({ ...target, threadId: '12' }, withNotice)).toEqual({ status: 'delivered' });
    const calls = tg.callsOf('sendMessage');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.params.parse_mode).toBeUndefined();
    expect(calls[1]!.params).toMatchObject({
      chat_id: -1001234567890,
      message_thread_id: 12,
      disable_notification: true,
    });
    expect(calls[1]!.params.text).toBe(
      'OPG volume / market cap crossed 5x <up>\nNow 5.2x & rising\nRatio: 5.2x\nVolume is 12 min old\nCoinGecko',
    );
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields.description).toContain("can't parse entities");
    expect(JSON.stringify(logger.lines)).not.toContain(tg.token);
  });

  it('falls back from a refused photo to plain text clipped to 4,096 characters', async () => {
    const { tg, sink } = await setup();
    tg.failNext('sendPhoto', { status: 400, description: 'Bad Request: message caption is too long' });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const long = { ...alert, lines: ['x'.repeat(5_000)], image: { png, filename: 'ratio.png', alt: 'ratio chart' } };
    expect(await sink.deliver(target, long)).toEqual({ status: 'delivered' });
    expect(tg.callsOf('sendPhoto')).toHaveLength(1);
    const [plain] = tg.callsOf('sendMessage');
    expect(String(plain!.params.text)).toHaveLength(4_096);
  });

  // Plain text has no parse mode, no markup and fits one message: a 400 on it too is a request of ours Telegram
  // will never take. Retried, it would be two refused requests and an error line every 10 minutes, 12 times.
  it('gives the alert up when the plain text is refused too: failed, two requests, one line', async () => {
    const logger = recordingLogger();
    const { tg, sink } = await setup(logger);
    tg.failNext('sendMessage', cantParse);
    tg.failNext('sendMessage', { status: 400, description: 'Bad Request: message is too long' });
    const result = await sink.deliver(target, alert);
    expect(result).toEqual({
      status: 'failed',
      reason: 'Telegram refused the alert, even as plain text (Bad Request: message is too long)',
    });
    expect(tg.callsOf('sendMessage')).toHaveLength(2);
    const errors = logger.lines.filter((l) => l.level === 'error' || l.level === 'warn');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields).toMatchObject({
      description: cantParse.description,
      plainDescription: 'Bad Request: message is too long',
      then: 'failed',
    });
  });

  it('still retries when the plain text meets a 5xx or a 429: only a 400 is final', async () => {
    const { tg, sink } = await setup();
    tg.failNext('sendMessage', cantParse);
    tg.failNext('sendMessage', { status: 500, description: 'Internal Server Error' });
    expect(await sink.deliver(target, alert)).toMatchObject({ status: 'retry', retryAfterMs: 7_000 });
    expect(tg.callsOf('sendMessage')).toHaveLength(2);
  });
});
