import { describe, expect, it } from 'vitest';
import { startHttpServers } from '../controller/http-server.ts';
import { createMetrics } from '../controller/metrics.ts';
import { gpuMetricsState, readiness } from '../controller/readiness.ts';
import { createPrometheusClient } from '../measure/prometheus-client.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, runOperatorFor } from '../testing/harness.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const DEPLOY = '/apis/apps/v1/namespaces/dev/deployments/llm';
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';

function seed(api: FakeKube, deploymentAnnotations: Record<string, string> = {}) {
  api.put('/api/v1/nodes', {
    metadata: {
      name: 'g5',
      labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge', 'topology.kubernetes.io/region': 'us-east-1' },
    },
    status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'dev', labels: { tier: 'dev' } } });
  api.put('/apis/apps/v1/namespaces/dev/deployments', {
    metadata: {
      name: 'llm',
      namespace: 'dev',
      uid: 'd-uid',
      labels: { environment: 'dev' },
      annotations: deploymentAnnotations,
    },
    spec: { replicas: 2, template: { metadata: {} } },
  });
  api.put('/apis/apps/v1/namespaces/dev/replicasets', {
    metadata: {
      name: 'llm-abc',
      namespace: 'dev',
      ownerReferences: [{ kind: 'Deployment', name: 'llm', controller: true }],
    },
  });
  api.put('/api/v1/namespaces/dev/pods', {
    metadata: {
      name: 'llm-abc-1',
      namespace: 'dev',
      uid: 'p-uid',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'llm-abc', controller: true }],
    },
    spec: { nodeName: 'g5', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0 - 3_600_000).toISOString() },
  });
}

function policy(api: FakeKube, mode: 'Audit' | 'Enforce') {
  api.put(POLICIES, {
    metadata: { name: 'dev-endpoints', generation: 1 },
    spec: { mode, selector: { matchLabels: { environment: 'dev' } }, rules: { scaleToZero: { idleAfter: '3m' } } },
  });
}

/** Wake at 8:00, sleep at 20:00, Paris time. */
function schedulePolicy(api: FakeKube, mode: 'Audit' | 'Enforce') {
  api.put(POLICIES, {
    metadata: { name: 'dev-endpoints', generation: 1 },
    spec: {
      mode,
      rules: { scaleToZero: { schedule: { wake: '0 8 * * *', sleep: '0 20 * * *', timeZone: 'Europe/Paris' } } },
    },
  });
}

/** Runs an operator for `minutes`, stops it, then runs a new one on the same API (a restart) as long again. */
async function runAndRestart(api: FakeKube, prometheus: FakePrometheus, minutes: number, start = T0) {
  const first = await run(api, prometheus, minutes, start);
  await first.op.stop();
  const second = await run(api, prometheus, minutes, first.clock.now());
  await second.op.stop();
}

const run = (api: FakeKube, prometheus: FakePrometheus, minutes: number, start = T0) =>
  runOperatorFor(api, prometheus, minutes, start);

const scaleToZero = { scaleToZero: { idleAfter: '30m' } };
const reasons = (api: FakeKube) => api.objectsUnder('/api/v1/namespaces/dev/events/').map((e) => e.reason as string);
const status = (api: FakeKube) =>
  api.object(`${POLICIES}/dev-endpoints`)?.status as Record<string, unknown> | undefined;
const conditions = (api: FakeKube) =>
  Object.fromEntries(
    ((status(api)?.conditions ?? []) as { type: string; status: string; reason: string }[]).map((c) => [
      c.type,
      `${c.status}/${c.reason}`,
    ]),
  );

describe('policy controller against an in-memory API', () => {
  it('Enforce: warns, then scales an idle dev endpoint to zero, recording the replicas to restore', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const { op } = await run(api, prometheus, 5);
    const d = api.object(DEPLOY);
    expect((d?.spec as { replicas: number }).replicas).toBe(0);
    expect(d?.metadata.annotations).toMatchObject({
      'aicost.dev/replicas-before': '2',
      'aicost.dev/last-action': expect.stringMatching(
        /^scaled to zero by policy dev-endpoints \(scaleToZero\)/,
      ) as string,
    });
    expect(reasons(api)).toEqual(expect.arrayContaining(['GPUIdle', 'ScaledToZero']));
    // Asleep, the endpoint has nothing to measure.
    expect(conditions(api)).toEqual({ Ready: 'True/Valid', MetricsAvailable: 'True/NoGPUPods' });
    expect(status(api)).toMatchObject({
      matchedWorkloads: 1,
      actionCount: 1,
      lastActions: [
        expect.objectContaining({ workload: 'Deployment/dev/llm', action: 'scale-to-zero', mode: 'Enforce' }),
      ],
    });
    await op.stop();
  });

  it('Enforce: reports the saving of the endpoint it holds asleep, across a restart, until it wakes', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const savings = () => {
      const s = status(api);
      return [s?.realizedSavingsPerHour, s?.realizedSavingsPerMonth, s?.estimatedSavingsPerHour];
    };
    const { op, clock } = await run(api, prometheus, 4);
    // Scaled to zero in the fourth cycle: what it cost then (its share of a g5.xlarge) is saved from now on.
    expect(api.object(DEPLOY)?.metadata.annotations?.['aicost.dev/cost-per-hour-before']).toBe('0.812400');
    expect(savings()).toEqual(['0.8124', '593.05', '0.0000']);
    for (let i = 0; i < 3; i++) {
      await clock.advance(59_000);
      await op.cycle();
    }
    expect(savings()).toEqual(['0.8124', '593.05', '0.0000']);
    await op.stop();
    const restarted = await run(api, prometheus, 2, clock.now());
    expect(savings()).toEqual(['0.8124', '593.05', '0.0000']);
    // Woken: nothing is held off any more.
    api.put('/apis/apps/v1/namespaces/dev/deployments', {
      ...structuredClone(api.object(DEPLOY)),
      metadata: {
        ...structuredClone(api.object(DEPLOY)?.metadata),
        annotations: { ...api.object(DEPLOY)?.metadata.annotations, 'aicost.dev/wake': 'now' },
      },
    } as never);
    prometheus.utilization.set('dev/llm-abc-1', 0.9);
    await restarted.clock.advance(59_000);
    await restarted.op.cycle();
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2);
    expect(api.object(DEPLOY)?.metadata.annotations ?? {}).not.toHaveProperty('aicost.dev/cost-per-hour-before');
    expect(savings()).toEqual(['0.0000', '0.00', '0.0000']);
    await restarted.op.stop();
  });

  it('wakes on aicost.dev/wake=now, restoring the replicas', async () => {
    const api = new FakeKube();
    seed(api, {
      'aicost.dev/replicas-before': '2',
      'aicost.dev/asleep-since': '2026-11-23T08:00:00Z',
      'aicost.dev/wake': 'now',
    });
    api.put('/apis/apps/v1/namespaces/dev/deployments', {
      ...structuredClone(api.object(DEPLOY)),
      spec: { replicas: 0 },
    } as never);
    api.remove('/api/v1/namespaces/dev/pods', 'llm-abc-1');
    policy(api, 'Enforce');
    const { op } = await run(api, new FakePrometheus(), 1);
    const d = api.object(DEPLOY);
    expect((d?.spec as { replicas: number }).replicas).toBe(2);
    expect(d?.metadata.annotations?.['aicost.dev/replicas-before']).toBeUndefined();
    expect(d?.metadata.annotations?.['aicost.dev/wake']).toBeUndefined();
    expect(reasons(api)).toContain('Woken');
    await op.stop();
  });

  it('Audit: changes nothing, reports the would-be action and its saving once', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Audit');
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const { op } = await run(api, prometheus, 6);
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2);
    expect(api.object(DEPLOY)?.metadata.annotations ?? {}).not.toHaveProperty('aicost.dev/replicas-before');
    expect(reasons(api).filter((r) => r === 'WouldScaleDown')).toHaveLength(1);
    // The endpoint's share of an on-demand g5.xlarge: its whole GPU part, 1.006 - 0.1936 = 0.8124 $/h.
    expect(status(api)).toMatchObject({
      actionCount: 1,
      estimatedSavingsPerHour: '0.8124',
      estimatedSavingsPerMonth: '593.05',
    });
    await op.stop();
  });

  it.each([
    [
      { scaleToZero: { idleAfter: '3m' } },
      'Audit: would be scaled to zero by policy dev-endpoints (scaleToZero) at 2026-11-23T09:03:59Z',
    ],
    [
      { idleGPU: { idleAfter: '2m', gracePeriod: '1m' } },
      'Audit: would be scaled to zero by policy dev-endpoints (idleGPU) at 2026-11-23T09:02:59Z',
    ],
  ])('Audit %j: one idle episode is recorded once across a restart', async (rules, lastAction) => {
    const api = new FakeKube();
    seed(api);
    api.put(POLICIES, { metadata: { name: 'dev-endpoints', generation: 1 }, spec: { mode: 'Audit', rules } });
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const first = await run(api, prometheus, 6);
    await first.op.stop();
    expect(status(api)?.actionCount).toBe(1);
    // A new process on the same API: the episode goes on, nothing is recorded again.
    const second = await run(api, prometheus, 6, first.clock.now());
    await second.op.stop();
    expect(status(api)?.actionCount).toBe(1);
    expect(reasons(api).filter((r) => r === 'WouldScaleDown')).toHaveLength(1);
    expect(reasons(api).filter((r) => r === 'GPUIdle')).toHaveLength(1);
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2);
    expect(api.object(DEPLOY)?.metadata.annotations).toMatchObject({
      'aicost.dev/idle-since': '2026-11-23T08:59:59Z',
      'aicost.dev/last-action': lastAction,
    });
  });

  it('Audit: a sleep-schedule fire is recorded once across a restart', async () => {
    const api = new FakeKube();
    seed(api);
    schedulePolicy(api, 'Audit');
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0.9);
    await runAndRestart(api, prometheus, 2, Date.UTC(2026, 10, 23, 19, 0, 30));
    expect(status(api)?.actionCount).toBe(1);
    expect(reasons(api).filter((r) => r === 'WouldScaleDown')).toHaveLength(1);
    expect(api.object(DEPLOY)?.metadata.annotations?.['aicost.dev/last-action']).toBe(
      'Audit: would be scaled to zero by policy dev-endpoints (scaleToZero) at 2026-11-23T19:01:29Z',
    );
  });

  it('takes no action without metrics and says why in MetricsAvailable', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    const prometheus = new FakePrometheus();
    prometheus.down = true;
    const { op } = await run(api, prometheus, 6);
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2);
    expect(conditions(api).MetricsAvailable).toBe('False/MetricsUnavailable');
    expect(reasons(api)).not.toContain('ScaledToZero');
    await op.stop();
  });

  it('keeps the Prometheus password out of the policy status (cluster-scoped) and the /readyz body', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    // Nothing listens on port 1: every query fails, with the URL in its message.
    const prometheus = createPrometheusClient({ url: 'http://alice:s3cret-pw@127.0.0.1:1', timeoutMs: 2000 });
    const { op } = await runOperatorFor(api, prometheus, 1, T0);
    expect(conditions(api).MetricsAvailable).toBe('False/MetricsUnavailable');
    const statusText = JSON.stringify(status(api));
    expect(statusText).toContain('Prometheus at http://127.0.0.1:1 did not answer');
    expect(statusText).not.toContain('s3cret-pw');
    expect(statusText).not.toContain('alice');
    // /readyz as src/main.ts serves it: the last cycle's word on the GPU metrics.
    const servers = await startHttpServers({
      bindAddress: '127.0.0.1',
      metricsPort: 0,
      healthPort: 0,
      registry: createMetrics([], 10).registry,
      healthy: () => ({ ready: true, detail: 'running' }),
      ready: () =>
        readiness({
          unsynced: [],
          electionProblem: undefined,
          role: 'leader',
          gpuMetrics: gpuMetricsState(op.accountant.report?.measurement),
        }),
    });
    try {
      const body = await (await fetch(`http://127.0.0.1:${servers.healthPort}/readyz`)).text();
      expect(body).toContain('gpu metrics: Prometheus query failed (the log says why)');
      expect(body).not.toContain('s3cret-pw');
    } finally {
      await servers.close();
      await op.stop();
    }
  });

  it.each([
    [
      'its pod has no DCGM data',
      {},
      scaleToZero,
      'False/NoData',
      "none of the 2 GPU pods governed by this policy's idleGPU or scaleToZero rule has usable DCGM data (dev/llm-abc-1: no DCGM series for this pod): no action is taken on unknown utilization",
    ],
    [
      'one of its two pods has data',
      { 'dev/llm-abc-1': 0.5 },
      scaleToZero,
      'True/PartiallyMeasured',
      "1 of 2 GPU pods governed by this policy's idleGPU or scaleToZero rule measured; the workloads of the other 1 are not acted on (dev/llm-abc-2: no DCGM series for this pod)",
    ],
    [
      'both pods have data',
      { 'dev/llm-abc-1': 0.5, 'dev/llm-abc-2': 0.5 },
      scaleToZero,
      'True/Measured',
      "2 of 2 GPU pods governed by this policy's idleGPU or scaleToZero rule measured",
    ],
    [
      'its rule does not read utilization',
      {},
      { spot: { placement: 'Preferred' } },
      'True/NotNeeded',
      'no rule of this policy reads GPU utilization',
    ],
  ])('MetricsAvailable when %s', async (_name, utilization, rules, expected, message) => {
    const api = new FakeKube();
    seed(api);
    api.put('/api/v1/namespaces/dev/pods', {
      ...structuredClone(api.object('/api/v1/namespaces/dev/pods/llm-abc-1')),
      metadata: {
        name: 'llm-abc-2',
        namespace: 'dev',
        uid: 'p-uid-2',
        ownerReferences: [{ kind: 'ReplicaSet', name: 'llm-abc', controller: true }],
      },
    });
    api.put(POLICIES, { metadata: { name: 'dev-endpoints', generation: 1 }, spec: { mode: 'Enforce', rules } });
    const prometheus = new FakePrometheus();
    for (const [pod, value] of Object.entries(utilization)) prometheus.utilization.set(pod, value);
    const { op } = await run(api, prometheus, 2);
    expect(conditions(api).MetricsAvailable).toBe(expected);
    const condition = ((status(api)?.conditions ?? []) as { type: string; message: string }[]).find(
      (c) => c.type === 'MetricsAvailable',
    );
    expect(condition?.message).toBe(message);
    await op.stop();
  });

  it('puts a busy endpoint to sleep on its sleep schedule once, and does not undo a manual wake', async () => {
    const api = new FakeKube();
    seed(api);
    schedulePolicy(api, 'Enforce');
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0.9);
    // 19:01 UTC is 20:01 in Paris: past the sleep time.
    const { op, clock } = await run(api, prometheus, 1, Date.UTC(2026, 10, 23, 19, 0, 30));
    const d = api.object(DEPLOY);
    expect((d?.spec as { replicas: number }).replicas).toBe(0);
    expect(d?.metadata.annotations).toMatchObject({
      'aicost.dev/sleep-handled': '2026-11-23T19:00:00Z',
      'aicost.dev/replicas-before': '2',
    });
    // Someone scales it back up by hand: the operator lets go and does not put it to sleep again tonight.
    api.put('/apis/apps/v1/namespaces/dev/deployments', {
      ...structuredClone(api.object(DEPLOY)),
      spec: { replicas: 1 },
    } as never);
    for (let i = 0; i < 3; i++) {
      await clock.advance(59_000);
      await op.cycle();
    }
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(1);
    expect(reasons(api)).toContain('ManualScaleUp');
    await op.stop();
  });

  it('reports in status the workloads a more specific policy governs', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Audit');
    api.put(POLICIES, { metadata: { name: 'cluster-default', generation: 1 }, spec: { rules: { scaleToZero: {} } } });
    const { op } = await run(api, new FakePrometheus(), 1);
    const overridden = api.object(`${POLICIES}/cluster-default`)?.status as
      { overridden?: unknown[]; overriddenCount?: number } | undefined;
    expect(overridden?.overridden).toEqual([
      { workload: 'Deployment/dev/llm', rule: 'scaleToZero', by: 'dev-endpoints' },
    ]);
    expect(overridden?.overriddenCount).toBe(1);
    await op.stop();
  });

  it("keeps an endpoint that serves requests awake, using the rule's requestsQuery for that endpoint", async () => {
    for (const [rate, replicas] of [
      [2.5, 2],
      [0, 0],
    ] as const) {
      const api = new FakeKube();
      seed(api);
      api.put(POLICIES, {
        metadata: { name: 'dev-endpoints', generation: 1 },
        spec: {
          mode: 'Enforce',
          rules: {
            scaleToZero: {
              idleAfter: '3m',
              requestsQuery: 'sum(rate(http_requests_total{namespace="$namespace",service="$name"}[5m]))',
            },
          },
        },
      });
      const prometheus = new FakePrometheus();
      prometheus.utilization.set('dev/llm-abc-1', 0);
      prometheus.answers.set('http_requests_total{namespace="dev",service="llm"}', rate);
      const { op } = await run(api, prometheus, 5);
      expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(replicas);
      expect(prometheus.queries.some((q) => q.includes('service="llm"'))).toBe(true);
      await op.stop();
    }
  });

  it('pauses a KEDA-driven endpoint the KEDA way instead of scaling it', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    api.put('/apis/keda.sh/v1alpha1/namespaces/dev/scaledobjects', {
      metadata: { name: 'llm-scaler', namespace: 'dev' },
      spec: { scaleTargetRef: { name: 'llm' } },
    });
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const { op } = await run(api, prometheus, 5);
    expect(api.object('/apis/keda.sh/v1alpha1/namespaces/dev/scaledobjects/llm-scaler')?.metadata.annotations).toEqual({
      'autoscaling.keda.sh/paused-replicas': '0',
    });
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2); // KEDA, not the operator, scales it
    expect(api.object(DEPLOY)?.metadata.annotations?.['aicost.dev/replicas-before']).toBe('2');
    await op.stop();
  });

  it('marks a policy whose schedule cannot run as not Ready', async () => {
    const api = new FakeKube();
    seed(api);
    api.put(POLICIES, {
      metadata: { name: 'dev-endpoints', generation: 3 },
      spec: { rules: { scaleToZero: { schedule: { wake: '0 8 * * 1-5', timeZone: 'Mars/Olympus' } } } },
    });
    const { op } = await run(api, new FakePrometheus(), 1);
    expect(conditions(api).Ready).toBe('False/InvalidSchedule');
    const ready = (
      (status(api)?.conditions ?? []) as { type: string; message: string; observedGeneration: number }[]
    ).find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      message: 'scaleToZero.schedule: unknown time zone "Mars/Olympus"',
      observedGeneration: 3,
    });
    await op.stop();
  });

  it('leaves exempt and busy workloads alone', async () => {
    for (const [annotations, utilization] of [
      [{ 'aicost.dev/exempt': 'true' }, 0],
      [{}, 0.7],
    ] as const) {
      const api = new FakeKube();
      seed(api, annotations);
      policy(api, 'Enforce');
      const prometheus = new FakePrometheus();
      prometheus.utilization.set('dev/llm-abc-1', utilization);
      const { op } = await run(api, prometheus, 6);
      expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(2);
      await op.stop();
    }
  });

  it('a failed scale is finished next pass, not taken for a manual scale-up, and counted once', async () => {
    const api = new FakeKube();
    seed(api);
    policy(api, 'Enforce');
    api.fail('patch', `${DEPLOY}/scale`, 500);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/llm-abc-1', 0);
    const { op } = await run(api, prometheus, 6);
    expect((api.object(DEPLOY)?.spec as { replicas: number }).replicas).toBe(0);
    expect(api.object(DEPLOY)?.metadata.annotations?.['aicost.dev/replicas-before']).toBe('2');
    expect(reasons(api)).not.toContain('ManualScaleUp');
    expect(reasons(api).filter((r) => r === 'ScaledToZero')).toHaveLength(1);
    expect(status(api)).toMatchObject({ actionCount: 1 });
    await op.stop();
  });

  it('a failed Job suspension leaves no status entry and is tried again', async () => {
    const api = new FakeKube();
    api.put('/api/v1/nodes', {
      metadata: { name: 'g5', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
      status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
    });
    api.put('/apis/batch/v1/namespaces/dev/jobs', {
      metadata: { name: 'train', namespace: 'dev', uid: 'j-uid' },
      spec: { template: { metadata: {} } },
    });
    api.put('/api/v1/namespaces/dev/pods', {
      metadata: {
        name: 'train-1',
        namespace: 'dev',
        uid: 'p-uid',
        ownerReferences: [{ kind: 'Job', name: 'train', controller: true }],
      },
      spec: { nodeName: 'g5', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(T0 - 3_600_000).toISOString() },
    });
    api.put(POLICIES, {
      metadata: { name: 'dev-endpoints', generation: 1 },
      spec: { mode: 'Enforce', rules: { idleGPU: { idleAfter: '2m', gracePeriod: '1m' } } },
    });
    api.fail('patch', '/jobs/train', 500, 2);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/train-1', 0);
    const { op } = await run(api, prometheus, 7);
    const job = api.object('/apis/batch/v1/namespaces/dev/jobs/train');
    expect((job?.spec as { suspend?: boolean }).suspend).toBe(true);
    expect(reasons(api).filter((r) => r === 'Suspended')).toHaveLength(1);
    expect(status(api)).toMatchObject({ actionCount: 1 });
    await op.stop();
  });
});
