/**
 * An inference endpoint's unit costs through the accounting cycle, on the in-memory API: the annotations of
 * docs/unit-economics.md's worked example written at the cycle after the servers' series appear, not held back
 * by --annotate-interval; value changes held by it; removed when the series go; kept through a Prometheus
 * outage; and the gauges.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, startOperator } from '../testing/harness.ts';
import { allRows } from '../testing/ledger-world.ts';
import { MemorySink } from '../testing/memory-sink.ts';

const T0 = Date.UTC(2026, 10, 10, 12, 0, 0);
const DEPLOYMENT = '/apis/apps/v1/namespaces/ml/deployments/llm';
const UNIT_KEYS = [
  'aicost.dev/cost-per-million-tokens',
  'aicost.dev/cost-per-1k-requests',
  'aicost.dev/cost-per-million-tokens-usage',
  'aicost.dev/cost-per-1k-requests-usage',
];

/**
 * A p4d.24xlarge priced by the built-in catalog (1.76070525 $ per GPU-hour, docs/cost-model.md) and the llm
 * Deployment's pod on it, holding one GPU (and nothing else) for two hours already.
 */
function seed(api: FakeKube): void {
  api.put('/api/v1/nodes', {
    metadata: { name: 'p4d', labels: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' } },
    status: { allocatable: { cpu: '96', memory: '1152Gi', 'nvidia.com/gpu': '8' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'ml' } });
  api.put('/apis/apps/v1/namespaces/ml/deployments', {
    metadata: { name: 'llm', namespace: 'ml', uid: 'llm-uid' },
    spec: { replicas: 1 },
  });
  api.put('/apis/apps/v1/namespaces/ml/replicasets', {
    metadata: {
      name: 'llm-1',
      namespace: 'ml',
      uid: 'rs-uid',
      ownerReferences: [{ kind: 'Deployment', name: 'llm', controller: true }],
    },
  });
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: {
      name: 'llm-1-a',
      namespace: 'ml',
      uid: 'pod-uid',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'llm-1', controller: true }],
    },
    spec: { nodeName: 'p4d', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0 - 7_200_000).toISOString() },
  });
}

/**
 * What vLLM reported over the last hour (the worked example: 400 prompt and 600 generated tokens, 2 requests a
 * second, a quarter of the serving time in prefill, busy half the time), prompt tokens in the exported_ style.
 */
function serve(prometheus: FakePrometheus, requests = 7200): void {
  const pod = { pod: 'llm-1-a', namespace: 'ml', model_name: 'llama-3-8b' };
  const exported = { exported_pod: 'llm-1-a', exported_namespace: 'ml', pod: 'sim', namespace: 'ops' };
  prometheus.vectors.set('vllm:prompt_tokens_total', [
    { labels: { ...exported, model_name: 'llama-3-8b' }, value: 1_440_000 },
  ]);
  prometheus.vectors.set('vllm:generation_tokens_total', [{ labels: pod, value: 2_160_000 }]);
  prometheus.vectors.set('vllm:request_success_total', [{ labels: pod, value: requests }]);
  prometheus.vectors.set('vllm:request_prefill_time_seconds_sum', [{ labels: pod, value: 450 }]);
  prometheus.vectors.set('vllm:request_decode_time_seconds_sum', [{ labels: pod, value: 1350 }]);
}

const unitAnnotations = (api: FakeKube) => {
  const annotations = api.object(DEPLOYMENT)?.metadata.annotations ?? {};
  return Object.fromEntries(UNIT_KEYS.filter((k) => k in annotations).map((k) => [k, annotations[k]]));
};
const WORKED_EXAMPLE = {
  'aicost.dev/cost-per-million-tokens': '0.489085',
  'aicost.dev/cost-per-1k-requests': '0.244542',
  'aicost.dev/cost-per-million-tokens-usage': '0.244542',
  'aicost.dev/cost-per-1k-requests-usage': '0.122271',
};

/** A gauge's series as [labels, value]. */
const rows = async (metric: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
  (await metric.get()).values.map((v) => [v.labels, v.value]);

async function start(prometheus: FakePrometheus, sink = new MemorySink()) {
  const api = new FakeKube();
  seed(api);
  const clock = new FakeClock(T0);
  const op = await startOperator(
    api,
    clock,
    prometheus,
    ['team'],
    'Audit',
    undefined,
    { sink },
    {
      annotateIntervalMs: 300_000,
    },
  );
  /** One cycle a minute after the last one began. */
  const nextCycle = async () => {
    await clock.advance(59_000);
    await op.cycle();
  };
  return { api, clock, op, nextCycle };
}

describe('unit costs of an inference endpoint, cycle by cycle', () => {
  it('writes them at the cycle after the series appear, then at most once per --annotate-interval', async () => {
    const prometheus = new FakePrometheus();
    const { api, op, nextCycle } = await start(prometheus);

    // 1. Minute 0, no series: the Deployment has its cost (two hours of a GPU at 1.76070525 $), and no unit
    // costs (unknown is no annotation, never 0).
    await op.cycle();
    expect(api.object(DEPLOYMENT)?.metadata.annotations?.['aicost.dev/cost']).toBe('3.521411');
    expect(unitAnnotations(api)).toEqual({});
    // One query per signal, over the hour ending at the cycle.
    expect(prometheus.vectorQueries).toHaveLength(6);
    expect(prometheus.vectorQueries.every((q) => q.includes('[3600s]'))).toBe(true);

    // 2. The series appear: the next cycle (minute 1) writes the figures, a minute after the last write, not five.
    serve(prometheus);
    await nextCycle();
    expect(unitAnnotations(api)).toEqual(WORKED_EXAMPLE);

    // 3. A new value (7,300 requests) from minute 2: held until five minutes after the last write (minute 1).
    serve(prometheus, 7300);
    for (let minute = 2; minute <= 5; minute++) {
      await nextCycle();
      expect(unitAnnotations(api)['aicost.dev/cost-per-1k-requests'], `minute ${minute}`).toBe('0.244542');
    }
    await nextCycle(); // minute 6
    // 1.76070525 × 1000 / 7300 = 0.2411925, to 6 decimals half up.
    expect(unitAnnotations(api)['aicost.dev/cost-per-1k-requests']).toBe('0.241193');

    // 4. Prometheus down: the figures are unavailable, not unknown, and stay on the object.
    prometheus.down = true;
    await nextCycle();
    expect(unitAnnotations(api)['aicost.dev/cost-per-1k-requests']).toBe('0.241193');
    prometheus.down = false;

    // 5. The series go: the figures are unknown, and removed at once.
    prometheus.vectors.clear();
    await nextCycle();
    expect(unitAnnotations(api)).toEqual({});
    await op.stop();
  });

  it('publishes the gauges by basis and tokens, and removes them once unknown', async () => {
    const prometheus = new FakePrometheus();
    serve(prometheus);
    const { op, nextCycle } = await start(prometheus);
    await op.cycle();
    const labels = { namespace: 'ml', workload_kind: 'Deployment', workload: 'llm', model: 'llama-3-8b' };
    const usd = { currency: 'USD' };
    expect(await rows(op.metrics.costPerMillionTokens)).toEqual([
      [{ ...labels, basis: 'allocation', ...usd, tokens: 'all' }, 0.489084792],
      [{ ...labels, basis: 'allocation', ...usd, tokens: 'input' }, 0.305677995],
      [{ ...labels, basis: 'allocation', ...usd, tokens: 'output' }, 0.611355989],
      [{ ...labels, basis: 'usage', ...usd, tokens: 'all' }, 0.244542396],
      [{ ...labels, basis: 'usage', ...usd, tokens: 'input' }, 0.152838997],
      [{ ...labels, basis: 'usage', ...usd, tokens: 'output' }, 0.305677995],
    ]);
    expect(await rows(op.metrics.costPerThousandRequests)).toEqual([
      [{ ...labels, basis: 'allocation', ...usd }, 0.244542396],
      [{ ...labels, basis: 'usage', ...usd }, 0.122271198],
    ]);

    // No serving times: the usage basis is unknown, and its series go.
    prometheus.vectors.delete('vllm:request_prefill_time_seconds_sum');
    prometheus.vectors.delete('vllm:request_decode_time_seconds_sum');
    await nextCycle();
    expect((await rows(op.metrics.costPerThousandRequests)).map(([l]) => l)).toEqual([
      { ...labels, basis: 'allocation', ...usd },
    ]);
    prometheus.vectors.clear();
    await nextCycle();
    expect(await rows(op.metrics.costPerMillionTokens)).toEqual([]);
    expect(await rows(op.metrics.costPerThousandRequests)).toEqual([]);
    await op.stop();
  });

  it('asks nothing and writes no unit-cost key with --inference-window 0', async () => {
    const prometheus = new FakePrometheus();
    serve(prometheus);
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0);
    const op = await startOperator(api, clock, prometheus, ['team'], 'Audit', undefined, {}, { inferenceWindowMs: 0 });
    await op.cycle();
    expect(prometheus.vectorQueries).toEqual([]);
    expect(api.object(DEPLOYMENT)?.metadata.annotations?.['aicost.dev/cost']).toBe('3.521411');
    const patch = api.requests.find((r) => r.verb === 'patch' && r.path === DEPLOYMENT);
    expect(JSON.stringify(patch)).not.toContain('cost-per-million-tokens');
    await op.stop();
  });

  it("puts each cycle's share of the window's counts and the models in the endpoint's ledger row", async () => {
    const prometheus = new FakePrometheus();
    const sink = new MemorySink();
    const { op, nextCycle } = await start(prometheus, sink);
    await op.cycle();
    serve(prometheus);
    await nextCycle();
    await nextCycle();
    prometheus.down = true; // an outage counts nothing, and leaves what was counted
    await nextCycle();
    await op.stop();
    const rows = (await allRows(sink)).filter((r) => r.workloadKind === 'Deployment');
    // The first cycle's catch-up lands in the window before T0, when the servers had counted nothing: unknown.
    // Then two 60 s cycles of an hour's 1,440,000 prompt, 2,160,000 generated tokens and 7,200 requests.
    expect(
      rows.map((r) => [r.windowStartMs - T0, r.servedModels, r.promptTokens, r.generatedTokens, r.requests]),
    ).toEqual([
      [-3_600_000, undefined, undefined, undefined, undefined],
      [0, 'llama-3-8b', 48_000n, 72_000n, 240n],
    ]);
  });

  it('counts its cost as development until its series are seen, then as inference; and its GPU-hours under 70 %', async () => {
    const prometheus = new FakePrometheus();
    const { op, nextCycle } = await start(prometheus);
    await op.cycle();
    serve(prometheus);
    prometheus.utilization.set('ml/llm-1-a', 0.5);
    await nextCycle();
    const byClass = new Map(
      (await rows(op.metrics.costByClass)).map(([labels, value]) => [(labels as { class: string }).class, value]),
    );
    expect([...byClass.keys()].sort()).toEqual(['development', 'inference']);
    // The second cycle: 60 s of one A100 at 1.76070525 $ an hour, measured at 50 %.
    expect(byClass.get('inference')).toBeCloseTo((1.76070525 * 60) / 3600, 9);
    const low = await rows(op.metrics.lowUtilizationGpuHours);
    expect(low).toHaveLength(1);
    expect(low[0]?.[0]).toEqual({ namespace: 'ml', workload_kind: 'Deployment', workload: 'llm' });
    expect(low[0]?.[1]).toBeCloseTo(60 / 3600, 9);
    // The used ratio's counters: a cycle at 50 % is used, a cycle at 0 % is running only.
    prometheus.utilization.set('ml/llm-1-a', 0);
    await nextCycle();
    const endpoint = await rows(op.metrics.endpointGpuHours);
    const used = await rows(op.metrics.endpointUsedGpuHours);
    expect(endpoint.map(([labels]) => labels)).toEqual([
      { namespace: 'ml', workload_kind: 'Deployment', workload: 'llm' },
    ]);
    expect(endpoint[0]?.[1]).toBeCloseTo(120 / 3600, 9);
    expect(used[0]?.[1]).toBeCloseTo(60 / 3600, 9);
  });
});
