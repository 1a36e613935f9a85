/**
 * A small world for the durable ledger's tests (the accounting tests and the object-store tier): one priced
 * GPU node, a Job, a Deployment and a bare pod on it, a fake Prometheus, and a reader of every row of a sink.
 */
import type { LedgerRow } from '../ledger/row.ts';
import type { ObjectSink } from '../ledger/sink.ts';
import { LedgerStore } from '../ledger/store.ts';
import type { FakeKube } from './fake-kube.ts';
import { FakePrometheus } from './harness.ts';

export const T0 = Date.UTC(2026, 10, 10, 12, 0, 0); // a window start
export const HOUR_MS = 3_600_000;
export const JOB = '/apis/batch/v1/namespaces/ml/jobs/train';
/** One 60 s cycle of the 10 $/h node: 10e9 × 60 / 3600, rounded half up. */
export const NODE_CYCLE_NANOS = 166_666_667n;

/**
 * A 10 $/h node with 8 GPUs; in namespace ml (team research) a Job with one 1-GPU pod, a Deployment's 1-GPU
 * pod through its ReplicaSet, and a bare 2-GPU pod; all running since T0.
 */
export function seed(api: FakeKube): void {
  api.put('/api/v1/nodes', {
    metadata: {
      name: 'gpu-1',
      uid: 'node-uid',
      annotations: { 'aicost.dev/price-per-hour': '10' },
      labels: {
        'node.kubernetes.io/instance-type': 'custom',
        'topology.kubernetes.io/region': 'eu-west-1',
        'karpenter.sh/nodepool': 'gpu',
        'nvidia.com/gpu.product': 'NVIDIA-H100',
      },
    },
    status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', { metadata: { name: 'train', namespace: 'ml', uid: 'job-uid' } });
  api.put('/apis/apps/v1/namespaces/ml/deployments', {
    metadata: { name: 'web', namespace: 'ml', uid: 'deploy-uid' },
    spec: { replicas: 1 },
  });
  api.put('/apis/apps/v1/namespaces/ml/replicasets', {
    metadata: {
      name: 'web-1',
      namespace: 'ml',
      ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }],
    },
  });
  putPod(api, 'train-0', 1, { kind: 'Job', name: 'train' });
  putPod(api, 'web-1-a', 1, { kind: 'ReplicaSet', name: 'web-1' });
  putPod(api, 'notebook', 2, undefined);
}

export function putPod(
  api: FakeKube,
  name: string,
  gpus: number,
  owner: { kind: string; name: string } | undefined,
): void {
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: {
      name,
      namespace: 'ml',
      uid: `${name}-uid`,
      ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
    },
    spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
    status: { phase: 'Running', startTime: new Date(T0).toISOString() },
  });
}

export function prometheus(): FakePrometheus {
  const p = new FakePrometheus();
  p.utilization.set('ml/train-0', 0.5);
  p.utilization.set('ml/web-1-a', 0.25);
  return p;
}

export async function allRows(sink: ObjectSink): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for await (const w of new LedgerStore(sink).readRange({ fromMs: 0, toMs: T0 + 1000 * HOUR_MS })) rows.push(...w.rows);
  return rows;
}
