/**
 * The crossing rule, pure. A threshold is `above` or `below` the ratio; it fires `up` when the ratio reaches
 * it from below and `down` only when the ratio falls under it by the hysteresis band, so a ratio hovering
 * around a threshold fires once, not on every tick. The first observation only records the side.
 */

export type Side = 'above' | 'below';
export type Direction = 'up' | 'down';

/** One crossing of one threshold, as stored in the pending list and reported in a message. */
export interface Crossing {
  threshold: number;
  direction: Direction;
  atMs: number;
  /** The ratio that made it cross. */
  ratio: number;
}

export interface SideChange {
  side: Side;
  crossed: Direction | null;
}

/**
 * The next state of one threshold given a new ratio. `previous` null means not yet seen: the side is
 * recorded and nothing fires. `hysteresis` is a fraction (0.1 = re-arm 10% under the threshold).
 */
export function nextSide(previous: Side | null, threshold: number, ratio: number, hysteresis: number): SideChange {
  if (previous === null) return { side: ratio >= threshold ? 'above' : 'below', crossed: null };
  if (previous === 'below')
    return ratio >= threshold ? { side: 'above', crossed: 'up' } : { side: 'below', crossed: null };
  return ratio < rearmBelow(threshold, hysteresis)
    ? { side: 'below', crossed: 'down' }
    : { side: 'above', crossed: null };
}

/** The ratio under which a threshold that is above counts as crossed down. */
export function rearmBelow(threshold: number, hysteresis: number): number {
  return threshold * (1 - hysteresis);
}

/**
 * Whether a subscription may post now: never alerted, or its cooldown has passed. Evaluation applies this
 * rule in SQL for 100,000 chats at once (`cooldownOver` and `stageDue` in src/db/alert-evaluation.ts), with the same
 * integer arithmetic; keep the two in step.
 */
export function cooldownOver(lastAlertAtMs: number | null, cooldownMinutes: number, nowMs: number): boolean {
  return lastAlertAtMs === null || nowMs - lastAlertAtMs >= cooldownMinutes * 60_000;
}
