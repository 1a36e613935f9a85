import { describe, expect, it } from 'vitest';
import { datesInRange, isClusterId, parseKey, pieceKey, utcDate, windowKey } from './layout.ts';

const T = Date.UTC(2026, 10, 1, 13); // 2026-11-01T13:00:00Z

describe('ledger layout', () => {
  it.each([
    ['prod-1', true],
    ['0b6f3c1e-9a7d-4c2b-8e1f-2a3b4c5d6e7f', true],
    ['eu.west_2', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['Prod', false],
    ['-prod', false],
    ['.hidden', false],
    ['a/b', false],
    ['a=b', false],
    ['a b', false],
  ])('cluster id %j is valid: %s', (id, valid) => {
    expect(isClusterId(id)).toBe(valid);
  });

  it.each([
    [T, 'cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet'],
    [Date.UTC(2026, 11, 31, 23), 'cluster=prod-1/date=2026-12-31/window-20261231T230000Z.parquet'],
    [0, 'cluster=prod-1/date=1970-01-01/window-19700101T000000Z.parquet'],
  ])('window starting at %i is %s', (startMs, key) => {
    expect(windowKey('prod-1', startMs)).toBe(key);
    expect(parseKey(key)).toEqual({ clusterId: 'prod-1', windowStartMs: startMs });
  });

  it('names a piece beside its window, outside the *.parquet glob', () => {
    const key = pieceKey('prod-1', T, '20261101t130500z');
    expect(key).toBe('cluster=prod-1/date=2026-11-01/window-20261101T130000Z.20261101t130500z.piece');
    expect(parseKey(key)).toEqual({ clusterId: 'prod-1', windowStartMs: T, pieceId: '20261101t130500z' });
  });

  it.each([
    ['Prod', T, /not a cluster id/],
    ['../x', T, /not a cluster id/],
    ['prod', T + 500, /not a whole second/],
    ['prod', -1000, /not a whole second/],
    ['prod', 1.5, /not a whole second/],
  ])('refuses cluster %j at %s', (id, startMs, message) => {
    expect(() => windowKey(id, startMs)).toThrow(message);
  });

  it.each(['a/b', 'A', '', '-x', 'x.y'])('refuses piece id %j', (piece) => {
    expect(() => pieceKey('prod', T, piece)).toThrow(/not a piece id/);
  });

  it.each([
    'cluster=prod/date=2026-11-02/window-20261101T130000Z.parquet', // date is not the start's
    'cluster=prod/date=2026-02-30/window-20260230T000000Z.parquet', // no such day
    'cluster=Prod/date=2026-11-01/window-20261101T130000Z.parquet',
    'cluster=prod/date=2026-11-01/window-20261101T130000Z.parquet.tmp',
    'cluster=prod/date=2026-11-01/other.parquet',
    'cluster=prod/window-20261101T130000Z.parquet',
    'x/cluster=prod/date=2026-11-01/window-20261101T130000Z.parquet',
  ])('does not take %s for a window', (key) => {
    expect(parseKey(key)).toBeUndefined();
  });

  it.each([
    [T, T + 1, ['2026-11-01']],
    [T, T, []],
    [Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 3), ['2026-11-01', '2026-11-02']],
    [Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 3) + 1, ['2026-11-01', '2026-11-02', '2026-11-03']],
    [Date.UTC(2026, 9, 31, 23), Date.UTC(2026, 10, 1, 1), ['2026-10-31', '2026-11-01']],
  ])('windows starting in [%i, %i) live in %j', (fromMs, toMs, dates) => {
    expect(datesInRange(fromMs, toMs)).toEqual(dates);
  });

  it('dates are UTC', () => {
    expect(utcDate(Date.UTC(2026, 10, 1) - 1)).toBe('2026-10-31');
  });
});
