import { describe, expect, it } from 'vitest';
import { isValidTimeZone, lastFire, parseCron } from './cron.ts';

const DAY_MS = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedules in a time zone', () => {
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

  it.each(['* * * *', '60 * * * *', '0 24 * * *', '0 8 * * 1-9', '0 8 * foo *', '*/0 * * * *'])(
    'rejects %j',
    (expr) => {
      expect(() => parseCron(expr)).toThrow();
    },
  );

  it('knows IANA time zones', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
