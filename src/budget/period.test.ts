import { describe, expect, it } from 'vitest';
import { periodAt, periodProblem, type PeriodKind } from './period.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe('periodAt', () => {
  it.each<[string, PeriodKind, string, string, string, string, number]>([
    // name, kind, time zone, now, start, end, length in hours
    [
      'a UTC week (Wednesday)',
      'Weekly',
      'UTC',
      '2026-11-25T10:00:00Z',
      '2026-11-23T00:00:00Z',
      '2026-11-30T00:00:00Z',
      168,
    ],
    [
      'Monday 00:00 starts its week',
      'Weekly',
      'UTC',
      '2026-11-23T00:00:00Z',
      '2026-11-23T00:00:00Z',
      '2026-11-30T00:00:00Z',
      168,
    ],
    [
      'a millisecond before Monday',
      'Weekly',
      'UTC',
      '2026-11-22T23:59:59.999Z',
      '2026-11-16T00:00:00Z',
      '2026-11-23T00:00:00Z',
      168,
    ],
    [
      'Sunday in Paris is still last week',
      'Weekly',
      'Europe/Paris',
      '2026-11-22T22:30:00Z',
      '2026-11-15T23:00:00Z',
      '2026-11-22T23:00:00Z',
      168,
    ],
    [
      'Paris, the week of the spring change',
      'Weekly',
      'Europe/Paris',
      '2027-03-28T12:00:00Z',
      '2027-03-21T23:00:00Z',
      '2027-03-28T22:00:00Z',
      167,
    ],
    [
      'Paris, the week of the autumn change',
      'Weekly',
      'Europe/Paris',
      '2026-10-25T12:00:00Z',
      '2026-10-18T22:00:00Z',
      '2026-10-25T23:00:00Z',
      169,
    ],
    [
      'New York, the week of the spring change',
      'Weekly',
      'America/New_York',
      '2027-03-14T12:00:00Z',
      '2027-03-08T05:00:00Z',
      '2027-03-15T04:00:00Z',
      167,
    ],
    [
      'New York, November starts on the autumn change',
      'Monthly',
      'America/New_York',
      '2026-11-01T12:00:00Z',
      '2026-11-01T04:00:00Z',
      '2026-12-01T05:00:00Z',
      721,
    ],
    [
      'a UTC month of 31 days',
      'Monthly',
      'UTC',
      '2026-12-31T23:59:59.999Z',
      '2026-12-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
      744,
    ],
    [
      'February of a leap year',
      'Monthly',
      'UTC',
      '2028-02-29T12:00:00Z',
      '2028-02-01T00:00:00Z',
      '2028-03-01T00:00:00Z',
      696,
    ],
    [
      'February of another year',
      'Monthly',
      'UTC',
      '2027-02-28T23:00:00Z',
      '2027-02-01T00:00:00Z',
      '2027-03-01T00:00:00Z',
      672,
    ],
    ['the 1st in UTC', 'Monthly', 'UTC', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z', 744],
    [
      'year end in Tokyo: already January',
      'Monthly',
      'Asia/Tokyo',
      '2026-12-31T15:30:00Z',
      '2026-12-31T15:00:00Z',
      '2027-01-31T15:00:00Z',
      744,
    ],
    [
      'year end: a week across it',
      'Weekly',
      'UTC',
      '2026-12-31T12:00:00Z',
      '2026-12-28T00:00:00Z',
      '2027-01-04T00:00:00Z',
      168,
    ],
    [
      'a half-hour zone (Kolkata)',
      'Monthly',
      'Asia/Kolkata',
      '2026-11-10T00:00:00Z',
      '2026-10-31T18:30:00Z',
      '2026-11-30T18:30:00Z',
      720,
    ],
  ])('%s', (_name, kind, timeZone, now, start, end, hours) => {
    const period = periodAt(kind, timeZone, at(now));
    expect({ start: iso(period.startMs), end: iso(period.endMs) }).toEqual({
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    });
    expect((period.endMs - period.startMs) / HOUR).toBe(hours);
  });

  it('refuses an unknown time zone, and says why', () => {
    expect(periodProblem('Mars/Olympus')).toBe('unknown time zone "Mars/Olympus"');
    expect(periodProblem('Europe/Paris')).toBeUndefined();
    expect(() => periodAt('Weekly', 'Mars/Olympus', 0)).toThrow('unknown time zone "Mars/Olympus"');
  });
});
