import { describe, expect, it } from 'vitest';
import { NANOS_PER_UNIT, parseMoney, type Nanos } from '../cost/money.ts';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { HOUR_MS, WEEK_MS } from './hourly.ts';
import { budgetReach, exceededSince, planBudget, thresholdMemoryOf, type BudgetRule } from './plan-budget.ts';

const NOV_1 = Date.UTC(2026, 10, 1);
const NOV_21 = Date.UTC(2026, 10, 21);

const rule = (budget: Record<string, unknown>): BudgetRule => {
  const parsed = policySpecSchema.parse({ rules: { budget } }).rules.budget;
  if (!parsed) throw new Error('no budget');
  return parsed;
};

/** A steady `perHour` from `fromMs` up to `toMs`. */
function steady(perHour: string, fromMs: number, toMs: number): Map<number, Nanos> {
  const series = new Map<number, Nanos>();
  for (let h = fromMs; h < toMs; h += HOUR_MS) series.set(h, parseMoney(perHour));
  return series;
}

describe('planBudget', () => {
  // The worked example of docs/budgets.md: 1500.00 USD a month, a steady 2.50 $/h for five weeks, seen on
  // 21 November at 00:00 UTC with 60 % announced already.
  const example = planBudget({
    policy: 'team-research',
    rule: rule({ amount: '1500.00' }),
    currency: 'USD',
    asOfMs: NOV_21,
    series: steady('2.50', NOV_21 - 5 * WEEK_MS, NOV_21),
    namespaces: new Map([
      ['research', 900n * NANOS_PER_UNIT],
      ['research-dev', 300n * NANOS_PER_UNIT],
    ]),
    previous: { periodStartMs: NOV_1, last: 60 },
  });

  it('gives the worked example of docs/budgets.md', () => {
    expect(example.status).toEqual({
      periodStart: '2026-11-01T00:00:00Z',
      periodEnd: '2026-12-01T00:00:00Z',
      accountedUntil: '2026-11-21T00:00:00Z',
      spent: '1200.000000',
      percent: 80,
      forecast: '1800.00',
      forecastPercent: 120,
      forecastCrossingTime: '2026-11-26T00:00:00Z',
      lastThresholdCrossed: 80,
      lastHourSpend: '2.50',
      baselinePerHour: '2.50',
    });
    expect(example.anomaly).toEqual({ active: false, ratio: 1 });
    expect(example.events).toEqual([
      {
        reason: 'BudgetThresholdCrossed',
        threshold: 80,
        message:
          'team-research: 80 % of the monthly budget of 1500.00 USD reached: 1200.00 USD spent since 2026-11-01T00:00:00Z, forecast 1800.00 USD by 2026-12-01T00:00:00Z',
      },
    ]);
    expect(example.namespaces).toEqual(['research', 'research-dev']);
    expect([example.spentRatio, example.forecastRatio]).toEqual([0.8, 1.2]);
    expect(example.memory).toEqual({ periodStartMs: NOV_1, last: 80 });
  });

  it('exceeds with BudgetExceeded, and crosses nothing more in the same period', () => {
    const view = {
      policy: 'p',
      rule: rule({ amount: '10', period: 'Weekly' }),
      currency: 'EUR',
      asOfMs: Date.UTC(2026, 10, 25, 12),
      series: steady('1', Date.UTC(2026, 10, 23), Date.UTC(2026, 10, 25, 12)),
      namespaces: new Map(),
      previous: undefined,
    };
    const first = planBudget(view);
    expect(first.events.map((e) => `${e.reason} ${e.threshold}`)).toEqual([
      'BudgetThresholdCrossed 60',
      'BudgetThresholdCrossed 80',
      'BudgetThresholdCrossed 95',
      'BudgetExceeded 100',
    ]);
    expect(first.events[3]?.message).toBe(
      'p: 100 % of the weekly budget of 10 EUR reached: 60.00 EUR spent since 2026-11-23T00:00:00Z, forecast 168.00 EUR by 2026-11-30T00:00:00Z',
    );
    // Over already: no crossing time.
    expect(first.status.forecastCrossingTime).toBeUndefined();
    expect(planBudget({ ...view, previous: first.memory }).events).toEqual([]);
  });

  it('starts the period in its time zone, and lists at most ten namespaces, most spend first', () => {
    const asOf = Date.UTC(2026, 10, 2, 12);
    const namespaces = new Map(Array.from({ length: 12 }, (_, i) => [`ns-${i}`, BigInt(i)] as const));
    const plan = planBudget({
      policy: 'p',
      rule: rule({ amount: '1000', timeZone: 'Asia/Tokyo' }),
      currency: 'USD',
      asOfMs: asOf,
      series: steady('1', asOf - 48 * HOUR_MS, asOf),
      namespaces,
      previous: undefined,
    });
    // 1 November 00:00 in Tokyo is 31 October 15:00 UTC: 45 hours before.
    expect(plan.status).toMatchObject({ periodStart: '2026-10-31T15:00:00Z', spent: '45.000000', percent: 4 });
    expect(plan.namespaces).toEqual(['ns-11', 'ns-10', 'ns-9', 'ns-8', 'ns-7', 'ns-6', 'ns-5', 'ns-4', 'ns-3', 'ns-2']);
  });

  it('reads from the period start or five weeks back, whichever is earlier', () => {
    const r = rule({ amount: '1', period: 'Weekly' });
    const asOf = Date.UTC(2026, 10, 25, 12, 30);
    expect(budgetReach(r, asOf)).toEqual({
      period: { startMs: Date.UTC(2026, 10, 23), endMs: Date.UTC(2026, 10, 30) },
      fromMs: Date.UTC(2026, 10, 25, 12) - 5 * WEEK_MS,
    });
  });
});

describe('thresholdMemoryOf', () => {
  it('reads the period and the last threshold from the status', () => {
    const status = { periodStart: '2026-11-01T00:00:00Z', lastThresholdCrossed: 95 } as const;
    expect(
      thresholdMemoryOf({
        ...status,
        periodEnd: '',
        accountedUntil: '',
        spent: '',
        percent: 0,
        forecast: '',
        forecastPercent: 0,
      }),
    ).toEqual({
      periodStartMs: NOV_1,
      last: 95,
    });
    expect(thresholdMemoryOf(undefined)).toBeUndefined();
  });
});

describe('exceededSince', () => {
  const NOV_2 = NOV_1 + 24 * HOUR_MS;
  const DEC_1 = Date.UTC(2026, 11, 1);
  it.each([
    ['under the amount: none', undefined, NOV_1, false, NOV_21, undefined],
    ['just reached: now', undefined, NOV_1, true, NOV_21, NOV_21],
    [
      'reached before in the period: kept',
      { periodStartMs: NOV_1, last: 100, exceededAtMs: NOV_2 },
      NOV_1,
      true,
      NOV_21,
      NOV_2,
    ],
    [
      'remembered from the last period: now',
      { periodStartMs: NOV_1, last: 100, exceededAtMs: NOV_2 },
      DEC_1,
      true,
      DEC_1 + HOUR_MS,
      DEC_1 + HOUR_MS,
    ],
    [
      'back under after an edit: none',
      { periodStartMs: NOV_1, last: 100, exceededAtMs: NOV_2 },
      NOV_1,
      false,
      NOV_21,
      undefined,
    ],
    [
      'a remembered time in the future: now',
      { periodStartMs: NOV_1, last: 100, exceededAtMs: NOV_21 + HOUR_MS },
      NOV_1,
      true,
      NOV_21,
      NOV_21,
    ],
    [
      'a remembered time before the period: now',
      { periodStartMs: NOV_1, last: 100, exceededAtMs: NOV_1 - 1 },
      NOV_1,
      true,
      NOV_21,
      NOV_21,
    ],
  ] as const)('%s', (_name, previous, periodStartMs, exceeded, asOfMs, expected) => {
    expect(exceededSince(previous, periodStartMs, exceeded, asOfMs)).toBe(expected);
  });

  it('is written in the status once the spend reaches the amount, and read back from it', () => {
    const r = rule({ amount: '10.00' });
    const series = steady('1.00', NOV_1, NOV_1 + 12 * HOUR_MS);
    const under = planBudget({
      policy: 'p',
      rule: r,
      currency: 'USD',
      asOfMs: NOV_1 + 9 * HOUR_MS,
      series,
      namespaces: new Map(),
      previous: undefined,
    });
    expect(under.status.exceededAt).toBeUndefined();
    const over = planBudget({
      policy: 'p',
      rule: r,
      currency: 'USD',
      asOfMs: NOV_1 + 10 * HOUR_MS,
      series,
      namespaces: new Map(),
      previous: under.memory,
    });
    expect(over.status.exceededAt).toBe('2026-11-01T10:00:00Z');
    const later = planBudget({
      policy: 'p',
      rule: r,
      currency: 'USD',
      asOfMs: NOV_1 + 12 * HOUR_MS,
      series,
      namespaces: new Map(),
      previous: thresholdMemoryOf(over.status),
    });
    expect(later.status.exceededAt).toBe('2026-11-01T10:00:00Z');
  });
});

describe('planBudget: spend anomalies', () => {
  const r = rule({ amount: '100000.00' });
  const base = steady('2.50', NOV_21 - 5 * WEEK_MS, NOV_21);
  const spike = (asOfMs: number, perHour: string) => {
    const series = new Map(base);
    for (let h = NOV_21; h < asOfMs; h += HOUR_MS) series.set(h, parseMoney(perHour));
    return series;
  };
  const at = (asOfMs: number, perHour: string, previous: Parameters<typeof planBudget>[0]['previous'], rules = r) =>
    planBudget({
      policy: 'team-research',
      rule: rules,
      currency: 'USD',
      asOfMs,
      series: spike(asOfMs, perHour),
      namespaces: new Map(),
      previous,
    });

  it('gives one SpendAnomaly Event per episode, keeps its start in the status, and ends it when the spend is normal', () => {
    const first = at(NOV_21 + HOUR_MS, '10.00', undefined);
    expect(first.events).toEqual([
      {
        reason: 'SpendAnomaly',
        threshold: 0,
        message:
          'team-research: spend anomaly: 10.00 USD in the last hour, 4.0 times its baseline of 2.50 USD an hour (the same hour of the week over 4 weeks); anomaly factor 2',
      },
    ]);
    expect(first.status).toMatchObject({
      anomalySince: '2026-11-21T01:00:00Z',
      lastHourSpend: '10.00',
      baselinePerHour: '2.50',
    });
    expect(first.anomaly).toEqual({ active: true, ratio: 4 });
    // An hour later, still spiking: the same episode (read back from the status, as after a restart), no Event.
    const second = at(NOV_21 + 2 * HOUR_MS, '10.00', thresholdMemoryOf(first.status));
    expect(second.events).toEqual([]);
    expect(second.status.anomalySince).toBe('2026-11-21T01:00:00Z');
    // Back to normal: the episode ends; a new spike is a new episode with its own Event.
    const normal = at(NOV_21 + 3 * HOUR_MS, '2.50', second.memory);
    expect(normal.status.anomalySince).toBeUndefined();
    expect(normal.anomaly).toEqual({ active: false, ratio: 1 });
    expect(at(NOV_21 + HOUR_MS, '10.00', normal.memory).events.map((e) => e.reason)).toEqual(['SpendAnomaly']);
  });

  it('raises nothing during a planned run the policy declares, and nothing when turned off', () => {
    const planned = rule({
      amount: '100000.00',
      anomaly: { planned: [{ start: '2026-11-21T00:00:00Z', end: '2026-11-21T06:00:00Z', reason: 'llama fine-tune' }] },
    });
    const during = at(NOV_21 + HOUR_MS, '10.00', undefined, planned);
    expect(during.events).toEqual([]);
    expect(during.anomaly).toEqual({ active: false, ratio: 4 });
    const off = at(NOV_21 + HOUR_MS, '10.00', undefined, rule({ amount: '100000.00', anomaly: { enabled: false } }));
    expect(off.events).toEqual([]);
    expect(off.anomaly).toBeUndefined();
    expect(off.status.lastHourSpend).toBeUndefined();
  });
});
