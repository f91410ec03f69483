import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertsAdd, thresholdText } from '../../commands/alerts.js';
import { coerceOption, parseText, tokenize, type NumberOption } from '../../src/core/command.js';
import { commands } from '../../commands/index.js';
import { thresholdStanding } from '../../commands/volume.js';
import { UserInputError } from '../../src/core/errors.js';

const RATIO: NumberOption = alertsAdd.options.ratio;

/** What `/opg alerts add <typed>` stores: the text goes through the same tokenizer and parser as a chat. */
function parse(text: string): number | UserInputError {
  try {
    const parsed = parseText(tokenize(`alerts add ${text}`), commands);
    expect(parsed.def).toBe(alertsAdd);
    return parsed.args.ratio as number;
  } catch (err) {
    if (err instanceof UserInputError) return err;
    throw err;
  }
}

/** A ratio a person might mean: 0.01 to 1000 with at most 4 decimals, as a canonical decimal string. */
const meant = fc.integer({ min: 100, max: 10_000_000 }).map((tenThousandths) => {
  const whole = Math.floor(tenThousandths / 10_000);
  const fraction = String(tenThousandths % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '');
  return { value: tenThousandths / 10_000, whole: String(whole), fraction };
});

describe('numbers as people type them', () => {
  it('reads a decimal comma as a decimal point: 5,5 is 5.5, shown as 5.5x', () => {
    expect(parse('5,5')).toBe(5.5);
    expect(parse('0,125x')).toBe(0.125);
    expect(thresholdText(parse('5,5') as number)).toBe('5.5x');
  });

  it('refuses grouping and ambiguous commas instead of guessing', () => {
    for (const text of ['1,000.5', '1.000,5', '1,000,000', '1,000', '12,500x', '1,000e0', '1,500e0', '5,5e1']) {
      const result = parse(text);
      expect(result, text).toBeInstanceOf(UserInputError);
      expect((result as Error).message).toMatch(/^ratio/);
    }
    expect((parse('1,000') as Error).message).toContain('could mean 1000 or 1.000');
  });

  it('stores any ratio a person means, however written, and shows it as typed', () => {
    fc.assert(
      fc.property(
        meant,
        fc.constantFrom('.', ','),
        fc.constantFrom('', 'x', 'X'),
        fc.constantFrom('', ' ', '  '),
        (m, mark, unit, pad) => {
          const ambiguous = mark === ',' && m.fraction.length === 3 && m.whole !== '0';
          const typed = `${pad}${m.whole}${m.fraction ? `${mark}${m.fraction}` : ''}${unit}${pad}`;
          const result = parse(typed);
          if (ambiguous) {
            expect(result).toBeInstanceOf(UserInputError);
            return;
          }
          expect(result).toBe(m.value);
          expect(thresholdText(result as number)).toBe(`${m.whole}${m.fraction ? `.${m.fraction}` : ''}x`);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('answers any input with either the number meant, within range, or a refusal that says what is expected', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^[-+0-9.,xXe]{1,12}$/), fc.stringMatching(/^\d{1,3},\d{1,4}e\d$/)),
        (typed) => {
          const result = parse(typed);
          if (result instanceof UserInputError) {
            // Says what is expected: the option, and a number, a range or a form to write it in.
            expect(result.message).toMatch(/ratio|Usage|arguments|Unknown/i);
            return;
          }
          expect(Number.isFinite(result)).toBe(true);
          expect(result).toBeGreaterThanOrEqual(0.01);
          expect(result).toBeLessThanOrEqual(1000);
          // Stored only when the text is one plain number (a decimal comma allowed), and then exactly it.
          const digits = typed.trim().replace(/x$/i, '');
          // A decimal comma is followed by plain digits only (an exponent goes with a decimal point).
          expect(digits).toMatch(/^[+-]?((\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|\d+,\d*|,\d+)$/i);
          expect(result).toBe(Number(digits.replace(',', '.')));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('refuses more decimals than a threshold keeps, rather than rounding them away', () => {
    expect(parse('5.12345')).toBeInstanceOf(UserInputError);
    expect((parse('5.12345') as Error).message).toContain('at most 4 digits after the decimal point');
    expect(coerceOption('ratio', RATIO, 2.5)).toBe(2.5);
    expect(() => coerceOption('ratio', RATIO, 2.123456)).toThrow(UserInputError);
  });

  it('shows thresholds as typed wherever they appear, so two never read the same', () => {
    expect(thresholdStanding([5.04, 5.01], 4.9)).toBe('4.9x is below 5.01x (+2.24% to go), 5.04x (+2.86% to go)');
    expect(thresholdStanding([100.5, 0.015], null)).toBe('0.015x, 100.5x (the ratio is not available now)');
  });
});
