/**
 * The operator's view of the cluster: one reflector per resource, each holding compact projections.
 * Decisions wait until every reflector has synced (hasSynced), as Karpenter waits for its cluster state.
 */
import type { Logger } from 'pino';
import { collectionPath } from './api-paths.ts';
import type { Clock } from './clock.ts';
import { projectPolicy, type PolicyRecord } from '../crds/policy-record.ts';
import { COMPONENT } from './events.ts';
import type { KubeClient } from './kube-client.ts';
import type { Metrics } from './metrics.ts';
import {
  projectNamespace,
  projectNode,
  projectPod,
  projectReplicaSet,
  projectWorkload,
  type NamespaceRecord,
  type NodeRecord,
  type PodRecord,
  type ReplicaSetRecord,
  type WorkloadRecord,
} from './projections.ts';
import { projectOwnEvent, type OwnEventRecord } from './own-event-projection.ts';
import { PodLabelKeys } from './pod-label-keys.ts';
import { projectClaim, projectStorageClass, type ClaimRecord, type StorageClassRecord } from './storage-projections.ts';
import { Reflector, type ReflectorHooks, type ReflectorOptions } from './reflector.ts';

export interface ClusterCache {
  readonly nodes: Reflector<NodeRecord>;
  readonly pods: Reflector<PodRecord>;
  readonly replicaSets: Reflector<ReplicaSetRecord>;
  readonly jobs: Reflector<WorkloadRecord>;
  readonly deployments: Reflector<WorkloadRecord>;
  readonly statefulSets: Reflector<WorkloadRecord>;
  readonly namespaces: Reflector<NamespaceRecord>;
  /** What storage is priced from (issue #18): the claims and their classes. */
  readonly claims: Reflector<ClaimRecord>;
  readonly storageClasses: Reflector<StorageClassRecord>;
  /** The pod labels the pod projections keep (see followPolicySelectors). */
  readonly podLabelKeys: PodLabelKeys;
  readonly all: readonly Reflector<unknown>[];
  hasSynced(): boolean;
  start(): Promise<void>;
  stop(): void;
}

/** The reflectors a spot admission review reads: no pods (the webhook-only role keeps none). */
export type AdmissionCache = Pick<
  ClusterCache,
  | 'nodes'
  | 'replicaSets'
  | 'jobs'
  | 'deployments'
  | 'statefulSets'
  | 'namespaces'
  | 'all'
  | 'hasSynced'
  | 'start'
  | 'stop'
>;

type MakeReflector = <P>(o: ReflectorOptions<P>) => Reflector<P>;

function reflectorMaker(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  metrics: Metrics,
  relistIntervalMs: number | undefined,
): MakeReflector {
  const hooks = reflectorHooks(metrics);
  return <P>(o: ReflectorOptions<P>) => new Reflector<P>({ relistIntervalMs, ...o }, client, clock, log, hooks);
}

/**
 * Every reflector but the pods': the nodes, the namespaces and the owners a pod can name. `nodeLabelKeys`: the
 * labels a CPU-only node's projection keeps beside the pricing's (the keys --account-nodes names).
 */
function ownerReflectors(make: MakeReflector, nodeLabelKeys: readonly string[] = []) {
  const keptKeys = new Set(nodeLabelKeys);
  return {
    nodes: make({
      name: 'nodes',
      path: collectionPath('Node'),
      project: (node: Parameters<typeof projectNode>[0]) => projectNode(node, keptKeys),
    }),
    replicaSets: make({ name: 'replicasets', path: collectionPath('ReplicaSet'), project: projectReplicaSet }),
    jobs: make({ name: 'jobs', path: collectionPath('Job'), project: projectWorkload('Job') }),
    deployments: make({
      name: 'deployments',
      path: collectionPath('Deployment'),
      project: projectWorkload('Deployment'),
    }),
    statefulSets: make({
      name: 'statefulsets',
      path: collectionPath('StatefulSet'),
      project: projectWorkload('StatefulSet'),
    }),
    namespaces: make({ name: 'namespaces', path: collectionPath('Namespace'), project: projectNamespace }),
  };
}

/** Starting, stopping and the synced check over a list of reflectors. */
function lifecycle(all: readonly Reflector<unknown>[]) {
  return {
    all,
    hasSynced: () => all.every((r) => r.synced),
    // A failed first list is retried by the reflector itself; start() resolves either way.
    start: async () => {
      await Promise.all(all.map((r) => r.start()));
    },
    stop: () => {
      for (const r of all) r.stop();
    },
  };
}

export function createClusterCache(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  metrics: Metrics,
  options: { labelKeys: readonly string[]; relistIntervalMs?: number; nodeLabelKeys?: readonly string[] },
): ClusterCache {
  const make = reflectorMaker(client, clock, log, metrics, options.relistIntervalMs);
  const owners = ownerReflectors(make, options.nodeLabelKeys);
  const podLabelKeys = new PodLabelKeys(options.labelKeys);
  // Only pods bound to a node hold resources; the field selector keeps pending ones out of the cache.
  const pods = make({
    name: 'pods',
    path: collectionPath('Pod'),
    fieldSelector: 'spec.nodeName!=',
    project: (pod: Parameters<typeof projectPod>[0]) => projectPod(pod, podLabelKeys),
  });
  const claims = make({
    name: 'persistentvolumeclaims',
    path: collectionPath('PersistentVolumeClaim'),
    project: projectClaim,
  });
  const storageClasses = make({
    name: 'storageclasses',
    path: collectionPath('StorageClass'),
    project: projectStorageClass,
  });
  const { nodes, replicaSets, jobs, deployments, statefulSets, namespaces } = owners;
  const all = [
    nodes,
    pods,
    replicaSets,
    jobs,
    deployments,
    statefulSets,
    namespaces,
    claims,
    storageClasses,
  ] as Reflector<unknown>[];
  return { ...owners, pods, claims, storageClasses, podLabelKeys, ...lifecycle(all) };
}

/** The caches of the webhook-only role (`aicost webhook`): what a review reads, never the pods. */
export function createAdmissionCache(client: KubeClient, clock: Clock, log: Logger, metrics: Metrics): AdmissionCache {
  const owners = ownerReflectors(reflectorMaker(client, clock, log, metrics, undefined));
  return { ...owners, ...lifecycle(Object.values(owners) as Reflector<unknown>[]) };
}

/**
 * The operator's own Events of one reason, cluster-wide (the leader reads back the webhook's SpotDenied
 * Events). Apart from the cluster cache: only the leader needs it, and a policy pass counts denials only once
 * it has synced, so an API server that refuses to list Events costs those counts and nothing else.
 */
export function createOwnEventReflector(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  metrics: Metrics,
  reason: string,
): Reflector<OwnEventRecord> {
  return new Reflector<OwnEventRecord>(
    {
      name: `events-${reason}`,
      path: collectionPath('Event'),
      fieldSelector: `reason=${reason},reportingComponent=${COMPONENT}`,
      project: projectOwnEvent(reason, COMPONENT),
    },
    client,
    clock,
    log,
    reflectorHooks(metrics),
  );
}

/** The AICostPolicies, apart from the cluster cache: accounting must not wait for the CRD to be installed. */
export function createPolicyReflector(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  metrics: Metrics,
): Reflector<PolicyRecord> {
  return new Reflector<PolicyRecord>(
    { name: 'aicostpolicies', path: collectionPath('AICostPolicy'), project: projectPolicy },
    client,
    clock,
    log,
    reflectorHooks(metrics),
  );
}

/** Every reflector's metrics: its restarts, and whether its store is synced (0 while its lists fail). */
export function reflectorHooks(metrics: Metrics): ReflectorHooks {
  return {
    onError: (name) => metrics.watchRestarts.inc({ resource: name }),
    onSynced: (name, synced) => metrics.synced.set({ resource: name }, synced ? 1 : 0),
  };
}
