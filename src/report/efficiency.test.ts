import { describe, expect, it } from 'vitest';
import { formatReport } from './format.ts';
import { HOUR_MS, jobRow, nodeRow, WINDOW_START_MS } from '../testing/ledger-rows.ts';
import { GroupSums, reportRows } from './aggregate.ts';
import {
  addEfficiency,
  efficiencyOf,
  NO_EFFICIENCY,
  usedRatio,
  workloadClass,
  WORKLOAD_CLASS_LABEL,
  type Efficiency,
} from './efficiency.ts';

const labelled = (value: string) => ({ labels: { [WORKLOAD_CLASS_LABEL]: value } });

describe('workload class', () => {
  it.each<[string, Parameters<typeof jobRow>[0], string | undefined]>([
    ['a Job trains', {}, 'training'],
    ['a Deployment whose series were seen serves', { workloadKind: 'Deployment', servedModels: 'llama' }, 'inference'],
    ['one whose series name no model serves too', { workloadKind: 'StatefulSet', servedModels: '' }, 'inference'],
    ['a Deployment without series is development', { workloadKind: 'Deployment' }, 'development'],
    ['a bare pod without series is development', { workloadKind: 'Pod' }, 'development'],
    ['a bare pod with series serves', { workloadKind: 'Pod', servedModels: 'x' }, 'inference'],
    ['the label wins over the kind', { ...labelled('development') }, 'development'],
    [
      'the label wins over the series',
      { workloadKind: 'Deployment', servedModels: 'x', ...labelled('training') },
      'training',
    ],
    [
      'an invalid value is ignored: the default rule',
      { workloadKind: 'Deployment', ...labelled('free') },
      'development',
    ],
    ['values are exact: no case folding', { ...labelled('Inference') }, 'training'],
    ['nor spaces', { ...labelled(' inference') }, 'training'],
    ['an empty value is ignored', { ...labelled('') }, 'training'],
  ])('%s', (_, overrides, expected) => {
    expect(workloadClass(jobRow(overrides))).toBe(expected);
  });

  it('idle capacity has none', () => {
    expect(workloadClass(nodeRow({ labels: { [WORKLOAD_CLASS_LABEL]: 'training' } }))).toBeUndefined();
  });
});

describe('efficiency figures of a row', () => {
  const base = { cost: 10n, gpuHours: 2_000_000_000n };
  it.each<[string, Parameters<typeof jobRow>[0], Partial<Efficiency>]>([
    ['a Job at 81 %: training, not flagged', { ...base }, { trainingCost: 10n, gpuHours: 2_000_000_000n }],
    [
      'a Job at 69.99 %: its GPU-hours flagged',
      { ...base, utilization: 0.6999 },
      { trainingCost: 10n, gpuHours: 2_000_000_000n, lowUtilizationGpuHours: 2_000_000_000n },
    ],
    ['exactly 70 % is not under', { ...base, utilization: 0.7 }, { trainingCost: 10n, gpuHours: 2_000_000_000n }],
    [
      'a CPU Job (no GPU-hours, utilization unknown): its cost in its class, no GPU-hours of any kind',
      { cost: 10n, gpuHours: 0n, idleGpuHours: 0n, utilization: null, compute: 'cpu' },
      { trainingCost: 10n },
    ],
    [
      'unmeasured: apart, never flagged',
      { ...base, utilization: null },
      { trainingCost: 10n, gpuHours: 2_000_000_000n, unmeasuredGpuHours: 2_000_000_000n },
    ],
    [
      'an endpoint with requests, GPU idle: used',
      { ...base, workloadKind: 'Deployment', servedModels: 'm', requests: 1n, utilization: 0 },
      {
        inferenceCost: 10n,
        gpuHours: 2_000_000_000n,
        lowUtilizationGpuHours: 2_000_000_000n,
        endpointGpuHours: 2_000_000_000n,
        endpointUsedGpuHours: 2_000_000_000n,
      },
    ],
    [
      'an endpoint with no requests but GPU activity: used',
      { ...base, workloadKind: 'Deployment', servedModels: 'm', requests: 0n },
      {
        inferenceCost: 10n,
        gpuHours: 2_000_000_000n,
        endpointGpuHours: 2_000_000_000n,
        endpointUsedGpuHours: 2_000_000_000n,
      },
    ],
    [
      'an endpoint with neither: running, not used',
      { ...base, workloadKind: 'Deployment', servedModels: 'm', requests: 0n, utilization: 0 },
      {
        inferenceCost: 10n,
        gpuHours: 2_000_000_000n,
        lowUtilizationGpuHours: 2_000_000_000n,
        endpointGpuHours: 2_000_000_000n,
      },
    ],
    [
      'an endpoint unmeasured and without request counts: not used (nothing says it was)',
      { ...base, workloadKind: 'Deployment', servedModels: '', utilization: null },
      {
        inferenceCost: 10n,
        gpuHours: 2_000_000_000n,
        unmeasuredGpuHours: 2_000_000_000n,
        endpointGpuHours: 2_000_000_000n,
      },
    ],
  ])('%s', (_, overrides, expected) => {
    expect(efficiencyOf(jobRow(overrides))).toEqual({ ...NO_EFFICIENCY, ...expected });
  });

  it('idle capacity adds GPU-hours only', () => {
    expect(efficiencyOf(nodeRow({ gpuHours: 5n }))).toEqual({ ...NO_EFFICIENCY, gpuHours: 5n });
  });

  it('adds field by field', () => {
    const a = efficiencyOf(jobRow({ cost: 1n, gpuHours: 2n, utilization: 0.1 }));
    expect(addEfficiency(a, a)).toEqual({
      ...NO_EFFICIENCY,
      trainingCost: 2n,
      gpuHours: 4n,
      lowUtilizationGpuHours: 4n,
    });
  });

  it.each<[bigint, bigint, string | null]>([
    [0n, 0n, null],
    [0n, 3n, '0.0000'],
    [3n, 3n, '1.0000'],
    [1n, 3n, '0.3333'],
    [2n, 3n, '0.6667'],
    [1n, 20_000n, '0.0001'], // half up
    [1n, 20_001n, '0.0000'],
  ])('used %s of %s endpoint GPU-hours: %s', (used, all, ratio) => {
    expect(usedRatio({ ...NO_EFFICIENCY, endpointGpuHours: all, endpointUsedGpuHours: used })).toBe(ratio);
  });
});

describe('the worked example of docs/unit-economics.md', () => {
  /** An A100-hour: 1.76070525 $, in nano-units. */
  const A100_HOUR = 1_760_705_250n;
  const hour = (i: number) => ({
    windowStartMs: WINDOW_START_MS + i * HOUR_MS,
    windowEndMs: WINDOW_START_MS + (i + 1) * HOUR_MS,
  });
  const team = { team: 'alpha', labels: { team: 'alpha' } };
  const rows = [
    ...Array.from({ length: 10 }, (_, i) =>
      jobRow({
        ...hour(i),
        ...team,
        workloadName: 'train',
        gpuHours: 8_000_000_000n,
        cost: 8n * A100_HOUR,
        utilization: i < 6 ? 0.9 : 0.5,
      }),
    ),
    ...Array.from({ length: 24 }, (_, i) =>
      jobRow({
        ...hour(i),
        ...team,
        workloadKind: 'Deployment',
        workloadName: 'llm',
        workloadUid: 'llm-uid',
        jobOutcome: '',
        gpuHours: 1_000_000_000n,
        cost: A100_HOUR,
        servedModels: 'llama-3-8b',
        promptTokens: i < 9 ? 1_440_000n : 0n,
        generatedTokens: i < 9 ? 2_160_000n : 0n,
        requests: i < 9 ? 7_200n : 0n,
        utilization: i < 9 ? 0.4 : 0,
      }),
    ),
    ...Array.from({ length: 8 }, (_, i) =>
      jobRow({
        ...hour(i),
        team: 'alpha',
        labels: { team: 'alpha', [WORKLOAD_CLASS_LABEL]: 'Training' },
        workloadKind: 'StatefulSet',
        workloadName: 'notebook',
        workloadUid: 'nb-uid',
        jobOutcome: '',
        gpuHours: 1_000_000_000n,
        cost: A100_HOUR,
        utilization: null,
      }),
    ),
  ];

  it('gives the figures of the page', () => {
    const sums = new GroupSums(['team'], undefined, false, true);
    sums.add(rows);
    expect(JSON.parse(formatReport(reportRows(sums.groups(), 'separate', ['team']), ['team'], 'json', true))).toEqual([
      {
        team: 'alpha',
        cost: '197.198988',
        currency: 'USD',
        trainingCost: '140.85642',
        inferenceCost: '42.256926',
        developmentCost: '14.085642',
        gpuHours: '112.00',
        gpuHoursUnder70: '56.00',
        gpuHoursUnmeasured: '8.00',
        endpointGpuHours: '24.00',
        endpointUsedRatio: '0.3750',
      },
    ]);
  });
});
