/** workloadOf and PodOwners: a pod's owner resolved by uid against the cache, or the pod is its own workload. */
import { describe, expect, it } from 'vitest';
import type { OwnerRef, PodRecord, ReplicaSetRecord, WorkloadRecord } from '../controller/projections.ts';
import { workloadOf, type OwnerStores } from './node-facts.ts';
import { PodDepartures, PodOwners } from './pod-owners.ts';

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

/** PodOwners: a pod keeps the workload the cache verified once, when that workload leaves the cache first. */
describe('PodOwners', () => {
  const without = (kind: 'jobs' | 'deployments', name: string): OwnerStores => ({
    ...stores,
    [kind]: { store: new Map([...stores[kind].store].filter(([key]) => key !== `ml/${name}`)) },
  });
  const show = (ref: { kind: string; name: string }) => `${ref.kind}/${ref.name}`;

  it.each([
    ['a Job pod whose Job is gone keeps the Job', 'Job/train@job-uid', without('jobs', 'train'), 'Job/train'],
    [
      'a Deployment pod whose Deployment is gone keeps it',
      'ReplicaSet/web-abc@rs-uid',
      without('deployments', 'web'),
      'Deployment/web',
    ],
    // A reference the cache now contradicts (another object under the name) is not an uncached owner.
    [
      'a Job deleted and created again: bare',
      'Job/train@job-uid',
      { ...stores, jobs: byKey(workload('Job', 'train', 'new-uid')) },
      'Pod/p',
    ],
  ])('%s', (_name, reference, later, expected) => {
    const [kind = '', rest = ''] = reference.split('/');
    const [name = '', uid = ''] = rest.split('@');
    const owners = new PodOwners();
    const p = pod({ kind, name, uid });
    expect(show(owners.workloadOf(p, stores))).not.toBe('Pod/p');
    expect(show(owners.workloadOf(p, later))).toBe(expected);
  });

  it('an owner never verified (forged, or not in the cache yet) leaves the pod bare', () => {
    const owners = new PodOwners();
    expect(show(owners.workloadOf(pod({ kind: 'Job', name: 'gone', uid: 'gone-uid' }), stores))).toBe('Pod/p');
  });

  it('forgets a pod once it is accounted for the last time', () => {
    const owners = new PodOwners();
    const p = pod({ kind: 'Job', name: 'train', uid: 'job-uid' });
    owners.workloadOf(p, stores);
    expect(owners.size).toBe(1);
    owners.forget('pod-uid');
    expect(owners.size).toBe(0);
    expect(show(owners.workloadOf(p, without('jobs', 'train')))).toBe('Pod/p');
  });
});

describe('PodDepartures', () => {
  const gone = (uid: string, endedAtSeconds: number): PodRecord => ({
    ...pod({ kind: 'Job', name: 'train', uid: 'job-uid' }),
    uid,
    endedAtSeconds,
  });

  it('keeps a deleted pod until a cycle accrues past its end, and forgets its owner then', () => {
    const d = new PodDepartures();
    d.onPodChange(gone('a', 100), undefined, stores, { nowSeconds: 100 });
    d.onPodChange(undefined, gone('a', 100), stores, { nowSeconds: 101 });
    d.onPodChange(undefined, gone('b', 130), stores, { nowSeconds: 131 });
    expect([...d.tombstones.keys()]).toEqual(['a', 'b']);
    d.settle(120);
    expect([...d.tombstones.keys()]).toEqual(['b']);
    expect(d.owners.size).toBe(1);
  });

  it('a pod gone before its grace period ended: it ended when it went, not at the deadline', () => {
    const d = new PodDepartures();
    d.onPodChange(undefined, { ...gone('a', 0), endedAtSeconds: undefined, deletingAtSeconds: 130 }, stores, {
      nowSeconds: 101,
    });
    expect(d.tombstones.get('a')?.endedAtSeconds).toBe(101);
  });

  it('on a replica that does not cycle, drops deleted pods older than ten minutes as others go', () => {
    const d = new PodDepartures();
    for (let i = 0; i < 5; i++) d.onPodChange(undefined, gone(`old-${i}`, 1000 + i), stores, { nowSeconds: 1000 + i });
    d.onPodChange(undefined, gone('new', 1700), stores, { nowSeconds: 1700 });
    expect([...d.tombstones.keys()]).toEqual(['new']);
  });
});
