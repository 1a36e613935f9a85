/**
 * Which alert thresholds a budget crosses, as a pure function of the spend and what the status remembers:
 * each threshold once per period, one crossing per threshold even when one interval passes several (60 and
 * 80 at once give two), none again after a restart (the memory is the status in the API), and a new period
 * starts with none crossed.
 */
import type { Nanos } from '../cost/money.ts';

/** What the status remembers: the period it is about and the highest threshold announced in it. */
export interface ThresholdMemory {
  readonly periodStartMs: number;
  readonly last: number | undefined;
  /** When the spend reached the amount in that period (status.budget.exceededAt), if it has. */
  readonly exceededAtMs?: number | undefined;
  /** When the current spend anomaly started (status.budget.anomalySince), during one. */
  readonly anomalySinceMs?: number | undefined;
}

export interface ThresholdOutcome {
  /** Newly crossed, lowest first: one Event each. */
  readonly crossed: readonly number[];
  /** The highest threshold reached now, to remember; undefined when none is. */
  readonly last: number | undefined;
}

/** The thresholds (percent of the amount) that `spent` reaches, lowest first, without repeats. */
export function reachedThresholds(alertAt: readonly number[], amount: Nanos, spent: Nanos): number[] {
  const unique = [...new Set(alertAt)].sort((a, b) => a - b);
  return unique.filter((t) => spent * 100n >= amount * BigInt(t));
}

/**
 * The thresholds crossed since the remembered one. A remembered threshold counts only in its own period, and
 * only up to what the spend reaches now: when an edit of the amount or of the scope brings the spend back
 * under a threshold already announced, that threshold is announced again when the spend reaches it again.
 */
export function crossThresholds(
  alertAt: readonly number[],
  amount: Nanos,
  spent: Nanos,
  periodStartMs: number,
  previous: ThresholdMemory | undefined,
): ThresholdOutcome {
  const reached = reachedThresholds(alertAt, amount, spent);
  const highest = reached.at(-1);
  const remembered = previous?.periodStartMs === periodStartMs ? previous.last : undefined;
  const floor = remembered === undefined || highest === undefined ? undefined : Math.min(remembered, highest);
  return { crossed: reached.filter((t) => floor === undefined || t > floor), last: highest };
}
