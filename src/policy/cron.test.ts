import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, lastFire, nextFire, parseCron, previousFire } from './cron.ts';

const DAY_MS = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
/** Wide enough for every row below, leap-day schedules included: windows have their own tests. */
const DECADE_MS = 3653 * DAY_MS;

describe('cron schedules in a time zone', () => {
  // Moved from the first evaluator's tests; only the New York spring-forward row changed (see the DST table).
  it.each([
    // Working hours, weekdays, Paris (UTC+1 in winter): 08:00 Paris = 07:00Z.
    ['0 8 * * 1-5', 'Europe/Paris', '2026-11-23T07:30:00Z', '2026-11-23T07:00:00.000Z'],
    // On a Sunday the last weekday wake was Friday.
    ['0 8 * * 1-5', 'Europe/Paris', '2026-11-22T12:00:00Z', '2026-11-20T07:00:00.000Z'],
    ['0 20 * * mon-fri', 'Europe/Paris', '2026-11-23T19:00:00Z', '2026-11-23T19:00:00.000Z'],
    // Summer time: 08:00 Paris = 06:00Z.
    ['0 8 * * 1-5', 'Europe/Paris', '2026-07-01T06:00:30Z', '2026-07-01T06:00:00.000Z'],
    // The spring-forward day in New York (2026-03-08): 02:30 does not exist, so it fires at 03:00 EDT.
    ['30 2 * * *', 'America/New_York', '2026-03-08T12:00:00Z', '2026-03-08T07:00:00.000Z'],
    ['*/15 * * * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T10:30:00.000Z'],
    ['@daily', 'Asia/Tokyo', '2026-11-22T16:00:00Z', '2026-11-22T15:00:00.000Z'],
    ['0 9 1 * *', 'UTC', '2026-11-22T00:00:00Z', '2026-11-01T09:00:00.000Z'],
  ])('%s in %s, last fire before %s is %s', (expr, tz, now, expected) => {
    expect(iso(lastFire(parseCron(expr), tz, at(now), 40 * DAY_MS))).toBe(expected);
  });

  // 2026-11-22 is a Sunday. Paris and Berlin are UTC+1, New York UTC-5 (from 1 November), Tokyo UTC+9.
  it.each([
    // hourly, and steps in the minute and the hour
    ['0 * * * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T10:00:00.000Z', '2026-11-22T11:00:00.000Z'],
    ['@hourly', 'Asia/Kolkata', '2026-11-22T10:44:59Z', '2026-11-22T10:30:00.000Z', '2026-11-22T11:30:00.000Z'],
    ['*/15 * * * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T10:30:00.000Z', '2026-11-22T10:45:00.000Z'],
    ['0 */6 * * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T06:00:00.000Z', '2026-11-22T12:00:00.000Z'],
    ['10-50/20 9-17 * * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T10:30:00.000Z', '2026-11-22T10:50:00.000Z'],
    // daily
    ['30 8 * * *', 'Europe/Paris', '2026-11-22T10:44:59Z', '2026-11-22T07:30:00.000Z', '2026-11-23T07:30:00.000Z'],
    ['@daily', 'Asia/Tokyo', '2026-11-22T10:44:59Z', '2026-11-21T15:00:00.000Z', '2026-11-22T15:00:00.000Z'],
    ['0 8,20 * * *', 'Europe/Berlin', '2026-11-22T10:44:59Z', '2026-11-22T07:00:00.000Z', '2026-11-22T19:00:00.000Z'],
    // weekly, with day names and 7 for Sunday
    ['0 8 * * mon', 'Europe/Berlin', '2026-11-22T10:44:59Z', '2026-11-16T07:00:00.000Z', '2026-11-23T07:00:00.000Z'],
    ['0 8 * * 1-5', 'Europe/Berlin', '2026-11-22T10:44:59Z', '2026-11-20T07:00:00.000Z', '2026-11-23T07:00:00.000Z'],
    [
      '0 20 * * MON-FRI',
      'Europe/Berlin',
      '2026-11-22T10:44:59Z',
      '2026-11-20T19:00:00.000Z',
      '2026-11-23T19:00:00.000Z',
    ],
    ['0 12 * * sat,sun', 'UTC', '2026-11-22T10:44:59Z', '2026-11-21T12:00:00.000Z', '2026-11-22T12:00:00.000Z'],
    ['@weekly', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T00:00:00.000Z', '2026-11-29T00:00:00.000Z'],
    ['0 0 * * 7', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T00:00:00.000Z', '2026-11-29T00:00:00.000Z'],
    // mon-sun/2 is 1-7/2: Monday, Wednesday, Friday and Sunday (7)
    ['0 8 * * mon-sun/2', 'UTC', '2026-11-22T10:44:59Z', '2026-11-22T08:00:00.000Z', '2026-11-23T08:00:00.000Z'],
    ['0 8 * * mon-sun/2', 'UTC', '2026-11-22T07:59:59Z', '2026-11-20T08:00:00.000Z', '2026-11-22T08:00:00.000Z'],
    // monthly; @monthly in New York crosses the end of summer time (midnight EDT, then midnight EST)
    ['0 9 1 * *', 'UTC', '2026-11-22T10:44:59Z', '2026-11-01T09:00:00.000Z', '2026-12-01T09:00:00.000Z'],
    ['@monthly', 'America/New_York', '2026-11-22T10:44:59Z', '2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z'],
    ['0 6 1 jan-dec/3 *', 'UTC', '2026-11-22T10:44:59Z', '2026-10-01T06:00:00.000Z', '2027-01-01T06:00:00.000Z'],
    ['0 0 31 * *', 'UTC', '2026-11-22T10:44:59Z', '2026-10-31T00:00:00.000Z', '2026-12-31T00:00:00.000Z'],
    // yearly, and a leap day (every four years)
    ['@yearly', 'Europe/Berlin', '2026-11-22T10:44:59Z', '2025-12-31T23:00:00.000Z', '2026-12-31T23:00:00.000Z'],
    ['0 9 15 mar *', 'UTC', '2026-11-22T10:44:59Z', '2026-03-15T09:00:00.000Z', '2027-03-15T09:00:00.000Z'],
    ['0 0 29 2 *', 'UTC', '2026-11-22T10:44:59Z', '2024-02-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    // Both day fields restricted: either may match (Monday 30 November, then Tuesday 1 December).
    ['0 0 1 * mon', 'UTC', '2026-11-30T12:00:00Z', '2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    // A firing at `now` is the previous one, not the next; a millisecond earlier it is the next.
    ['0 9 1 * *', 'UTC', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00.000Z', '2026-12-01T09:00:00.000Z'],
    ['0 9 1 * *', 'UTC', '2026-11-01T08:59:59.999Z', '2026-10-01T09:00:00.000Z', '2026-11-01T09:00:00.000Z'],
  ])('%s in %s at %s: previous %s, next %s', (expr, tz, now, previous, next) => {
    expect(iso(previousFire(parseCron(expr), tz, at(now), DECADE_MS))).toBe(previous);
    expect(iso(nextFire(parseCron(expr), tz, at(now)))).toBe(next);
  });

  // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST and 2026-10-25 03:00 CEST -> 02:00 CET, both at 01:00Z.
  // New York: 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z and 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z.
  // A time of day written as numbers fires once a day: after the gap when its time is skipped, at the first
  // occurrence when its time repeats. `*` or a step in the minute or hour follows the clock: skipped minutes
  // do not fire, repeated ones fire twice.
  it.each([
    // spring forward: 02:30 is skipped, so the daily 02:30 fires at 03:00 that day
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-03-29T12:00:00Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    ['30 2 * * *', 'America/New_York', '2026-03-08T12:00:00Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    [
      '0 2,14 * * *',
      'America/New_York',
      '2026-03-08T06:30:00Z',
      '2026-03-07T19:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
    ],
    // spring forward, following the clock: 01:30 EST, then 03:30 EDT; 01:30 CET, then 03:00 CEST
    ['30 * * * *', 'America/New_York', '2026-03-08T07:10:00Z', '2026-03-08T06:30:00.000Z', '2026-03-08T07:30:00.000Z'],
    ['*/30 * * * *', 'Europe/Berlin', '2026-03-29T00:59:00Z', '2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z'],
    // fall back: the daily 01:30 (New York) and 02:30 (Berlin) fire on the first occurrence only
    ['30 1 * * *', 'America/New_York', '2026-11-01T12:00:00Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ['30 1 * * *', 'America/New_York', '2026-11-01T06:45:00Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ['30 1 * * *', 'America/New_York', '2026-11-01T05:00:00Z', '2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:15:00Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    // fall back, following the clock: 01:30 EDT and 01:30 EST; 02:00 CEST and 02:00 CET
    ['30 * * * *', 'America/New_York', '2026-11-01T05:45:00Z', '2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z'],
    ['30 * * * *', 'America/New_York', '2026-11-01T06:45:00Z', '2026-11-01T06:30:00.000Z', '2026-11-01T07:30:00.000Z'],
    ['0 * * * *', 'Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'],
  ])('daylight saving: %s in %s at %s: previous %s, next %s', (expr, tz, now, previous, next) => {
    expect(iso(previousFire(expr, tz, at(now), DAY_MS))).toBe(previous);
    expect(iso(nextFire(expr, tz, at(now)))).toBe(next);
  });

  it('catches up a firing inside the window and not one outside it', () => {
    const monthly = parseCron('0 9 1 * *');
    const now = at('2026-11-21T09:00:00Z'); // 20 days after the firing on the 1st
    // The first evaluator looked back 8 days by default: this firing was never caught up.
    expect(iso(lastFire(monthly, 'UTC', now))).toBe('2026-11-01T09:00:00.000Z');
    expect(iso(previousFire(monthly, 'UTC', now, 20 * DAY_MS))).toBe('2026-11-01T09:00:00.000Z');
    expect(previousFire(monthly, 'UTC', now, 20 * DAY_MS - 1)).toBeUndefined();
    expect(previousFire(monthly, 'UTC', now, 8 * DAY_MS)).toBeUndefined();
    expect(iso(previousFire('0 9 1 * *', 'UTC', at('2026-11-01T09:00:00Z'), 0))).toBe('2026-11-01T09:00:00.000Z');
    // lastFire's default window is a year and a day: a yearly firing is caught up on New Year's Eve too.
    expect(iso(lastFire(parseCron('@yearly'), 'UTC', at('2026-12-31T23:59:59Z')))).toBe('2026-01-01T00:00:00.000Z');
    // A leap-day schedule last fired in 2024: beyond the default window.
    expect(lastFire(parseCron('0 0 29 2 *'), 'UTC', at('2026-11-22T00:00:00Z'))).toBeUndefined();
    expect(() => previousFire(monthly, 'UTC', now, -1)).toThrow('windowMs must be zero or more');
  });

  it('agrees with itself: no firing lies between the previous and the next', () => {
    const exprs = ['30 2 * * *', '30 * * * *', '*/7 1-3 * * *', '0 8 * * 1-5', '@monthly', '0 0 1 * mon'];
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
    const year2026 = fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2027-01-01T00:00:00Z') });
    // Half the instants fall within three hours of a Berlin or New York change of clocks.
    const changes = ['2026-03-08T07:00:00Z', '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-11-01T06:00:00Z'];
    const nearChange = fc
      .constantFrom(...changes.map(at))
      .chain((ms) => fc.integer({ min: ms - 3 * 3_600_000, max: ms + 3 * 3_600_000 }));
    fc.assert(
      fc.property(
        fc.constantFrom(...exprs),
        fc.constantFrom(...zones),
        fc.oneof(year2026, nearChange),
        (expr, tz, now) => {
          const previous = previousFire(expr, tz, now, DECADE_MS);
          const next = nextFire(expr, tz, now);
          if (previous === undefined || next === undefined) return false;
          return (
            previous <= now &&
            now < next &&
            nextFire(expr, tz, previous) === next &&
            previousFire(expr, tz, next - 1, DECADE_MS) === previous
          );
        },
      ),
      { seed: 14, numRuns: 200 },
    );
  });

  it.each([
    ['* * * *', 'must have five fields'],
    ['* * * * * *', 'must have five fields'],
    ['60 * * * *', 'minute 60 is out of range 0-59'],
    ['0 24 * * *', 'hour 24 is out of range 0-23'],
    ['0 0 0 * *', 'day of month 0 is out of range 1-31'],
    ['0 0 32 * *', 'day of month 32 is out of range 1-31'],
    ['0 0 * 13 *', 'month 13 is out of range 1-12'],
    ['0 8 * * 1-9', 'day of week 9 is out of range 0-7'],
    ['0 8 * foo *', 'illegal characters'],
    ['*/0 * * * *', 'illegal stepping: 0'],
    ['5-1 * * * *', 'From value is larger than to value'],
    ['5/15 * * * *', 'stepping with numeric prefix'],
    ['0 0 30 2 *', 'never fires'],
    ['0 0 31 4,6,9,11 *', 'never fires'],
    ['@fortnightly', 'is not a macro such as @hourly'],
    ['@reboot', 'is not a macro such as @hourly'],
  ])('rejects %j: %s', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(message);
    expect(() => nextFire(expr, 'UTC', 0)).toThrow(message);
  });

  it('knows IANA time zones, and refuses to evaluate in any other', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(() => nextFire('@daily', 'Mars/Olympus', 0)).toThrow('unknown time zone "Mars/Olympus"');
    // croner alone would read an empty time zone as the machine's own.
    expect(() => previousFire('@daily', '', 0, DAY_MS)).toThrow('unknown time zone ""');
  });
});
