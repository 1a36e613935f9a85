import { describe, expect, it } from 'vitest';
import { addSpread, firstSpendHour, HOUR_MS, spendBetween, type HourlySpend } from './hourly.ts';

const T = Date.UTC(2026, 10, 23, 0, 0, 0);

describe('addSpread', () => {
  it.each<[string, bigint, number, number, [number, bigint][]]>([
    ['an hour window is one hour', 10n, T, T + HOUR_MS, [[T, 10n]]],
    ['a minute window goes to its hour', 7n, T + 60_000, T + 120_000, [[T, 7n]]],
    [
      'a two-hour window, halves',
      11n,
      T,
      T + 2 * HOUR_MS,
      [
        [T, 6n],
        [T + HOUR_MS, 5n],
      ],
    ],
    ['a day window, 24 parts adding up', 1_000_000_001n, T, T + 24 * HOUR_MS, []],
    [
      'an open window spread over what it covered',
      9n,
      T,
      T + 90 * 60_000,
      [
        [T, 6n],
        [T + HOUR_MS, 3n],
      ],
    ],
    ['nothing for no cost', 0n, T, T + HOUR_MS, []],
  ])('%s', (_name, cost, from, to, expected) => {
    const series: HourlySpend = new Map();
    addSpread(series, cost, from, to);
    if (expected.length > 0) expect([...series]).toEqual(expected);
    expect([...series.values()].reduce((a, b) => a + b, 0n)).toBe(cost);
  });

  it('adds to what an hour holds', () => {
    const series: HourlySpend = new Map([[T, 5n]]);
    addSpread(series, 3n, T + 60_000, T + 120_000);
    expect(series.get(T)).toBe(8n);
  });
});

describe('spendBetween', () => {
  const series: HourlySpend = new Map([
    [T - HOUR_MS, 100n],
    [T, 60n],
    [T + HOUR_MS, 30n], // the hour being accrued, known up to T + 1h30
  ]);
  const through = T + HOUR_MS + 30 * 60_000;
  it.each<[string, number, number, bigint]>([
    ['whole hours', T - HOUR_MS, T + HOUR_MS, 160n],
    ['from a period start on the half hour', T + 30 * 60_000, T + 10 * HOUR_MS, 30n + 30n],
    ['the hour being accrued counts over what it covered', T + HOUR_MS, T + 10 * HOUR_MS, 30n],
    ['a quarter of the accrued part', T + HOUR_MS + 15 * 60_000, T + 10 * HOUR_MS, 15n],
    ['nothing before', T - 5 * HOUR_MS, T - HOUR_MS, 0n],
  ])('%s', (_name, from, to, expected) => {
    expect(spendBetween(series, from, to, through)).toBe(expected);
  });
});

describe('firstSpendHour', () => {
  it('skips hours without spend and hours before the lookback', () => {
    const series: HourlySpend = new Map([
      [T - 2 * HOUR_MS, 5n],
      [T, 0n],
      [T + HOUR_MS, 1n],
    ]);
    expect(firstSpendHour(series, T - HOUR_MS)).toBe(T + HOUR_MS);
    expect(firstSpendHour(series, 0)).toBe(T - 2 * HOUR_MS);
    expect(firstSpendHour(new Map(), 0)).toBeUndefined();
  });
});
