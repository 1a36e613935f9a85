/**
 * The operator on the real control plane: pods with known utilization on nodes with known prices get
 * cost annotations that match a hand computation, through restarts, a kill -9, a Prometheus outage and a
 * leader change. Hand computation (docs/cost-model.md): a p4d.24xlarge costs 21.957642 $/h; its CPU part is
 * vCPU × 0.0316 and its memory part GiB × 0.0042; the rest, shared by its 8 GPUs, is the GPU part.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cluster, createTestNamespace, runningPod, waitFor, type PodLike } from './support/cluster.ts';
import { metricValue, OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
let ns: Awaited<ReturnType<typeof createTestNamespace>>;
const operators: OperatorProcess[] = [];

beforeEach(async () => {
  ns = await createTestNamespace(client, 'acct');
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  await ns.remove();
});

function startOperator(name: string, extra: string[] = []): OperatorProcess {
  const op = OperatorProcess.start({
    kubeconfig,
    logDir,
    name: `${ns.name}-${name}`,
    args: [
      '--prometheus-url',
      prometheusUrl || 'http://127.0.0.1:1',
      '--interval',
      '2s',
      '--annotate-interval',
      '0s',
      '--scrape-interval',
      '5s',
      '--namespace',
      ns.name,
      '--leader-elect',
      'true',
      '--lease-duration',
      '6s',
      '--renew-deadline',
      '4s',
      '--retry-period',
      '1s',
      ...extra,
    ],
  });
  operators.push(op);
  return op;
}

/** The GPU part of one GPU of a p4d.24xlarge per second, from the node's own allocatable CPU and memory. */
async function p4dGpuPricePerSecond(nodeName: string): Promise<number> {
  const node = await client.get<{ status: { allocatable: Record<string, string> } }>(`/api/v1/nodes/${nodeName}`);
  const vcpu = Number(node.status.allocatable.cpu);
  const memGiB = Number(node.status.allocatable.memory?.replace('Gi', ''));
  return (21.957642 - vcpu * 0.0316 - memGiB * 0.0042) / 8 / 3600;
}

/** A Job labelled team=research, experiment=e2e; its pods carry `podLabels` (by default the same) and app=train. */
async function trainingJob(
  gpus: number,
  utilization: string,
  podLabels: Record<string, string> = { team: 'research', experiment: 'e2e' },
): Promise<PodLike> {
  await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
    metadata: { name: 'train', labels: { team: 'research', experiment: 'e2e' } },
    spec: {
      template: {
        metadata: {
          labels: { app: 'train', ...podLabels },
          annotations: { 'dcgm-sim.aicost.dev/utilization': utilization },
        },
        spec: {
          restartPolicy: 'Never',
          nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
          containers: [
            {
              name: 'trainer',
              image: 'registry.local/trainer:1',
              resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
            },
          ],
        },
      },
    },
  });
  return runningPod(client, ns.name, 'app=train');
}

interface Annotated {
  cost: number;
  until: number;
  annotations: Record<string, string>;
}

async function annotationsOf(path: string): Promise<Annotated | undefined> {
  const o = await client.get<{ metadata: { annotations?: Record<string, string> } }>(path);
  const a = o.metadata.annotations ?? {};
  if (a['aicost.dev/cost'] === undefined || a['aicost.dev/accounted-until'] === undefined) return undefined;
  return {
    cost: Number(a['aicost.dev/cost']),
    until: Date.parse(a['aicost.dev/accounted-until']) / 1000,
    annotations: a,
  };
}

/** Waits until the object's accounted-until is at least `afterSeconds`. */
function accountedPast(path: string, afterSeconds: number, timeoutMs = 60_000): Promise<Annotated> {
  return waitFor(
    async () => {
      const a = await annotationsOf(path);
      return a && a.until >= afterSeconds ? a : undefined;
    },
    { description: `${path} accounted past ${new Date(afterSeconds * 1000).toISOString()}`, timeoutMs },
  );
}

/** The sum of every series of a metric. */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const podPath = (pod: PodLike) => `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
const jobPath = () => `/apis/batch/v1/namespaces/${ns.name}/jobs/train`;
const now = () => Math.floor(Date.now() / 1000);

describe('cost accounting on the local cluster', () => {
  it('annotates a training pod, its Job and its namespace with the hand-computed cost', async (ctx) => {
    if (!prometheusUrl) ctx.skip();
    const pod = await trainingJob(2, '40');
    const perGpuSecond = await p4dGpuPricePerSecond(pod.spec.nodeName ?? '');
    startOperator('a');
    // Wait long enough for a measured window of the pod's utilization.
    const a = await accountedPast(podPath(pod), now() + 12);
    const started = Date.parse(pod.status.startTime ?? '') / 1000;
    const expected = 2 * perGpuSecond * (a.until - started);
    expect(Math.abs(a.cost - expected)).toBeLessThan(0.000002);
    expect(a.annotations).toMatchObject({
      'aicost.dev/currency': 'USD',
      'aicost.dev/gpu-utilization': '40',
      'aicost.dev/idle-gpu-hours': '0.0000',
      'aicost.dev/idle-gpu-cost': '0.000000',
      'aicost.dev/cost-per-hour': (2 * perGpuSecond * 3600).toFixed(4),
      'aicost.dev/gpu-hours': ((2 * (a.until - started)) / 3600).toFixed(4),
    });
    const job = await accountedPast(jobPath(), a.until);
    expect(Math.abs(job.cost - 2 * perGpuSecond * (job.until - started))).toBeLessThan(0.000002);
    const namespace = await accountedPast(`/api/v1/namespaces/${ns.name}`, a.until);
    expect(Math.abs(namespace.cost - 2 * perGpuSecond * (namespace.until - started))).toBeLessThan(0.000002);
  });

  it('accrues the idle GPU cost, and rolls up by the Job and namespace labels with __idle__ rows', async (ctx) => {
    if (!prometheusUrl) ctx.skip();
    await client.patch(`/api/v1/namespaces/${ns.name}`, { metadata: { labels: { project: 'acct-e2e' } } }, 'merge');
    // The pods carry none of the roll-up labels: team and experiment come from the Job, project from the namespace.
    const pod = await trainingJob(1, '0', {});
    const perGpuSecond = await p4dGpuPricePerSecond(pod.spec.nodeName ?? '');
    const op = startOperator('idle');
    const a = await accountedPast(podPath(pod), now() + 12);
    // Idle all the time: each measured second costs its GPU second (the pod requests only the GPU); the hours
    // are shown to 1/10,000 h, 0.36 s.
    const idleHours = Number(a.annotations['aicost.dev/idle-gpu-hours']);
    const idleCost = Number(a.annotations['aicost.dev/idle-gpu-cost']);
    expect(idleCost).toBeGreaterThan(0);
    expect(idleCost).toBeLessThanOrEqual(a.cost);
    expect(Math.abs(idleCost - idleHours * 3600 * perGpuSecond)).toBeLessThan(0.0001);
    const job = await accountedPast(jobPath(), a.until);
    expect(Number(job.annotations['aicost.dev/idle-gpu-cost'])).toBeGreaterThan(0);

    const metrics = await op.metrics();
    const workload = { namespace: ns.name, workload_kind: 'Job', workload: 'train', currency: 'USD' };
    expect(metricValue(metrics, 'aicost_idle_gpu_cost_total', workload)).toBeGreaterThan(0);
    const labels = {
      label_team: 'research',
      label_experiment: 'e2e',
      label_project: 'acct-e2e',
      label_model: '__unset__',
    };
    expect(metricValue(metrics, 'aicost_cost_by_labels_total', labels)).toBeGreaterThan(0);
    // The __idle__ rows take the GPU capacity no pod requested: each roll-up adds up to the node cost.
    expect(metricValue(metrics, 'aicost_cost_by_labels_total', { label_team: '__idle__' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'aicost_namespace_cost_total', { namespace: '__idle__' })).toBeGreaterThan(0);
    const nodeCost = metricSum(metrics, 'aicost_node_cost_total');
    expect(nodeCost).toBeGreaterThan(0);
    expect(Math.abs(metricSum(metrics, 'aicost_cost_by_labels_total') - nodeCost)).toBeLessThan(1e-6);
    expect(Math.abs(metricSum(metrics, 'aicost_namespace_cost_total') - nodeCost)).toBeLessThan(1e-6);
  });

  it('keeps exact totals through a graceful restart and a kill -9: no double count, no gap', async () => {
    const pod = await trainingJob(1, '90');
    const perGpuSecond = await p4dGpuPricePerSecond(pod.spec.nodeName ?? '');
    const started = Date.parse(pod.status.startTime ?? '') / 1000;
    const first = startOperator('first');
    await accountedPast(podPath(pod), now() + 4);
    await first.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 5000)); // down for more than two intervals
    const second = startOperator('second');
    await accountedPast(podPath(pod), now() + 4);
    second.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 8000)); // its lease must expire before the next one leads
    startOperator('third');
    const final = await accountedPast(podPath(pod), now() + 4);
    expect(Math.abs(final.cost - perGpuSecond * (final.until - started))).toBeLessThan(0.000002);
    const job = await accountedPast(jobPath(), final.until);
    expect(Math.abs(job.cost - perGpuSecond * (job.until - started))).toBeLessThan(0.000002);
  });

  it('keeps accruing with utilization unknown while Prometheus is unreachable', async () => {
    const pod = await trainingJob(1, '90');
    const perGpuSecond = await p4dGpuPricePerSecond(pod.spec.nodeName ?? '');
    const op = startOperator('noprom', ['--prometheus-url', 'http://127.0.0.1:1', '--prometheus-timeout', '1s']);
    const a = await accountedPast(podPath(pod), now() + 4);
    const started = Date.parse(pod.status.startTime ?? '') / 1000;
    expect(Math.abs(a.cost - perGpuSecond * (a.until - started))).toBeLessThan(0.000002);
    expect(a.annotations['aicost.dev/gpu-utilization']).toBe('unknown');
    expect(a.annotations['aicost.dev/idle-gpu-hours']).toBe('unknown');
    const metrics = await op.metrics();
    expect(metricValue(metrics, 'aicost_gpu_metrics_available')).toBe(0);
    expect(
      metricValue(metrics, 'aicost_prometheus_query_errors_total', { signal: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' }),
    ).toBeGreaterThan(0);
  });

  it('with two replicas, one leads; the other takes over when it is killed, without double counting', async () => {
    const pod = await trainingJob(1, '90');
    const perGpuSecond = await p4dGpuPricePerSecond(pod.spec.nodeName ?? '');
    const started = Date.parse(pod.status.startTime ?? '') / 1000;
    const a = startOperator('replica-a');
    const b = startOperator('replica-b');
    const leaderOf = async () => {
      const [ma, mb] = await Promise.all([a.metrics().catch(() => ''), b.metrics().catch(() => '')]);
      return { a: metricValue(ma, 'aicost_leader'), b: metricValue(mb, 'aicost_leader') };
    };
    const roles = await waitFor(
      async () => {
        const r = await leaderOf();
        return r.a !== undefined && r.b !== undefined && r.a + r.b === 1 ? r : undefined;
      },
      { description: 'exactly one leader', timeoutMs: 30_000 },
    );
    const [leader, standby] = roles.a === 1 ? [a, b] : [b, a];
    await accountedPast(podPath(pod), now() + 4);
    leader.kill('SIGKILL');
    const killedAt = now();
    await waitFor(async () => metricValue(await standby.metrics(), 'aicost_leader') === 1, {
      description: 'the standby to take over',
      timeoutMs: 20_000,
    });
    expect(now() - killedAt).toBeLessThanOrEqual(15);
    const final = await accountedPast(podPath(pod), now() + 4);
    expect(Math.abs(final.cost - perGpuSecond * (final.until - started))).toBeLessThan(0.000002);
  });
});
