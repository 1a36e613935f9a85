import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from '../controller/clock.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, startOperator } from '../testing/harness.ts';

const T0 = Date.UTC(2026, 10, 10, 12, 0, 0);

/** The GPU node, priced by annotation (dollars per hour). */
function putNode(api: FakeKube, pricePerHour: string): void {
  api.put('/api/v1/nodes', {
    metadata: {
      name: 'gpu-1',
      annotations: { 'aicost.dev/price-per-hour': pricePerHour },
      labels: { 'node.kubernetes.io/instance-type': 'custom' },
    },
    status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8' } },
  });
}

// Node price 10 $/h; CPU part 64 × 0.0316 = 2.0224, memory 512 × 0.0042 = 2.1504, GPU part 5.8272 = 0.7284 per GPU-hour.
function seed(api: FakeKube): void {
  putNode(api, '10');
  api.put('/api/v1/namespaces', { metadata: { name: 'ml' } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', { metadata: { name: 'train', namespace: 'ml', uid: 'job-uid' } });
  putGpuPod(api, 'train-0', 'pod-uid', { kind: 'Job', name: 'train' }, { team: 'research' });
}

/** A pod in ml running since T0 on gpu-1 with one GPU, controlled by `owner`. */
function putGpuPod(
  api: FakeKube,
  name: string,
  uid: string,
  owner: { kind: string; name: string },
  labels: Record<string, string> = {},
): void {
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: { name, namespace: 'ml', uid, labels, ownerReferences: [{ ...owner, controller: true }] },
    spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0).toISOString() },
  });
}

function fakePrometheus(): FakePrometheus {
  const p = new FakePrometheus();
  p.utilization.set('ml/train-0', 0.5);
  return p;
}

async function start(api: FakeKube, clock: FakeClock, prometheus: FakePrometheus) {
  return startOperator(api, clock, prometheus);
}

/** A metric's series as [labels, value]. */
const rows = async (metric: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
  (await metric.get()).values.map((v) => [v.labels, v.value]);
/** One minute of the 10 $/h node by namespace: 0.166666667, of which the pod's GPU 0.012140, the rest idle. */
const oneMinuteByNamespace = [
  [{ namespace: 'ml', currency: 'USD' }, 0.01214],
  [{ namespace: '__idle__', currency: 'USD' }, 0.154526667],
];
const annotations = (api: FakeKube, path: string) => api.object(path)?.metadata.annotations ?? {};
const POD = '/api/v1/namespaces/ml/pods/train-0';
const JOB = '/apis/batch/v1/namespaces/ml/jobs/train';

describe('accounting against an in-memory API', () => {
  it('annotates the pod, its Job and its namespace, and retries a failed patch with backoff', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const op = await start(api, clock, fakePrometheus());
    api.fail('patch', '/pods/train-0', 500);
    const report = await op.accountant.runCycle();
    expect(report.measurement).toMatchObject({ available: true, measuredPods: 1, unknownPods: 0 });
    await clock.advance(1000);
    // 60 s of one GPU at 0.7284 $/h = 0.012140.
    expect(annotations(api, POD)).toMatchObject({
      'aicost.dev/cost': '0.012140',
      'aicost.dev/cost-per-hour': '0.7284',
      'aicost.dev/gpu-hours': '0.0167',
      'aicost.dev/idle-gpu-hours': '0.0000',
      'aicost.dev/idle-gpu-cost': '0.000000',
      'aicost.dev/gpu-utilization': '50',
      'aicost.dev/currency': 'USD',
      'aicost.dev/accounted-until': new Date(T0 + 60_000).toISOString().replace('.000Z', 'Z'),
    });
    expect(annotations(api, JOB)['aicost.dev/cost']).toBe('0.012140');
    expect(annotations(api, '/api/v1/namespaces/ml')['aicost.dev/cost']).toBe('0.012140');
    expect(api.requests.filter((r) => r.verb === 'patch' && r.path === POD)).toHaveLength(2);
    // The API is patched only on the operator's annotations: the pod spec is untouched.
    expect(api.object(POD)?.spec).toEqual({
      nodeName: 'gpu-1',
      containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }],
    });
    await op.stop();
  });

  it("annotates a StatefulSet with its pods' cost, cumulative over the cycles", async () => {
    const api = new FakeKube();
    putNode(api, '10');
    api.put('/apis/apps/v1/namespaces/ml/statefulsets', { metadata: { name: 'llm', namespace: 'ml', uid: 'sts-uid' } });
    putGpuPod(api, 'llm-0', 'llm-0-uid', { kind: 'StatefulSet', name: 'llm' });
    const STATEFULSET = '/apis/apps/v1/namespaces/ml/statefulsets/llm';
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('ml/llm-0', 0.5);
    const clock = new FakeClock(T0 + 60_000);
    const op = await start(api, clock, prometheus);
    await op.accountant.runCycle();
    await clock.advance(1000);
    // 60 s of one GPU at 0.7284 $/h.
    const oneMinute = {
      'aicost.dev/cost': '0.012140',
      'aicost.dev/cost-per-hour': '0.7284',
      'aicost.dev/gpu-hours': '0.0167',
      'aicost.dev/gpu-utilization': '50',
      'aicost.dev/currency': 'USD',
    };
    expect(annotations(api, '/api/v1/namespaces/ml/pods/llm-0')).toMatchObject(oneMinute);
    expect(annotations(api, STATEFULSET)).toMatchObject(oneMinute);

    // 29 minutes later the StatefulSet has accrued its pod's whole half hour: 0.5 GPU-hours, 0.3642 $.
    await clock.advance(29 * 60_000 - 1000);
    await op.accountant.runCycle();
    await clock.advance(1000);
    expect(annotations(api, STATEFULSET)).toMatchObject({
      'aicost.dev/cost': '0.364200',
      'aicost.dev/gpu-hours': '0.5000',
      'aicost.dev/accounted-until': new Date(T0 + 30 * 60_000).toISOString().replace('.000Z', 'Z'),
    });
    // Its spec is untouched: only its annotations are patched.
    expect(api.object(STATEFULSET)?.spec).toBeUndefined();
    await op.stop();
  });

  it('falls back to DCGM_FI_DEV_GPU_UTIL only when the preferred signal leaves a GPU pod without data', async () => {
    const api = new FakeKube();
    seed(api);
    api.put('/api/v1/namespaces/ml/pods', {
      metadata: { name: 'serve-0', namespace: 'ml', uid: 'serve-uid' },
      spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(T0).toISOString() },
    });
    const clock = new FakeClock(T0 + 60_000);
    const prometheus = fakePrometheus();
    prometheus.devUtilization.set('ml/serve-0', 25); // a GPU without profiling metrics
    prometheus.devUtilization.set('ml/train-0', 90); // ignored: the preferred signal has this pod
    const op = await start(api, clock, prometheus);
    await op.accountant.runCycle();
    await clock.advance(1000);
    expect(prometheus.queries.map((q) => q.replace(/\[.*$/, ''))).toEqual([
      'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
      'DCGM_FI_DEV_GPU_UTIL',
    ]);
    expect(annotations(api, '/api/v1/namespaces/ml/pods/serve-0')['aicost.dev/gpu-utilization']).toBe('25');
    expect(annotations(api, POD)['aicost.dev/gpu-utilization']).toBe('50');

    // Once the preferred signal covers every GPU pod, the fallback is not asked for.
    prometheus.utilization.set('ml/serve-0', 0.75);
    prometheus.queries.length = 0;
    await clock.advance(60_000);
    await op.accountant.runCycle();
    expect(prometheus.queries.map((q) => q.replace(/\[.*$/, ''))).toEqual(['DCGM_FI_PROF_GR_ENGINE_ACTIVE']);
    await op.stop();
  });

  it('keeps accruing with utilization unknown while Prometheus is down', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const prometheus = fakePrometheus();
    prometheus.down = true;
    const op = await start(api, clock, prometheus);
    const report = await op.accountant.runCycle();
    await clock.advance(1000);
    expect(report.measurement.available).toBe(false);
    expect(report.measurement.reason).toMatch(/Prometheus query failed: PrometheusError: connection refused/);
    expect(annotations(api, POD)).toMatchObject({
      'aicost.dev/cost': '0.012140',
      'aicost.dev/gpu-utilization': 'unknown',
      'aicost.dev/idle-gpu-hours': 'unknown',
      'aicost.dev/idle-gpu-cost': 'unknown',
    });
    await op.stop();
  });

  it('accrues the cost of idle GPU-hours on the pod, its Job and its namespace, through a restart', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('ml/train-0', 0); // idle the whole time: its idle GPU cost is its GPU cost
    const first = await start(api, clock, prometheus);
    await first.accountant.runCycle();
    await clock.advance(1000);
    const onEach = () => [POD, JOB, '/api/v1/namespaces/ml'].map((path) => annotations(api, path));
    const figures = (cost: string, idleHours: string, idleCost: string) =>
      Array(3).fill({
        'aicost.dev/cost': cost,
        'aicost.dev/idle-gpu-hours': idleHours,
        'aicost.dev/idle-gpu-cost': idleCost,
      }) as unknown[];
    // 60 s of one GPU at 0.7284 $/h, all of it idle.
    expect(onEach()).toMatchObject(figures('0.012140', '0.0167', '0.012140'));
    const labels = { namespace: 'ml', workload_kind: 'Job', workload: 'train', currency: 'USD' };
    expect((await first.metrics.idleGpuCost.get()).values).toEqual([{ labels, value: 0.01214 }]);
    await first.stop();

    // A new process 29 minutes later resumes from the annotations: its first cycle measures its own 60 s
    // (the span since the last write has no measurement), so the idle GPU cost is two minutes' worth.
    await clock.advance(29 * 60_000 - 1000);
    const second = await start(api, clock, prometheus);
    await second.accountant.runCycle();
    await clock.advance(1000);
    // The hours resume from their 4-decimal annotation: 0.0167 h + 60 s.
    expect(onEach()).toMatchObject(figures('0.364200', '0.0334', '0.024280'));
    // The new process's roll-up counters cover its own cycle, as its node counters do: not the span before.
    expect(await rows(second.metrics.namespaceCost)).toEqual(oneMinuteByNamespace);
    await second.stop();
  });

  it('starts every signal\'s Prometheus error counter at 0, so "no errors" has a series', async () => {
    const op = await start(new FakeKube(), new FakeClock(T0), fakePrometheus());
    expect(await rows(op.metrics.promErrors)).toEqual([
      [{ signal: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' }, 0],
      [{ signal: 'DCGM_FI_DEV_GPU_UTIL' }, 0],
      ...['promptTokens', 'generationTokens', 'requests', 'prefillSeconds', 'decodeSeconds', 'servingSeconds'].map(
        (signal) => [{ signal: `inference:${signal}` }, 0],
      ),
    ]);
  });

  it('rolls up by namespace and by labels with an __idle__ row, so that each adds up to the node cost', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const op = await start(api, clock, fakePrometheus());
    await op.accountant.runCycle();
    // 60 s of the 10 $/h node = 0.166666667; the pod's GPU 0.012140, the rest idle.
    expect(await rows(op.metrics.nodeCost)).toEqual([
      [{ node: 'gpu-1', capacity_type: 'on-demand', currency: 'USD' }, 0.166666667],
    ]);
    expect(await rows(op.metrics.namespaceCost)).toEqual(oneMinuteByNamespace);
    expect(await rows(op.metrics.costByLabels)).toEqual([
      [{ label_team: 'research', currency: 'USD' }, 0.01214],
      [{ label_team: '__idle__', currency: 'USD' }, 0.154526667],
    ]);
    await op.stop();
  });

  it('rolls a pod without the labels up by those of its Job, else of its namespace (cost by labels)', async () => {
    const api = new FakeKube();
    seed(api);
    api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'platform', project: 'llm' } } });
    api.put('/apis/batch/v1/namespaces/ml/jobs', {
      metadata: { name: 'train', namespace: 'ml', uid: 'job-uid', labels: { team: 'research' } },
    });
    const pod = api.object(POD);
    if (pod) api.put('/api/v1/namespaces/ml/pods', { ...pod, metadata: { ...pod.metadata, labels: {} } });
    const clock = new FakeClock(T0 + 60_000);
    const op = await startOperator(api, clock, fakePrometheus(), ['team', 'project']);
    await op.accountant.runCycle();
    expect(await rows(op.metrics.costByLabels)).toEqual([
      [{ label_team: 'research', label_project: 'llm', currency: 'USD' }, 0.01214],
      [{ label_team: '__idle__', label_project: '__idle__', currency: 'USD' }, 0.154526667],
    ]);
    await op.stop();
  });

  it('resumes after a restart from the annotations without counting twice, and survives a dropped watch', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const first = await start(api, clock, fakePrometheus());
    await first.accountant.runCycle();
    await clock.advance(1000);
    await first.stop();

    // A new process 29 minutes later: the pod has held the GPU for 30 minutes, 0.3642 $.
    await clock.advance(29 * 60_000 - 1000);
    const second = await start(api, clock, fakePrometheus());
    api.dropWatches();
    await second.accountant.runCycle();
    await clock.advance(1000);
    expect(annotations(api, POD)['aicost.dev/cost']).toBe('0.364200');
    expect(annotations(api, JOB)['aicost.dev/cost']).toBe('0.364200');
    expect(annotations(api, POD)['aicost.dev/gpu-hours']).toBe('0.5000');

    // The Job keeps its final cost after its pod is gone.
    await clock.advance(30_000);
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    await clock.advance(60_000); // the dropped watch is re-established by the reflector's backoff
    await second.accountant.runCycle();
    await clock.advance(1000);
    const final = annotations(api, JOB)['aicost.dev/cost'];
    expect(Number(final)).toBeGreaterThan(0.3642);
    expect(Number(final)).toBeLessThanOrEqual(0.3642 + (91 * 0.7284) / 3600 + 1e-6);
    expect(annotations(api, JOB)['aicost.dev/cost-per-hour']).toBe('0.0000');
    await second.stop();
  });

  it('prices each cycle from the current node and owners: a new price or a new owner counts from the next cycle', async () => {
    const api = new FakeKube();
    seed(api);
    // A pod of a ReplicaSet that names no Deployment yet: it rolls up to no workload.
    api.put('/apis/apps/v1/namespaces/ml/replicasets', { metadata: { name: 'web-1', namespace: 'ml', uid: 'rs-uid' } });
    api.put('/apis/apps/v1/namespaces/ml/deployments', {
      metadata: { name: 'web', namespace: 'ml', uid: 'deploy-uid' },
      spec: { replicas: 1 },
    });
    const WEB_POD = '/api/v1/namespaces/ml/pods/web-1-a';
    const DEPLOYMENT = '/apis/apps/v1/namespaces/ml/deployments/web';
    putGpuPod(api, 'web-1-a', 'web-uid', { kind: 'ReplicaSet', name: 'web-1' });
    const clock = new FakeClock(T0 + 60_000);
    const op = await start(api, clock, fakePrometheus());
    await op.accountant.runCycle();
    await clock.advance(1000);
    expect(annotations(api, WEB_POD)['aicost.dev/cost-per-hour']).toBe('0.7284');
    // Ten seconds later nothing changes on screen, so the pod is not written and stays as it was cached.
    await clock.advance(9000);
    await op.accountant.runCycle();
    await clock.advance(1000);
    expect(annotations(api, DEPLOYMENT)['aicost.dev/cost']).toBeUndefined();

    // The Deployment adopts the ReplicaSet: the pod rolls up to it from the next cycle, from the pod's start.
    api.put('/apis/apps/v1/namespaces/ml/replicasets', {
      metadata: {
        name: 'web-1',
        namespace: 'ml',
        uid: 'rs-uid',
        ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }],
      },
    });
    await clock.advance(9000);
    await op.accountant.runCycle();
    await clock.advance(1000);
    // 80 s at 0.7284 $/h.
    expect(annotations(api, DEPLOYMENT)['aicost.dev/cost']).toBe('0.016187');

    // The node's price doubles to 20 $/h: GPU part 20 - 2.0224 - 2.1504 = 15.8272, 1.9784 per GPU-hour.
    putNode(api, '20');
    await clock.advance(9000);
    await op.accountant.runCycle();
    await clock.advance(1000);
    // 80 s at 0.7284 and 10 s at 1.9784 $/h = (58.272 + 19.784) / 3600, on the pod and on its Deployment.
    for (const path of [WEB_POD, DEPLOYMENT])
      expect(annotations(api, path)).toMatchObject({
        'aicost.dev/cost-per-hour': '1.9784',
        'aicost.dev/cost': '0.021682',
      });
    await op.stop();
  });

  it('writes nothing when no displayed value changed', async () => {
    const api = new FakeKube();
    seed(api);
    const clock = new FakeClock(T0 + 60_000);
    const op = await start(api, clock, fakePrometheus());
    await op.accountant.runCycle();
    await clock.advance(1000);
    const patches = () => api.requests.filter((r) => r.verb === 'patch').length;
    const before = patches();
    // Ten seconds later the cost moved by 0.002 $: nothing visible changed at cent precision.
    await clock.advance(9000);
    await op.accountant.runCycle();
    await flushPromises();
    expect(patches()).toBe(before);
    await op.stop();
  });
});
