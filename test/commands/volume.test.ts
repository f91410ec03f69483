import { describe, expect, it } from 'vitest';
import { thresholdStanding } from '../../commands/volume.js';
import { createTestApp, moderator, testChat } from '../helpers/app.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';

describe('volume', () => {
  it("shows where the ratio stands against this chat's thresholds", async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const before = await app.runText('volume', testChat, moderator);
    expect(before.fields.find((f) => f.label === 'Alert thresholds')?.value).toMatch(/^none in this chat/);
    await app.runText('alerts subscribe', testChat, moderator);
    const after = await app.runText('volume', testChat, moderator);
    expect(after.fields.find((f) => f.label === 'Alert thresholds')?.value).toBe(
      '4.7x is above 1x; below 5x (+6.38% to go), 10x (+112.76% to go)',
    );
  });

  it('says the ratio is unavailable rather than comparing a missing number', () => {
    expect(thresholdStanding([5, 1], null)).toBe('1x, 5x (the ratio is not available now)');
    expect(thresholdStanding([1, 5], 13.2)).toBe('13.2x is above 1x, 5x');
  });
});
