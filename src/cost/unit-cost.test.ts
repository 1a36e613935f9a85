import { describe, expect, it } from 'vitest';
import type { PodInference } from '../measure/inference-metrics.ts';
import { podFacts, tenDollarNode } from '../testing/cost-fixtures.ts';
import { parseMoney } from './money.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts, type PodFacts } from './types.ts';
import { planUnitCosts, renderUnitCost, unitCostOf, type EndpointPod, type UnitCost } from './unit-cost.ts';

/** A p4d.24xlarge as docs/cost-model.md prices it: 14.085642 $/h of GPU part, 1.76070525 $ per GPU-hour. */
const p4d: NodeFacts = {
  name: 'p4d',
  perHour: {
    total: parseMoney('21.957642'),
    gpu: parseMoney('14.085642'),
    cpu: parseMoney('3.0336'),
    memory: parseMoney('4.8384'),
  },
  capacityType: 'on-demand',
  gpuUnits: 8 * GPU_UNITS_PER_GPU,
  cpuMillis: 96_000,
  memoryBytes: 1152 * 2 ** 30,
  labels: {},
};
const HOUR_END = 1_800_000_000;
const deployment = { kind: 'Deployment' as const, namespace: 'ml', name: 'llm' };
/** A pod of the llm Deployment holding one GPU of the p4d (nothing else) since `from`. */
const llmPod = (name: string, over: Partial<PodFacts> = {}): PodFacts =>
  podFacts(name, 'p4d', { gpuUnits: GPU_UNITS_PER_GPU, from: HOUR_END - 7200, workload: deployment, ...over });
/** What a vLLM pod serving `seconds` at the worked example's rates reports (docs/unit-economics.md). */
const vllm = (seconds: number, over: Partial<PodInference> = {}): PodInference => ({
  models: ['llama-3-8b'],
  promptTokens: 400 * seconds,
  generationTokens: 600 * seconds,
  requests: 2 * seconds,
  prefillSeconds: 0.125 * seconds,
  decodeSeconds: 0.375 * seconds,
  ...over,
});
const nanos = (text: string) => parseMoney(text);

describe('the worked example of docs/unit-economics.md', () => {
  it('prices a vLLM endpoint on one A100 of a p4d over an hour, on both bases, to the nano', () => {
    const figures = planUnitCosts({
      nowSeconds: HOUR_END,
      windowSeconds: 3600,
      nodes: [p4d],
      pods: [llmPod('llm-0')],
      served: new Map([['ml/llm-0', vllm(3600)]]),
    }).get('Deployment/ml/llm');
    expect(figures).toEqual<UnitCost>({
      models: ['llama-3-8b'],
      tokens: { input: 1_440_000, output: 2_160_000 },
      requests: 7200,
      split: 'time',
      allocation: {
        cost: nanos('1.76070525'),
        // 1.76070525 × 10^6 / 3,600,000 tokens = 0.48908479166…
        perMillionTokens: 489_084_792n,
        // A quarter of the serving time is prefill: 0.4401763125 $ over 1,440,000 prompt tokens.
        perMillionInputTokens: 305_677_995n,
        perMillionOutputTokens: 611_355_989n,
        perThousandRequests: 244_542_396n,
      },
      usage: {
        // Busy half the hour: 1,800 s of prefill and decode over 3,600 s running.
        cost: nanos('0.880352625'),
        perMillionTokens: 244_542_396n,
        perMillionInputTokens: 152_838_997n,
        perMillionOutputTokens: 305_677_995n,
        perThousandRequests: 122_271_198n,
      },
    });
    expect(renderUnitCost(figures)).toEqual({
      'aicost.dev/cost-per-million-tokens': '0.489085',
      'aicost.dev/cost-per-1k-requests': '0.244542',
      'aicost.dev/cost-per-million-tokens-usage': '0.244542',
      'aicost.dev/cost-per-1k-requests-usage': '0.122271',
    });
  });
});

/** A pod of an endpoint costing `cost` dollars over `seconds` of the window. */
const pod = (cost: string | undefined, seconds: number, served?: PodInference): EndpointPod => ({
  cost: cost === undefined ? undefined : nanos(cost),
  seconds,
  served,
});

describe('unit costs of an endpoint', () => {
  it.each<[string, EndpointPod[], Record<string, unknown>]>([
    [
      // No prefill/decode times: the documented fallback splits by token counts, every token priced alike.
      'split by token counts without serving times',
      [pod('1', 3600, { models: ['m'], promptTokens: 250_000, generationTokens: 750_000, requests: 500 })],
      {
        split: 'tokens',
        allocation: {
          cost: nanos('1'),
          perMillionTokens: nanos('1'),
          perMillionInputTokens: nanos('1'),
          perMillionOutputTokens: nanos('1'),
          perThousandRequests: nanos('2'),
        },
        usage: undefined,
      },
    ],
    [
      // Triton: requests and compute time, no tokens.
      'requests and a single serving time',
      [pod('3', 600, { models: ['resnet'], requests: 1500, servingSeconds: 150 })],
      {
        tokens: undefined,
        split: undefined,
        allocation: {
          cost: nanos('3'),
          perMillionTokens: undefined,
          perMillionInputTokens: undefined,
          perMillionOutputTokens: undefined,
          perThousandRequests: nanos('2'),
        },
        usage: {
          cost: nanos('0.75'),
          perMillionTokens: undefined,
          perMillionInputTokens: undefined,
          perMillionOutputTokens: undefined,
          perThousandRequests: nanos('0.5'),
        },
      },
    ],
    [
      // Nothing served over the window: the series are there, the figures are not (never 0, never infinite).
      'zero tokens and zero requests',
      [pod('2', 3600, { models: ['m'], promptTokens: 0, generationTokens: 0, requests: 0.4 })],
      {
        tokens: { input: 0, output: 0 },
        requests: 0,
        split: undefined,
        allocation: {
          cost: nanos('2'),
          perMillionTokens: undefined,
          perMillionInputTokens: undefined,
          perMillionOutputTokens: undefined,
          perThousandRequests: undefined,
        },
      },
    ],
    [
      // Requests served together overlap: 5,000 request-seconds in 3,600 s running is a busy share of 1.
      'a busy share capped at 1',
      [pod('1', 3600, { models: [], requests: 1000, prefillSeconds: 1000, decodeSeconds: 4000 })],
      { usage: expect.objectContaining({ cost: nanos('1'), perThousandRequests: nanos('1') }) },
    ],
    [
      // The whole cost on the allocation basis; the pod with no series (loading its model, say) served nothing.
      'a pod without series: in the allocation, not in the usage',
      [
        pod('1', 3600, { models: ['m'], requests: 1000, prefillSeconds: 900, decodeSeconds: 900 }),
        pod('1', 3600, undefined),
      ],
      {
        requests: 1000,
        allocation: expect.objectContaining({ cost: nanos('2'), perThousandRequests: nanos('2') }),
        usage: expect.objectContaining({ cost: nanos('0.5'), perThousandRequests: nanos('0.5') }),
      },
    ],
    [
      // Busy share per pod, over the seconds each ran: 30 of 60 s and 60 of 3,600 s.
      'busy shares per pod, each over its own running time',
      [
        pod('0.6', 60, { models: ['m'], requests: 10, servingSeconds: 30 }),
        pod('36', 3600, { models: ['m'], requests: 90, servingSeconds: 60 }),
      ],
      {
        requests: 100,
        usage: expect.objectContaining({ cost: nanos('0.9'), perThousandRequests: nanos('9') }),
      },
    ],
    [
      // increase() extrapolates: counts are rounded to whole tokens and requests, times to milliseconds.
      'fractional counts rounded before dividing',
      [
        pod('1', 3600, {
          models: ['m'],
          promptTokens: 399_999.6,
          generationTokens: 599_999.5,
          requests: 999.5,
          prefillSeconds: 0.0004,
          decodeSeconds: 0.0015,
        }),
      ],
      {
        tokens: { input: 400_000, output: 600_000 },
        requests: 1000,
        // 0.4 ms of prefill rounds to 0 and 1.5 ms of decode to 2: all of the cost is output's.
        split: 'time',
        allocation: expect.objectContaining({
          perMillionTokens: nanos('1'),
          perMillionInputTokens: 0n,
          perMillionOutputTokens: parseMoney('1.666666667'),
        }),
      },
    ],
    [
      // One token-counting pod without the split: the split by time would leave its tokens out.
      'split by tokens when a token-counting pod reports no prefill and decode times',
      [
        pod('1', 3600, vllm(100)),
        pod('1', 3600, { models: ['llama-3-8b'], promptTokens: 400, generationTokens: 600, requests: 2 }),
      ],
      { split: 'tokens', usage: undefined },
    ],
    [
      // Model names from every pod, once each, sorted.
      'models of every pod',
      [pod('1', 60, vllm(60, { models: ['b', 'a'] })), pod('1', 60, vllm(60, { models: ['c', 'a'] }))],
      { models: ['a', 'b', 'c'] },
    ],
  ])('%s', (_what, pods, expected) => {
    expect(unitCostOf(pods)).toMatchObject(expected);
  });

  it('is unknown when no pod reported anything, and when a part of the cost is unknown', () => {
    expect(unitCostOf([])).toBeUndefined();
    expect(unitCostOf([pod('1', 3600)])).toBeUndefined();
    expect(unitCostOf([pod('1', 3600, vllm(3600)), pod(undefined, 3600)])).toBeUndefined();
    expect(renderUnitCost(undefined)).toEqual({
      'aicost.dev/cost-per-million-tokens': null,
      'aicost.dev/cost-per-1k-requests': null,
      'aicost.dev/cost-per-million-tokens-usage': null,
      'aicost.dev/cost-per-1k-requests-usage': null,
    });
  });

  it('renders an unknown basis as no annotation beside a known one', () => {
    const figures = unitCostOf([pod('1', 3600, { models: [], promptTokens: 1e6, generationTokens: 0, requests: 1 })]);
    expect(renderUnitCost(figures)).toEqual({
      'aicost.dev/cost-per-million-tokens': '1.000000',
      'aicost.dev/cost-per-1k-requests': '1000.000000',
      'aicost.dev/cost-per-million-tokens-usage': null,
      'aicost.dev/cost-per-1k-requests-usage': null,
    });
  });
});

describe('planning the endpoints of a cycle', () => {
  const plan = (pods: PodFacts[], served: [string, PodInference][], nodes: NodeFacts[] = [p4d]) =>
    planUnitCosts({ nowSeconds: HOUR_END, windowSeconds: 3600, nodes, pods, served: new Map(served) });

  it('covers Deployments and StatefulSets with a pod that reported, not Jobs, bare pods or silent endpoints', () => {
    const figures = plan(
      [
        llmPod('llm-0'),
        llmPod('sts-0', { workload: { kind: 'StatefulSet', namespace: 'ml', name: 'sts' } }),
        llmPod('job-0', { workload: { kind: 'Job', namespace: 'ml', name: 'batch' } }),
        llmPod('bare', { workload: { kind: 'Pod', namespace: 'ml', name: 'bare' } }),
        llmPod('quiet-0', { workload: { kind: 'Deployment', namespace: 'ml', name: 'quiet' } }),
      ],
      ['llm-0', 'sts-0', 'job-0', 'bare'].map((name) => [`ml/${name}`, vllm(3600)]),
    );
    expect([...figures.keys()].sort()).toEqual(['Deployment/ml/llm', 'StatefulSet/ml/sts']);
  });

  it('costs a pod from its start, or to its end, within the window, and its busy share over that time', () => {
    // Started 15 minutes before the window's end; another ended 45 minutes into it: 900 + 2,700 GPU-seconds.
    const figures = plan(
      [llmPod('new', { from: HOUR_END - 900 }), llmPod('old', { until: HOUR_END - 900 })],
      [
        ['ml/new', vllm(900)],
        ['ml/old', vllm(2700)],
      ],
    ).get('Deployment/ml/llm');
    expect(figures?.allocation.cost).toBe(nanos('1.76070525'));
    expect(figures?.tokens).toEqual({ input: 1_440_000, output: 2_160_000 });
    // Each pod's half is rounded to the nano on its own: 0.2200881565 and 0.6602644685, both up.
    expect(figures?.usage?.cost).toBe(nanos('0.880352626'));
  });

  it('has no figures for an endpoint with a pod on an unpriced node', () => {
    const unpriced = { ...tenDollarNode('free'), perHour: undefined };
    const figures = plan(
      [llmPod('llm-0'), llmPod('llm-1', { nodeName: 'free' })],
      [['ml/llm-0', vllm(3600)]],
      [p4d, unpriced],
    );
    expect(figures.size).toBe(0);
  });

  it('asks the engine nothing when no endpoint reported', () => {
    expect(plan([llmPod('llm-0')], []).size).toBe(0);
  });
});
