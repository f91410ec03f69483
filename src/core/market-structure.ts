/**
 * Where the volume trades, computed from CoinGecko's tickers, pure. Tickers CoinGecko marks anomalous or
 * stale are left out of every figure and counted apart. A figure CoinGecko did not give is never filled in:
 * a market with no volume figure counts as a market but adds nothing to volume; a market without both sides
 * of its ±2% depth above zero (CoinGecko sends 0 where it has no order book, as for most DEX pools) counts
 * in volume but not in depth, and the volume with no depth figure is reported. A spread of 0 or less is no
 * spread figure either.
 */

export type TrustScore = 'green' | 'yellow' | 'red';

/** One validated ticker: one market (a pair on a venue). Money in USD; null where CoinGecko gave nothing. */
export interface Ticker {
  /** CoinGecko's `market.identifier`, stable across readings: `binance`, `uniswap-v3-base`. */
  venueId: string;
  venueName: string;
  base: string;
  target: string;
  /** `converted_volume.usd`: the last 24 hours. */
  volumeUsd: number | null;
  trust: TrustScore | null;
  spreadPct: number | null;
  /** `cost_to_move_up_usd` / `cost_to_move_down_usd`: money to move the price 2% up / down on this market. */
  depthUpUsd: number | null;
  depthDownUsd: number | null;
  anomaly: boolean;
  stale: boolean;
  lastTradedAtMs: number | null;
}

export interface VenueShare {
  venueId: string;
  venueName: string;
  /** Markets (pairs) counted on this venue. */
  markets: number;
  /** Summed 24h volume of its markets that have a volume figure; null when none has. */
  volumeUsd: number | null;
  /** Share of the counted 24h volume, in percent; null when the venue or the total has no volume. */
  sharePct: number | null;
  /** Summed ±2% depth (up + down) of its markets that report both sides above 0; null when none does. */
  depthUsd: number | null;
  /** The venue's pairs, `OPG/USDT`, busiest first. */
  pairs: string[];
}

export interface MarketStructure {
  /** Tickers counted (neither anomalous nor stale). */
  markets: number;
  venues: number;
  /** Summed 24h volume of the counted markets that have a volume figure. */
  volumeUsd: number;
  marketsWithoutVolume: number;
  /** Every counted venue, busiest first. */
  venueShares: VenueShare[];
  /** The busiest venue's share; null when no venue has volume above 0. */
  busiestSharePct: number | null;
  /** Herfindahl–Hirschman index over venues: the sum of squared percentage shares, 0 to 10,000. */
  herfindahl: number | null;
  /** Share of the counted volume on markets of each CoinGecko trust score, in percent. */
  trustSharePct: Record<TrustScore | 'unrated', number> | null;
  depth: {
    upUsd: number;
    downUsd: number;
    /** up + down, summed over the markets that report both above 0. */
    totalUsd: number;
    markets: number;
    /** 24h volume of those markets (the ones with a volume figure): the numerator of `turnover`. */
    volumeUsd: number;
    /** up + down over the markets with depth that also have a volume figure: the denominator of `turnover`. */
    turnoverDepthUsd: number;
    /** Markets with depth but no volume figure: in `totalUsd`, left out of `turnover`. */
    marketsWithoutVolume: number;
  };
  /** Counted markets with no depth figure: none, one-sided, or a side of 0. */
  marketsWithoutDepth: number;
  /** 24h volume on counted markets with no depth figure. */
  volumeWithoutDepthUsd: number;
  /**
   * 24h volume over ±2% depth, both over the same markets: those with depth and a volume figure; null when
   * there are none.
   */
  turnover: number | null;
  /** Volume-weighted median bid–ask spread (percent), over markets with a spread and a volume above 0. */
  spreadMedianPct: number | null;
  /** The volume those spreads cover. */
  spreadVolumeUsd: number;
  excluded: { tickers: number; anomalous: number; stale: number; volumeUsd: number };
  /**
   * Every venue with any ticker in the reading, counted or not (anomalous or stale too), in CoinGecko's order:
   * the venues the history marks seen. A venue whose only ticker turns stale is still listed on it.
   */
  presentVenues: Array<{ venueId: string; venueName: string }>;
}

/**
 * The weighted median: the smallest value at which the running weight reaches half the total, or, when the
 * running weight is exactly half the total there (up to rounding of the sums), the mean of that value and
 * the next one, as the ordinary median averages the two middle values of an even count.
 * Entries with no weight are ignored; null when nothing weighs.
 */
export function weightedMedian(entries: ReadonlyArray<{ value: number; weight: number }>): number | null {
  const kept = entries
    .filter((e) => Number.isFinite(e.value) && Number.isFinite(e.weight) && e.weight > 0)
    .sort((a, b) => a.value - b.value);
  const total = kept.reduce((s, e) => s + e.weight, 0);
  if (total <= 0) return null;
  const half = total / 2;
  let running = 0;
  for (let i = 0; i < kept.length; i++) {
    running += kept[i]!.weight;
    const next = kept[i + 1];
    if (next && Math.abs(running - half) <= total * 1e-12) return (kept[i]!.value + next.value) / 2;
    if (running >= half) return kept[i]!.value;
  }
  return kept[kept.length - 1]!.value;
}

/** Both sides of the ±2% depth above 0: a 0 is CoinGecko having no order book to measure, not a free market. */
const hasDepth = (t: Ticker): boolean => (t.depthUpUsd ?? 0) > 0 && (t.depthDownUsd ?? 0) > 0;

/**
 * The venues with 24h volume above 0, busiest first: the only ones a "busiest venues" list may name (with
 * no volume anywhere, the first venue would be the alphabetical first, not the busiest).
 */
export function venuesWithVolume(s: Pick<MarketStructure, 'venueShares'>): VenueShare[] {
  return s.venueShares.filter((v) => v.volumeUsd !== null && v.volumeUsd > 0);
}

export function summarizeMarkets(tickers: readonly Ticker[]): MarketStructure {
  const counted = tickers.filter((t) => !t.anomaly && !t.stale);
  const left = tickers.filter((t) => t.anomaly || t.stale);
  const volumeUsd = counted.reduce((s, t) => s + (t.volumeUsd ?? 0), 0);

  const byVenue = new Map<string, { venueName: string; markets: Ticker[] }>();
  for (const t of counted) {
    const v = byVenue.get(t.venueId) ?? { venueName: t.venueName, markets: [] };
    v.markets.push(t);
    byVenue.set(t.venueId, v);
  }
  const venueShares: VenueShare[] = [...byVenue.entries()].map(([venueId, v]) => {
    const withVolume = v.markets.filter((t) => t.volumeUsd !== null);
    const withDepth = v.markets.filter(hasDepth);
    const venueVolume = withVolume.length > 0 ? withVolume.reduce((s, t) => s + t.volumeUsd!, 0) : null;
    const pairs = [...v.markets]
      .sort((a, b) => (b.volumeUsd ?? -1) - (a.volumeUsd ?? -1))
      .map((t) => `${t.base}/${t.target}`);
    return {
      venueId,
      venueName: v.venueName,
      markets: v.markets.length,
      volumeUsd: venueVolume,
      sharePct: venueVolume !== null && volumeUsd > 0 ? (venueVolume / volumeUsd) * 100 : null,
      depthUsd: withDepth.length > 0 ? withDepth.reduce((s, t) => s + t.depthUpUsd! + t.depthDownUsd!, 0) : null,
      pairs: [...new Set(pairs)],
    };
  });
  venueShares.sort((a, b) => (b.volumeUsd ?? -1) - (a.volumeUsd ?? -1) || a.venueName.localeCompare(b.venueName));

  const shares = venueShares.map((v) => v.sharePct ?? 0);
  const herfindahl = volumeUsd > 0 ? shares.reduce((s, p) => s + p * p, 0) : null;

  let trustSharePct: MarketStructure['trustSharePct'] = null;
  if (volumeUsd > 0) {
    const byTrust = { green: 0, yellow: 0, red: 0, unrated: 0 };
    for (const t of counted) byTrust[t.trust ?? 'unrated'] += t.volumeUsd ?? 0;
    trustSharePct = {
      green: (byTrust.green / volumeUsd) * 100,
      yellow: (byTrust.yellow / volumeUsd) * 100,
      red: (byTrust.red / volumeUsd) * 100,
      unrated: (byTrust.unrated / volumeUsd) * 100,
    };
  }

  const deep = counted.filter(hasDepth);
  const traded = deep.filter((t) => t.volumeUsd !== null);
  const depth = {
    upUsd: deep.reduce((s, t) => s + t.depthUpUsd!, 0),
    downUsd: deep.reduce((s, t) => s + t.depthDownUsd!, 0),
    totalUsd: 0,
    markets: deep.length,
    volumeUsd: traded.reduce((s, t) => s + t.volumeUsd!, 0),
    turnoverDepthUsd: traded.reduce((s, t) => s + t.depthUpUsd! + t.depthDownUsd!, 0),
    marketsWithoutVolume: deep.length - traded.length,
  };
  depth.totalUsd = depth.upUsd + depth.downUsd;
  const shallow = counted.filter((t) => !hasDepth(t));

  const present = new Map<string, { venueId: string; venueName: string }>();
  for (const t of tickers)
    if (!present.has(t.venueId)) present.set(t.venueId, { venueId: t.venueId, venueName: t.venueName });
  const presentVenues = [...present.values()];

  // A spread of 0 or less is not a market's price: no spread figure.
  const spreads = counted.filter(
    (t) => t.spreadPct !== null && t.spreadPct > 0 && t.volumeUsd !== null && t.volumeUsd > 0,
  );

  return {
    markets: counted.length,
    venues: byVenue.size,
    volumeUsd,
    marketsWithoutVolume: counted.filter((t) => t.volumeUsd === null).length,
    venueShares,
    busiestSharePct: venueShares[0]?.sharePct ?? null,
    herfindahl,
    trustSharePct,
    depth,
    marketsWithoutDepth: shallow.length,
    volumeWithoutDepthUsd: shallow.reduce((s, t) => s + (t.volumeUsd ?? 0), 0),
    turnover: depth.turnoverDepthUsd > 0 ? depth.volumeUsd / depth.turnoverDepthUsd : null,
    spreadMedianPct: weightedMedian(spreads.map((t) => ({ value: t.spreadPct!, weight: t.volumeUsd! }))),
    spreadVolumeUsd: spreads.reduce((s, t) => s + t.volumeUsd!, 0),
    excluded: {
      tickers: left.length,
      anomalous: left.filter((t) => t.anomaly).length,
      stale: left.filter((t) => t.stale).length,
      volumeUsd: left.reduce((s, t) => s + (t.volumeUsd ?? 0), 0),
    },
    presentVenues,
  };
}
