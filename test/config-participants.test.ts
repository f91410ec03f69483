import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

describe('TEE registry and task scheduler config', () => {
  it('defaults to both registries and the task scheduler DATA-SOURCES names', () => {
    const og = loadConfig({}).opengradient;
    expect(og.teeRegistryContracts).toEqual([
      '0x4e72238852f3c918f4E4e57AeC9280dDB0c80248',
      '0x703cB174AEadB35D611858369B4b1111dC9Abda6',
    ]);
    expect(og.taskSchedulerContract).toBe('0x7179724De4e7FF9271FA40C0337c7f90C0508eF6');
  });

  it('reads OG_TEE_REGISTRY_CONTRACTS and OG_TASK_SCHEDULER_CONTRACT, and refuses what is not an address', () => {
    const a = `0x${'a'.repeat(40)}`;
    const b = `0x${'b'.repeat(40)}`;
    expect(
      loadConfig({ OG_TEE_REGISTRY_CONTRACTS: ` ${a} `, OG_TASK_SCHEDULER_CONTRACT: b }).opengradient,
    ).toMatchObject({ teeRegistryContracts: [a], taskSchedulerContract: b });
    let err: unknown;
    try {
      loadConfig({ OG_TEE_REGISTRY_CONTRACTS: `${a},0x12`, OG_TASK_SCHEDULER_CONTRACT: 'scheduler' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
      'OG_TEE_REGISTRY_CONTRACTS',
      'OG_TASK_SCHEDULER_CONTRACT',
    ]);
  });
});
