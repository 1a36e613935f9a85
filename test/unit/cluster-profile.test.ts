import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE, loadProfile, nodeObject, parseProfile, type ProfileNode } from '../cluster/profile.ts';

const base: ProfileNode = {
  name: 'n1',
  instanceType: 'g5.xlarge',
  region: 'us-east-1',
  zone: 'us-east-1a',
  capacityType: 'spot',
  capacityLabelStyle: 'eks',
  gpu: { product: 'NVIDIA-A10G', count: 1, memoryMiB: 23028 },
  cpu: '4',
  memory: '16Gi',
};

describe('node profiles', () => {
  it('names the offending field of an invalid profile', () => {
    const yaml = `nodes:
  - name: ok
    instanceType: m6i.2xlarge
    region: r
    zone: z
    capacityType: on-demand
    capacityLabelStyle: eks
    cpu: 8
    memory: 32Gi
  - name: bad
    instanceType: p4d.24xlarge
    region: r
    zone: z
    capacityType: reserved
    capacityLabelStyle: eks
    gpu: { product: NVIDIA-A100-SXM4-40GB, count: 0, memoryMiB: 40960 }
    cpu: "96"
    memory: 1152Gi
`;
    expect(() => parseProfile(yaml, 'my.yaml')).toThrow(
      /my\.yaml[\s\S]*nodes\[1\]\.capacityType[\s\S]*nodes\[1\]\.gpu\.count/,
    );
    expect(() => parseProfile('nodes: [', 'broken.yaml')).toThrow(/broken\.yaml is not valid YAML/);
    expect(() => parseProfile(`nodes:\n  - ${JSON.stringify({ ...base, gpus: 1 })}`, 'x.yaml')).toThrow(/gpus/);
  });

  it('rejects duplicate node names', () => {
    const yaml = `nodes: [${JSON.stringify(base)}, ${JSON.stringify(base)}]`;
    expect(() => parseProfile(yaml, 'dup.yaml')).toThrow(/duplicate node name n1/);
  });

  it('renders a kwok GPU node with GFD labels, topology and capacity', () => {
    const node = nodeObject(base);
    expect(node.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'n1',
      'kubernetes.io/os': 'linux',
      type: 'kwok',
      'node.kubernetes.io/instance-type': 'g5.xlarge',
      'topology.kubernetes.io/region': 'us-east-1',
      'topology.kubernetes.io/zone': 'us-east-1a',
      'nvidia.com/gpu.product': 'NVIDIA-A10G',
      'nvidia.com/gpu.count': '1',
      'nvidia.com/gpu.memory': '23028',
    });
    expect(node.status.capacity).toEqual({ cpu: '4', memory: '16Gi', pods: '110', 'nvidia.com/gpu': '1' });
    expect(node.status.allocatable).toEqual(node.status.capacity);
  });

  it('gives a CPU node no GPU labels or capacity', () => {
    const { gpu: _gpu, ...cpuOnly } = base;
    const node = nodeObject(cpuOnly);
    expect(Object.keys(node.metadata.labels).filter((k) => k.startsWith('nvidia.com/'))).toEqual([]);
    expect(node.status.capacity['nvidia.com/gpu']).toBeUndefined();
  });

  it.each([
    ['eks', 'spot', { 'eks.amazonaws.com/capacityType': 'SPOT' }],
    ['eks', 'on-demand', { 'eks.amazonaws.com/capacityType': 'ON_DEMAND' }],
    ['eks-selfmanaged', 'spot', { lifecycle: 'EC2Spot' }],
    ['karpenter', 'spot', { 'karpenter.sh/capacity-type': 'spot' }],
    ['karpenter', 'on-demand', { 'karpenter.sh/capacity-type': 'on-demand' }],
    ['gke', 'spot', { 'cloud.google.com/gke-spot': 'true' }],
    ['aks', 'spot', { 'kubernetes.azure.com/scalesetpriority': 'spot' }],
  ] as const)('labels %s %s capacity', (style, capacityType, labels) => {
    const node = nodeObject({ ...base, capacityLabelStyle: style, capacityType });
    expect(node.metadata.labels).toMatchObject(labels);
  });

  it.each([
    ['eks-selfmanaged', 'lifecycle'],
    ['gke', 'cloud.google.com/gke-spot'],
    ['aks', 'kubernetes.azure.com/scalesetpriority'],
  ] as const)('marks only spot nodes in the %s style', (style, key) => {
    expect(
      nodeObject({ ...base, capacityLabelStyle: style, capacityType: 'on-demand' }).metadata.labels[key],
    ).toBeUndefined();
  });

  it('taints AKS spot nodes the way AKS does', () => {
    expect(nodeObject({ ...base, capacityLabelStyle: 'aks' }).spec.taints).toEqual([
      { key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' },
    ]);
    expect(nodeObject({ ...base, capacityLabelStyle: 'aks', capacityType: 'on-demand' }).spec.taints).toEqual([]);
  });

  it('lets extra labels and taints through', () => {
    const node = nodeObject({
      ...base,
      labels: { team: 'ml' },
      taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
    });
    expect(node.metadata.labels.team).toBe('ml');
    expect(node.spec.taints).toEqual([{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
  });

  it('ships a default profile with the node mix the e2e tests rely on', () => {
    const nodes = loadProfile(DEFAULT_PROFILE);
    const count = (f: (n: ProfileNode) => boolean) => nodes.filter(f).length;
    const p4d = nodes.filter((n) => n.instanceType === 'p4d.24xlarge');
    expect(p4d.map((n) => [n.capacityType, n.capacityLabelStyle, n.gpu?.count]).sort()).toEqual([
      ['on-demand', 'eks', 8],
      ['on-demand', 'karpenter', 8],
    ]);
    const g5 = nodes.filter((n) => n.instanceType === 'g5.xlarge');
    expect(g5.map((n) => [n.capacityType, n.capacityLabelStyle]).sort()).toEqual([
      ['spot', 'eks'],
      ['spot', 'karpenter'],
    ]);
    expect(
      count((n) => n.instanceType === 'g6e.12xlarge' && n.gpu?.count === 4 && n.capacityType === 'on-demand'),
    ).toBe(1);
    expect(
      count((n) => n.capacityLabelStyle === 'gke' && n.capacityType === 'spot' && n.gpu?.product === 'NVIDIA-L4'),
    ).toBe(1);
    const aks = nodes.find((n) => n.capacityLabelStyle === 'aks');
    expect(aks && nodeObject(aks).spec.taints).toHaveLength(1);
    expect(count((n) => n.gpu === undefined)).toBeGreaterThanOrEqual(2);
  });
});
