/**
 * The operator's view of the cluster: one reflector per resource, each holding compact projections.
 * Decisions wait until every reflector has synced (hasSynced), as Karpenter waits for its cluster state.
 */
import type { Logger } from 'pino';
import { collectionPath } from './api-paths.ts';
import type { Clock } from './clock.ts';
import { COMPONENT } from './events.ts';
import type { KubeClient } from './kube-client.ts';
import type { Metrics } from './metrics.ts';
import {
  projectNamespace,
  projectNode,
  projectOwnEvent,
  projectPod,
  projectReplicaSet,
  projectWorkload,
  type NamespaceRecord,
  type NodeRecord,
  type OwnEventRecord,
  type PodRecord,
  type ReplicaSetRecord,
  type WorkloadRecord,
} from './projections.ts';
import { PodLabelKeys } from './pod-label-keys.ts';
import { Reflector, type ReflectorHooks, type ReflectorOptions } from './reflector.ts';

export interface ClusterCache {
  readonly nodes: Reflector<NodeRecord>;
  readonly pods: Reflector<PodRecord>;
  readonly replicaSets: Reflector<ReplicaSetRecord>;
  readonly jobs: Reflector<WorkloadRecord>;
  readonly deployments: Reflector<WorkloadRecord>;
  readonly statefulSets: Reflector<WorkloadRecord>;
  readonly namespaces: Reflector<NamespaceRecord>;
  /** The pod labels the pod projections keep (see followPolicySelectors). */
  readonly podLabelKeys: PodLabelKeys;
  readonly all: readonly Reflector<unknown>[];
  hasSynced(): boolean;
  start(): Promise<void>;
  stop(): void;
}

export function createClusterCache(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  metrics: Metrics,
  options: { labelKeys: readonly string[]; relistIntervalMs?: number },
): ClusterCache {
  const hooks = reflectorHooks(metrics);
  const make = <P>(o: ReflectorOptions<P>) =>
    new Reflector<P>({ relistIntervalMs: options.relistIntervalMs, ...o }, client, clock, log, hooks);
  const nodes = make({ name: 'nodes', path: collectionPath('Node'), project: projectNode });
  const podLabelKeys = new PodLabelKeys(options.labelKeys);
  // Only pods bound to a node hold resources; the field selector keeps pending ones out of the cache.
  const pods = make({
    name: 'pods',
    path: collectionPath('Pod'),
    fieldSelector: 'spec.nodeName!=',
    project: (pod: Parameters<typeof projectPod>[0]) => projectPod(pod, podLabelKeys),
  });
  const replicaSets = make({ name: 'replicasets', path: collectionPath('ReplicaSet'), project: projectReplicaSet });
  const jobs = make({ name: 'jobs', path: collectionPath('Job'), project: projectWorkload('Job') });
  const deployments = make({
    name: 'deployments',
    path: collectionPath('Deployment'),
    project: projectWorkload('Deployment'),
  });
  const statefulSets = make({
    name: 'statefulsets',
    path: collectionPath('StatefulSet'),
    project: projectWorkload('StatefulSet'),
  });
  const namespaces = make({ name: 'namespaces', path: collectionPath('Namespace'), project: projectNamespace });
  const all = [nodes, pods, replicaSets, jobs, deployments, statefulSets, namespaces] as Reflector<unknown>[];
  return {
    nodes,
    pods,
    replicaSets,
    jobs,
    deployments,
    statefulSets,
    namespaces,
    podLabelKeys,
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

/** Every reflector's metrics: its restarts, and whether its store is synced (0 while its lists fail). */
export function reflectorHooks(metrics: Metrics): ReflectorHooks {
  return {
    onError: (name) => metrics.watchRestarts.inc({ resource: name }),
    onSynced: (name, synced) => metrics.synced.set({ resource: name }, synced ? 1 : 0),
  };
}
