import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderTelegramHtml, telegramKeyboard } from '../../../src/adapters/telegram/render.js';
import { reply } from '../../../src/core/reply.js';

/** Our own tags, and nothing else that looks like one: every `<` people typed arrived escaped. */
function checkHtml(html: string): void {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z]+)>|<|>/g)) {
    if (!m[2]) throw new Error(`stray ${m[0]} in ${JSON.stringify(html.slice(0, 200))}`);
    if (!['b', 'i', 'code'].includes(m[2])) throw new Error(`unexpected tag <${m[2]}>`);
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`unbalanced </${m[2]}>`);
    } else stack.push(m[2]);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  expect(html).not.toMatch(/&(?!amp;|lt;|gt;)/);
}

describe('renderTelegramHtml', () => {
  it('renders title, notices, lines, fields and footer with every value escaped', () => {
    const [html] = renderTelegramHtml(
      reply({
        title: 'OPG <stats> & more',
        notices: ['Stale: <old>'],
        lines: ['a < b', 'Usage: /opg alerts add <ratio>'],
        fields: [{ label: 'P&L', value: '<b>1</b>' }],
        footer: 'CoinGecko · as of now\nsecond & line',
      }),
    );
    expect(html).toBe(
      [
        '<b>OPG &lt;stats&gt; &amp; more</b>',
        '⚠️ <i>Stale: &lt;old&gt;</i>',
        '',
        'a &lt; b',
        'Usage: <code>/opg alerts add &lt;ratio&gt;</code>',
        '<b>P&amp;L:</b> &lt;b&gt;1&lt;/b&gt;',
        '',
        '<i>CoinGecko · as of now</i>',
        '<i>second &amp; line</i>',
      ].join('\n'),
    );
  });

  it('splits between lines into messages of at most 4,096 characters, losing nothing', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `row ${i} & <${i}>`);
    const parts = renderTelegramHtml(reply({ title: 'Long', lines }));
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4096);
      checkHtml(p);
    }
    expect(parts.join('\n')).toContain('row 499 &amp; &lt;499&gt;');
    expect(parts.join('\n').match(/row \d+/g)).toHaveLength(500);
  });

  it('trims to one message ending in an ellipsis when asked, as for a caption', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `row ${i} <&>`);
    const [caption, ...rest] = renderTelegramHtml(reply({ title: 'Chart', lines }), { limit: 1024, mode: 'trim' });
    expect(rest).toEqual([]);
    expect(caption!.length).toBeLessThanOrEqual(1024);
    expect(caption!.endsWith('\n…')).toBe(true);
    checkHtml(caption!);
  });

  it('cuts one over-long line without splitting an entity or leaving a tag open', () => {
    const [html] = renderTelegramHtml(reply({ title: '&'.repeat(5000) }), { limit: 100 });
    expect(html!.length).toBeLessThanOrEqual(100);
    expect(html).toMatch(/^<b>(&amp;)+…<\/b>$/);
  });

  it('keeps any reply within the limit with balanced tags and escaped text', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '<', '>', '&', ' ', '\n', '😀', 'é'), maxLength: 300 });
    fc.assert(
      fc.property(
        text,
        fc.array(text, { maxLength: 20 }),
        fc.array(fc.record({ label: text, value: text }), { maxLength: 10 }),
        fc.integer({ min: 40, max: 4096 }),
        fc.constantFrom('split' as const, 'trim' as const),
        (title, lines, fields, limit, mode) => {
          const parts = renderTelegramHtml(reply({ title, lines, fields, footer: title }), { limit, mode });
          if (mode === 'trim') expect(parts.length).toBeLessThanOrEqual(1);
          for (const p of parts) {
            expect(p.length).toBeLessThanOrEqual(limit);
            checkHtml(p);
            expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('escapes exactly &, < and >', () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe(`&lt;a href="x"&gt;&amp;'`);
  });
});

describe('telegramKeyboard', () => {
  it('turns buttons into one row of callback buttons and drops ids over 64 bytes', () => {
    const r = reply({
      title: 't',
      buttons: [
        { id: 'refresh:stats', label: 'Refresh' },
        { id: `refresh:${'x'.repeat(60)}`, label: 'Too long' },
      ],
    });
    expect(telegramKeyboard(r)).toEqual({ inline_keyboard: [[{ text: 'Refresh', callback_data: 'refresh:stats' }]] });
    expect(telegramKeyboard(reply({ title: 't' }))).toBeUndefined();
  });
});
