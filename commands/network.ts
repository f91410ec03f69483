import { defineCommand } from '../src/core/command.js';
import type { Core } from '../src/core/core.js';
import { count, duration, pct, signedPct, tokens, utc } from '../src/core/format.js';
import { changePct } from '../src/core/metrics.js';
import {
  callerWindows,
  DAY_MS,
  type CallerWindows,
  type ParticipantCoverage,
  type ParticipantReader,
} from '../src/core/participants.js';
import { reply } from '../src/core/reply.js';
import type { IndexerStatus, InferenceIndex, Services } from '../src/core/services.js';
import { NOT_INDEXED, backfillNote, indexedStatus, windowStartMs } from './inference-text.js';
import { sourceFooter } from './shared.js';

/** The one thing a reader must know about callers before reading any figure of them. */
export const BASE_NOTE =
  'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain: the people who send them are not visible as callers here (those inferences appear only as TEE settlements).';

const CALLERS = 'accounts that sent inference transactions on the OpenGradient chain';

/** `Nov 24`, the UTC day of `ms`. */
function day(ms: number): string {
  return new Date(ms).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** `Nov 24 00:00 UTC to now`. */
function sinceDay(startMs: number): string {
  return `${day(startMs)} 00:00 UTC to now`;
}

/** `n/a (…)` when the participant history starts after `windowStartMs`, else null. */
function uncovered(coverage: ParticipantCoverage, windowStartMs: number): string | null {
  if (coverage.fromBlockTimeMs <= windowStartMs) return null;
  return `n/a: the caller history read starts ${utc(coverage.fromBlockTimeMs)} (block ${count(coverage.fromBlock)}), after this window opens`;
}

function share(part: number, whole: number): string {
  return whole > 0 ? pct((100 * part) / whole) : 'n/a';
}

async function callerFields(reader: ParticipantReader, w: CallerWindows, coverage: ParticipantCoverage) {
  const c = await reader.callers(w);
  const week = uncovered(coverage, w.last7Ms);
  const before = uncovered(coverage, w.previous7Ms);
  const month = uncovered(coverage, w.last30Ms);
  const previousEnd = w.last7Ms - DAY_MS;
  return [
    {
      label: 'Callers, last 7 days',
      value:
        week ??
        `${count(c.active7)} ${CALLERS} (UTC days ${sinceDay(w.last7Ms)}): ${count(c.new7)} new (first seen in these 7 days), ${count(c.active7 - c.new7)} returning`,
    },
    {
      label: 'Week-over-week retention',
      value:
        before ??
        (c.previous7 > 0
          ? `${share(c.retained7, c.previous7)}: ${count(c.retained7)} of the ${count(c.previous7)} accounts active ${day(w.previous7Ms)}–${day(previousEnd)} sent inference transactions again in the last 7 days`
          : `n/a: no account sent inference transactions ${day(w.previous7Ms)}–${day(previousEnd)}`),
    },
    {
      label: 'Repeat callers, last 30 days',
      value:
        month ??
        (c.inferences30 > 0
          ? `${share(c.repeatInferences30, c.inferences30)} of the ${count(c.inferences30)} inferences in inference transactions (UTC days ${sinceDay(w.last30Ms)}) were sent by accounts active on 2 or more distinct days`
          : 'n/a: no inference transactions in the last 30 days'),
    },
    {
      label: '10 busiest callers, last 30 days',
      value:
        month ??
        (c.inferences30 > 0
          ? `${share(c.top10Inferences30, c.inferences30)} of those ${count(c.inferences30)} inferences, from the 10 busiest of ${count(c.callers30)} accounts`
          : 'n/a: no inference transactions in the last 30 days'),
    },
  ];
}

async function operatorFields(
  reader: ParticipantReader,
  w: CallerWindows,
  coverage: ParticipantCoverage,
  nowMs: number,
) {
  const heartbeatSince = nowMs - DAY_MS;
  const o = await reader.operators(w, heartbeatSince);
  const enabled = o.enabledLlmProxy + o.enabledValidator + o.enabledOtherType;
  const other = o.enabledOtherType > 0 ? `, type not seen or not defined ${count(o.enabledOtherType)}` : '';
  const week = uncovered(coverage, w.last7Ms);
  return [
    {
      label: 'TEEs enabled now',
      value: `${count(enabled)} (LLM proxy ${count(o.enabledLlmProxy)}, validator ${count(o.enabledValidator)}${other}) of ${count(o.registered)} TEEs registered (TEE registry events)`,
    },
    {
      label: 'TEEs serving, last 7 days',
      value:
        week ??
        `${count(o.settling7)} TEEs settled at least one inference individually (IndividualSettlement, UTC days ${sinceDay(w.last7Ms)})`,
    },
    {
      label: 'Busiest TEE, last 7 days',
      value:
        week ??
        (o.settlements7 > 0
          ? `${share(o.busiestSettlements7, o.settlements7)} of the ${count(o.settlements7)} individual settlements (${count(o.busiestSettlements7)})`
          : 'n/a: no individual settlements in the last 7 days'),
    },
    {
      label: 'TEE heartbeats, last 24 hours',
      value:
        uncovered(coverage, heartbeatSince) ??
        `${count(o.heartbeats)} TEEs with a HeartbeatReceived event since ${utc(heartbeatSince)}`,
    },
  ];
}

/** The `stats` line: callers active in the last 7 days and week-over-week retention, or why not. */
export async function callersLine(services: Services, nowMs: number): Promise<string> {
  const coverage = (await services.participants?.coverage()) ?? null;
  if (!services.participants || !coverage || !(await indexedStatus(services.indexer))) return NOT_INDEXED;
  const w = callerWindows(nowMs);
  const c = await services.participants.callers(w);
  const active = uncovered(coverage, w.last7Ms)
    ? 'n/a (caller history too short)'
    : `${count(c.active7)} accounts active in 7 UTC days`;
  const retention = uncovered(coverage, w.previous7Ms) || c.previous7 === 0 ? 'n/a' : share(c.retained7, c.previous7);
  return `${active} · week-over-week retention ${retention} (inference transactions on the OpenGradient chain; /opg network)`;
}

/** Inferences in the last 30 days against the 30 before, beside circulating supply over the same 30 days. */
async function demandField(
  core: Core,
  index: InferenceIndex,
  status: IndexerStatus,
  coverage: ParticipantCoverage,
  nowMs: number,
): Promise<{ label: string; value: string }> {
  const window = 30 * DAY_MS;
  const recentStart = windowStartMs(nowMs, window);
  const priorStart = windowStartMs(nowMs, 2 * window);
  // The inference history starts at the indexer's first block: the chain's genesis, or the block the
  // participant history started from when both began together; otherwise its time is unknown here.
  const inferenceFromMs = status.fromBlock === 0 ? Number.NEGATIVE_INFINITY : coverage.fromBlockTimeMs;
  const then = await core.history.marketAgo(window);
  const supplyCovered = then !== null && then.fetchedAtMs >= nowMs - window - DAY_MS;
  const demandCovered = inferenceFromMs <= priorStart;
  if (!demandCovered || !supplyCovered) {
    const first = await core.history.firstMarket();
    const inferenceDays =
      inferenceFromMs === Number.NEGATIVE_INFINITY ? 'from genesis' : duration(Math.max(0, nowMs - inferenceFromMs));
    const supplyDays = first ? duration(Math.max(0, nowMs - first.fetchedAtMs)) : 'none';
    return {
      label: 'Demand beside supply, 30 days',
      value: `not shown until history covers both windows: needs 60 days of inference history (have ${inferenceDays}) and circulating supply from 30 days ago (have ${supplyDays} of readings)`,
    };
  }
  const recent = (await index.totals(recentStart)).total;
  const prior = (await index.totals(priorStart)).total - recent;
  const demand = prior > 0 ? (100 * (recent - prior)) / prior : null;
  const current = core.snapshot().market.data?.circulatingSupply;
  const supply = changePct(then.data.circulatingSupply, current);
  const demandText = demand === null ? 'n/a (no inferences in the 30 days before)' : signedPct(demand);
  const parts = `inferences ${demandText} (${count(recent)} in the last 30 days against ${count(prior)} in the 30 before, every kind counted from the chain) · circulating supply ${signedPct(supply)} (${tokens(then.data.circulatingSupply)} to ${tokens(current)}, CoinGecko)`;
  let sentence = '';
  if (demand !== null && supply !== null) {
    sentence =
      demand > supply
        ? ' Inference demand grew faster than circulating supply over these 30 days.'
        : demand < supply
          ? ' Inference demand grew more slowly than circulating supply over these 30 days.'
          : ' Inference demand and circulating supply grew at the same rate over these 30 days.';
  }
  return { label: 'Demand beside supply, 30 days', value: `${parts}.${sentence}` };
}

export default defineCommand({
  name: 'network',
  description: 'Who uses the OpenGradient network, from the chain: callers, retention, TEE operators, developers',
  options: {},
  access: 'everyone',
  async run(_args, { core, services }) {
    const index = services.indexer;
    const participants = services.participants;
    const status = await indexedStatus(index);
    const coverage = (await participants?.coverage()) ?? null;
    const now = core.clock.now();
    if (!index || !participants || !status || !coverage) {
      return reply({
        title: 'Who uses the OpenGradient network',
        lines: [`Callers, operators and developers are ${NOT_INDEXED}.`, BASE_NOTE],
      });
    }
    const w = callerWindows(now);
    const notices: string[] = [];
    const through = status.indexedBlockTimeMs;
    if (through !== null && now - through > 3_600_000) {
      notices.push(
        `The chain is counted up to block ${count(status.nextBlock - 1)} (${utc(through)})${backfillNote(status)}: later activity is not in these figures yet.`,
      );
    }
    if (coverage.fromBlock > 0) {
      notices.push(
        `Caller history starts at block ${count(coverage.fromBlock)} (${utc(coverage.fromBlockTimeMs)}): "new" means not seen since then.`,
      );
    }
    const d = await participants.developers(now);
    return reply({
      title: 'Who uses the OpenGradient network',
      lines: [BASE_NOTE],
      fields: [
        ...(await callerFields(participants, w, coverage)),
        ...(await operatorFields(participants, w, coverage, now)),
        {
          label: 'Workflow developers',
          value: `${count(d.registrants)} accounts ever registered a workflow task (TaskRegistered)`,
        },
        {
          label: 'Workflow tasks active now',
          value: `${count(d.activeTasks)} (registered or updated, not stopped, end time after now)`,
        },
        await demandField(core, index, status, coverage, now),
      ],
      notices,
      footer: [
        `OpenGradient chain · counted to block ${count(status.nextBlock - 1)}${through === null ? '' : ` (block time ${utc(through)})`} · as of ${utc(status.lastRunAtMs ?? now)}`,
        sourceFooter(core, [core.snapshot().market]),
      ]
        .filter((line) => line !== '')
        .join('\n'),
    });
  },
});
