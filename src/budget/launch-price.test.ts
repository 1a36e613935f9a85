import { describe, expect, it } from 'vitest';
import { GPU_UNITS_PER_GPU, type ResourceSplit } from '../cost/types.ts';
import { parseMoney } from '../cost/money.ts';
import { readAdmittedPod } from './admitted-pod.ts';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import {
  budgetStanding,
  launchRange,
  launchWarning,
  podShareOfNode,
  runDeadline,
  type LaunchRange,
  type LaunchWarningInput,
  type PricedGpuNode,
} from './launch-price.ts';

const GiB = 2 ** 30;
const split = (gpu: string, cpu: string, memory: string): ResourceSplit => {
  const [g, c, m] = [parseMoney(gpu), parseMoney(cpu), parseMoney(memory)];
  return { gpu: g, cpu: c, memory: m, total: g + c + m };
};

/** The p4d.24xlarge of docs/cost-model.md: 21.957642 $/h, of which GPU 14.085642, CPU 3.0336, memory 4.8384. */
const P4D: PricedGpuNode = {
  name: 'p4d-1',
  labels: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
  taints: [],
  gpuResources: { 'nvidia.com/gpu': 8 },
  cpuMillis: 96_000,
  memoryBytes: 1152 * GiB,
  instanceType: 'p4d.24xlarge',
  capacityType: 'on-demand',
  gpuUnits: 8 * GPU_UNITS_PER_GPU,
  replicas: 1,
  perHour: split('14.085642', '3.0336', '4.8384'),
  shareKey: 'p4d',
};
/** A g5.xlarge: 1 A10G, 4 vCPU, 16 GiB at 1.006 $/h. */
const G5: PricedGpuNode = {
  ...P4D,
  name: 'g5-1',
  gpuResources: { 'nvidia.com/gpu': 1 },
  cpuMillis: 4000,
  memoryBytes: 16 * GiB,
  instanceType: 'g5.xlarge',
  gpuUnits: GPU_UNITS_PER_GPU,
  perHour: split('0.8126', '0.1264', '0.0672'),
  shareKey: 'g5',
};

const gpuPod = (gpus: string, requests: Record<string, string> = {}, spec: Record<string, unknown> = {}) =>
  readAdmittedPod({
    spec: { containers: [{ resources: { limits: { 'nvidia.com/gpu': gpus }, requests } }], ...spec },
  });

describe('podShareOfNode', () => {
  it("is what the engine bills: each part by the pod's request over the node's (docs/cost-model.md, example 1)", () => {
    // 2 of 8 GPUs, 8 of 96 vCPU, 64 of 1152 GiB: 3.5214105 + 0.2528 + 0.2688 per hour, the cost model's
    // 6.06451575 over an hour and a half.
    const share = podShareOfNode(gpuPod('2', { cpu: '8', memory: '64Gi' }), P4D, P4D.perHour as ResourceSplit);
    expect(share).toBe(parseMoney('4.0430105'));
  });

  it('counts a time-sliced GPU as its fraction, and a whole node for all of it', () => {
    const sliced = { ...P4D, gpuResources: { 'nvidia.com/gpu': 32 }, replicas: 4 };
    expect(podShareOfNode(gpuPod('1'), sliced, P4D.perHour as ResourceSplit)).toBe(parseMoney('0.440176313'));
    const whole = gpuPod('8', { cpu: '96', memory: '1152Gi' });
    expect(podShareOfNode(whole, P4D, P4D.perHour as ResourceSplit)).toBe(parseMoney('21.957642'));
  });
});

describe('a node selection over its limits', () => {
  const term = (requirements: number, values = 1) => ({
    matchExpressions: Array.from({ length: requirements }, (_, i) => ({
      key: `k${String(i)}`,
      operator: 'NotIn',
      values: Array.from({ length: values }, (_, v) => `v${String(v)}`),
    })),
  });
  const affinity = (terms: unknown[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
  });
  const tolerations = (n: number) => ({
    tolerations: Array.from({ length: n }, (_, i) => ({ key: `t${String(i)}`, operator: 'Exists' })),
  });
  it.each([
    [
      'at every limit: matched',
      { ...affinity(Array.from({ length: 16 }, () => term(32, 64))), ...tolerations(64) },
      false,
    ],
    ['17 terms', affinity(Array.from({ length: 17 }, () => term(1))), true],
    ['33 requirements in a term', affinity([term(33)]), true],
    ['65 values in a requirement', affinity([term(1, 65)]), true],
    ['65 tolerations', tolerations(65), true],
    [
      '65 nodeSelector labels',
      { nodeSelector: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${String(i)}`, 'x'])) },
      true,
    ],
  ] as const)('%s', (_name, spec, tooComplex) => {
    const pod = gpuPod('1', {}, spec);
    expect(pod.tooComplex).toBe(tooComplex);
    if (tooComplex)
      expect(launchRange(pod, [P4D, G5])).toEqual({
        fits: 0,
        cheapest: undefined,
        dearest: undefined,
        tooComplex: true,
      });
  });
});

describe('launchRange', () => {
  const unpriced = { ...P4D, name: 'p4d-unpriced', perHour: undefined };
  const tainted = { ...G5, name: 'g5-tainted', taints: [{ key: 'team', value: 'x', effect: 'NoSchedule' }] };
  it('finds the cheapest and the dearest offer among the nodes the pod fits on, priced or not', () => {
    expect(launchRange(gpuPod('1'), [P4D, unpriced, G5, tainted])).toEqual({
      fits: 3,
      cheapest: { perHour: parseMoney('0.8126'), instanceType: 'g5.xlarge', capacityType: 'on-demand', node: 'g5-1' },
      dearest: {
        perHour: parseMoney('1.76070525'),
        instanceType: 'p4d.24xlarge',
        capacityType: 'on-demand',
        node: 'p4d-1',
      },
    });
  });

  it('fits nowhere, or only on nodes without a price', () => {
    expect(launchRange(gpuPod('2'), [G5])).toEqual({ fits: 0, cheapest: undefined, dearest: undefined });
    expect(launchRange(gpuPod('2'), [unpriced])).toEqual({ fits: 1, cheapest: undefined, dearest: undefined });
  });

  it('breaks ties by instance type then node, so that the answer does not follow the cache order', () => {
    const twin = { ...P4D, name: 'p4d-0' };
    expect(launchRange(gpuPod('1'), [P4D, twin]).cheapest?.node).toBe('p4d-0');
    expect(launchRange(gpuPod('1'), [P4D, twin]).dearest?.node).toBe('p4d-1');
  });
});

describe('launchWarning', () => {
  const offer = (
    perHour: string,
    instanceType: string | undefined,
    capacityType: 'on-demand' | 'spot' = 'on-demand',
  ) => ({
    perHour: parseMoney(perHour),
    instanceType,
    capacityType,
    node: 'n-1',
  });
  const range = (cheapest: ReturnType<typeof offer>, dearest = cheapest): LaunchRange => ({
    fits: 2,
    cheapest,
    dearest,
  });
  const warning = (over: Partial<LaunchWarningInput>) =>
    launchWarning({
      range: range(offer('21.957642', 'p4d.24xlarge')),
      currency: 'USD',
      deadlineSeconds: undefined,
      budgets: [],
      ...over,
    });
  const research = { policy: 'team-research', amount: parseMoney('5000'), currency: 'USD', percent: 72 };

  it.each<[string, Partial<LaunchWarningInput>, string]>([
    ['one instance type', {}, 'aicost: about 21.96 USD/h on p4d.24xlarge (on-demand)'],
    [
      'with the budget in scope',
      { budgets: [research] },
      'aicost: about 21.96 USD/h on p4d.24xlarge (on-demand); budget team-research at 72 % of 5000.00 USD',
    ],
    [
      'two instance types',
      { range: range(offer('1.21', 'g5.xlarge'), offer('4.1', 'p4d.24xlarge')) },
      'aicost: about 1.21-4.10 USD/h on g5.xlarge..p4d.24xlarge (on-demand)',
    ],
    [
      'two capacity types',
      { range: range(offer('0.5', 'g5.xlarge', 'spot'), offer('1.006', 'g5.xlarge')) },
      'aicost: about 0.50-1.01 USD/h on g5.xlarge (spot)..g5.xlarge (on-demand)',
    ],
    [
      'a node without an instance type label',
      { range: range(offer('2', undefined)) },
      'aicost: about 2.00 USD/h on node n-1 (on-demand)',
    ],
    [
      "a Job's deadline: the dearest hourly price times it",
      { range: range(offer('1.21', 'g5.xlarge'), offer('21.957642', 'p4d.24xlarge')), deadlineSeconds: 7200 },
      'aicost: about 1.21-21.96 USD/h on g5.xlarge..p4d.24xlarge (on-demand), at most 43.92 USD over its 2h deadline',
    ],
    [
      'a deadline to the second, rounded to the cent once',
      { deadlineSeconds: 5401 },
      'aicost: about 21.96 USD/h on p4d.24xlarge (on-demand), at most 32.94 USD over its 5401s deadline',
    ],
    [
      'no node it fits on',
      { range: { fits: 0, cheapest: undefined, dearest: undefined } },
      'aicost: no node it fits on now',
    ],
    [
      'a node selection too long to match',
      { range: { fits: 0, cheapest: undefined, dearest: undefined, tooComplex: true as const } },
      'aicost: no price: its node selection is too long to match here',
    ],
    [
      'only unpriced nodes',
      { range: { fits: 3, cheapest: undefined, dearest: undefined }, budgets: [research] },
      'aicost: no price for the 3 nodes it fits on; budget team-research at 72 % of 5000.00 USD',
    ],
    [
      'a budget not counted in this period yet, and more budgets than are shown',
      {
        budgets: [
          { ...research, policy: 'a', percent: undefined },
          { ...research, policy: 'b' },
          { ...research, policy: 'c', percent: 130 },
          { ...research, policy: 'd' },
          { ...research, policy: 'e' },
        ],
      },
      'aicost: about 21.96 USD/h on p4d.24xlarge (on-demand); budget a of 5000.00 USD; budget b at 72 % of 5000.00 USD; ' +
        'budget c at 130 % of 5000.00 USD; 2 more budgets',
    ],
  ])('%s', (_name, over, expected) => {
    expect(warning(over)).toBe(expected);
  });
});

describe('runDeadline', () => {
  it.each<[number | undefined, number | undefined, number | undefined]>([
    [undefined, undefined, undefined],
    [3600, undefined, 3600],
    [undefined, 7200, 7200],
    [7200, 1800, 1800],
    [0, -5, undefined],
  ])('pod %s, Job %s: %s', (pod, job, expected) => {
    expect(runDeadline(pod, job)).toBe(expected);
  });
});

describe('budgetStanding', () => {
  const NOW = Date.UTC(2026, 10, 21);
  const record = (over: { generation?: number; periodEnd?: string; currency?: string } = {}): PolicyRecord => ({
    name: 'team-research',
    uid: 'u',
    generation: over.generation ?? 1,
    invalid: undefined,
    spec: policySpecSchema.parse({ rules: { budget: { amount: '5000' } } }),
    status: {
      observedGeneration: 1,
      ...(over.currency ? { currency: over.currency } : {}),
      budget: {
        periodStart: '2026-11-01T00:00:00Z',
        periodEnd: over.periodEnd ?? '2026-12-01T00:00:00Z',
        accountedUntil: '2026-11-20T23:55:00Z',
        spent: '3600.000000',
        percent: 72,
        forecast: '5400.00',
        forecastPercent: 108,
      },
    },
  });
  it.each<[string, PolicyRecord, number | undefined, string]>([
    ['counted this period', record({ currency: 'EUR' }), 72, 'EUR'],
    ['a status of the last period', record({ periodEnd: '2026-11-01T00:00:00Z' }), undefined, 'USD'],
    ['a status of another generation', record({ generation: 2 }), undefined, 'USD'],
  ])('%s', (_name, policy, percent, currency) => {
    expect(budgetStanding(policy, NOW, 'USD')).toEqual({
      policy: 'team-research',
      amount: parseMoney('5000'),
      currency,
      percent,
    });
  });
});
