/**
 * `markets`: where the volume trades, from CoinGecko's tickers as last read on their own schedule (never a
 * call per command). Every figure says what it is computed over; anything CoinGecko did not give is
 * reported as missing, never filled in.
 */
import { defineCommand } from '../src/core/command.js';
import { asOfText, age, count, pct, ratio, usd, utc } from '../src/core/format.js';
import { venuesWithVolume, type MarketStructure } from '../src/core/market-structure.js';
import type { GoneVenue, MarketsService } from '../src/core/markets.js';
import { reply, type ReplyField } from '../src/core/reply.js';

/** `4.3 equal venues` for a Herfindahl of 2,325: what the concentration amounts to. */
function herfindahlText(h: number | null): string {
  if (h === null || h <= 0) return 'n/a';
  return `${count(h)} of 10,000 (as concentrated as ${(10_000 / h).toFixed(1)} equal venues)`;
}

/** `1 market`, `96 markets`. */
function n(value: number, word: string): string {
  return `${count(value)} ${word}${value === 1 ? '' : 's'}`;
}

export function marketsFields(s: MarketStructure): ReplyField[] {
  const top = venuesWithVolume(s).slice(0, 5);
  const trust = s.trustSharePct;
  const fields: ReplyField[] = [
    { label: 'Markets', value: `${n(s.markets, 'market')} on ${n(s.venues, 'venue')}`, inline: true },
    { label: '24h volume counted', value: usd(s.volumeUsd), inline: true },
    {
      label: 'Busiest venues (share of 24h volume)',
      value:
        top.length === 0
          ? 'none with a volume figure'
          : top.map((v, i) => `${i + 1}. ${v.venueName}: ${usd(v.volumeUsd)} (${pct(v.sharePct)})`).join('\n'),
    },
    {
      label: 'Concentration',
      value:
        top.length === 0
          ? 'n/a (no venue with a volume figure)'
          : `busiest venue ${pct(top[0]!.sharePct)} · Herfindahl ${herfindahlText(s.herfindahl)}`,
    },
    {
      label: 'Volume by CoinGecko trust score',
      value: trust
        ? `green ${pct(trust.green)} · yellow ${pct(trust.yellow)} · ` +
          `red ${pct(trust.red)} · unrated ${pct(trust.unrated)}`
        : 'n/a (no volume)',
    },
    {
      label: '±2% depth',
      value:
        s.depth.markets === 0
          ? 'CoinGecko reports no depth for any market'
          : `${usd(s.depth.totalUsd)} summed over ${n(s.depth.markets, 'market')} ` +
            `(up ${usd(s.depth.upUsd)} + down ${usd(s.depth.downUsd)})`,
    },
    {
      label: 'Turnover against depth',
      value:
        s.turnover === null
          ? s.depth.markets === 0
            ? 'n/a (no depth)'
            : 'n/a (no market with depth has a volume figure)'
          : `${ratio(s.turnover)}: 24h volume of the markets with depth (${usd(s.depth.volumeUsd)}) ÷ their ±2% ` +
            `depth (up + down)${
              s.depth.marketsWithoutVolume > 0
                ? `; ${n(s.depth.marketsWithoutVolume, 'market')} with depth but no volume figure left out of both`
                : ''
            }`,
    },
    {
      label: 'No depth figure',
      value:
        s.marketsWithoutDepth === 0
          ? 'none: every market reports depth'
          : `${usd(s.volumeWithoutDepthUsd)} of 24h volume ` +
            `(${pct(s.volumeUsd > 0 ? (s.volumeWithoutDepthUsd / s.volumeUsd) * 100 : null)}) on ` +
            `${n(s.marketsWithoutDepth, 'market')}, left out of depth and turnover`,
    },
    {
      label: 'Bid–ask spread',
      value:
        s.spreadMedianPct === null
          ? 'n/a (no market reports one)'
          : `${pct(s.spreadMedianPct)} median weighted by volume ` +
            `(over ${usd(s.spreadVolumeUsd)} of volume with a spread)`,
    },
    {
      label: 'Left out',
      value:
        s.excluded.tickers === 0
          ? 'nothing: no ticker marked anomalous or stale'
          : `${n(s.excluded.tickers, 'ticker')} CoinGecko marks anomalous (${count(s.excluded.anomalous)}) or stale ` +
            `(${count(s.excluded.stale)}), ${usd(s.excluded.volumeUsd)} of 24h volume`,
    },
  ];
  if (s.marketsWithoutVolume > 0)
    fields.push({
      label: 'No volume figure',
      value: `${n(s.marketsWithoutVolume, 'market')}, counted as markets only`,
    });
  return fields;
}

/** Notices for a markets reading that is missing or stale, in the words of `readingNotices`. */
export function marketsNotices(markets: MarketsService, nowMs: number): string[] {
  const r = markets.current();
  if (r.data === null || r.fetchedAtMs === null) {
    return [
      `Venue data unavailable: ${r.source} has not been read yet${r.error ? ` (${r.error})` : ''}; it is read on a ` +
        'schedule (hourly unless the operator chose otherwise).',
    ];
  }
  if (!markets.isStale(r)) return [];
  const failed =
    r.error && r.failedAtMs !== null ? ` Last reading failed ${age(r.failedAtMs, nowMs)} (${r.error}).` : '';
  return [`Stale: venue data last read ${age(r.fetchedAtMs, nowMs)}.${failed}`];
}

/** How far back `markets` names venues no longer listed. */
const GONE_WINDOW_MS = 7 * 86_400_000;

/** The venues that left in the last 7 days and are still away, with when a reading last had them. */
export function goneField(gone: readonly GoneVenue[], nowMs: number): ReplyField {
  return {
    label: 'No longer listed (7 days)',
    value:
      gone.length === 0
        ? 'none in the last 7 days'
        : gone
            .map((g) =>
              g.lastSeenAtMs === null
                ? `${g.venueName}: absent since ${utc(g.atMs)}`
                : `${g.venueName}: last seen ${asOfText(g.lastSeenAtMs, nowMs)}`,
            )
            .join('\n'),
  };
}

export default defineCommand({
  name: 'markets',
  description: 'Where the volume trades: venues, concentration, trust, ±2% depth, turnover and spread',
  options: {},
  access: 'everyone',
  async run(_args, { core, services }) {
    const markets = services.markets;
    const now = core.clock.now();
    const r = markets.current();
    const notices = marketsNotices(markets, now);
    if (r.data === null || r.fetchedAtMs === null) return reply({ title: 'OPG markets', notices });
    if (r.data.truncated)
      notices.push(`CoinGecko lists more markets than the ${r.data.pages} pages read: figures cover the busiest ones.`);
    return reply({
      title: 'OPG markets',
      fields: [...marketsFields(r.data.structure), goneField(await markets.goneSince(now - GONE_WINDOW_MS), now)],
      notices,
      footer: `${r.source} · as of ${asOfText(r.fetchedAtMs, now)}`,
    });
  },
});
