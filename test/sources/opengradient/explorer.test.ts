import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../src/core/errors.js';
import { parseExplorerStats } from '../../../src/sources/opengradient/explorer.js';

describe('explorer stats', () => {
  it('reads Blockscout counters sent as strings', () => {
    expect(
      parseExplorerStats({ total_transactions: '1234567', transactions_today: '3456', total_blocks: '9' }, 5),
    ).toEqual({
      totalTransactions: 1_234_567,
      transactionsToday: 3_456,
      fetchedAtMs: 5,
    });
  });

  it('names the field that is not a whole number', () => {
    expect(() => parseExplorerStats({ total_transactions: '12.5', transactions_today: '1' }, 0)).toThrow(
      /total_transactions/,
    );
    expect(() => parseExplorerStats({ total_transactions: '1', transactions_today: null }, 0)).toThrow(
      /transactions_today/,
    );
    expect(() => parseExplorerStats([], 0)).toThrow(UpstreamError);
  });
});
