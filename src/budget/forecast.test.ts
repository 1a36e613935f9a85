import { describe, expect, it } from 'vitest';
import { formatMoney, NANOS_PER_UNIT, type Nanos } from '../cost/money.ts';
import { forecastSpend } from './forecast.ts';
import { HOUR_MS, spendBetween, WEEK_MS } from './hourly.ts';
import { periodAt, type PeriodKind } from './period.ts';

const WED_NOON = Date.UTC(2026, 10, 25, 12, 0, 0); // Wednesday 25 November 2026, 12:00 UTC
const MON = Date.UTC(2026, 10, 23, 0, 0, 0); // the Monday before

/** A synthetic history: `dollarsPerHour(hourStartMs)` for every hour in [fromMs, toMs). */
function history(fromMs: number, toMs: number, dollarsPerHour: (hourMs: number) => number): Map<number, Nanos> {
  const series = new Map<number, Nanos>();
  for (let h = fromMs; h < toMs; h += HOUR_MS) {
    const dollars = dollarsPerHour(h);
    if (dollars > 0) series.set(h, BigInt(dollars) * NANOS_PER_UNIT);
  }
  return series;
}

/** Office hours: 10 $/h on weekdays from 09:00 to 18:00 UTC, nothing otherwise. */
const officeHours = (h: number) => {
  const d = new Date(h);
  const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
  return weekday && d.getUTCHours() >= 9 && d.getUTCHours() < 18 ? 10 : 0;
};
/** 1 $/h in the oldest of four weeks before MON, then 2, 3 and 4; 5 $/h since MON. */
const growing = (h: number) => (h >= MON ? 5 : 4 - Math.floor((MON - 1 - h) / WEEK_MS));

const FLAT = history(MON - 6 * WEEK_MS, WED_NOON, () => 1);
const GROWING = history(MON - 4 * WEEK_MS, WED_NOON, growing);
const OFFICE = history(MON - 5 * WEEK_MS, WED_NOON, officeHours);
const OFFICE_1W = history(MON - WEEK_MS, WED_NOON, officeHours);
const BUSIER = history(MON - 5 * WEEK_MS, WED_NOON, (h) => officeHours(h) * (h >= MON ? 2 : 1));
/** Office hours, then a Sunday job at 5 $/h the day before MON, at hours that never had spend. */
const SUNDAY_JOB = history(MON - 5 * WEEK_MS, MON, (h) => (h >= MON - 24 * HOUR_MS ? 5 : officeHours(h)));
const NEW_TEAM = history(WED_NOON - 24 * HOUR_MS, WED_NOON, () => 2);
const LONG_GONE = history(MON - 7 * WEEK_MS, WED_NOON - 5 * WEEK_MS, () => 3);

describe('forecastSpend on synthetic histories', () => {
  // Expected: "method/weeks of profile, spent so far, forecast at the period end, crossing time (UTC)".
  it.each<[string, PeriodKind, number, Map<number, Nanos>, string, string]>([
    ['flat: 1 $/h', 'Weekly', WED_NOON, FLAT, '150', 'seasonal/4 60.00 168.00 2026-11-29T06:00'],
    ['flat, under the amount: no crossing', 'Weekly', WED_NOON, FLAT, '200', 'seasonal/4 60.00 168.00 -'],
    ['growing: the latest level', 'Weekly', WED_NOON, GROWING, '800', 'seasonal/4 300.00 840.00 2026-11-29T16:00'],
    ['office hours', 'Weekly', WED_NOON, OFFICE, '400', 'seasonal/4 210.00 450.00 2026-11-27T13:00'],
    ['office hours, busier this week', 'Weekly', WED_NOON, BUSIER, '1000', 'seasonal/4 420.00 900.00 -'],
    ['office hours, one week', 'Weekly', WED_NOON, OFFICE_1W, '400', 'seasonal/1 210.00 450.00 2026-11-27T13:00'],
    ['office hours, a monthly budget', 'Monthly', WED_NOON, OFFICE, '2000', 'seasonal/4 1560.00 1890.00 -'],
    ['a new Sunday job: the mean, not scaled', 'Weekly', MON, SUNDAY_JOB, '1000', 'seasonal/4 0.00 480.00 -'],
    ['a new team, one day of data', 'Monthly', WED_NOON, NEW_TEAM, '100', 'run-rate/0 48.00 312.00 2026-11-26T14:00'],
    ['a new team, over already', 'Monthly', WED_NOON, NEW_TEAM, '40', 'run-rate/0 48.00 312.00 -'],
    ['no spend in five weeks', 'Weekly', WED_NOON, LONG_GONE, '10', 'none/0 0.00 0.00 -'],
  ])('%s', (_name, kind, now, series, amount, expected) => {
    const period = periodAt(kind, 'UTC', now);
    const spent = spendBetween(series, period.startMs, now, now);
    const f = forecastSpend({
      nowMs: now,
      periodEndMs: period.endMs,
      spent,
      amount: BigInt(amount) * NANOS_PER_UNIT,
      series,
    });
    const crossing = f.crossingMs === undefined ? '-' : new Date(f.crossingMs).toISOString().slice(0, 16);
    expect(`${f.method}/${f.weeks} ${formatMoney(spent, 2)} ${formatMoney(f.total, 2)} ${crossing}`).toBe(expected);
  });

  it('prices the rest of the current hour pro rata, to the nano', () => {
    const now = WED_NOON + 20 * 60_000; // 12:20
    const series = history(MON - 5 * WEEK_MS, now, () => 3);
    series.set(WED_NOON, 1n * NANOS_PER_UNIT); // 12:00-12:20 at 3 $/h
    const f = forecastSpend({ nowMs: now, periodEndMs: MON + WEEK_MS, spent: 0n, amount: 1n, series });
    // 40 minutes at 3 $/h, then 107 hours (to Monday 00:00) at 3 $/h.
    expect(f.rest).toBe(2n * NANOS_PER_UNIT + 321n * NANOS_PER_UNIT);
  });

  it('finds the crossing to the millisecond inside an hour', () => {
    const series = history(WED_NOON - 10 * HOUR_MS, WED_NOON, () => 3);
    const f = forecastSpend({
      nowMs: WED_NOON,
      periodEndMs: WED_NOON + 10 * HOUR_MS,
      spent: 0n,
      amount: 1n * NANOS_PER_UNIT,
      series,
    });
    // 1 $ at 3 $/h: 20 minutes.
    expect(f.crossingMs).toBe(WED_NOON + 20 * 60_000);
  });

  it('forecasts nothing more at the period end', () => {
    const series = history(WED_NOON - 10 * HOUR_MS, WED_NOON, () => 3);
    const f = forecastSpend({ nowMs: WED_NOON, periodEndMs: WED_NOON, spent: 5n, amount: 10n, series });
    expect(f).toMatchObject({ method: 'run-rate', rest: 0n, total: 5n, crossingMs: undefined });
  });
});
