/**
 * Spend anomalies of a budget's scope, as a pure function of its hourly spend (hourly.ts) and an instant, in
 * exact integers. The last hour's spend (the hour up to the instant, not the clock hour) is compared with a
 * baseline:
 *
 * - the same hour of the week: the mean spend of the same 60 minutes one to four weeks earlier, over as many
 *   weeks as the scope has history (spend at or before the start of that week's hour);
 * - else the trailing median: the median of the scope's hourly spend over the up to 24 hours before the last
 *   one, from its first hour with spend (a new team with a day of data compares with its own day);
 * - else (no spend before the last hour) there is no baseline and no anomaly: a first run is not a spike.
 *
 * The hour is anomalous when it spent more than `factor` times the larger of the baseline and
 * `minimumPerHour` (a floor, so a scope that spends cents is not flagged for a dollar), unless the instant
 * lies in a run the policy declared as planned.
 */
import { divRoundHalfUp, NANOS_PER_UNIT, type Nanos } from '../cost/money.ts';
import { firstSpendHour, HOUR_MS, spendBetween, WEEK_MS } from './hourly.ts';

export type BaselineMethod = 'same-hour-of-week' | 'trailing-median' | 'none';

export interface AnomalyInput {
  /** The spend is known up to here. */
  readonly nowMs: number;
  /** The scope's spend by UTC hour, at least four weeks back. */
  readonly series: ReadonlyMap<number, Nanos>;
  /** The factor as a decimal in nanos (2 = 2_000_000_000n). */
  readonly factor: Nanos;
  readonly minimumPerHour: Nanos;
  /** Declared planned runs, [startMs, endMs). */
  readonly planned: readonly { readonly startMs: number; readonly endMs: number }[];
}

export interface AnomalyReading {
  readonly lastHour: Nanos;
  /** Undefined with method 'none'. */
  readonly baseline: Nanos | undefined;
  readonly method: BaselineMethod;
  /** Weeks behind a same-hour-of-week baseline (0 otherwise). */
  readonly weeks: number;
  readonly planned: boolean;
  readonly anomalous: boolean;
  /** lastHour over baseline for the gauge, to a millionth; +Inf over a zero baseline, 0 without one. */
  readonly ratio: number;
}

const MAX_WEEKS = 4;
const TRAILING_HOURS = 24;

export function readAnomaly(input: AnomalyInput): AnomalyReading {
  const { nowMs, series } = input;
  const lastHour = spendBetween(series, nowMs - HOUR_MS, nowMs, nowMs);
  const { baseline, method, weeks } = baselineOf(series, nowMs);
  const planned = input.planned.some((p) => p.startMs <= nowMs && nowMs < p.endMs);
  const floor = baseline === undefined || baseline < input.minimumPerHour ? input.minimumPerHour : baseline;
  const anomalous =
    baseline !== undefined && !planned && lastHour > 0n && lastHour * NANOS_PER_UNIT > input.factor * floor;
  return { lastHour, baseline, method, weeks, planned, anomalous, ratio: ratioOf(lastHour, baseline) };
}

function baselineOf(
  series: ReadonlyMap<number, Nanos>,
  nowMs: number,
): { baseline: Nanos | undefined; method: BaselineMethod; weeks: number } {
  const first = firstSpendHour(series, Number.NEGATIVE_INFINITY);
  const lastHourStart = nowMs - HOUR_MS;
  if (first === undefined || first >= lastHourStart) return { baseline: undefined, method: 'none', weeks: 0 };
  let weeks = 0;
  let sum = 0n;
  for (let k = 1; k <= MAX_WEEKS && first <= lastHourStart - k * WEEK_MS; k++) {
    sum += spendBetween(series, lastHourStart - k * WEEK_MS, nowMs - k * WEEK_MS, nowMs);
    weeks = k;
  }
  if (weeks > 0) return { baseline: divRoundHalfUp(sum, BigInt(weeks)), method: 'same-hour-of-week', weeks };
  const hours: Nanos[] = [];
  for (let i = 1; i <= TRAILING_HOURS; i++) {
    const from = lastHourStart - i * HOUR_MS;
    if (from + HOUR_MS <= first) break;
    hours.push(spendBetween(series, from, from + HOUR_MS, nowMs));
  }
  return { baseline: median(hours), method: 'trailing-median', weeks: 0 };
}

/** The median, the mean of the two middle values (rounded half up) for an even count. */
export function median(values: readonly Nanos[]): Nanos {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0n;
  if (sorted.length % 2 === 1) return sorted[mid] ?? 0n;
  return divRoundHalfUp((sorted[mid - 1] ?? 0n) + (sorted[mid] ?? 0n), 2n);
}

function ratioOf(lastHour: Nanos, baseline: Nanos | undefined): number {
  if (baseline === undefined) return 0;
  if (baseline === 0n) return lastHour > 0n ? Number.POSITIVE_INFINITY : 0;
  return Number((lastHour * 1_000_000n) / baseline) / 1_000_000;
}
