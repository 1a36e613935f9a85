import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../testing/ledger-rows.ts';
import { allRows, prod1Rows, prod2Rows, T0 } from '../testing/report-ledger.ts';
import { GroupSums, type Group } from './aggregate.ts';
import { BucketSums, bucketingFor, bucketOf, DAY_MS, mergeBuckets } from './timeline.ts';

const sorted = (groups: Group[]) => groups.map((g) => JSON.stringify({ ...g, cost: String(g.cost) })).sort();

describe('time buckets', () => {
  it.each([
    [T0, T0 + HOUR_MS, 'window'],
    [T0, T0 + 2 * DAY_MS - 1, 'window'],
    [T0, T0 + 2 * DAY_MS, 'day'],
    [T0, T0 + 30 * DAY_MS, 'day'],
  ])('[%d, %d) is drawn per %s', (fromMs, toMs, bucketing) => {
    expect(bucketingFor({ fromMs, toMs })).toBe(bucketing);
  });

  it('a window falls in its UTC day, or is its own bucket', () => {
    const late = Date.UTC(2026, 10, 1, 23);
    expect(bucketOf('day', late)).toBe(Date.UTC(2026, 10, 1));
    expect(bucketOf('day', Date.UTC(2026, 10, 2))).toBe(Date.UTC(2026, 10, 2));
    expect(bucketOf('window', late)).toBe(late);
  });
});

describe('sums per bucket', () => {
  const windows = [prod1Rows(T0), prod1Rows(T0 + HOUR_MS), prod1Rows(T0 + 2 * HOUR_MS), prod2Rows(T0)] as const;

  it.each([['window'], ['day']] as const)('per %s, merged back, are the sums of the whole range', (bucketing) => {
    for (const by of [['team'], ['cluster', 'team'], ['workload']]) {
      const buckets = new BucketSums(by, bucketing);
      for (const rows of windows) buckets.add(rows[0]?.windowStartMs ?? 0, rows);
      const whole = new GroupSums(by);
      whole.add(allRows());
      expect(sorted(mergeBuckets(buckets.groups()))).toEqual(sorted(whole.groups()));
    }
  });

  it('keeps the windows apart per window, and together per day', () => {
    const per = (bucketing: 'window' | 'day') => {
      const buckets = new BucketSums(['cluster'], bucketing, 'ml-alpha');
      for (const rows of windows) buckets.add(rows[0]?.windowStartMs ?? 0, rows);
      return buckets
        .groups()
        .map((g) => [new Date(g.bucketMs).toISOString(), ...g.keys, String(g.cost)])
        .sort();
    };
    // Namespace ml-alpha: train-a every window, train-b at 00:00 on prod-1, train-c on prod-2.
    expect(per('window')).toEqual([
      ['2026-11-01T00:00:00.000Z', 'prod-1', '3500000001'],
      ['2026-11-01T00:00:00.000Z', 'prod-2', '4000000000'],
      ['2026-11-01T01:00:00.000Z', 'prod-1', '1000000001'],
      ['2026-11-01T02:00:00.000Z', 'prod-1', '1000000001'],
    ]);
    expect(per('day')).toEqual([
      ['2026-11-01T00:00:00.000Z', 'prod-1', '5500000003'],
      ['2026-11-01T00:00:00.000Z', 'prod-2', '4000000000'],
    ]);
  });
});
