import { describe, expect, it } from 'vitest';
import { nextScheduleFireMs, scheduleProblem, type WakeSchedule } from './schedule.ts';

// Monday 2026-11-30 12:00 UTC.
const NOW = Date.UTC(2026, 10, 30, 12, 0);

describe('nextScheduleFireMs', () => {
  it.each<[string, WakeSchedule[], string | undefined]>([
    ['no schedules', [], undefined],
    [
      'a weekday wake at 08:00 in Berlin: tomorrow 07:00 UTC',
      [{ wake: '0 8 * * 1-5', timeZone: 'Europe/Berlin' }],
      '2026-12-01T07:00:00.000Z',
    ],
    [
      'the earlier of wake and sleep',
      [{ wake: '0 8 * * 1-5', sleep: '0 20 * * 1-5', timeZone: 'UTC' }],
      '2026-11-30T20:00:00.000Z',
    ],
    [
      'the earliest across policies',
      [
        { sleep: '0 20 * * *', timeZone: 'UTC' },
        { wake: '30 14 * * *', timeZone: 'America/New_York' },
      ],
      '2026-11-30T19:30:00.000Z',
    ],
    ['a firing exactly now is not next', [{ wake: '0 12 * * *', timeZone: 'UTC' }], '2026-12-01T12:00:00.000Z'],
    ['a monthly sleep on the 1st', [{ sleep: '0 9 1 * *', timeZone: 'UTC' }], '2026-12-01T09:00:00.000Z'],
    [
      'an invalid expression or zone is skipped, the valid one counts',
      [
        { wake: '61 * * * *', timeZone: 'UTC' },
        { wake: '0 13 * * *', timeZone: 'Mars/Olympus' },
        { wake: '0 13 * * *', timeZone: 'UTC' },
      ],
      '2026-11-30T13:00:00.000Z',
    ],
  ])('%s', (_name, schedules, expected) => {
    const at = nextScheduleFireMs(schedules, NOW);
    expect(at === undefined ? undefined : new Date(at).toISOString()).toBe(expected);
  });
});

describe('scheduleProblem', () => {
  it.each([
    ['0 8 * * 1-5', 'Europe/Berlin', undefined],
    ['0 8 * * 1-5', 'Mars/Olympus', 'unknown time zone "Mars/Olympus"'],
    ['0 0 30 2 *', 'UTC', /never/],
  ])('%s in %s', (expression, timeZone, expected) => {
    const problem = scheduleProblem(expression, timeZone);
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });
});
