/**
 * npm run bench:policy: the policy pass alone, in one process, against the in-memory API and a fake Prometheus
 * (as bench:cycle does for accounting). 1,000 p4d.24xlarge nodes and 8,000 one-GPU pods: 2,000 Deployments of
 * two pods (half of them dev endpoints), 1,000 Jobs of two pods, 2,000 bare pods; a fifth of the GPUs idle.
 * Policies of every kind match them: idleGPU (Audit) on everything, scaleToZero with a schedule (Audit) on the
 * dev endpoints, spot (Preferred) on the Jobs, which checkpoint, half of them on spot nodes.
 * Prints the median policy pass after warm-up (the first passes write the would-be actions) and the heap after
 * a full GC. BENCH_NODES (default 1000), BENCH_PASSES (default 15). Run it with the image's heap flags.
 */
import { FakeClock } from '../src/controller/clock.ts';
import { FakeKube } from '../src/testing/fake-kube.ts';
import { FakePrometheus, startOperator } from '../src/testing/harness.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PASSES = Number(process.env.BENCH_PASSES ?? 15);
const WARM_UP = 5;
const T0 = Date.UTC(2026, 10, 10, 12, 0, 0);
const NS = 'ml';

const api = new FakeKube();
const prometheus = new FakePrometheus();
api.put('/api/v1/namespaces', { metadata: { name: NS } });
const started = new Date(T0 - 3_600_000).toISOString();

function gpuPod(
  name: string,
  node: string,
  owner?: { kind: string; name: string },
  labels: Record<string, string> = {},
) {
  api.put(`/api/v1/namespaces/${NS}/pods`, {
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels,
      ownerReferences: owner ? [{ ...owner, controller: true }] : undefined,
    },
    spec: { nodeName: node, containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: started },
  });
  prometheus.utilization.set(`${NS}/${name}`, name.endsWith('0') || name.endsWith('5') ? 0 : 0.6);
}

for (let n = 0; n < NODES; n++) {
  const node = `gpu-${n}`;
  api.put('/api/v1/nodes', {
    metadata: {
      name: node,
      labels: {
        'node.kubernetes.io/instance-type': 'p4d.24xlarge',
        'topology.kubernetes.io/region': 'us-east-1',
        'karpenter.sh/capacity-type': n % 2 === 0 ? 'spot' : 'on-demand',
      },
    },
    status: { allocatable: { cpu: '96', memory: '1152Gi', 'nvidia.com/gpu': '8' } },
  });
  // Per node: two Deployments of two pods, one Job of two pods, two bare pods.
  for (let d = 0; d < 2; d++) {
    const name = `serve-${n}-${d}`;
    const environment = d === 0 ? 'dev' : 'prod';
    api.put(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      metadata: { name, namespace: NS, uid: `uid-${name}`, labels: { environment } },
      spec: { replicas: 2, template: { metadata: {} } },
    });
    api.put(`/apis/apps/v1/namespaces/${NS}/replicasets`, {
      metadata: {
        name: `${name}-rs`,
        namespace: NS,
        ownerReferences: [{ kind: 'Deployment', name, controller: true }],
      },
    });
    for (let p = 0; p < 2; p++) gpuPod(`${name}-rs-${p}`, node, { kind: 'ReplicaSet', name: `${name}-rs` });
  }
  const job = `train-${n}`;
  const checkpoints = { 'aicost.dev/checkpoint-path': 's3://ckpt/run', 'aicost.dev/checkpoint-interval': '10m' };
  api.put(`/apis/batch/v1/namespaces/${NS}/jobs`, {
    metadata: { name: job, namespace: NS, uid: `uid-${job}`, labels: { workload: 'training' } },
    spec: { template: { metadata: { annotations: checkpoints } } },
  });
  for (let p = 0; p < 2; p++) gpuPod(`${job}-${p}`, node, { kind: 'Job', name: job });
  for (let p = 0; p < 2; p++) gpuPod(`bare-${n}-${p}`, node);
}

const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
api.put(POLICIES, {
  metadata: { name: 'idle-gpus', generation: 1 },
  spec: { mode: 'Audit', rules: { idleGPU: { idleAfter: '2m', gracePeriod: '1m' } } },
});
api.put(POLICIES, {
  metadata: { name: 'dev-endpoints', generation: 1 },
  spec: {
    mode: 'Audit',
    selector: { matchLabels: { environment: 'dev' } },
    rules: {
      scaleToZero: {
        idleAfter: '5m',
        schedule: { wake: '0 8 * * 1-5', sleep: '0 20 * * 1-5', timeZone: 'Europe/Paris' },
      },
    },
  },
});
api.put(POLICIES, {
  metadata: { name: 'training-spot', generation: 1 },
  spec: { selector: { matchLabels: { workload: 'training' } }, rules: { spot: { placement: 'Preferred' } } },
});

const clock = new FakeClock(T0);
const op = await startOperator(api, clock, prometheus);
const passes: number[] = [];
for (let i = 0; i < WARM_UP + PASSES; i++) {
  await clock.advance(60_000);
  await op.accountant.runCycle();
  const startNs = process.hrtime.bigint();
  await op.policyController.runCycle();
  const ms = Number(process.hrtime.bigint() - startNs) / 1e6;
  if (i >= WARM_UP) passes.push(ms);
  await clock.advance(1000); // lets the annotation writers finish
}
globalThis.gc?.();
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
const sorted = [...passes].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
console.log(
  `policy bench: ${String(NODES)} nodes, ${String(NODES * 8)} GPU pods, ${String(NODES * 5)} workloads, 3 policies`,
);
console.log(`policy pass, each (ms): ${passes.map((p) => p.toFixed(0)).join(' ')}`);
console.log(`policy pass median: ${median.toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`);
console.log(`heap used after GC: ${heapMb.toFixed(1)} MB; API requests so far: ${String(api.requests.length)}`);
// The writers wait on the fake clock: nothing is left to measure, so leave without draining them.
process.exit(0);
