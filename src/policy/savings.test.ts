import { describe, expect, it } from 'vitest';
import { costPerHourBeforeText, heldOffSavingPerHour, type HeldOffView } from './savings.ts';

const BEFORE = { 'aicost.dev/cost-per-hour-before': '3.521411' };
const ASLEEP = { ...BEFORE, 'aicost.dev/replicas-before': '2' };

describe('realized savings', () => {
  it.each<[string, HeldOffView, bigint | undefined]>([
    [
      'a Deployment at zero',
      { kind: 'Deployment', annotations: ASLEEP, replicas: 0, suspended: false },
      3_521_411_000n,
    ],
    [
      'a StatefulSet at zero',
      { kind: 'StatefulSet', annotations: ASLEEP, replicas: 0, suspended: false },
      3_521_411_000n,
    ],
    [
      'a Deployment paused through KEDA, not yet at zero',
      {
        kind: 'Deployment',
        annotations: { ...ASLEEP, 'aicost.dev/paused-via': 'keda' },
        replicas: 2,
        suspended: false,
      },
      3_521_411_000n,
    ],
    [
      'a Deployment scaled up by hand',
      { kind: 'Deployment', annotations: ASLEEP, replicas: 1, suspended: false },
      undefined,
    ],
    ['a Deployment woken', { kind: 'Deployment', annotations: {}, replicas: 2, suspended: false }, undefined],
    [
      'a Deployment asleep from before the figure was recorded',
      { kind: 'Deployment', annotations: { 'aicost.dev/replicas-before': '2' }, replicas: 0, suspended: false },
      undefined,
    ],
    ['a suspended Job', { kind: 'Job', annotations: BEFORE, replicas: undefined, suspended: true }, 3_521_411_000n],
    ['a resumed Job', { kind: 'Job', annotations: BEFORE, replicas: undefined, suspended: false }, undefined],
    [
      'a Job suspended by someone else',
      { kind: 'Job', annotations: {}, replicas: undefined, suspended: true },
      undefined,
    ],
    ['a bare Pod', { kind: 'Pod', annotations: ASLEEP, replicas: undefined, suspended: false }, undefined],
    [
      'a figure edited into words',
      {
        kind: 'Deployment',
        annotations: { ...ASLEEP, 'aicost.dev/cost-per-hour-before': 'a lot' },
        replicas: 0,
        suspended: false,
      },
      undefined,
    ],
    ...(['-5000', '100000.000001', '999999999999999'] as const).map((figure): [string, HeldOffView, undefined] => [
      `a figure a tenant wrote out of range: ${figure}`,
      {
        kind: 'Deployment',
        annotations: { ...ASLEEP, 'aicost.dev/cost-per-hour-before': figure },
        replicas: 0,
        suspended: false,
      },
      undefined,
    ]),
  ])('%s', (_name, w, expected) => {
    expect(heldOffSavingPerHour(w)).toBe(expected);
  });

  it('records the hourly cost with 6 decimals, as aicost.dev/cost', () => {
    expect(costPerHourBeforeText(3_521_410_500n)).toBe('3.521411');
    expect(costPerHourBeforeText(0n)).toBe('0.000000');
  });
});
