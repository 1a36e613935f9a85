/**
 * GPU node profiles for the local cluster: a YAML list of nodes, validated with zod, rendered as kwok
 * Node objects labelled the way GPU feature discovery and each cloud label them. Format:
 * docs/local-cluster.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const DEFAULT_PROFILE = resolve(import.meta.dirname, 'profiles/default.yaml');

/** YAML reads `cpu: 96` as a number and `cpu: "96"` as a string; both mean the same quantity. */
const quantity = (pattern: RegExp, example: string) =>
  z
    .union([z.string(), z.number().nonnegative()])
    .transform(String)
    .pipe(z.string().regex(pattern, `expected a Kubernetes quantity such as ${example}`));

const labelMap = z.record(z.string().min(1), z.string());

const nodeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a DNS subdomain name such as gpu-node-1'),
  instanceType: z.string().min(1),
  region: z.string().min(1),
  zone: z.string().min(1),
  capacityType: z.enum(['spot', 'on-demand']),
  capacityLabelStyle: z.enum(['eks', 'eks-selfmanaged', 'karpenter', 'gke', 'aks']),
  gpu: z
    .strictObject({
      /** The GPU feature discovery product label, e.g. NVIDIA-A100-SXM4-40GB. */
      product: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, 'expected a GFD product such as NVIDIA-A100-SXM4-40GB'),
      count: z.int().min(1).max(64),
      memoryMiB: z.int().min(1),
      /** Time-slicing: each GPU is advertised this many times as nvidia.com/gpu. */
      replicas: z.int().min(1).max(64).optional(),
    })
    .optional(),
  cpu: quantity(/^\d+(\.\d+)?m?$/, '96 or 500m'),
  memory: quantity(/^\d+(Ki|Mi|Gi|Ti)?$/, '1152Gi'),
  pods: z.int().min(1).optional(),
  labels: labelMap.optional(),
  annotations: labelMap.optional(),
  taints: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      }),
    )
    .optional(),
});

export const profileSchema = z.strictObject({
  nodes: z
    .array(nodeSchema)
    .min(1)
    .superRefine((nodes, ctx) => {
      const seen = new Set<string>();
      nodes.forEach((n, i) => {
        if (seen.has(n.name))
          ctx.addIssue({ code: 'custom', message: `duplicate node name ${n.name}`, path: [i, 'name'] });
        seen.add(n.name);
      });
    }),
});
export type ProfileNode = z.output<typeof nodeSchema>;

/** Parses and validates a profile; the error names the file and each offending field (e.g. nodes[2].gpu.count). */
export function parseProfile(text: string, source: string): ProfileNode[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid YAML`, { cause: error });
  }
  const result = profileSchema.safeParse(raw);
  if (!result.success) throw new Error(`${source} is not a valid node profile:\n${z.prettifyError(result.error)}`);
  return result.data.nodes;
}

export function loadProfile(path: string): ProfileNode[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the node profile ${path}`, { cause: error });
  }
  return parseProfile(text, path);
}

type ProfileTaint = NonNullable<ProfileNode['taints']>[number];
export interface Taint {
  key: string;
  value?: string;
  effect: ProfileTaint['effect'];
}
// Written out so that an absent value is absent, not undefined (the API types are exact).
const taint = ({ key, value, effect }: ProfileTaint): Taint =>
  value === undefined ? { key, effect } : { key, value, effect };

/** The capacity-type labels (and taints) each platform puts on its nodes. */
export function capacityLabels(n: ProfileNode): { labels: Record<string, string>; taints: Taint[] } {
  const spot = n.capacityType === 'spot';
  switch (n.capacityLabelStyle) {
    case 'eks':
      return {
        labels: { 'eks.amazonaws.com/capacityType': spot ? 'SPOT' : 'ON_DEMAND', 'eks.amazonaws.com/nodegroup': 'gpu' },
        taints: [],
      };
    case 'eks-selfmanaged':
      // Self-managed node groups only mark spot nodes; on-demand is the absence of the label.
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
          ...(n.gpu ? { 'cloud.google.com/gke-accelerator': n.gpu.product.toLowerCase() } : {}),
        },
        taints: [],
      };
    case 'aks':
      // AKS taints spot pools so that only workloads that tolerate eviction land there.
      return spot
        ? {
            labels: { 'kubernetes.azure.com/scalesetpriority': 'spot', 'kubernetes.azure.com/agentpool': 'gpu' },
            taints: [{ key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' }],
          }
        : { labels: { 'kubernetes.azure.com/agentpool': 'gpu' }, taints: [] };
  }
}

export interface NodeManifest {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints: Taint[] };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    nodeInfo: Record<string, string>;
  };
}

export function nodeObject(n: ProfileNode): NodeManifest {
  const { labels: cloud, taints } = capacityLabels(n);
  const replicas = n.gpu?.replicas ?? 1;
  const gpuLabels: Record<string, string> = n.gpu
    ? {
        'nvidia.com/gpu.present': 'true',
        'nvidia.com/gpu.product': replicas > 1 ? `${n.gpu.product}-SHARED` : n.gpu.product,
        'nvidia.com/gpu.count': String(n.gpu.count),
        'nvidia.com/gpu.memory': String(n.gpu.memoryMiB),
        ...(replicas > 1 ? { 'nvidia.com/gpu.replicas': String(replicas) } : {}),
      }
    : {};
  const resources: Record<string, string> = {
    cpu: n.cpu,
    memory: n.memory,
    pods: String(n.pods ?? 110),
    ...(n.gpu ? { 'nvidia.com/gpu': String(n.gpu.count * replicas) } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      annotations: { ...n.annotations, 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
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
    spec: { taints: [...taints, ...(n.taints ?? []).map(taint)] },
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: { kubeletVersion: 'fake', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}
