import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

describe('OpenGradient indexer config', () => {
  it('defaults to the precompile and the settlement relay and a 10,000-block range cap', () => {
    const c = loadConfig({});
    expect(c.opengradient.contracts).toEqual([
      '0x00000000000000000000000000000000000000F4',
      '0xf1dc0d5Dcf2A01924faC78185B9227CF3EC839A5',
    ]);
    expect(c.opengradient.logRangeMaxBlocks).toBe(10_000);
    expect(c.opengradient.confirmations).toBe(12);
  });

  it('reads contracts and the range cap, and lists every bad key at once', () => {
    expect(
      loadConfig({
        OG_INFERENCE_CONTRACTS: ` ${'0x' + 'a'.repeat(40)} ,${'0x' + 'B'.repeat(40)}`,
        OG_LOG_RANGE_MAX: '500',
      }).opengradient,
    ).toMatchObject({
      contracts: ['0x' + 'a'.repeat(40), '0x' + 'B'.repeat(40)],
      logRangeMaxBlocks: 500,
    });
    const err = (() => {
      try {
        loadConfig({ OG_INFERENCE_CONTRACTS: '0x12,nope', OG_LOG_RANGE_MAX: '0', OG_CONFIRMATIONS: '-1' });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect([...new Set(err.problems.map((p) => p.split(':')[0]))]).toEqual([
      'OG_CONFIRMATIONS',
      'OG_INFERENCE_CONTRACTS',
      'OG_LOG_RANGE_MAX',
    ]);
  });
});
