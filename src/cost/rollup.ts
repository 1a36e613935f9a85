/**
 * Roll-ups of pod costs: by workload, by namespace and by any set of label keys. Money stays exact;
 * pods whose cost is unknown (unpriced node) are counted apart, never added as zero.
 */
import type { Nanos } from './money.ts';
import type { IntervalCost, PodCost, WorkloadRef } from './types.ts';

/** Group value for a label a pod does not carry. */
export const UNSET = '__unset__';
/** Group name of capacity that no pod requested (the metrics' roll-ups, see reconcilers/rollup-rows.ts). */
export const IDLE = '__idle__';

export interface Usage {
  cost: Nanos;
  gpuCost: Nanos;
  onDemandCost: Nanos;
  idleGpuCost: Nanos;
  gpuSeconds: number;
  /** GPU-seconds with known utilization, and of those the busy-weighted and idle ones. */
  measuredGpuSeconds: number;
  utilizedGpuSeconds: number;
  idleGpuSeconds: number;
  pods: number;
  /** Pods whose cost is unknown because their node is unpriced. */
  unpricedPods: number;
}

export function emptyUsage(): Usage {
  return {
    cost: 0n,
    gpuCost: 0n,
    onDemandCost: 0n,
    idleGpuCost: 0n,
    gpuSeconds: 0,
    measuredGpuSeconds: 0,
    utilizedGpuSeconds: 0,
    idleGpuSeconds: 0,
    pods: 0,
    unpricedPods: 0,
  };
}

export function addPodCost(usage: Usage, pc: PodCost): void {
  usage.pods += 1;
  usage.gpuSeconds += pc.gpuSeconds;
  if (pc.cost) {
    usage.cost += pc.cost.total;
    usage.gpuCost += pc.cost.gpu;
    usage.onDemandCost += pc.onDemandCost ?? pc.cost.total;
  } else {
    usage.unpricedPods += 1;
  }
  const utilization = pc.pod.utilization;
  if (utilization !== undefined && pc.gpuSeconds > 0) {
    usage.measuredGpuSeconds += pc.gpuSeconds;
    usage.utilizedGpuSeconds += pc.gpuSeconds * Math.min(1, Math.max(0, utilization.mean));
    usage.idleGpuSeconds += pc.idleGpuSeconds ?? 0;
    usage.idleGpuCost += pc.idleGpuCost ?? 0n;
  }
}

export function mergeUsage(into: Usage, from: Usage): void {
  into.cost += from.cost;
  into.gpuCost += from.gpuCost;
  into.onDemandCost += from.onDemandCost;
  into.idleGpuCost += from.idleGpuCost;
  into.gpuSeconds += from.gpuSeconds;
  into.measuredGpuSeconds += from.measuredGpuSeconds;
  into.utilizedGpuSeconds += from.utilizedGpuSeconds;
  into.idleGpuSeconds += from.idleGpuSeconds;
  into.pods += from.pods;
  into.unpricedPods += from.unpricedPods;
}

/** Time-weighted GPU utilization (0..1) over the measured GPU-seconds; undefined when nothing was measured. */
export function utilizationOf(usage: Usage): number | undefined {
  return usage.measuredGpuSeconds > 0 ? usage.utilizedGpuSeconds / usage.measuredGpuSeconds : undefined;
}

export function rollUp(pods: readonly PodCost[], keyOf: (pc: PodCost) => string): Map<string, Usage> {
  const groups = new Map<string, Usage>();
  for (const pc of pods) {
    const key = keyOf(pc);
    let usage = groups.get(key);
    if (!usage) groups.set(key, (usage = emptyUsage()));
    addPodCost(usage, pc);
  }
  return groups;
}

export function workloadKey(w: WorkloadRef): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

export const byWorkload = (pods: readonly PodCost[]) => rollUp(pods, (pc) => workloadKey(pc.pod.workload));
export const byNamespace = (pods: readonly PodCost[]) => rollUp(pods, (pc) => pc.pod.namespace);

/**
 * Groups by the values of `keys` (in order), joined as "k1=v1,k2=v2"; a missing label is grouped as
 * `__unset__`, so pods without a team label show up as such rather than vanishing.
 */
export function byLabels(pods: readonly PodCost[], keys: readonly string[]): Map<string, Usage> {
  return rollUp(pods, (pc) => labelGroupKey(pc.pod.labels, keys));
}

export function labelGroupKey(labels: Readonly<Record<string, string>>, keys: readonly string[]): string {
  return keys.map((k) => `${k}=${labels[k] ?? UNSET}`).join(',');
}

export interface ClusterTotals {
  /** Sum of priced node costs. */
  nodeCost: Nanos;
  allocated: Nanos;
  idle: Nanos;
  idleGpu: Nanos;
  /** GPU-seconds of capacity no pod requested. */
  idleCapacityGpuSeconds: number;
  /** Nodes with no cost: unpriced, or skipped by the engine. */
  unpricedNodes: { name: string; reason: string }[];
}

/** Node totals of one interval: nodeCost = allocated + idle exactly. */
export function clusterTotals(result: IntervalCost): ClusterTotals {
  const totals: ClusterTotals = {
    nodeCost: 0n,
    allocated: 0n,
    idle: 0n,
    idleGpu: 0n,
    idleCapacityGpuSeconds: 0,
    unpricedNodes: [],
  };
  for (const nc of result.nodes) {
    totals.idleCapacityGpuSeconds += nc.idleGpuSeconds;
    if (!nc.cost || !nc.idle) {
      const reason = nc.skipped ? `skipped: ${nc.skipped.message}` : (nc.node.unpricedReason ?? 'unpriced');
      totals.unpricedNodes.push({ name: nc.node.name, reason });
      continue;
    }
    totals.nodeCost += nc.cost.total;
    totals.allocated += nc.allocated;
    totals.idle += nc.idle.total;
    totals.idleGpu += nc.idle.gpu;
  }
  return totals;
}
