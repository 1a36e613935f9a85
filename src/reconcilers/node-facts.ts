/** Turns a cached node and the pricing provider's answer into the cost engine's node facts. */
import { workloadKey } from '../cost/rollup.ts';
import { gpuUnitsOf, replicasOf, GPU_RESOURCE } from '../cost/gpu-units.ts';
import { sizeProblem } from '../cost/limits.ts';
import type { FactsProblem, NodeFacts, PodFacts, WorkloadRef } from '../cost/types.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord, OwnerRef, PodRecord, ReplicaSetRecord, WorkloadRecord } from '../controller/projections.ts';
import type { NodePrice, PricingProvider } from '../pricing/provider.ts';

export function isGpuNode(node: NodeRecord): boolean {
  return Object.keys(node.gpuResources).length > 0;
}

/** Physical GPUs: the GFD count label, else the device plugin's units divided by time-slicing replicas. */
export function physicalGpus(node: NodeRecord): number {
  const label = Number(node.labels['nvidia.com/gpu.count']);
  if (Number.isInteger(label) && label > 0) return label;
  const units = node.gpuResources[GPU_RESOURCE] ?? 0;
  return Math.ceil(units / replicasOf(node.labels));
}

export function priceOf(node: NodeRecord, pricing: PricingProvider): NodePrice {
  return pricing.priceNode({
    name: node.name,
    labels: node.labels,
    annotations: node.priceAnnotation === undefined ? {} : { 'aicost.dev/price-per-hour': node.priceAnnotation },
    gpuCount: physicalGpus(node),
    vcpu: node.cpuMillis / 1000,
    memoryGiB: node.memoryBytes / 2 ** 30,
  });
}

/**
 * The engine's facts of a node. A quantity too large to read, or a node larger than any the operator accounts
 * (limits.ts), is its problem: the engine skips it, and the accountant says why.
 */
export function nodeFacts(node: NodeRecord, price: NodePrice): NodeFacts {
  const resources = {
    gpuUnits: gpuUnitsOf(node.gpuResources, replicasOf(node.labels)),
    cpuMillis: node.cpuMillis,
    memoryBytes: node.memoryBytes,
  };
  return {
    name: node.name,
    perHour: price.priced ? price.perHour : undefined,
    unpricedReason: price.priced ? undefined : price.reason,
    onDemandPerHour: price.priced ? price.onDemandPerHour : undefined,
    capacityType: price.capacityType,
    ...resources,
    labels: node.labels,
    from: node.createdAtSeconds || undefined,
    problem: quantityProblem(node.quantityProblem) ?? sizeProblem('node', resources),
  };
}

function quantityProblem(message: string | undefined): FactsProblem | undefined {
  return message === undefined ? undefined : { reason: 'quantity', message };
}

/** The cached stores a pod's owner is resolved through; a ClusterCache is one. */
export interface OwnerStores {
  readonly replicaSets: { readonly store: ReadonlyMap<string, ReplicaSetRecord> };
  readonly jobs: { readonly store: ReadonlyMap<string, WorkloadRecord> };
  readonly deployments: { readonly store: ReadonlyMap<string, WorkloadRecord> };
  readonly statefulSets: { readonly store: ReadonlyMap<string, WorkloadRecord> };
}

/**
 * What a controller reference resolves to: a cached workload whose uid it names (record set), a kind the
 * operator does not cache ('Other', taken by name), an owner not in the cache (uncached), or nothing:
 * the reference names a cached object of another uid, so the pod is its own (bare) workload.
 */
export type OwnerResolution =
  | { readonly kind: WorkloadRecord['kind']; readonly name: string; readonly record: WorkloadRecord }
  | { readonly kind: 'Other'; readonly name: string; readonly record?: undefined }
  | { readonly kind: 'Uncached'; readonly name: string; readonly record?: undefined }
  | undefined;

/**
 * Whether a reference names the cached object. A reference without a uid is taken by name: the API server
 * rejects an ownerReference whose uid is empty, so only test fixtures (and objects not yet validated, at
 * admission) lack one; a forged reference must carry a uid, and that uid is checked.
 */
function names(referencedUid: string, cachedUid: string): boolean {
  return referencedUid === '' || referencedUid === cachedUid;
}

/**
 * The owner a pod's controller reference names, checked by uid against the cache: a Job or StatefulSet
 * whose cached uid the reference names; a Deployment when the ReplicaSet's uid is the one the pod names
 * and the Deployment's the one the ReplicaSet names. A pod that names an object of the same kind and name
 * but another uid (forged, or left from a deleted and recreated owner) resolves to undefined: bare.
 */
export function resolveOwner(namespace: string, owner: OwnerRef | undefined, stores: OwnerStores): OwnerResolution {
  if (!owner) return undefined;
  const verified = (kind: WorkloadRecord['kind'], record: WorkloadRecord | undefined, uid: string): OwnerResolution => {
    if (!record) return { kind: 'Uncached', name: owner.name };
    return names(uid, record.uid) ? { kind, name: record.name, record } : undefined;
  };
  const key = `${namespace}/${owner.name}`;
  switch (owner.kind) {
    case 'ReplicaSet': {
      const rs = stores.replicaSets.store.get(key);
      if (!rs) return { kind: 'Uncached', name: owner.name };
      if (!names(owner.uid, rs.uid)) return undefined;
      if (!rs.deployment) return { kind: 'Other', name: owner.name }; // a ReplicaSet of its own
      return verified('Deployment', stores.deployments.store.get(`${namespace}/${rs.deployment}`), rs.deploymentUid);
    }
    case 'Job':
      return verified('Job', stores.jobs.store.get(key), owner.uid);
    case 'StatefulSet':
      return verified('StatefulSet', stores.statefulSets.store.get(key), owner.uid);
    default:
      return { kind: 'Other', name: owner.name };
  }
}

/**
 * The workload a pod's cost rolls up to and its policies govern: the Deployment (through its ReplicaSet),
 * Job or StatefulSet that resolveOwner verified, an owner of a kind not cached ('Other'), or the pod.
 * An owner not in the cache makes the pod bare too. The cache may lag (a new owner's watch event, or the
 * tail of a deleted owner's pods), but resolving by name then would bill, and let a policy act on, an
 * object whose uid nobody checked: suspend-job patches by name. So a pod is never attributed to a
 * workload the cache does not hold with the uid it names; it bills to itself until the owner is cached.
 */
export function workloadOf(pod: PodRecord, stores: OwnerStores): WorkloadRef {
  const owner = resolveOwner(pod.namespace, pod.owner, stores);
  if (!owner || owner.kind === 'Uncached') return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
  return { kind: owner.kind, namespace: pod.namespace, name: owner.name };
}

/** A Job's, Deployment's or StatefulSet's cached record by kind and "namespace/name"; undefined for other kinds. */
export function workloadRecordOf(cache: ClusterCache, kind: string, key: string): WorkloadRecord | undefined {
  if (kind === 'Job') return cache.jobs.store.get(key);
  if (kind === 'Deployment') return cache.deployments.store.get(key);
  if (kind === 'StatefulSet') return cache.statefulSets.store.get(key);
  return undefined;
}

/** The engine's facts of a pod that started; with a problem, as a node's (nodeFacts), when its requests have one. */
export function podFacts(pod: PodRecord, node: NodeRecord, workload: WorkloadRef): PodFacts | undefined {
  if (pod.startedAtSeconds === undefined) return undefined;
  const resources = {
    gpuUnits: gpuUnitsOf(pod.gpuRequests, replicasOf(node.labels)),
    cpuMillis: pod.cpuMillis,
    memoryBytes: pod.memoryBytes,
  };
  return {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    nodeName: pod.nodeName,
    ...resources,
    problem: quantityProblem(pod.quantityProblem) ?? sizeProblem('pod', resources),
    from: pod.startedAtSeconds,
    until: pod.endedAtSeconds ?? pod.deletingAtSeconds,
    labels: pod.labels,
    workload,
  };
}

/** The uid each Job, Deployment and StatefulSet of these pods has in the cache, by workload key. */
export function workloadUids(cache: ClusterCache, pods: readonly PodFacts[]): Map<string, string> {
  const uids = new Map<string, string>();
  for (const pod of pods) {
    const key = workloadKey(pod.workload);
    if (uids.has(key)) continue;
    const uid = workloadRecordOf(cache, pod.workload.kind, `${pod.namespace}/${pod.workload.name}`)?.uid;
    if (uid) uids.set(key, uid);
  }
  return uids;
}
