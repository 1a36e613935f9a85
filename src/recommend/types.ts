/**
 * What every recommendation rule returns (issue #17). A recommendation is advice: nothing here changes anything;
 * `aicost recommend` prints them. Money is exact (integer nano-units), the month is 730 hours (8,760 / 12), as
 * the policies' savings are shown (docs/unit-economics.md#recommendations).
 */
import type { Nanos } from '../cost/money.ts';

export type RecommendationType = 'right-size' | 'fewer-gpus' | 'empty-node' | 'commitment';

/**
 * How far the figures can be trusted, from how much data they stand on; each rule documents its own grounds.
 * There is no "low": a rule that has too little data makes no recommendation at all.
 */
export type Confidence = 'high' | 'medium';

export interface Recommendation {
  readonly type: RecommendationType;
  /** What it is about: `namespace/Kind/name`, `Node/name`, or `family/region` for a commitment. */
  readonly target: string;
  readonly clusterId: string;
  readonly monthlySaving: Nanos;
  readonly currency: string;
  readonly confidence: Confidence;
  /** One sentence a person can act on. */
  readonly reason: string;
  /** The figures behind it, for `--format json`: plain strings and numbers (money as decimal strings). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export const HOURS_PER_MONTH = 730n;
export const HOUR_MS = 3_600_000;

/** A per-hour amount over a 730-hour month. */
export function perMonth(nanosPerHour: Nanos): Nanos {
  return nanosPerHour * HOURS_PER_MONTH;
}
