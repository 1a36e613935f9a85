import { describe, expect, it } from 'vitest';
import { apiVersionOf, collectionPath, objectPath } from './api-paths.ts';

describe('API paths', () => {
  it.each([
    ['Pod', 'ns', 'p', '/api/v1/namespaces/ns/pods/p'],
    ['Namespace', 'ignored', 'ns', '/api/v1/namespaces/ns'],
    ['Job', 'ns', 'j', '/apis/batch/v1/namespaces/ns/jobs/j'],
    ['Deployment', 'ns', 'd', '/apis/apps/v1/namespaces/ns/deployments/d'],
    ['StatefulSet', 'ns', 's', '/apis/apps/v1/namespaces/ns/statefulsets/s'],
    ['AICostPolicy', undefined, 'gpu', '/apis/aicost.dev/v1alpha1/aicostpolicies/gpu'],
  ] as const)('%s object path', (kind, namespace, name, path) => {
    expect(objectPath(kind, namespace, name)).toBe(path);
  });

  it('collections are cluster-wide without a namespace, and namespaced with one', () => {
    expect(collectionPath('Pod')).toBe('/api/v1/pods');
    expect(collectionPath('ReplicaSet')).toBe('/apis/apps/v1/replicasets');
    expect(collectionPath('Event', 'ns')).toBe('/api/v1/namespaces/ns/events');
    expect(collectionPath('Lease', 'aicost')).toBe('/apis/coordination.k8s.io/v1/namespaces/aicost/leases');
    expect(collectionPath('Node', 'ignored')).toBe('/api/v1/nodes');
  });

  it('names the apiVersion of a kind', () => {
    expect([apiVersionOf('Pod'), apiVersionOf('Job'), apiVersionOf('StatefulSet')]).toEqual([
      'v1',
      'batch/v1',
      'apps/v1',
    ]);
  });
});
