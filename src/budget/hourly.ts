/**
 * A scope's spend by UTC hour: what a budget's forecast and period-to-date sum read. Ledger windows are cut
 * into hours, or gathered into them, pro rata to the milliseconds of each hour the window covers, in integers
 * whose parts add up to the window's cost exactly (largest remainders). With the default one-hour ledger
 * window an hour is a window and nothing is spread.
 */
import { apportion, type Nanos } from '../cost/money.ts';

export const HOUR_MS = 3_600_000;
export const WEEK_MS = 7 * 24 * HOUR_MS;

/** Spend by the start of its UTC hour (epoch ms). */
export type HourlySpend = Map<number, Nanos>;

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Adds `cost`, spent over [fromMs, toMs), to the hours it covers. Nothing for an empty span or no cost. */
export function addSpread(series: HourlySpend, cost: Nanos, fromMs: number, toMs: number): void {
  if (cost === 0n || toMs <= fromMs) return;
  const hours: number[] = [];
  const weights: number[] = [];
  for (let h = floorHour(fromMs); h < toMs; h += HOUR_MS) {
    hours.push(h);
    weights.push(Math.min(toMs, h + HOUR_MS) - Math.max(fromMs, h));
  }
  const parts = hours.length === 1 ? [cost] : apportion(cost, weights);
  hours.forEach((h, i) => series.set(h, (series.get(h) ?? 0n) + (parts[i] ?? 0n)));
}

/**
 * Spend in [fromMs, toMs): whole hours as they are, an hour only partly inside pro rata to its covered
 * milliseconds. An hour's spend is taken to cover [hour, min(hour end, throughMs)): the hour being accrued
 * holds only what was spent up to `throughMs`.
 */
export function spendBetween(
  series: ReadonlyMap<number, Nanos>,
  fromMs: number,
  toMs: number,
  throughMs: number,
): Nanos {
  let sum = 0n;
  for (const [h, cost] of series) {
    const end = Math.min(h + HOUR_MS, throughMs);
    if (end <= fromMs || h >= toMs || end <= h) continue;
    const inside = Math.min(end, toMs) - Math.max(h, fromMs);
    sum += inside === end - h ? cost : (cost * BigInt(inside) * 2n + BigInt(end - h)) / (BigInt(end - h) * 2n);
  }
  return sum;
}

/** The first hour at or after `fromMs` with spend, or undefined when there is none. */
export function firstSpendHour(series: ReadonlyMap<number, Nanos>, fromMs: number): number | undefined {
  let first: number | undefined;
  for (const [h, cost] of series) if (cost > 0n && h >= fromMs && (first === undefined || h < first)) first = h;
  return first;
}
