/**
 * What a new-listing alert says. A plain `Reply`, rendered by each platform's sink like any alert; absolute
 * times only, since it may be delivered after a cooldown.
 */
import { pct, shortAddresses, usd, utc } from './format.js';
import type { MarketStructure, VenueShare } from './market-structure.js';
import { reply, type Reply, type ReplyField } from './reply.js';

/**
 * `Uniswap V3 (Base): OPG/USDC, 24h volume $1.20M (2.14% of all), ±2% depth $34.0K`. A pair still named by
 * contract address reads `OPG/0x8335…2913`.
 */
export function venueLine(v: VenueShare): string {
  const pairs =
    v.pairs.slice(0, 3).map(shortAddresses).join(', ') + (v.pairs.length > 3 ? ` and ${v.pairs.length - 3} more` : '');
  const volume =
    v.volumeUsd === null
      ? '24h volume not reported'
      : `24h volume ${usd(v.volumeUsd)}${v.sharePct !== null ? ` (${pct(v.sharePct)} of all)` : ''}`;
  const depth = v.depthUsd === null ? '±2% depth not reported by CoinGecko' : `±2% depth ${usd(v.depthUsd)}`;
  return `${v.venueName}: ${pairs}, ${volume}, ${depth}`;
}

export function listingReply(
  listed: readonly VenueShare[],
  structure: MarketStructure,
  source: string,
  fetchedAtMs: number,
): Reply {
  const title =
    listed.length === 1 ? `OPG now trades on ${listed[0]!.venueName}` : `OPG now trades on ${listed.length} new venues`;
  return reply({
    title,
    lines: listed.map(venueLine),
    fields: [
      {
        label: 'All venues now',
        value:
          `${structure.venues} venue${structure.venues === 1 ? '' : 's'}, ${structure.markets} ` +
          `market${structure.markets === 1 ? '' : 's'}`,
      },
    ],
    footer: `${source} · as of ${utc(fetchedAtMs)} · depth is up + down`,
  });
}

/**
 * The digest's note of venues CoinGecko stopped listing since the chat's last digest (no ticker at all, not even
 * an anomalous or stale one); nothing when none.
 */
export function goneVenuesFields(gone: ReadonlyArray<{ venueName: string; atMs: number }>): ReplyField[] {
  if (gone.length === 0) return [];
  return [
    {
      label: 'Venues no longer listed',
      value: gone.map((g) => `${g.venueName} (absent from CoinGecko's tickers since ${utc(g.atMs)})`).join('\n'),
    },
  ];
}
