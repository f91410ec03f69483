import { describe, expect, it } from 'vitest';
import { replyText } from '../../src/core/reply.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { expectNoBadText } from '../helpers/expect.js';

describe('stats', () => {
  it('answers price, change, market cap, FDV, volume, ratio and supply with the as-of time', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const r = await app.runText('/opg stats', testChat, member);
    const text = replyText(r);
    expect(r.kind).toBe('info');
    expect(text).toContain('$0.04123');
    expect(text).toContain('+3.41% 24h');
    expect(text).toContain('$41.7M');
    expect(text).toContain('$412M');
    expect(text).toContain('$196M');
    expect(text).toContain('4.7x');
    expect(text).toContain('13.70% circulating');
    expect(r.footer).toBe('CoinGecko · as of 2026-11-22 12:00 UTC (just now)');
    expectNoBadText(text);
  });

  it('says plainly that inferences are not indexed yet', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const r = await app.runText('stats', testChat, member);
    expect(r.fields.find((f) => f.label === 'Inferences')?.value).toMatch(/not indexed yet/);
  });
});
