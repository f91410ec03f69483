/**
 * The TEE registry and workflow task scheduler events (DATA-SOURCES.md §4), from their canonical signatures,
 * decoded with viem. Each counts only from the contracts configured for it: the same topic0 from another
 * address is not ours. A log that names our event but does not decode is reported, never guessed at.
 */
import { decodeEventLog, parseAbi, toEventSelector } from 'viem/utils';
import type { ParticipantEvent } from '../../core/participants.js';

export type { ParticipantEvent } from '../../core/participants.js';

export const PARTICIPANT_ABI = parseAbi([
  'event TEERegistered(bytes32 indexed teeId, address indexed owner, uint8 teeType)',
  'event TEEEnabled(bytes32 indexed teeId)',
  'event TEEDisabled(bytes32 indexed teeId)',
  'event HeartbeatReceived(bytes32 indexed teeId, uint256 timestamp)',
  // Earlier builds of the registry (og-evm before 8d35b766, March 2026) said activated / deactivated for
  // enabled / disabled; a registry deployed from one still emits them, and they mean the same.
  'event TEEActivated(bytes32 indexed teeId)',
  'event TEEDeactivated(bytes32 indexed teeId)',
  // og-evm 758e149 (March 2026) had `removeTEE` delete a TEE and emit only this; 8d35b766 took it out the
  // next day. A registry deployed from that build still emits it.
  'event TEERemoved(bytes32 indexed teeId)',
  'event TaskRegistered(address indexed user, address indexed contractAddress, uint256 endTime, uint256 frequency)',
  'event TaskUpdated(address indexed user, address indexed contractAddress, uint256 newEndTime, uint256 newFrequency)',
  'event TaskStopped(address indexed user, address indexed contractAddress)',
]);

/** The registry addresses DATA-SOURCES.md names: the explorer's, and the SDK's since July 2026. */
export const DEFAULT_TEE_REGISTRIES = [
  '0x4e72238852f3c918f4E4e57AeC9280dDB0c80248',
  '0x703cB174AEadB35D611858369B4b1111dC9Abda6',
] as const;
export const DEFAULT_TASK_SCHEDULER = '0x7179724De4e7FF9271FA40C0337c7f90C0508eF6';

const REGISTRY_EVENTS = new Set([
  'TEERegistered',
  'TEEEnabled',
  'TEEDisabled',
  'TEEActivated',
  'TEEDeactivated',
  'TEERemoved',
  'HeartbeatReceived',
]);

const BY_TOPIC = new Map(PARTICIPANT_ABI.map((event) => [toEventSelector(event).toLowerCase(), event]));

/** Every topic0 the indexer asks for on behalf of operators and developers. */
export const PARTICIPANT_TOPICS: readonly `0x${string}`[] = [...BY_TOPIC.keys()] as `0x${string}`[];

export type DecodedParticipant = { ok: true; event: ParticipantEvent } | { ok: false; reason: string } | null;

export interface ParticipantContracts {
  /** Lowercase TEE registry addresses. */
  teeRegistries: ReadonlySet<string>;
  /** Lowercase task scheduler address, or null when none is read. */
  taskScheduler: string | null;
}

/** A uint256 as a safe integer: larger values (an end time of 2^256-1 meaning "never") are capped. */
function capped(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/**
 * One log as a participant event; null when its topic0 is not one of ours or its address is not the
 * contract configured for that event.
 */
export function decodeParticipant(
  address: string,
  topics: readonly `0x${string}`[],
  data: `0x${string}` | Uint8Array,
  contracts: ParticipantContracts,
): DecodedParticipant {
  const event = topics[0] === undefined ? undefined : BY_TOPIC.get(topics[0].toLowerCase());
  if (!event) return null;
  const fromRegistry = contracts.teeRegistries.has(address);
  const isRegistryEvent = REGISTRY_EVENTS.has(event.name);
  if (isRegistryEvent ? !fromRegistry : address !== contracts.taskScheduler) return null;
  try {
    const hex =
      typeof data === 'string'
        ? data
        : (`0x${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')}` as const);
    const { args } = decodeEventLog({
      abi: [event],
      topics: topics as [`0x${string}`, ...`0x${string}`[]],
      data: hex,
      strict: true,
    }) as { args: Record<string, unknown> };
    const a = args;
    switch (event.name) {
      case 'TEERegistered':
        return {
          ok: true,
          event: {
            type: 'tee-registered',
            registry: address,
            teeId: String(a.teeId).toLowerCase(),
            owner: String(a.owner).toLowerCase(),
            teeType: Number(a.teeType),
          },
        };
      case 'TEEEnabled':
      case 'TEEActivated':
        return { ok: true, event: { type: 'tee-enabled', registry: address, teeId: String(a.teeId).toLowerCase() } };
      case 'TEEDisabled':
      case 'TEEDeactivated':
        return { ok: true, event: { type: 'tee-disabled', registry: address, teeId: String(a.teeId).toLowerCase() } };
      case 'TEERemoved':
        return { ok: true, event: { type: 'tee-removed', registry: address, teeId: String(a.teeId).toLowerCase() } };
      case 'HeartbeatReceived':
        return { ok: true, event: { type: 'heartbeat', registry: address, teeId: String(a.teeId).toLowerCase() } };
      case 'TaskRegistered':
      case 'TaskUpdated': {
        const end = (event.name === 'TaskRegistered' ? a.endTime : a.newEndTime) as bigint;
        const frequency = (event.name === 'TaskRegistered' ? a.frequency : a.newFrequency) as bigint;
        return {
          ok: true,
          event: {
            type: event.name === 'TaskRegistered' ? 'task-registered' : 'task-updated',
            user: String(a.user).toLowerCase(),
            contractAddress: String(a.contractAddress).toLowerCase(),
            endTimeSec: capped(end),
            frequency: capped(frequency),
          },
        };
      }
      default:
        return {
          ok: true,
          event: {
            type: 'task-stopped',
            user: String(a.user).toLowerCase(),
            contractAddress: String(a.contractAddress).toLowerCase(),
          },
        };
    }
  } catch (err) {
    return { ok: false, reason: `${event.name}: ${(err as Error).message.split('\n')[0]!.slice(0, 160)}` };
  }
}
