/**
 * The one table of the API resources the operator reads and writes: each kind's group/version, plural and
 * scope, and the REST paths built from them. Reflectors, the annotation writer, the policy controller,
 * Events and leader election all take their paths from here, so a group or version is written once.
 */

interface Resource {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const RESOURCES = {
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  Event: { apiVersion: 'v1', plural: 'events', namespaced: true },
  ReplicaSet: { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  Job: { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', plural: 'storageclasses', namespaced: false },
  AICostPolicy: { apiVersion: 'aicost.dev/v1alpha1', plural: 'aicostpolicies', namespaced: false },
} as const satisfies Record<string, Resource>;

export type ResourceKind = keyof typeof RESOURCES;

export function apiVersionOf(kind: ResourceKind): string {
  return RESOURCES[kind].apiVersion;
}

/** The core group is served under /api, every other group under /apis. */
function groupPrefix(apiVersion: string): string {
  return apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
}

/**
 * The collection path of a kind: in one namespace when `namespace` is given and the kind is namespaced,
 * else cluster-wide (what reflectors list and watch).
 */
export function collectionPath(kind: ResourceKind, namespace?: string): string {
  const r: Resource = RESOURCES[kind];
  const scope = r.namespaced && namespace !== undefined ? `/namespaces/${namespace}` : '';
  return `${groupPrefix(r.apiVersion)}${scope}/${r.plural}`;
}

/** The path of one object; `namespace` is ignored for cluster-scoped kinds. */
export function objectPath(kind: ResourceKind, namespace: string | undefined, name: string): string {
  return `${collectionPath(kind, namespace)}/${name}`;
}
