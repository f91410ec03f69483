import { encodeEventTopics, parseAbi, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { PARTICIPANT_TOPICS, decodeParticipant } from '../../../src/sources/opengradient/participant-events.js';
import { REGISTRY_1, SCHEDULER, TOPIC0_PARTICIPANTS, teeId, teeRemoved } from '../../helpers/og-participants.js';

const LEGACY = parseAbi(['event TEEActivated(bytes32 indexed teeId)', 'event TEEDeactivated(bytes32 indexed teeId)']);
const contracts = { teeRegistries: new Set([REGISTRY_1]), taskScheduler: SCHEDULER };

describe('TEE registry events of earlier registry builds', () => {
  it('reads TEEActivated and TEEDeactivated as enabled and disabled, from a configured registry only', () => {
    const id = teeId(7);
    const activated = encodeEventTopics({ abi: LEGACY, eventName: 'TEEActivated', args: { teeId: id } }) as Hex[];
    const deactivated = encodeEventTopics({ abi: LEGACY, eventName: 'TEEDeactivated', args: { teeId: id } }) as Hex[];
    expect(PARTICIPANT_TOPICS).toEqual(expect.arrayContaining([activated[0], deactivated[0]]));
    expect(decodeParticipant(REGISTRY_1, activated, '0x', contracts)).toEqual({
      ok: true,
      event: { type: 'tee-enabled', registry: REGISTRY_1, teeId: id },
    });
    expect(decodeParticipant(REGISTRY_1, deactivated, '0x', contracts)).toEqual({
      ok: true,
      event: { type: 'tee-disabled', registry: REGISTRY_1, teeId: id },
    });
    expect(decodeParticipant(SCHEDULER, activated, '0x', contracts)).toBeNull();
  });

  it('reads TEERemoved (og-evm 758e149) as a removal, from a configured registry only', () => {
    const id = teeId(9);
    const log = teeRemoved(REGISTRY_1, id);
    expect(log.topics[0]).toBe(TOPIC0_PARTICIPANTS.teeRemoved);
    expect(PARTICIPANT_TOPICS).toContain(TOPIC0_PARTICIPANTS.teeRemoved);
    expect(decodeParticipant(REGISTRY_1, log.topics, log.data, contracts)).toEqual({
      ok: true,
      event: { type: 'tee-removed', registry: REGISTRY_1, teeId: id },
    });
    expect(decodeParticipant(SCHEDULER, log.topics, log.data, contracts)).toBeNull();
  });
});
