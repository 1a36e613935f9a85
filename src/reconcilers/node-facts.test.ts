/** workloadOf: a pod's owner resolved by uid against the cache, or the pod is its own workload. */
import { describe, expect, it } from 'vitest';
import type { OwnerRef, PodRecord, ReplicaSetRecord, WorkloadRecord } from '../controller/projections.ts';
import { workloadOf, type OwnerStores } from './node-facts.ts';

function workload(kind: WorkloadRecord['kind'], name: string, uid: string): WorkloadRecord {
  return {
    kind,
    namespace: 'ml',
    name,
    uid,
    resourceVersion: '1',
    labels: {},
    annotations: {},
    templateAnnotations: {},
    replicas: kind === 'Job' ? undefined : 1,
    suspended: false,
    generation: 1,
    ledger: undefined,
  };
}

function pod(owner: OwnerRef | undefined): PodRecord {
  return {
    uid: 'pod-uid',
    namespace: 'ml',
    name: 'p',
    nodeName: 'n',
    phase: 'Running',
    resourceVersion: '1',
    startedAtSeconds: 0,
    endedAtSeconds: undefined,
    deletingAtSeconds: undefined,
    gpuRequests: {},
    cpuMillis: 0,
    memoryBytes: 0,
    labels: {},
    owner,
    ledger: undefined,
    annotations: {},
  };
}

const byKey = <R extends { name: string }>(...records: R[]) => ({
  store: new Map(records.map((r) => [`ml/${r.name}`, r] as const)),
});
const rs = (name: string, uid: string, deployment: string | undefined, deploymentUid: string) =>
  ({ name, uid, deployment, deploymentUid }) as ReplicaSetRecord & { name: string };

const stores: OwnerStores = {
  jobs: byKey(workload('Job', 'train', 'job-uid'), workload('Job', 'legacy', '')),
  statefulSets: byKey(workload('StatefulSet', 'db', 'sts-uid')),
  deployments: byKey(workload('Deployment', 'web', 'dep-uid')),
  replicaSets: byKey(
    rs('web-abc', 'rs-uid', 'web', 'dep-uid'),
    rs('web-old', 'rs-old-uid', 'web', 'other-dep-uid'),
    rs('api-abc', 'api-rs-uid', 'api', 'api-dep-uid'),
    rs('orphan', 'orphan-uid', undefined, ''),
  ),
};

/** Rows: what the reference names (kind/name@uid, '' for none) and the workload as kind/name. */
describe('workloadOf', () => {
  it.each([
    ['no owner: the pod', '', 'Pod/p'],
    ['a Job by the uid it has', 'Job/train@job-uid', 'Job/train'],
    ['a StatefulSet by the uid it has', 'StatefulSet/db@sts-uid', 'StatefulSet/db'],
    ['a forged uid to an existing Job: bare', 'Job/train@forged', 'Pod/p'],
    ['a forged uid to an existing StatefulSet: bare', 'StatefulSet/db@forged', 'Pod/p'],
    ['a Deployment through a ReplicaSet, both uids matching', 'ReplicaSet/web-abc@rs-uid', 'Deployment/web'],
    ['a forged ReplicaSet uid: bare', 'ReplicaSet/web-abc@forged', 'Pod/p'],
    ['a ReplicaSet naming another Deployment uid: bare', 'ReplicaSet/web-old@rs-old-uid', 'Pod/p'],
    ['a ReplicaSet whose Deployment is not cached: bare', 'ReplicaSet/api-abc@api-rs-uid', 'Pod/p'],
    ['a ReplicaSet of its own: Other', 'ReplicaSet/orphan@orphan-uid', 'Other/orphan'],
    ['a Job not cached: bare until it is', 'Job/gone@gone-uid', 'Pod/p'],
    ['a ReplicaSet not cached: bare', 'ReplicaSet/web-xyz@rs2-uid', 'Pod/p'],
    ['a reference without a uid: by name (the API server never stores one)', 'Job/train@', 'Job/train'],
    ['a uid to a cached Job without one: bare', 'Job/legacy@some-uid', 'Pod/p'],
    ['a kind not cached: Other, by name', 'RayCluster/ray@ray-uid', 'Other/ray'],
  ])('%s', (_name, reference, expected) => {
    const [kind = '', rest = ''] = reference.split('/');
    const [name = '', uid = ''] = rest.split('@');
    const {
      kind: got,
      namespace,
      name: gotName,
    } = workloadOf(pod(reference ? { kind, name, uid } : undefined), stores);
    expect([namespace, `${got}/${gotName}`]).toEqual(['ml', expected]);
  });
});
