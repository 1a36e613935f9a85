import { describe, expect, it } from 'vitest';
import { projectNode, projectPod } from './projections.ts';
import { claimNamesOf, projectClaim, projectStorageClass } from './storage-projections.ts';

const node = (allocatable: Record<string, string>) => projectNode({ metadata: { name: 'n' }, status: { allocatable } });
const pod = (requests: Record<string, string>, limits: Record<string, string> = {}) =>
  projectPod(
    {
      metadata: { name: 'p', namespace: 'ml', uid: 'u' },
      spec: { nodeName: 'n', containers: [{ resources: { requests, limits } }] },
    },
    new Set(),
  );

describe('projections read quantities exactly, and say which they cannot', () => {
  it('keeps a node whose quantities fit, with no problem', () => {
    expect(node({ cpu: '1000000000', memory: '24Ti', 'nvidia.com/gpu': '8' })).toMatchObject({
      cpuMillis: 1e12, // a billion cores fits exact integers: the node size limits are the engine's (limits.ts)
      memoryBytes: 24 * 2 ** 40,
      gpuResources: { 'nvidia.com/gpu': 8 },
      quantityProblem: undefined,
    });
  });

  it.each([
    ['cpu', { cpu: '1e30' }, { cpuMillis: 0 }, 'allocatable cpu: quantity "1e30" is more than'],
    ['memory', { memory: '1e30' }, { memoryBytes: 0 }, 'allocatable memory: quantity "1e30"'],
    // Still a GPU node (so it is reported), with 0 of the resource it cannot read.
    ['a GPU', { 'nvidia.com/gpu': '1e30' }, { gpuResources: { 'nvidia.com/gpu': 0 } }, 'allocatable nvidia.com/gpu'],
  ])('a node whose %s is too large reads as 0, with the problem', (_what, allocatable, fields, problem) => {
    const record = node({ cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', ...allocatable });
    expect(record).toMatchObject(fields);
    expect(record?.quantityProblem).toContain(problem);
  });

  it('reads a pod memory request in bytes, exactly past 2^53 milli-units (16 TiB)', () => {
    expect(pod({ memory: '16Ti', cpu: '1500m' })).toMatchObject({ memoryBytes: 16 * 2 ** 40, cpuMillis: 1500 });
  });

  it('says which request is too large; a resource the operator does not read is not its problem', () => {
    expect(pod({ memory: '1e30' }, { 'nvidia.com/gpu': '1' })).toMatchObject({
      memoryBytes: 0,
      gpuRequests: { 'nvidia.com/gpu': 1 },
      quantityProblem: 'request memory: quantity "1e30" is more than 9007199254740991 units, beyond exact integers',
    });
    expect(pod({ 'ephemeral-storage': '1e30', cpu: '1' })?.quantityProblem).toBeUndefined();
  });
});

describe('a node’s labels', () => {
  const labels = { 'node.kubernetes.io/instance-type': 'm6i.2xlarge', pool: 'etl', owner: 'data', skip: '' };
  const raw = (allocatable: Record<string, string>) => ({ metadata: { name: 'n', labels }, status: { allocatable } });

  it('keeps all of a GPU node’s, and of a CPU-only node the pricing’s and those --account-nodes names', () => {
    expect(projectNode(raw({ cpu: '8', 'nvidia.com/gpu': '1' }))?.labels).toEqual(labels);
    expect(projectNode(raw({ cpu: '8' }))?.labels).toEqual({ 'node.kubernetes.io/instance-type': 'm6i.2xlarge' });
    expect(projectNode(raw({ cpu: '8' }), new Set(['pool', 'skip']))?.labels).toEqual({
      'node.kubernetes.io/instance-type': 'm6i.2xlarge',
      pool: 'etl',
      skip: '',
    });
  });
});

describe('storage projections (issue #18)', () => {
  it('projects a bound claim by its capacity, and a pending one by its request', () => {
    const claim = {
      metadata: { name: 'ckpt', namespace: 'ml', uid: 'c-1', creationTimestamp: '2026-12-02T10:00:00Z' },
      spec: { storageClassName: 'gp3', resources: { requests: { storage: '90Gi' } } },
      status: { phase: 'Bound', capacity: { storage: '100Gi' } },
    };
    expect(projectClaim(claim)).toMatchObject({
      storageClass: 'gp3',
      bytes: 100 * 2 ** 30,
      phase: 'Bound',
      createdAtSeconds: Date.parse('2026-12-02T10:00:00Z') / 1000,
    });
    expect(projectClaim({ ...claim, status: {} })).toMatchObject({ bytes: 90 * 2 ** 30, phase: 'Pending' });
    expect(projectClaim({ ...claim, status: { phase: 'Bound', capacity: { storage: '1e30' } } })).toMatchObject({
      bytes: 0,
      quantityProblem: expect.stringContaining('1e30') as string,
    });
    expect(projectClaim({ metadata: { name: 'x' } })).toBeUndefined();
  });

  it('projects a class by provisioner and parameters', () => {
    expect(
      projectStorageClass({ metadata: { name: 'fast' }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'io2' } }),
    ).toEqual({ name: 'fast', resourceVersion: '', provisioner: 'ebs.csi.aws.com', parameters: { type: 'io2' } });
  });

  it('keeps the claims a pod mounts, generic ephemeral volumes by their generated name', () => {
    expect(
      claimNamesOf('train-0', [
        { name: 'data', persistentVolumeClaim: { claimName: 'datasets' } },
        { name: 'scratch', ephemeral: {} },
        { name: 'cfg' },
        { name: 'again', persistentVolumeClaim: { claimName: 'datasets' } },
      ]),
    ).toEqual(['datasets', 'train-0-scratch']);
  });
});
