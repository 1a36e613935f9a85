import { describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import type { MatrixSeries } from '../measure/gpu-utilization.ts';
import { jobRow } from '../testing/ledger-rows.ts';
import { observeWorkloads, podObservations, podQueries, POD_SIGNALS, type PodSignal } from './observe.ts';
import type { PodObservation } from './workload-observation.ts';

const DAY = 86_400;
const T = Date.UTC(2026, 10, 30);

describe('podQueries', () => {
  it('sums each signal up per pod, in both label styles, utilization falling back to GPU_UTIL', () => {
    const q = podQueries(DAY, 0.05);
    expect(q.unused).toBe(
      'count by (pod, namespace, exported_pod, exported_namespace) ((avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE[86400s])' +
        ' or avg_over_time(DCGM_FI_DEV_GPU_UTIL[86400s]) / 100) < 0.05)',
    );
    expect(q.memory).toBe(
      'max by (pod, namespace, exported_pod, exported_namespace) (max_over_time(DCGM_FI_DEV_FB_USED[86400s]))',
    );
  });
});

const series = (metric: Record<string, string>, value: string): MatrixSeries => ({
  metric,
  values: [[T / 1000, value]],
});
const exported = (pod: string) => ({
  pod: 'dcgm-exporter-1',
  namespace: 'gpu',
  exported_pod: pod,
  exported_namespace: 'ml',
});

function answers(perSignal: Partial<Record<PodSignal, MatrixSeries[]>>): Record<PodSignal, MatrixSeries[]> {
  return Object.fromEntries(POD_SIGNALS.map((s) => [s, perSignal[s] ?? []])) as Record<PodSignal, MatrixSeries[]>;
}

describe('podQueries under a selector', () => {
  it('puts the selector on every metric, so that only the trusted exporters count', () => {
    const q = podQueries(7200, 0.05, 'job="dcgm-exporter"');
    for (const s of POD_SIGNALS) {
      expect(q[s]).not.toMatch(/DCGM_FI_\w+\[/);
      expect(q[s]).toMatch(/DCGM_FI_\w+\{job="dcgm-exporter"\}\[7200s\]/);
    }
  });
});

describe('podObservations', () => {
  it('reads each pod, its coverage from the least covered GPU, its memory only when every GPU has a series', () => {
    const a = exported('serve-0');
    const b = { pod: 'serve-1', namespace: 'ml' };
    const pods = podObservations(
      answers({
        gpus: [series(a, '2'), series(b, '2'), series({ pod: 'bad', namespace: 'ml' }, '1')],
        busiest: [series(a, '0.25'), series(b, '0.5'), series({ pod: 'bad', namespace: 'ml' }, 'NaN')],
        unused: [series(a, '1')],
        samples: [series(a, '5760'), series(b, '2880'), series({ pod: 'bad', namespace: 'ml' }, '5760')],
        memory: [series(a, '6144'), series(b, '1000')],
        memoryGpus: [series(a, '2'), series(b, '1')],
      }),
      DAY,
      15,
    );
    expect([...pods.values()]).toEqual([
      { pod: 'ml/serve-0', gpus: 2, busiestUtilization: 0.25, unusedGpus: 1, coverage: 1, maxMemoryUsedMiB: 6144 },
      {
        pod: 'ml/serve-1',
        gpus: 2,
        busiestUtilization: 0.5,
        unusedGpus: 0,
        coverage: 0.5,
        maxMemoryUsedMiB: undefined,
      },
    ]);
  });
});

const pod = (key: string): PodObservation => ({
  pod: key,
  gpus: 1,
  busiestUtilization: 0.1,
  unusedGpus: 0,
  coverage: 1,
  maxMemoryUsedMiB: 100,
});

function row(kind: LedgerRow['workloadKind'], name: string, overrides: Partial<LedgerRow> = {}): LedgerRow {
  return jobRow({
    namespace: 'ml',
    workloadKind: kind,
    workloadName: name,
    jobOutcome: kind === 'Job' ? 'running' : '',
    windowStartMs: T,
    windowEndMs: T + 3_600_000,
    cost: parseMoney('2'),
    labels: {},
    ...overrides,
  });
}

describe('observeWorkloads', () => {
  it('matches pods to workloads by the names their controllers give, the longest name winning', () => {
    const rows = [
      row('Deployment', 'chat'),
      row('Deployment', 'chat-api'),
      row('StatefulSet', 'vllm'),
      row('Job', 'train'),
      row('Pod', 'notebook-alice', { labels: { 'aicost.dev/workload-class': 'inference' } }),
      row('Deployment', 'cpu-only', { gpuHours: 0n }),
    ];
    const pods = new Map(
      [
        'ml/chat-api-7d4b9c8f6d-x2x9q',
        'ml/chat-5f6c7d8e9f-abcde',
        'ml/vllm-0',
        'ml/train-0-k2j4m',
        'ml/notebook-alice',
        'ml/cpu-only-5f6c7d8e9f-abcde',
        'other/chat-api-7d4b9c8f6d-x2x9q',
        'ml/vllm-x',
      ].map((k) => [k, pod(k)]),
    );
    const seen = observeWorkloads(rows, pods, DAY).map((w) => [w.target, w.workloadClass, w.pods.map((p) => p.pod)]);
    expect(seen).toEqual([
      ['ml/Deployment/chat-api', 'inference', ['ml/chat-api-7d4b9c8f6d-x2x9q']],
      ['ml/Deployment/chat', 'inference', ['ml/chat-5f6c7d8e9f-abcde']],
      ['ml/StatefulSet/vllm', 'inference', ['ml/vllm-0']],
      ['ml/Job/train', 'training', ['ml/train-0-k2j4m']],
      ['ml/Pod/notebook-alice', 'inference', ['ml/notebook-alice']],
    ]);
  });

  it('joins pods through the owner the operator names, when it names one, rather than name patterns', () => {
    const rows = [row('Deployment', 'chat'), row('Deployment', 'chat-api')];
    const pods = new Map(['ml/chat-api-7d4b9c8f6d-x2x9q', 'ml/anything', 'ml/unknown'].map((k) => [k, pod(k)]));
    const owners: Record<string, string> = {
      'ml/chat-api-7d4b9c8f6d-x2x9q': 'ml/Deployment/chat',
      'ml/anything': 'ml/Deployment/chat-api',
    };
    const seen = observeWorkloads(rows, pods, DAY, (k) => owners[k]).map((w) => [w.target, w.pods.map((p) => p.pod)]);
    expect(seen).toEqual([
      ['ml/Deployment/chat', ['ml/chat-api-7d4b9c8f6d-x2x9q']],
      ['ml/Deployment/chat-api', ['ml/anything']],
    ]);
  });

  it('takes the cost per hour over the windows the ledger covers and the node type of the latest', () => {
    const rows = [
      row('Deployment', 'chat', { cost: parseMoney('3'), instanceType: 'g5.xlarge' }),
      row('Deployment', 'chat', {
        windowStartMs: T + 3_600_000,
        windowEndMs: T + 7_200_000,
        cost: parseMoney('1.000000001'),
      }),
    ];
    const [w] = observeWorkloads(rows, new Map([['ml/chat-1-abcde', pod('ml/chat-1-abcde')]]), DAY);
    // 4.000000001 over 2 h, rounded half up to the nano.
    expect([w?.costPerHour, w?.observedSeconds, w?.instanceType]).toEqual([2_000_000_001n, 7200, 'p4d.24xlarge']);
  });
});
