import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMBED_LIMITS, embedLength, escapeMarkdown, renderDiscord } from '../../../src/adapters/discord/render.js';
import { reply, type Reply } from '../../../src/core/reply.js';

// Random text, and long runs of markdown that grows when escaped: short strings alone never reach the limits.
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max, unit: 'grapheme-ascii' }),
    fc.nat({ max }).map((n) => '*_'.repeat(n).slice(0, n)),
  );
const anyReply: fc.Arbitrary<Reply> = fc
  .record({
    kind: fc.constantFrom('info', 'usage', 'refused', 'error'),
    title: text(400),
    lines: fc.array(text(3000), { maxLength: 4 }),
    fields: fc.array(fc.record({ label: text(300), value: text(1500), inline: fc.boolean() }), { maxLength: 40 }),
    notices: fc.array(text(500), { maxLength: 3 }),
    footer: fc.option(text(2500), { nil: undefined }),
  })
  .map((r) => reply(r));

describe('renderDiscord', () => {
  it('keeps every embed within all of Discord limits, whatever the reply holds', () => {
    fc.assert(
      fc.property(anyReply, (r) => {
        const [embed] = renderDiscord(r).embeds;
        expect(embed!.title.length).toBeGreaterThan(0);
        expect(embed!.title.length).toBeLessThanOrEqual(EMBED_LIMITS.title);
        expect(embed!.description?.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.description);
        expect(embed!.fields.length).toBeLessThanOrEqual(EMBED_LIMITS.fields);
        for (const f of embed!.fields) {
          expect(f.name.length).toBeGreaterThan(0);
          expect(f.name.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldName);
          expect(f.value.length).toBeGreaterThan(0);
          expect(f.value.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldValue);
        }
        expect(embed!.footer?.text.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.footer);
        expect(embedLength(embed!)).toBeLessThanOrEqual(EMBED_LIMITS.total);
      }),
      { numRuns: 300 },
    );
  });

  it('says how many fields were left out when they do not fit', () => {
    const r = reply({
      title: 'Many',
      fields: Array.from({ length: 30 }, (_, i) => ({ label: `f${i}`, value: 'x'.repeat(900) })),
    });
    const [embed] = renderDiscord(r).embeds;
    expect(embedLength(embed!)).toBeLessThanOrEqual(6000);
    expect(embed!.description).toMatch(new RegExp(`\\(${30 - embed!.fields.length} more not shown`));
  });

  it('never lets mentions ping and marks refusals ephemeral', () => {
    const message = renderDiscord(reply({ kind: 'refused', title: 'Moderators only', lines: ['@everyone <@123>'] }));
    expect(message.allowedMentions).toEqual({ parse: [] });
    expect(message.flags).toBe(64);
    expect(message.embeds[0]!.description).not.toContain('@everyone');
  });

  it('escapes markdown so figures show as written', () => {
    expect(escapeMarkdown('a_b*c~d`e|f')).toBe('a\\_b\\*c\\~d\\`e\\|f');
    expect(escapeMarkdown('# big\n- item\n> quote')).toBe('\\# big\n\\- item\n\\> quote');
    expect(escapeMarkdown('1. first\n10. tenth')).toBe('1\\. first\n10\\. tenth');
    expect(escapeMarkdown('-3.41% 24h')).toBe('-3.41% 24h');
    expect(escapeMarkdown('4.7x')).toBe('4.7x');
  });

  it('shows the stale notice first and puts an image in the embed as an attachment', () => {
    const message = renderDiscord(
      reply({
        title: 'Chart',
        notices: ['Market data is stale'],
        lines: ['Ratio'],
        image: { png: new Uint8Array([1]), filename: 'my chart!.png', alt: 'chart' },
      }),
    );
    expect(message.embeds[0]!.description).toBe('⚠️ Market data is stale\nRatio');
    expect(message.files[0]!.name).toBe('my_chart_.png');
    expect(message.embeds[0]!.image).toEqual({ url: 'attachment://my_chart_.png' });
  });
});
