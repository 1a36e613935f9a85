/**
 * Ledger windows in time, and the split of an amount accrued over a span among the windows it crosses.
 *
 * An accounting cycle covers [from, to) in whole seconds and rarely ends on a window boundary, so what it
 * accrued is split pro rata by seconds: the cumulative value at each boundary inside the span is
 * from-value + floor(amount × seconds-before-the-boundary / span-seconds), and each window takes the
 * difference of its two ends. The floors make every earlier window's share round down, so the remainder goes to
 * the later window, and the shares always add up to the amount exactly.
 */

/** The start of the window holding `seconds` (epoch seconds): windows are aligned to the epoch (UTC midnight). */
export function windowStartOf(seconds: number, windowSeconds: number): number {
  return Math.floor(seconds / windowSeconds) * windowSeconds;
}

/** The window boundaries strictly inside (fromSeconds, toSeconds), ascending. */
export function boundariesInside(fromSeconds: number, toSeconds: number, windowSeconds: number): number[] {
  const out: number[] = [];
  for (let b = windowStartOf(fromSeconds, windowSeconds) + windowSeconds; b < toSeconds; b += windowSeconds)
    out.push(b);
  return out;
}

/** floor(a / b) for b > 0 (bigint division truncates toward zero, which is not a floor for negative a). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * The part of `amount`, accrued evenly over [fromSeconds, toSeconds), that lies before `atSeconds`:
 * floor(amount × (at − from) / (to − from)), clamped to the span (0 before it, the amount after it).
 */
export function accruedBefore(amount: bigint, fromSeconds: number, toSeconds: number, atSeconds: number): bigint {
  if (atSeconds <= fromSeconds) return 0n;
  if (atSeconds >= toSeconds) return amount;
  return floorDiv(amount * BigInt(atSeconds - fromSeconds), BigInt(toSeconds - fromSeconds));
}

/** One window's share of a split amount. */
export interface WindowShare {
  readonly windowStartSeconds: number;
  readonly amount: bigint;
}

/**
 * `amount`, accrued evenly over [fromSeconds, toSeconds), split among the windows the span crosses, oldest
 * first; the shares add up to `amount` exactly, each earlier share rounded down (the remainder to the later
 * window). An empty span puts the whole amount in the window holding `fromSeconds`.
 */
export function splitProRata(
  amount: bigint,
  fromSeconds: number,
  toSeconds: number,
  windowSeconds: number,
): WindowShare[] {
  const shares: WindowShare[] = [];
  let before = 0n;
  let start = windowStartOf(fromSeconds, windowSeconds);
  for (const boundary of boundariesInside(fromSeconds, toSeconds, windowSeconds)) {
    const upTo = accruedBefore(amount, fromSeconds, toSeconds, boundary);
    shares.push({ windowStartSeconds: start, amount: upTo - before });
    before = upTo;
    start = boundary;
  }
  shares.push({ windowStartSeconds: start, amount: amount - before });
  return shares;
}
