/** Turns a cached node and the pricing provider's answer into the cost engine's node facts. */
import { gpuUnitsOf, replicasOf, GPU_RESOURCE } from '../cost/gpu-units.ts';
import type { NodeFacts, PodFacts, WorkloadRef } from '../cost/types.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord, PodRecord, ReplicaSetRecord, WorkloadRecord } from '../controller/projections.ts';
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

export function nodeFacts(node: NodeRecord, price: NodePrice): NodeFacts {
  return {
    name: node.name,
    perHour: price.priced ? price.perHour : undefined,
    unpricedReason: price.priced ? undefined : price.reason,
    onDemandPerHour: price.priced ? price.onDemandPerHour : undefined,
    capacityType: price.capacityType,
    gpuUnits: gpuUnitsOf(node.gpuResources, replicasOf(node.labels)),
    cpuMillis: node.cpuMillis,
    memoryBytes: node.memoryBytes,
    labels: node.labels,
    from: node.createdAtSeconds || undefined,
  };
}

/** The workload a pod's cost rolls up to: Deployment (through its ReplicaSet), Job, StatefulSet, or the pod. */
export function workloadOf(pod: PodRecord, replicaSets: ReadonlyMap<string, ReplicaSetRecord>): WorkloadRef {
  const owner = pod.owner;
  if (!owner) return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
  switch (owner.kind) {
    case 'ReplicaSet': {
      const deployment = replicaSets.get(`${pod.namespace}/${owner.name}`)?.deployment;
      return deployment
        ? { kind: 'Deployment', namespace: pod.namespace, name: deployment }
        : { kind: 'Other', namespace: pod.namespace, name: owner.name };
    }
    case 'Job':
    case 'StatefulSet':
      return { kind: owner.kind, namespace: pod.namespace, name: owner.name };
    default:
      return { kind: 'Other', namespace: pod.namespace, name: owner.name };
  }
}

/** A Job's, Deployment's or StatefulSet's cached record by kind and "namespace/name"; undefined for other kinds. */
export function workloadRecordOf(cache: ClusterCache, kind: string, key: string): WorkloadRecord | undefined {
  if (kind === 'Job') return cache.jobs.store.get(key);
  if (kind === 'Deployment') return cache.deployments.store.get(key);
  if (kind === 'StatefulSet') return cache.statefulSets.store.get(key);
  return undefined;
}

export function podFacts(pod: PodRecord, node: NodeRecord, workload: WorkloadRef): PodFacts | undefined {
  if (pod.startedAtSeconds === undefined) return undefined;
  return {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    nodeName: pod.nodeName,
    gpuUnits: gpuUnitsOf(pod.gpuRequests, replicasOf(node.labels)),
    cpuMillis: pod.cpuMillis,
    memoryBytes: pod.memoryBytes,
    from: pod.startedAtSeconds,
    until: pod.endedAtSeconds ?? pod.deletingAtSeconds,
    labels: pod.labels,
    workload,
  };
}
