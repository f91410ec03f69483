import { encodeEventTopics, parseAbi, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { INFERENCE_TOPICS } from '../../../src/sources/opengradient/events.js';
import { PARTICIPANT_TOPICS, decodeParticipant } from '../../../src/sources/opengradient/participant-events.js';
import { TOPIC0, individualSettlement } from '../../helpers/og-events.js';
import {
  REGISTRY_1,
  SCHEDULER,
  TOPIC0_PARTICIPANTS,
  account,
  heartbeatReceived,
  taskRegisteredLog,
  taskStoppedLog,
  taskUpdatedLog,
  teeDisabled,
  teeEnabled,
  teeId,
  teeRegistered,
  teeRemoved,
} from '../../helpers/og-participants.js';

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

/** topic0 of each event as DATA-SOURCES.md §4 lists it, written out here from that text. */
const SECTION_4 = {
  TEERegistered: '0x97d0af70a4d2c616e9c1093d5f57c8b31b3a7d824f1d335e5d5416402ec14931',
  TEEEnabled: '0xcfe7e61b35fbf35c6b0d5c7ebe6feb619ab832dc476c4a02dbdc041fb92b5ca6',
  TEEDisabled: '0x01c235337ed5406ee8cebb3f299d60f237a2837430f8a14fbc81f94ce50236b6',
  HeartbeatReceived: '0x3cf0bf7708060bf073b6ddb921eef0485b3eb9da828e0ed751fa6582ef337f57',
  TaskRegistered: '0x2f401f04107164177693d79d92457c4baa184a9b5a5265d3e6d4ab0ab6716724',
  TaskUpdated: '0x8e337393daef41df7da28202ae5795388856a55cccc6993dc6c60991de8af034',
  TaskStopped: '0x241f6a996425ccc55c93e17e9edc6e85a05deaf40ba91ab84dd4a4ccfa04070a',
  IndividualSettlement: '0x74e71a1981c03bd0c36f3b1227f3ee2a34dca5d6fef25c4b2787e033ab60b782',
} as const;

describe('the topic hashes of DATA-SOURCES.md §4', () => {
  const id = teeId(3);
  const user = account(0x101);
  const target = account(1);
  const logs = {
    TEERegistered: [teeRegistered(REGISTRY_1, id, user, 1), TOPIC0_PARTICIPANTS.teeRegistered],
    TEEEnabled: [teeEnabled(REGISTRY_1, id), TOPIC0_PARTICIPANTS.teeEnabled],
    TEEDisabled: [teeDisabled(REGISTRY_1, id), TOPIC0_PARTICIPANTS.teeDisabled],
    HeartbeatReceived: [heartbeatReceived(REGISTRY_1, id, 1), TOPIC0_PARTICIPANTS.heartbeat],
    TaskRegistered: [taskRegisteredLog(user, target, 10n, 60n), TOPIC0_PARTICIPANTS.taskRegistered],
    TaskUpdated: [taskUpdatedLog(user, target, 10n, 60n), TOPIC0_PARTICIPANTS.taskUpdated],
    TaskStopped: [taskStoppedLog(user, target), TOPIC0_PARTICIPANTS.taskStopped],
  } as const;

  it.each(Object.entries(logs))('%s is asked for and read by its §4 topic0', (name, [log, constant]) => {
    const topic = SECTION_4[name as keyof typeof SECTION_4];
    expect(log.topics[0]).toBe(topic);
    expect(constant).toBe(topic);
    expect(PARTICIPANT_TOPICS).toContain(topic);
    const address = name.startsWith('Task') ? SCHEDULER : REGISTRY_1;
    expect(decodeParticipant(address, log.topics, log.data, contracts)).toMatchObject({ ok: true });
  });

  it('IndividualSettlement is asked for by its §4 topic0, as an inference event', () => {
    expect(individualSettlement(0x71).topics[0]).toBe(SECTION_4.IndividualSettlement);
    expect(TOPIC0.individual).toBe(SECTION_4.IndividualSettlement);
    expect(INFERENCE_TOPICS).toContain(SECTION_4.IndividualSettlement);
  });
});
