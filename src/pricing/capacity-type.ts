/**
 * Capacity type of a node from the label conventions of each platform. Sources: EKS managed node groups
 * (eks.amazonaws.com/capacityType), self-managed AWS groups (lifecycle=EC2Spot), Karpenter v1
 * (karpenter.sh/capacity-type), GKE (cloud.google.com/gke-spot, gke-preemptible), AKS
 * (kubernetes.azure.com/scalesetpriority). See docs/pricing.md.
 */
export type CapacityType = 'on-demand' | 'spot' | 'reserved';
export type Labels = Readonly<Record<string, string>>;

export const LABEL = {
  instanceType: 'node.kubernetes.io/instance-type',
  instanceTypeBeta: 'beta.kubernetes.io/instance-type',
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
  eksCapacityType: 'eks.amazonaws.com/capacityType',
  awsLifecycle: 'lifecycle',
  karpenterCapacityType: 'karpenter.sh/capacity-type',
  gkeSpot: 'cloud.google.com/gke-spot',
  gkePreemptible: 'cloud.google.com/gke-preemptible',
  aksPriority: 'kubernetes.azure.com/scalesetpriority',
  gpuProduct: 'nvidia.com/gpu.product',
  gpuCount: 'nvidia.com/gpu.count',
  gpuReplicas: 'nvidia.com/gpu.replicas',
  gkeAccelerator: 'cloud.google.com/gke-accelerator',
} as const;

/** Every label/value pair that marks spot capacity, one per platform (used by the spot webhook too). */
export const SPOT_LABELS: readonly { key: string; value: string }[] = [
  { key: LABEL.eksCapacityType, value: 'SPOT' },
  { key: LABEL.awsLifecycle, value: 'EC2Spot' },
  { key: LABEL.karpenterCapacityType, value: 'spot' },
  { key: LABEL.gkeSpot, value: 'true' },
  { key: LABEL.gkePreemptible, value: 'true' },
  { key: LABEL.aksPriority, value: 'spot' },
];

export function capacityTypeOf(labels: Labels): CapacityType {
  for (const { key, value } of SPOT_LABELS) {
    if (labels[key]?.toLowerCase() === value.toLowerCase()) return 'spot';
  }
  const karpenter = labels[LABEL.karpenterCapacityType]?.toLowerCase();
  if (karpenter === 'reserved') return 'reserved';
  const eks = labels[LABEL.eksCapacityType]?.toUpperCase();
  if (eks === 'CAPACITY_BLOCK') return 'reserved';
  return 'on-demand';
}

export type CloudProvider = 'aws' | 'gcp' | 'azure';

/** The cloud a node runs on, from its labels and instance type naming; undefined when nothing tells. */
export function providerOf(labels: Labels, instanceType: string | undefined): CloudProvider | undefined {
  if (Object.keys(labels).some((k) => k.startsWith('eks.amazonaws.com/')) || labels[LABEL.awsLifecycle] === 'EC2Spot') {
    return 'aws';
  }
  if (Object.keys(labels).some((k) => k.startsWith('cloud.google.com/'))) return 'gcp';
  if (Object.keys(labels).some((k) => k.startsWith('kubernetes.azure.com/'))) return 'azure';
  if (instanceType === undefined) return undefined;
  if (/^Standard_/i.test(instanceType)) return 'azure';
  if (/^[a-z]\d[a-z]*-(standard|highgpu|ultragpu|highmem|highcpu|megagpu|edgegpu)-/.test(instanceType)) return 'gcp';
  if (/^[a-z]+\d+[a-z-]*\.[0-9a-z]+$/.test(instanceType)) return 'aws';
  return undefined;
}

/** Instance family: "p4d" for p4d.24xlarge, "a2" for a2-highgpu-8g, "NC" series name for Azure. */
export function instanceFamilyOf(instanceType: string): string {
  const aws = /^([a-z0-9-]+)\./.exec(instanceType);
  if (aws?.[1]) return aws[1];
  const gcp = /^([a-z0-9]+)-/.exec(instanceType);
  if (gcp?.[1]) return gcp[1];
  const azure = /^Standard_([A-Za-z]+)/.exec(instanceType);
  if (azure?.[1]) return azure[1];
  return instanceType;
}
