import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { jobRow } from '../testing/ledger-rows.ts';
import { WORKED_EXAMPLE_JSON } from '../testing/recommend-example.ts';
import { commitments, DEFAULT_COMMITMENT } from './commitments.ts';
import { recommendationJson } from './format.ts';
import { HOUR_MS } from './types.ts';

const DAY_MS = 24 * HOUR_MS;
const T0 = Date.UTC(2026, 10, 1);
const NOW = T0 + 30 * DAY_MS;
const A100_HOUR = parseMoney('2.74470525'); // one GPU of a p4d.24xlarge: 21.957642 / 8
const FIRST = new Map([['prod-1', T0]]);

/** A day's row (daily ledger windows) of `gpus` A100s of p4d on demand. */
function day(d: number, gpus: number, overrides: Partial<LedgerRow> = {}): LedgerRow {
  const gpuHours = BigInt(gpus * 24) * 1_000_000_000n;
  return jobRow({
    workloadKind: 'Deployment',
    workloadName: 'chat-api',
    jobOutcome: '',
    windowStartMs: T0 + d * DAY_MS,
    windowEndMs: T0 + (d + 1) * DAY_MS,
    instanceType: 'p4d.24xlarge',
    region: 'us-east-1',
    capacityType: 'on-demand',
    gpuHours,
    onDemandEquivalent: A100_HOUR * BigInt(gpus * 24),
    cost: A100_HOUR * BigInt(gpus * 24),
    spotSavings: 0n,
    ...overrides,
  });
}

const days = (gpusOf: (d: number) => number, overrides: Partial<LedgerRow> = {}) =>
  Array.from({ length: 30 }, (_, d) => day(d, gpusOf(d), overrides)).filter((r) => r.gpuHours > 0n);

const advice = (rows: LedgerRow[], first = FIRST, settings = DEFAULT_COMMITMENT) =>
  commitments(rows, NOW, DAY_MS, first, settings).map((r) => [
    r.target,
    r.details.baselineGpus,
    formatMoney(r.monthlySaving, 9),
    r.confidence,
  ]);

describe('commitments', () => {
  it('commits to the 10th percentile of on-demand GPUs: 16 most days, 8 on three', () => {
    const [r] = commitments(
      days((d) => (d < 3 ? 8 : 16)),
      NOW,
      DAY_MS,
      FIRST,
    );
    // 8 GPUs x 2.74470525 x 30 % x 730 = 6.5872926 x 730
    expect(r?.monthlySaving).toBe(parseMoney('4808.723598'));
    // The same advice as the worked example's, whose p4d runs 8 GPUs every day.
    expect(r && recommendationJson(r)).toEqual(WORKED_EXAMPLE_JSON[0]);
  });

  it.each<[string, LedgerRow[], unknown[]]>([
    [
      'days without rows count as none: 16 GPUs, below it on two days (medium)',
      days((d) => (d < 2 ? 0 : 16)),
      [['p4d/us-east-1', 16, '9617.447196000', 'medium']],
    ],
    [
      "idle capacity counts: a reservation pays for the node's unrequested GPUs too",
      [...days(() => 6), ...days(() => 2, { workloadKind: 'Node', workloadName: 'n1', namespace: '' })],
      [['p4d/us-east-1', 8, '4808.723598000', 'high']],
    ],
    ['a fraction of a GPU is rounded down', days(() => 7.5), [['p4d/us-east-1', 7, '4207.633148250', 'high']]],
    // The "no recommendation" cases.
    ['spot GPUs are not committed to', days(() => 16, { capacityType: 'spot' }), []],
    ['on fewer than 90 % of the days', days((d) => (d < 4 ? 0 : 16)), []],
    ['rows outside the look-back do not count', [day(-1, 16), day(30, 16)], []],
  ])('%s', (_, rows, expected) => {
    expect(advice(rows)).toEqual(expected);
  });

  it('makes none from less history than the look-back', () => {
    expect(
      advice(
        days(() => 16),
        new Map([['prod-1', T0 + DAY_MS]]),
      ),
    ).toEqual([]);
  });

  it('takes the discount and the percentile from its settings; the break-even is 100 % minus the discount', () => {
    const [r] = commitments(
      days((d) => (d < 6 ? 8 : 16)),
      NOW,
      DAY_MS,
      FIRST,
      {
        ...DEFAULT_COMMITMENT,
        percentile: 20,
        discountPercent: '42.5',
      },
    );
    expect([
      r?.details.baselineGpus,
      r?.details.breakEvenUtilizationPercent,
      formatMoney(r?.monthlySaving ?? 0n, 9),
    ]).toEqual([
      8,
      '57.50',
      '6812.358430500', // 8 x 2.74470525 x 42.5 % x 730
    ]);
  });

  it('ignores rows without GPU-hours', () => {
    expect(advice(days(() => 16, { gpuHours: 0n }))).toEqual([]);
  });
});
