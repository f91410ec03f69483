import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runConsole } from '../../../src/adapters/console/console.js';
import { renderPlain } from '../../../src/adapters/console/render.js';
import { reply } from '../../../src/core/reply.js';
import { createTestApp } from '../../helpers/app.js';
import { marketItem, startCoinGeckoServer } from '../../helpers/coingecko-server.js';

describe('console front end', () => {
  it('answers /opg stats and bare words at the prompt, then exits', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const done = runConsole({ runText: app.runText, input, output });
    input.end('/opg stats\nvolume\nmoon\nexit\n');
    await done;
    expect(text).toContain('opg> ');
    expect(text).toContain('OPG stats');
    expect(text).toContain('OPG volume');
    expect(text).toContain('Unknown command: moon');
  });

  it('renders notices, fields and footer as plain text', () => {
    const out = renderPlain(
      reply({
        title: 'T',
        notices: ['Stale: x'],
        fields: [{ label: 'Price', value: '$1.00' }],
        footer: 'CoinGecko · as of now',
      }),
    );
    expect(out).toBe('T\n=\n! Stale: x\n\nPrice  $1.00\n\nCoinGecko · as of now');
  });

  it('keeps every value in one column when a label is wider than it', () => {
    const out = renderPlain(
      reply({
        title: 'T',
        fields: [
          { label: 'Status', value: 'on' },
          { label: 'Thresholds (volume / market cap)', value: '1x · 5x\n10x' },
        ],
      }),
    );
    const lines = out.split('\n');
    expect(lines).toContain('Thresholds (volume / market cap)');
    const valueColumn = lines.find((l) => l.startsWith('Status'))!.indexOf('on');
    expect(lines.find((l) => l.includes('1x · 5x'))!.indexOf('1x')).toBe(valueColumn);
    expect(lines.find((l) => l.trim() === '10x')!.indexOf('10x')).toBe(valueColumn);
  });
});

describe('console alert sink', () => {
  it('prints an alert between prompts and reports it delivered', async () => {
    const { createConsoleSink } = await import('../../../src/adapters/console/console.js');
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const sink = createConsoleSink(output);
    const result = await sink.deliver(
      { platform: 'console', chatId: 'console' },
      reply({ title: 'OPG volume / market cap crossed 5x', lines: ['Now 5.2x'] }),
    );
    expect(result).toEqual({ status: 'delivered' });
    expect(text).toContain('OPG volume / market cap crossed 5x\n');
    expect(text).toContain('Now 5.2x');
  });
});
