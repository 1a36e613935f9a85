/** The idleGPU rule's actions in Enforce mode, per workload kind, as docs/crd-reference.md describes them. */
import { describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, runOperatorFor } from '../testing/harness.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const PODS = '/api/v1/namespaces/dev/pods';

/** A g5.xlarge and, on it, an idle one-GPU pod `name` controlled by `owner` (none: a bare pod). */
function seed(api: FakeKube, name: string, owner?: { kind: string; name: string; uid?: string }) {
  api.put('/api/v1/nodes', {
    metadata: { name: 'g5', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
    status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'dev' } });
  api.put(PODS, {
    metadata: {
      name,
      namespace: 'dev',
      ownerReferences: owner ? [{ ...owner, controller: true }] : undefined,
    },
    spec: { nodeName: 'g5', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0 - 3_600_000).toISOString() },
  });
}

/** An Enforce policy whose idleGPU rule acts on a workload idle for 2 minutes, after 1 minute of grace. */
function idlePolicy(api: FakeKube, rule: { respectDoNotDisrupt?: boolean } = {}) {
  api.put(POLICIES, {
    metadata: { name: 'idle-gpus', generation: 1 },
    spec: { mode: 'Enforce', rules: { idleGPU: { idleAfter: '2m', gracePeriod: '1m', ...rule } } },
  });
}

/** Runs the operator for `minutes` (six by default) with every GPU of `pod` idle. */
async function runIdle(api: FakeKube, pod: string, minutes = 6) {
  const prometheus = new FakePrometheus();
  prometheus.utilization.set(`dev/${pod}`, 0);
  const { op } = await runOperatorFor(api, prometheus, minutes, T0);
  await op.stop();
}

const reasons = (api: FakeKube) => api.objectsUnder('/api/v1/namespaces/dev/events/').map((e) => e.reason as string);
const replicas = (api: FakeKube, path: string) => (api.object(path)?.spec as { replicas: number }).replicas;

describe('idleGPU in Enforce', () => {
  const STATEFULSET = '/apis/apps/v1/namespaces/dev/statefulsets/db';

  it('scales an idle StatefulSet to zero through the scale subresource, recording the replicas', async () => {
    const api = new FakeKube();
    seed(api, 'db-0', { kind: 'StatefulSet', name: 'db' });
    api.put('/apis/apps/v1/namespaces/dev/statefulsets', {
      metadata: { name: 'db', namespace: 'dev' },
      spec: { replicas: 3 },
    });
    idlePolicy(api);
    await runIdle(api, 'db-0');
    expect(replicas(api, STATEFULSET)).toBe(0);
    expect(api.requests.filter((r) => r.path.startsWith(STATEFULSET) && r.verb !== 'patch')).toEqual([]);
    expect(api.requests.filter((r) => r.verb === 'patch' && r.path === `${STATEFULSET}/scale`)).toHaveLength(1);
    expect(api.object(STATEFULSET)?.metadata.annotations?.['aicost.dev/replicas-before']).toBe('3');
    expect(reasons(api)).toEqual(expect.arrayContaining(['GPUIdle', 'ScaledToZero']));
  });

  it('evicts an idle bare Pod through the eviction API, never deleting it', async () => {
    const api = new FakeKube();
    seed(api, 'notebook');
    idlePolicy(api);
    await runIdle(api, 'notebook');
    expect(api.requests.filter((r) => r.path.startsWith(`${PODS}/notebook`) && r.verb !== 'patch')).toEqual([
      { verb: 'create', path: `${PODS}/notebook/eviction` },
    ]);
    expect(api.object(`${PODS}/notebook`)).toBeUndefined();
    expect(reasons(api)).toContain('Evicted');
  });

  it.each([
    ['by default', {}, 3, true],
    ['with respectDoNotDisrupt: true', { respectDoNotDisrupt: true }, 3, true],
    ['with respectDoNotDisrupt: false', { respectDoNotDisrupt: false }, 0, false],
  ] as const)(
    'a workload annotated karpenter.sh/do-not-disrupt: "true", %s',
    async (_name, rule, expected, protectedEvent) => {
      const api = new FakeKube();
      seed(api, 'db-0', { kind: 'StatefulSet', name: 'db' });
      api.put('/apis/apps/v1/namespaces/dev/statefulsets', {
        metadata: { name: 'db', namespace: 'dev', annotations: { 'karpenter.sh/do-not-disrupt': 'true' } },
        spec: { replicas: 3 },
      });
      idlePolicy(api, rule);
      await runIdle(api, 'db-0');
      expect(replicas(api, STATEFULSET)).toBe(expected);
      expect([reasons(api).includes('IdleButProtected'), reasons(api).includes('ScaledToZero')]).toEqual([
        protectedEvent,
        !protectedEvent,
      ]);
    },
  );

  // aicost.dev/idle-since is on the tenant's own object: read back, it is untrusted input.
  it.each([
    ['garbage ("soon") does not act at once: a fresh episode, not yet over after 2 minutes', 'soon', 2, 3],
    ['a year alone ("3000", which Date.parse takes) is as if absent', '3000', 2, 3],
    [
      'a future time does not make the workload immune: acted on after idleAfter and grace',
      '2099-01-01T00:00:00Z',
      6,
      0,
    ],
  ] as const)('an idle-since of %s', async (_name, idleSince, minutes, expected) => {
    const api = new FakeKube();
    seed(api, 'db-0', { kind: 'StatefulSet', name: 'db' });
    api.put('/apis/apps/v1/namespaces/dev/statefulsets', {
      metadata: { name: 'db', namespace: 'dev', annotations: { 'aicost.dev/idle-since': idleSince } },
      spec: { replicas: 3 },
    });
    idlePolicy(api);
    await runIdle(api, 'db-0', minutes);
    expect(replicas(api, STATEFULSET)).toBe(expected);
  });
  // Issue #19: an ownerReference is taken only when its uid is the cached owner's (workloadOf).
  it('never suspends a Job a bare pod names with a forged uid: the pod bills to itself and is evicted', async () => {
    const JOB = '/apis/batch/v1/namespaces/dev/jobs/train';
    const api = new FakeKube();
    seed(api, 'intruder', { kind: 'Job', name: 'train', uid: 'forged-uid' });
    api.put('/apis/batch/v1/namespaces/dev/jobs', { metadata: { name: 'train', namespace: 'dev' }, spec: {} });
    expect(api.object(JOB)?.metadata.uid).not.toBe('forged-uid');
    idlePolicy(api);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/intruder', 0);
    const { op, clock } = await runOperatorFor(api, prometheus, 2, T0);
    const report = op.accountant.report;
    expect(report?.podCostPerHour.get('uid-intruder')).toBeGreaterThan(0n);
    expect(report?.workloadCostPerHour.get('Job/dev/train')).toBeUndefined();
    expect(api.object(`${PODS}/intruder`)?.metadata.annotations?.['aicost.dev/cost']).toBeDefined();
    for (let i = 0; i < 4; i++) {
      await clock.advance(59_000);
      await op.cycle();
    }
    await op.stop();
    const job = api.object(JOB);
    expect((job?.spec as { suspend?: boolean }).suspend).toBeUndefined();
    expect(api.requests.filter((r) => r.path.startsWith(JOB) && r.verb === 'patch')).toEqual([]);
    expect(job?.metadata.annotations ?? {}).not.toHaveProperty('aicost.dev/cost');
    expect(reasons(api)).toContain('Evicted');
    expect(api.object(`${PODS}/intruder`)).toBeUndefined();
  });
  // Issue #18: CPU-only nodes are accounted, but the idle-GPU rule has no GPU metrics to read for their work:
  // a CPU workload is never governed by it, even when a tenant's series say 0 % for its pod.
  it('never suspends a CPU-only Job on a CPU node, which is accounted all the same', async () => {
    const JOB = '/apis/batch/v1/namespaces/dev/jobs/etl';
    const api = new FakeKube();
    api.put('/api/v1/nodes', {
      metadata: { name: 'm6i', labels: { 'node.kubernetes.io/instance-type': 'm6i.2xlarge' } },
      status: { allocatable: { cpu: '8', memory: '32Gi' } },
    });
    api.put('/api/v1/namespaces', { metadata: { name: 'dev' } });
    api.put('/apis/batch/v1/namespaces/dev/jobs', { metadata: { name: 'etl', namespace: 'dev' }, spec: {} });
    api.put(PODS, {
      metadata: { name: 'etl-0', namespace: 'dev', ownerReferences: [{ kind: 'Job', name: 'etl', controller: true }] },
      spec: { nodeName: 'm6i', containers: [{ resources: { requests: { cpu: '2', memory: '8Gi' } } }] },
      status: { phase: 'Running', startTime: new Date(T0 - 3_600_000).toISOString() },
    });
    idlePolicy(api);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('dev/etl-0', 0);
    const { op } = await runOperatorFor(api, prometheus, 6, T0);
    await op.stop();
    const job = api.object(JOB);
    expect((job?.spec as { suspend?: boolean }).suspend).toBeUndefined();
    expect(reasons(api)).not.toEqual(expect.arrayContaining(['GPUIdle']));
    expect(reasons(api)).not.toContain('Suspended');
    // Accounted: 2 of 8 vCPU and 8 of 32 GiB of a node at the resource rates, 0.0968 an hour (cost-model.md).
    expect(job?.metadata.annotations?.['aicost.dev/cost-per-hour']).toBe('0.0968');
    // Its pod started an hour before T0 and ran to T0 + 5:59: 0.0968 × 3,959 s / 3,600 s.
    expect(job?.metadata.annotations?.['aicost.dev/cost']).toBe('0.106453');
    // No GPU: no GPU-hours, and its utilization unknown (never 0, whatever a series says).
    expect(job?.metadata.annotations?.['aicost.dev/gpu-hours']).toBe('0.0000');
    expect(job?.metadata.annotations?.['aicost.dev/gpu-utilization']).toBe('unknown');
  });
});
