/**
 * GPU node profiles for the local cluster: a YAML list of nodes, validated with zod, rendered as kwok
 * Node objects labelled the way GPU feature discovery and each cloud label them.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const nodeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/),
  instanceType: z.string().min(1),
  region: z.string().min(1),
  zone: z.string().min(1),
  capacityType: z.enum(['spot', 'on-demand']),
  capacityLabelStyle: z.enum(['eks', 'eks-selfmanaged', 'karpenter', 'gke', 'aks']),
  gpu: z
    .strictObject({
      product: z.string().min(1),
      count: z.int().min(1).max(64),
      memoryMiB: z.int().min(1),
      replicas: z.int().min(1).optional(),
    })
    .optional(),
  cpu: z.string().regex(/^\d+$/),
  memory: z.string().regex(/^\d+(Ki|Mi|Gi|Ti)$/),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(
      z.strictObject({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      }),
    )
    .optional(),
});
export const profileSchema = z.strictObject({ nodes: z.array(nodeSchema).min(1) });
export type ProfileNode = z.output<typeof nodeSchema>;

export function loadProfile(path: string): ProfileNode[] {
  const result = profileSchema.safeParse(parse(readFileSync(path, 'utf8')));
  if (!result.success) throw new Error(`${path} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data.nodes;
}

function capacityLabels(n: ProfileNode): {
  labels: Record<string, string>;
  taints: NonNullable<ProfileNode['taints']>;
} {
  const spot = n.capacityType === 'spot';
  switch (n.capacityLabelStyle) {
    case 'eks':
      return {
        labels: { 'eks.amazonaws.com/capacityType': spot ? 'SPOT' : 'ON_DEMAND', 'eks.amazonaws.com/nodegroup': 'gpu' },
        taints: [],
      };
    case 'eks-selfmanaged':
      return { labels: spot ? { lifecycle: 'EC2Spot' } : {}, taints: [] };
    case 'karpenter':
      return {
        labels: { 'karpenter.sh/capacity-type': spot ? 'spot' : 'on-demand', 'karpenter.sh/nodepool': 'gpu' },
        taints: [],
      };
    case 'gke':
      return {
        labels: {
          'cloud.google.com/gke-nodepool': 'gpu',
          ...(spot ? { 'cloud.google.com/gke-spot': 'true' } : {}),
          'cloud.google.com/gke-accelerator': n.gpu?.product.toLowerCase() ?? '',
        },
        taints: [],
      };
    case 'aks':
      return spot
        ? {
            labels: { 'kubernetes.azure.com/scalesetpriority': 'spot', 'kubernetes.azure.com/agentpool': 'gpu' },
            taints: [{ key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' }],
          }
        : { labels: { 'kubernetes.azure.com/agentpool': 'gpu' }, taints: [] };
  }
}

export function nodeObject(n: ProfileNode): Record<string, unknown> {
  const { labels: cloud, taints } = capacityLabels(n);
  const replicas = n.gpu?.replicas ?? 1;
  const gpuLabels: Record<string, string> = n.gpu
    ? {
        'nvidia.com/gpu.product': n.gpu.product,
        'nvidia.com/gpu.count': String(n.gpu.count),
        'nvidia.com/gpu.memory': String(n.gpu.memoryMiB),
        ...(replicas > 1 ? { 'nvidia.com/gpu.replicas': String(replicas) } : {}),
      }
    : {};
  const resources: Record<string, string> = {
    cpu: n.cpu,
    memory: n.memory,
    pods: '110',
    ...(n.gpu ? { 'nvidia.com/gpu': String(n.gpu.count * replicas) } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': n.instanceType,
        'topology.kubernetes.io/region': n.region,
        'topology.kubernetes.io/zone': n.zone,
        type: 'kwok',
        ...cloud,
        ...gpuLabels,
        ...n.labels,
      },
    },
    spec: { taints: [...taints, ...(n.taints ?? [])] },
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: { kubeletVersion: 'fake', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}
