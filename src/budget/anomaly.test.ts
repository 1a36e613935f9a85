import { describe, expect, it } from 'vitest';
import { parseMoney, type Nanos } from '../cost/money.ts';
import { median, readAnomaly } from './anomaly.ts';
import { HOUR_MS, WEEK_MS } from './hourly.ts';

/** Monday 30 November 2026, 14:00 UTC. */
const NOW = Date.UTC(2026, 10, 30, 14);
const $ = parseMoney;

/** `perHour(h)` for every hour from `fromMs` up to `toMs`, the hour start's UTC hour of day passed in. */
function history(fromMs: number, toMs: number, perHour: (hourOfDay: number) => string): Map<number, Nanos> {
  const series = new Map<number, Nanos>();
  for (let h = fromMs; h < toMs; h += HOUR_MS) {
    const cost = $(perHour(new Date(h).getUTCHours()));
    if (cost > 0n) series.set(h, cost);
  }
  return series;
}

const read = (series: Map<number, Nanos>, over: { factor?: string; minimum?: string; nowMs?: number } = {}) =>
  readAnomaly({
    nowMs: over.nowMs ?? NOW,
    series,
    factor: $(over.factor ?? '2'),
    minimumPerHour: $(over.minimum ?? '1'),
    planned: [],
  });

describe('readAnomaly', () => {
  it.each([
    // name, history, last hour's spend, expected method, weeks, baseline, anomalous
    [
      'flat 5 $/h for five weeks, the same hour',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '5'),
      '5',
      'same-hour-of-week',
      4,
      '5',
      false,
    ],
    [
      'flat 5 $/h, a spike to 10.01',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '5'),
      '10.01',
      'same-hour-of-week',
      4,
      '5',
      true,
    ],
    [
      'flat 5 $/h, exactly twice: not above',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '5'),
      '10',
      'same-hour-of-week',
      4,
      '5',
      false,
    ],
    // Office hours: 20 $/h from 9 to 18, 2 $/h at night. 14:00 is an office hour: 30 is not twice 20.
    [
      'office hours, a busy afternoon',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, (h) => (h >= 9 && h < 18 ? '20' : '2')),
      '30',
      'same-hour-of-week',
      4,
      '20',
      false,
    ],
    // A new team with a day of data at 3 $/h: the trailing median of its 24 hours.
    [
      'a new team, one day at 3 $/h, a spike to 7',
      () => history(NOW - 25 * HOUR_MS, NOW - HOUR_MS, () => '3'),
      '7',
      'trailing-median',
      0,
      '3',
      true,
    ],
    [
      'a new team, one day at 3 $/h, 6 is not above twice',
      () => history(NOW - 25 * HOUR_MS, NOW - HOUR_MS, () => '3'),
      '6',
      'trailing-median',
      0,
      '3',
      false,
    ],
    // Four hours of history: the median of those four.
    [
      'a team four hours old',
      () => history(NOW - 5 * HOUR_MS, NOW - HOUR_MS, () => '4'),
      '9',
      'trailing-median',
      0,
      '4',
      true,
    ],
    [
      'a first run: no history, no baseline, no anomaly',
      () => new Map<number, Nanos>(),
      '500',
      'none',
      0,
      undefined,
      false,
    ],
    // Cents a day then a dollar: under the floor of 1 $/h times 2.
    [
      'a scope that spends cents: the floor holds',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '0.01'),
      '1.5',
      'same-hour-of-week',
      4,
      '0.01',
      false,
    ],
    [
      'over the floor',
      () => history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '0.01'),
      '2.5',
      'same-hour-of-week',
      4,
      '0.01',
      true,
    ],
    // One week of history: the same hour of last week alone.
    [
      'a week and a bit of history',
      () => history(NOW - WEEK_MS - 2 * HOUR_MS, NOW - HOUR_MS, () => '5'),
      '11',
      'same-hour-of-week',
      1,
      '5',
      true,
    ],
  ] as const)('%s', (_name, make, last, method, weeks, baseline, anomalous) => {
    const series = make();
    series.set(NOW - HOUR_MS, (series.get(NOW - HOUR_MS) ?? 0n) + $(last));
    const r = read(series);
    expect(r.method).toBe(method);
    expect(r.weeks).toBe(weeks);
    expect(r.baseline).toBe(baseline === undefined ? undefined : $(baseline));
    expect(r.lastHour).toBe($(last));
    expect(r.anomalous).toBe(anomalous);
  });

  it('compares 03:00 with the nights: 30 $ then is fifteen times its baseline', () => {
    const at4 = Date.UTC(2026, 10, 30, 4);
    const series = history(at4 - 5 * WEEK_MS, at4 - HOUR_MS, (h) => (h >= 9 && h < 18 ? '20' : '2'));
    series.set(at4 - HOUR_MS, $('30'));
    expect(read(series, { nowMs: at4 })).toMatchObject({ baseline: $('2'), anomalous: true, ratio: 15 });
  });

  it('reads the last 60 minutes up to now, not the clock hour: half an hour in, half of each', () => {
    const series = history(NOW - 5 * WEEK_MS, NOW, () => '4');
    series.set(NOW, $('10')); // 10 $ in the first half of the 14:00 hour, which is accrued up to 14:30
    const r = readAnomaly({ nowMs: NOW + HOUR_MS / 2, series, factor: $('2'), minimumPerHour: 0n, planned: [] });
    expect(r.lastHour).toBe($('12')); // half of 13:00's 4, all of 14:00's 10
    expect(r.baseline).toBe($('4'));
    expect(r.anomalous).toBe(true);
    expect(r.ratio).toBe(3);
  });

  it('raises nothing during a declared planned run, and again once it is over', () => {
    const series = history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '5');
    series.set(NOW - HOUR_MS, $('50'));
    const planned = [{ startMs: NOW - 2 * HOUR_MS, endMs: NOW + HOUR_MS }];
    const during = readAnomaly({ nowMs: NOW, series, factor: $('2'), minimumPerHour: $('1'), planned });
    expect(during).toMatchObject({ planned: true, anomalous: false, ratio: 10 });
    const after = readAnomaly({
      nowMs: NOW,
      series,
      factor: $('2'),
      minimumPerHour: $('1'),
      planned: [{ startMs: NOW - 5 * HOUR_MS, endMs: NOW - HOUR_MS }],
    });
    expect(after).toMatchObject({ planned: false, anomalous: true });
  });

  it('gives the factor its configured value', () => {
    const series = history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, () => '5');
    series.set(NOW - HOUR_MS, $('13'));
    expect(read(series, { factor: '3' }).anomalous).toBe(false);
    expect(read(series, { factor: '2.5' }).anomalous).toBe(true);
  });

  it('reports an unbounded ratio over a zero baseline, and none without a baseline', () => {
    const quietNights = history(NOW - 5 * WEEK_MS, NOW - HOUR_MS, (h) => (h >= 9 && h < 18 ? '0' : '1'));
    quietNights.set(NOW - HOUR_MS, $('3'));
    const r = read(quietNights, { minimum: '1' });
    expect(r.baseline).toBe(0n);
    expect(r.ratio).toBe(Number.POSITIVE_INFINITY);
    expect(r.anomalous).toBe(true);
    expect(read(new Map([[NOW - HOUR_MS, $('3')]])).ratio).toBe(0);
  });
});

describe('median', () => {
  it.each([
    [[], '0'],
    [['3'], '3'],
    [['1', '9', '5'], '5'],
    [['1', '2', '3', '10'], '2.5'],
    [['0.000000001', '0.000000002'], '0.000000002'],
  ])('%j: %s', (values, expected) => {
    expect(median(values.map((v) => $(v)))).toBe($(expected));
  });
});
