import { defineCommand } from '../src/core/command.js';
import type { Core } from '../src/core/core.js';
import { age, count, countOf, duration, pct, shortAddresses, signedPct, tokens, utc } from '../src/core/format.js';
import { changePct } from '../src/core/metrics.js';
import {
  callerWindows,
  DAY_MS,
  type CallerFigures,
  type CallerWindows,
  type OperatorFigures,
  type ParticipantCoverage,
  type ParticipantReader,
} from '../src/core/participants.js';
import { reply } from '../src/core/reply.js';
import type { IndexerStatus, InferenceIndex, Services } from '../src/core/services.js';
import {
  NOT_INDEXED,
  backfillNote,
  chainFooter,
  countedBlock,
  countedTime,
  countedTo,
  countedToNow,
  indexedStatus,
} from './inference-text.js';
import { HOUR_MS, READING_WITHIN_MS, sourceFooter } from './shared.js';

/** The one thing a reader must know about callers before reading any figure of them. */
export const BASE_NOTE =
  'LLM requests paid in OPG on Base through the TEE gateway are not transactions on this chain: ' +
  'the people who send them are not visible as callers here (those inferences appear only as TEE settlements).';

const CALLERS = 'that sent inference transactions on the OpenGradient chain';

/** `Nov 24`, the UTC day of `ms`. */
function day(ms: number): string {
  return new Date(ms).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** `the 7 full UTC days to Nov 30`: the whole UTC days of a caller window, which ends at the start of today. */
function fullDays(startMs: number, endMs: number): string {
  return `the ${Math.round((endMs - startMs) / DAY_MS)} full UTC days to ${day(endMs - DAY_MS)}`;
}

/** What the stored history covers: where the participant history starts, and how far the indexer has counted. */
interface History {
  coverage: ParticipantCoverage;
  /** OG_CONTRACTS_FROM_BLOCK: a history from here on holds every registry and scheduler event. */
  contractsFromBlock: number;
  status: IndexerStatus;
  nowMs: number;
}

/**
 * `n/a: …` when the window from `windowStartMs` to `windowEndMs` (a day window's end, or `now` for a rolling
 * one) is not wholly in the history: it opens before the participant history starts, or the indexer has not
 * counted up to its end (activity it has not read yet must not read as none). Null when the window is covered.
 */
function uncovered(h: History, windowStartMs: number, windowEndMs: number | 'now'): string | null {
  if (h.coverage.fromBlockTimeMs > windowStartMs)
    return (
      `n/a: the caller history read starts ${utc(h.coverage.fromBlockTimeMs)} (block ` +
      `${count(h.coverage.fromBlock)}), after this window opens`
    );
  if (windowEndMs === 'now' ? !countedToNow(h.status, h.nowMs) : !countedTo(h.status, windowEndMs))
    return `n/a: the chain is counted only to ${countedBlock(h.status)}, before this window ends`;
  return null;
}

/**
 * `n/a: …` for a figure over every event up to now (registrations, what is enabled or active now) when the
 * history starts after the contracts existed (genesis unless OG_CONTRACTS_FROM_BLOCK says when they were
 * deployed), or does not reach now: events outside it would change the figure.
 */
function notWhole(h: History, events: string, unseen: string): string | null {
  if (h.coverage.fromBlock > h.contractsFromBlock)
    return (
      `n/a: ${events} are counted since block ${count(h.coverage.fromBlock)} ` +
      `(${utc(h.coverage.fromBlockTimeMs)}); ${unseen} before that are not seen`
    );
  if (!countedToNow(h.status, h.nowMs))
    return `n/a: the chain is counted only to ${countedBlock(h.status)}, not to now`;
  return null;
}

/**
 * `; enabled by registry: 0x4e72…0248 2, 0x703c…bda6 1` when TEEs of more than one registry were read (the
 * figure before it is over all of them), empty otherwise.
 */
function byRegistry(o: OperatorFigures): string {
  if (o.enabledByRegistry.length < 2) return '';
  const each = o.enabledByRegistry.map((r) => `${shortAddresses(r.registry)} ${count(r.enabled)}`).join(', ');
  const sum = o.enabledByRegistry.reduce((n, r) => n + r.enabled, 0);
  const twice = sum > o.enabled ? '; a TEE enabled on more than one registry counts once in the total' : '';
  return `; enabled by registry: ${each}${twice}`;
}

/**
 * `4 TEEs: LLM proxy 2, validator 2`, with the types the SDK does not define when there are some. A TEE
 * given different types on two registries counts under each type and once in the total, and the text says so.
 */
function byType(
  total: number,
  [llmProxy, validator, other]: readonly [number, number, number],
  otherName: string,
): string {
  const rest = other > 0 ? `, ${otherName} ${count(other)}` : '';
  const twice =
    llmProxy + validator + other > total ? ' (a TEE with another type on another registry counts under each)' : '';
  return `${countOf(total, 'TEE')}: LLM proxy ${count(llmProxy)}, validator ${count(validator)}${rest}${twice}`;
}

function share(part: number, whole: number): string {
  return whole > 0 ? pct((100 * part) / whole) : 'n/a';
}

/** Zero figures, for fields that show only why they are not shown (see `callerFields`). */
const NO_CALLERS: CallerFigures = {
  active7: 0,
  new7: 0,
  previous7: 0,
  retained7: 0,
  callers30: 0,
  inferences30: 0,
  repeatInferences30: 0,
  top10Inferences30: 0,
};

async function callerFields(reader: ParticipantReader, w: CallerWindows, h: History) {
  const week = uncovered(h, w.last7Ms, w.endMs);
  const before = uncovered(h, w.previous7Ms, w.endMs);
  const month = uncovered(h, w.last30Ms, w.endMs);
  // Not asked for when every field says why it is not shown (a backfill, the minutes after midnight): the store
  // would group a month of caller-days again after each range the indexer commits, for nothing.
  const c = week !== null && before !== null && month !== null ? NO_CALLERS : await reader.callers(w);
  const last7 = fullDays(w.last7Ms, w.endMs);
  const last30 = fullDays(w.last30Ms, w.endMs);
  const previousEnd = w.last7Ms - DAY_MS;
  return [
    {
      label: 'Callers, last 7 full UTC days',
      value:
        week ??
        `${countOf(c.active7, 'account')} ${CALLERS} in ${last7}: ${count(c.new7)} new (first seen in these 7 days), ` +
          `${count(c.active7 - c.new7)} returning`,
    },
    {
      label: 'Week-over-week retention',
      value: before ?? retentionText(c, `${day(w.previous7Ms)}–${day(previousEnd)}`, last7),
    },
    {
      label: 'Repeat callers, last 30 full UTC days',
      value: month ?? repeatText(c, last30),
    },
    busiestField(c, month, last30),
  ];
}

/** `50.00%: 1 of the 2 accounts active Nov 17–Nov 23 sent … again`; of one account, whether it did. */
function retentionText(c: CallerFigures, before: string, last7: string): string {
  const pctText = share(c.retained7, c.previous7);
  if (c.previous7 === 0) return `n/a: no account sent inference transactions ${before}`;
  if (c.previous7 === 1)
    return c.retained7 === 1
      ? `${pctText}: the only account active ${before} sent inference transactions again in ${last7}`
      : `${pctText}: the only account active ${before} sent no inference transactions in ${last7}`;
  return (
    `${pctText}: ${count(c.retained7)} of the ${countOf(c.previous7, 'account')} active ${before} sent ` +
    `inference transactions again in ${last7}`
  );
}

/** The share of the 30 days' inferences sent by accounts active on 2 or more days; of one, whether it was. */
function repeatText(c: CallerFigures, last30: string): string {
  const pctText = share(c.repeatInferences30, c.inferences30);
  const repeat = 'active on 2 or more distinct days';
  if (c.inferences30 === 0) return `n/a: no inference transactions in ${last30}`;
  if (c.inferences30 === 1) {
    const not = c.repeatInferences30 === 1 ? '' : 'not ';
    const one = `the only inference in inference transactions in ${last30}`;
    return `${pctText}: ${one} was ${not}sent by an account ${repeat}`;
  }
  return (
    `${pctText} of the ${countOf(c.inferences30, 'inference')} in inference transactions in ${last30} were sent ` +
    `by accounts ${repeat}`
  );
}

/**
 * The 10 busiest callers' share of the 30 days' inferences. With 10 callers or fewer that is every caller's,
 * and the label and the text say so rather than name 10 accounts that are not there.
 */
function busiestField(c: CallerFigures, month: string | null, last30: string) {
  const few = month === null && c.inferences30 > 0 && c.callers30 <= 10;
  const from = !few
    ? `the 10 busiest of ${countOf(c.callers30, 'account')}`
    : c.callers30 === 1
      ? 'the only account that sent any'
      : `all ${countOf(c.callers30, 'account')} that sent any`;
  const pctText = share(c.top10Inferences30, c.inferences30);
  return {
    label: few ? 'All callers, last 30 full UTC days' : '10 busiest callers, last 30 full UTC days',
    value:
      month ??
      (c.inferences30 === 0
        ? `n/a: no inference transactions in ${last30}`
        : c.inferences30 === 1
          ? `${pctText}: the only inference, from ${from}`
          : `${pctText} of those ${countOf(c.inferences30, 'inference')}, from ${from}`),
  };
}

/** `75.00% of the 4 individual settlements (3)`; of one settlement, or of one TEE, says so. */
function busiestTeeText(o: OperatorFigures, last7: string): string {
  const pctText = share(o.busiestSettlements7, o.settlements7);
  if (o.settlements7 === 0) return `n/a: no individual settlements in ${last7}`;
  if (o.settlements7 === 1) return `${pctText}: the only individual settlement`;
  const all = countOf(o.settlements7, 'individual settlement');
  return o.settling7 === 1
    ? `${pctText}: all ${all}, from the only TEE that settled any`
    : `${pctText} of the ${all} (${count(o.busiestSettlements7)})`;
}

/**
 * `since 2026-11-30 10:00 UTC`, or `from … to 2026-12-01 09:58 UTC (the last counted block)` when that block is
 * not from the minute of now: heartbeats after it are not read yet (the indexer trails the head by its
 * confirmations, and may be up to `CURRENT_WITHIN_MS` behind before the figure is withheld).
 */
function heartbeatSpan(sinceMs: number, h: History): string {
  const to = h.status.indexedBlockTimeMs;
  return to === null || utc(to) === utc(h.nowMs)
    ? `since ${utc(sinceMs)}`
    : `from ${utc(sinceMs)} to ${utc(to)} (the last counted block)`;
}

async function operatorFields(reader: ParticipantReader, w: CallerWindows, h: History) {
  const heartbeatSince = h.nowMs - DAY_MS;
  const o = await reader.operators(w, heartbeatSince);
  const week = uncovered(h, w.last7Ms, w.endMs);
  const last7 = fullDays(w.last7Ms, w.endMs);
  const registry = notWhole(h, 'TEE registry events', 'TEEs registered');
  const registered = [o.registeredLlmProxy, o.registeredValidator, o.registeredOtherType] as const;
  const enabled = [o.enabledLlmProxy, o.enabledValidator, o.enabledOtherType] as const;
  return [
    {
      label: 'TEEs registered now',
      value:
        registry ??
        `${byType(o.registered, registered, 'type not defined')} ` +
          '(TEE registry events; a TEE removed since is not counted)',
    },
    {
      label: 'TEEs enabled now',
      value:
        registry ??
        `${byType(o.enabled, enabled, 'type not seen or not defined')} (TEE registry events${byRegistry(o)})`,
    },
    {
      label: 'TEEs serving, last 7 full UTC days',
      value:
        week ??
        `${countOf(o.settling7, 'TEE')} settled at least one inference individually (IndividualSettlement, ${last7})`,
    },
    {
      label: 'Busiest TEE, last 7 full UTC days',
      value: week ?? busiestTeeText(o, last7),
    },
    {
      label: 'TEE heartbeats, last 24 hours',
      value:
        uncovered(h, heartbeatSince, 'now') ??
        `${countOf(o.heartbeats, 'TEE')} with a HeartbeatReceived event ${heartbeatSpan(heartbeatSince, h)}`,
    },
  ];
}

async function developerFields(reader: ParticipantReader, h: History) {
  const d = await reader.developers(h.nowMs);
  return [
    {
      label: 'Workflow developers',
      value:
        notWhole(h, 'task scheduler events', 'registrations') ??
        `${countOf(d.registrants, 'account')} ever registered a workflow task (TaskRegistered)`,
    },
    {
      label: 'Workflow tasks active now',
      value:
        notWhole(h, 'task scheduler events', 'tasks registered') ??
        `${count(d.activeTasks)} (registered or updated, not stopped, end time after now)`,
    },
  ];
}

/** The `stats` line: callers active in the last 7 days and week-over-week retention, or why not. */
export async function callersLine(services: Services, status: IndexerStatus | null, nowMs: number): Promise<string> {
  const coverage = await services.participants.coverage();
  if (!coverage || !status) return NOT_INDEXED;
  const h: History = { coverage, status, nowMs, contractsFromBlock: services.contractsFromBlock };
  const w = callerWindows(nowMs);
  const gap =
    coverage.fromBlockTimeMs > w.last7Ms
      ? 'n/a (caller history too short)'
      : !countedTo(status, w.endMs)
        ? `n/a (the indexer is behind: the chain is counted only to ${countedTime(status)})`
        : null;
  const retentionGap = uncovered(h, w.previous7Ms, w.endMs);
  // Not asked for when neither figure is shown (as in `callerFields`).
  const c = gap !== null && retentionGap !== null ? NO_CALLERS : await services.participants.callers(w);
  const active = gap ?? `${countOf(c.active7, 'account')} active in ${fullDays(w.last7Ms, w.endMs)}`;
  const retention = retentionGap !== null || c.previous7 === 0 ? 'n/a' : share(c.retained7, c.previous7);
  return (
    `${active} · week-over-week retention ${retention} ` +
    '(inference transactions on the OpenGradient chain; /opg network)'
  );
}

/**
 * The inference history read: `from genesis`, `10 days`, or while the indexer is behind
 * `from genesis to 2026-10-27 09:58 UTC, 35 days short of now`.
 */
function inferenceSpan(fromMs: number, status: IndexerStatus, nowMs: number): string {
  const genesis = fromMs === Number.NEGATIVE_INFINITY;
  if (countedToNow(status, nowMs)) return genesis ? 'from genesis' : duration(Math.max(0, nowMs - fromMs));
  const from = genesis ? 'from genesis' : `from ${utc(fromMs)}`;
  const to = status.indexedBlockTimeMs;
  return to === null
    ? `${from} to block ${count(status.nextBlock - 1)}, its time not known`
    : `${from} to ${utc(to)}, ${duration(Math.max(0, nowMs - to))} short of now`;
}

/**
 * Inferences in the 30 days to the last whole hour counted against the 30 days before, beside circulating
 * supply between a reading at most `READING_WITHIN_MS` before the first window's start and the current one (not
 * stale, and within `READING_WITHIN_MS` of its end). Both inference windows are exactly 30 days of hourly counts
 * the indexer has wholly counted; the value names both windows' end and both readings' times.
 */
async function demandField(core: Core, index: InferenceIndex, h: History): Promise<{ label: string; value: string }> {
  const { coverage, status, nowMs } = h;
  const label = 'Demand beside supply, 30 days';
  const window = 30 * DAY_MS;
  const current = countedToNow(status, nowMs);
  // Hourly counts are whole up to the hour that holds the last counted block (blocks come in time order).
  const endMs = Math.floor((current ? status.indexedBlockTimeMs! : nowMs) / HOUR_MS) * HOUR_MS;
  const recentStart = endMs - window;
  const priorStart = endMs - 2 * window;
  // The inference history starts at the indexer's first block: the chain's genesis, or the block the
  // participant history started from when both began together; otherwise its time is unknown here.
  const inferenceFromMs = status.fromBlock === 0 ? Number.NEGATIVE_INFINITY : coverage.fromBlockTimeMs;
  // The latest reading at or before the start of the 30 days; it stands for that point only when close to it.
  const then = await core.history.marketAgo(nowMs - recentStart);
  const supplyCovered = then !== null && then.fetchedAtMs >= recentStart - READING_WITHIN_MS;
  // An indexer still behind (a backfill, a stall) has not counted up to the last hour.
  const demandCovered = inferenceFromMs <= priorStart && current;
  if (!demandCovered || !supplyCovered) {
    const inferenceDays = inferenceSpan(inferenceFromMs, status, nowMs);
    let supplyNeed: string;
    if (then === null || supplyCovered) {
      const first = await core.history.firstMarket();
      const supplyDays = first ? duration(Math.max(0, nowMs - first.fetchedAtMs)) : 'none';
      supplyNeed = `circulating supply from 30 days ago (have ${supplyDays} of readings)`;
    } else {
      // Readings older than the start exist, but with a gap before it: a change from the one before would
      // span more than these 30 days.
      supplyNeed =
        `a circulating supply reading within ${duration(READING_WITHIN_MS)} before ${utc(recentStart)} (the start ` +
        `of the 30 days; the latest before it is from ${utc(then.fetchedAtMs)}, ` +
        `${duration(recentStart - then.fetchedAtMs)} earlier)`;
    }
    return {
      label,
      value:
        'not shown until history covers both windows: needs 60 days of inference history (have ' +
        `${inferenceDays}) and ${supplyNeed}`,
    };
  }
  const market = core.snapshot().market;
  if (market.data !== null && market.fetchedAtMs !== null) {
    // A stale reading (CoinGecko down, or not asked for a while) is not the supply at the end of the window.
    const reading = `${utc(market.fetchedAtMs)}, ${age(market.fetchedAtMs, nowMs)}`;
    if (core.isStale(market))
      return {
        label,
        value:
          `not shown: the latest CoinGecko reading is stale (${reading}), so circulating supply over these 30 ` +
          'days is not covered',
      };
    if (Math.abs(market.fetchedAtMs - endMs) > READING_WITHIN_MS)
      return {
        label,
        value:
          `not shown: the latest CoinGecko reading (${reading}) is more than ${duration(READING_WITHIN_MS)} from ` +
          `the end of the 30 days (${utc(endMs)}), so circulating supply over them is not covered`,
      };
  }
  const currentSupply = market.data?.circulatingSupply ?? null;
  const before = then.data.circulatingSupply;
  if (before === null || currentSupply === null) {
    const missing = [
      before === null ? `its reading of ${utc(then.fetchedAtMs)} (at the start of the 30 days)` : null,
      currentSupply === null
        ? market.fetchedAtMs === null
          ? 'any reading now'
          : `its latest reading (${utc(market.fetchedAtMs)})`
        : null,
    ].filter((part) => part !== null);
    return {
      label,
      value:
        `not shown: CoinGecko gave no circulating supply in ${missing.join(' or ')}, so its change over these ` +
        '30 days is not known',
    };
  }
  // Totals from each bound on: the hours from `endMs` on (counted in part, perhaps) are in none of the windows.
  const fromPrior = (await index.totals(priorStart)).total;
  const fromRecent = (await index.totals(recentStart)).total;
  const recent = fromRecent - (await index.totals(endMs)).total;
  const prior = fromPrior - fromRecent;
  const demand = prior > 0 ? (100 * (recent - prior)) / prior : null;
  const supply = changePct(before, currentSupply);
  const demandText = demand === null ? 'n/a (no inferences in the 30 days before)' : signedPct(demand);
  const parts =
    `inferences ${demandText} (${count(recent)} in the 30 days to ${utc(endMs)} against ${count(prior)} in the ` +
    `30 before, every kind counted from the chain) · circulating supply ${signedPct(supply)} (${tokens(before)} ` +
    `at ${utc(then.fetchedAtMs)} to ${tokens(currentSupply)} at ${utc(market.fetchedAtMs!)}, CoinGecko)`;
  let sentence = '';
  if (demand !== null && supply !== null) {
    const over = `over these 30 days (supply read within ${duration(READING_WITHIN_MS)} of their start and end)`;
    sentence =
      demand > supply
        ? ` Inference demand grew faster than circulating supply ${over}.`
        : demand < supply
          ? ` Inference demand grew more slowly than circulating supply ${over}.`
          : ` Inference demand and circulating supply grew at the same rate ${over}.`;
  }
  return { label, value: `${parts}.${sentence}` };
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
    const coverage = await participants.coverage();
    const now = core.clock.now();
    if (!status || !coverage) {
      return reply({
        title: 'Who uses the OpenGradient network',
        lines: [`Callers, operators and developers are ${NOT_INDEXED}.`, BASE_NOTE],
      });
    }
    const h: History = { coverage, status, nowMs: now, contractsFromBlock: services.contractsFromBlock };
    const w = callerWindows(now);
    const notices: string[] = [];
    if (!countedToNow(status, now)) {
      notices.push(
        `The indexer is behind${backfillNote(status)}: the chain is counted only to ${countedBlock(status)}; figures ` +
          'that run to now are not shown until it catches up.',
      );
    }
    if (coverage.fromBlock > 0) {
      notices.push(
        `Caller history starts at block ${count(coverage.fromBlock)} (${utc(coverage.fromBlockTimeMs)}): "new" means ` +
          'not seen since then.',
      );
    }
    return reply({
      title: 'Who uses the OpenGradient network',
      lines: [BASE_NOTE],
      fields: [
        ...(await callerFields(participants, w, h)),
        ...(await operatorFields(participants, w, h)),
        ...(await developerFields(participants, h)),
        await demandField(core, index, h),
      ],
      notices,
      footer: [chainFooter(status, now), sourceFooter(core, [core.snapshot().market])]
        .filter((line) => line !== '')
        .join('\n'),
    });
  },
});
