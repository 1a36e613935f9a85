/**
 * Commitments (issue #17): from the ledger's history, the steady baseline of GPUs an instance family runs on
 * demand, and what a reservation or savings plan at the configured discount would save on it.
 *
 * Per family and region, over the look-back (30 days by default), each finished window's concurrent GPUs on
 * on-demand nodes are the GPU-hours of its rows (workloads and the nodes' unrequested capacity, Node rows: a
 * reservation pays for the instance whoever uses it) over the window's hours; a window without rows counts 0.
 * The baseline is a low percentile of those (the 10th by default: the family ran at least that many GPUs 90 %
 * of the time), in whole GPUs, rounded down. Its price is the family's on-demand cost per GPU-hour in the
 * ledger (on-demand equivalent over GPU-hours). A commitment at discount d costs (1 − d) of on-demand every
 * hour, used or not, so it breaks even when the committed GPUs are busy (1 − d) of the time.
 */
import { divRoundHalfUp, formatMoney, parseMoney, percentOf, type Nanos } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { instanceFamilyOf } from '../pricing/capacity-type.ts';
import { HOUR_MS, perMonth, type Recommendation } from './types.ts';

export interface CommitmentSettings {
  readonly lookbackMs: number;
  /** Whole percent, 1..50: the percentile of concurrent GPUs taken as the baseline. */
  readonly percentile: number;
  /** Decimal percent off on-demand, e.g. "30". */
  readonly discountPercent: string;
}

/** 30 days, the 10th percentile, 30 % off (a one-year no-upfront plan's order of magnitude; set yours). */
export const DEFAULT_COMMITMENT: CommitmentSettings = Object.freeze({
  lookbackMs: 30 * 24 * HOUR_MS,
  percentile: 10,
  discountPercent: '30',
});

const NANO = 1_000_000_000n;

interface FamilySums {
  readonly clusterId: string;
  readonly family: string;
  readonly region: string;
  readonly currency: string;
  /** GPU-hours (nano) per window start. */
  readonly gpuHoursByWindow: Map<number, bigint>;
  gpuHours: bigint;
  onDemand: Nanos;
}

/**
 * `rows`: the rows of the finished windows in [nowMs − lookback, nowMs); `windowMs`: the ledger's window length;
 * `firstWindowMs`: per cluster, the start of its first window in the ledger (less history than the look-back
 * gives no recommendation).
 */
export function commitments(
  rows: readonly LedgerRow[],
  nowMs: number,
  windowMs: number,
  firstWindowMs: ReadonlyMap<string, number>,
  s: CommitmentSettings = DEFAULT_COMMITMENT,
): Recommendation[] {
  const fromMs = Math.ceil((nowMs - s.lookbackMs) / windowMs) * windowMs;
  const windows = Math.floor((nowMs - fromMs) / windowMs);
  const families = new Map<string, FamilySums>();
  for (const row of rows) {
    if (row.capacityType !== 'on-demand' || row.gpuHours === 0n || row.instanceType === '') continue;
    if (row.windowStartMs < fromMs || row.windowEndMs > nowMs) continue;
    const family = instanceFamilyOf(row.instanceType);
    const key = [row.clusterId, family, row.region, row.currency].join('\u0000');
    let sums = families.get(key);
    if (sums === undefined) {
      sums = {
        clusterId: row.clusterId,
        family,
        region: row.region,
        currency: row.currency,
        gpuHoursByWindow: new Map(),
        gpuHours: 0n,
        onDemand: 0n,
      };
      families.set(key, sums);
    }
    sums.gpuHoursByWindow.set(row.windowStartMs, (sums.gpuHoursByWindow.get(row.windowStartMs) ?? 0n) + row.gpuHours);
    sums.gpuHours += row.gpuHours;
    sums.onDemand += row.onDemandEquivalent;
  }
  const found: Recommendation[] = [];
  for (const f of families.values()) {
    const first = firstWindowMs.get(f.clusterId);
    if (first === undefined || first > fromMs || windows === 0) continue;
    // Concurrent GPUs per window in nano-GPUs: GPU-hours over the window's hours; missing windows are 0.
    const concurrent: bigint[] = [];
    for (let start = fromMs; start + windowMs <= nowMs; start += windowMs)
      concurrent.push(divRoundHalfUp((f.gpuHoursByWindow.get(start) ?? 0n) * BigInt(HOUR_MS), BigInt(windowMs)));
    concurrent.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Nearest rank: the smallest value with at least `percentile` % of the windows at or under it.
    const rank = Math.max(1, Math.ceil((s.percentile * concurrent.length) / 100));
    const baselineGpus = (concurrent[rank - 1] ?? 0n) / NANO;
    if (baselineGpus === 0n || f.gpuHours === 0n) continue;
    const onDemandPerGpuHour = divRoundHalfUp(f.onDemand * NANO, f.gpuHours);
    const onDemandPerHour = onDemandPerGpuHour * baselineGpus;
    const savingPerHour = percentOf(onDemandPerHour, s.discountPercent);
    const breakEven = formatMoney(parseMoney('100') - parseMoney(s.discountPercent), 2);
    const lowest = concurrent[0] ?? 0n;
    found.push({
      type: 'commitment',
      target: `${f.family}/${f.region}`,
      clusterId: f.clusterId,
      monthlySaving: perMonth(savingPerHour),
      currency: f.currency,
      // High when the family never ran under the baseline in the look-back; medium when it dipped below it.
      confidence: lowest / NANO >= baselineGpus ? 'high' : 'medium',
      reason:
        `${f.family} ran at least ${baselineGpus} GPUs on demand ${100 - s.percentile} % of the last ` +
        `${Math.round(s.lookbackMs / (24 * HOUR_MS))} days: a commitment for them at ${s.discountPercent} % off ` +
        `pays off above ${breakEven} % use`,
      details: {
        family: f.family,
        region: f.region,
        baselineGpus: Number(baselineGpus),
        percentile: s.percentile,
        onDemandPerGpuHour: formatMoney(onDemandPerGpuHour, 9),
        committedPerHour: formatMoney(onDemandPerHour - savingPerHour, 9),
        discountPercent: s.discountPercent,
        breakEvenUtilizationPercent: breakEven,
        windows: concurrent.length,
      },
    });
  }
  return found;
}
