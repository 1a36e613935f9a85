import type { CapacityType, Labels } from '../pricing/capacity-type.ts';
import type { Nanos } from './money.ts';

/**
 * GPU amounts are integers in units of 1/720720 GPU. 720720 is the least common multiple of 1..16, so a
 * time-sliced GPU shared by up to 16 replicas, and MIG slices (sevenths), are whole numbers of units.
 */
export const GPU_UNITS_PER_GPU = 720_720;

/** Seconds since the epoch; the engine works in whole seconds. */
export type EpochSeconds = number;

export interface Interval {
  readonly start: EpochSeconds;
  /** Exclusive. */
  readonly end: EpochSeconds;
}

export interface ResourceSplit {
  readonly total: Nanos;
  readonly gpu: Nanos;
  readonly cpu: Nanos;
  readonly memory: Nanos;
}

/**
 * Why the engine leaves a node or a pod out of an interval, as a metric label (a few fixed values) and a
 * sentence: a quantity too large to read exactly, a size beyond the limits (limits.ts), a product of a size and a
 * span beyond exact integers, facts that are not whole non-negative numbers, or an unexpected error.
 */
export type SkipReason = 'quantity' | 'size' | 'overflow' | 'invalid' | 'error';

export interface FactsProblem {
  readonly reason: SkipReason;
  readonly message: string;
}

export interface NodeFacts {
  readonly name: string;
  /** Hourly price split into parts; undefined when the node could not be priced (see unpricedReason). */
  readonly perHour: ResourceSplit | undefined;
  readonly unpricedReason?: string | undefined;
  /** On-demand hourly price of the same node, for spot savings; defaults to perHour.total. */
  readonly onDemandPerHour?: Nanos | undefined;
  readonly capacityType: CapacityType;
  /** GPU capacity in GPU units (GPU_UNITS_PER_GPU per physical GPU). */
  readonly gpuUnits: number;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly labels: Labels;
  /** When the node existed, if it appeared or went away inside the interval. */
  readonly from?: EpochSeconds | undefined;
  readonly until?: EpochSeconds | undefined;
  /** Known before the engine runs (e.g. a quantity too large): the node and its pods are skipped. */
  readonly problem?: FactsProblem | undefined;
}

export type OwnerKind = 'Job' | 'Deployment' | 'StatefulSet' | 'Pod' | 'Other';

/**
 * The one reference to a workload: what a pod's cost rolls up to, and the identity the cached record
 * (WorkloadRecord) and the policy matching input (WorkloadView) extend.
 */
export interface WorkloadRef {
  readonly kind: OwnerKind;
  readonly namespace: string;
  readonly name: string;
}

/** Measured GPU utilization of a pod over the interval. Absent means unknown, which is never zero. */
export interface GpuUtilization {
  /** Time-weighted mean, ratio 0..1. */
  readonly mean: number;
  /** Fraction of the interval the GPUs spent below the idle threshold, 0..1. */
  readonly idleRatio: number;
}

export interface PodFacts {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  /** GPUs held, in GPU units (see gpuUnitsOf). */
  readonly gpuUnits: number;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** When the pod held its resources: from its start (or scheduling) to its end, if it ended. */
  readonly from: EpochSeconds;
  readonly until?: EpochSeconds | undefined;
  readonly labels: Labels;
  readonly workload: WorkloadRef;
  readonly utilization?: GpuUtilization | undefined;
  /** Known before the engine runs (e.g. a request too large): the pod is skipped, its node's other pods are not. */
  readonly problem?: FactsProblem | undefined;
}

export interface PodCost {
  readonly pod: PodFacts;
  readonly seconds: number;
  readonly gpuSeconds: number;
  /** Undefined on an unpriced node: the cost is unknown, not zero. */
  readonly cost: ResourceSplit | undefined;
  readonly unpricedReason?: string | undefined;
  /** What the same GPU-hours would cost on demand (equals cost.total on on-demand nodes). */
  readonly onDemandCost: Nanos | undefined;
  /** GPU-seconds below the idle threshold; undefined when utilization is unknown. */
  readonly idleGpuSeconds: number | undefined;
  readonly idleGpuCost: Nanos | undefined;
}

export interface NodeCost {
  readonly node: NodeFacts;
  readonly seconds: number;
  readonly cost: ResourceSplit | undefined;
  /** Capacity no pod requested, per resource; cost.total = allocated + idle.total exactly. */
  readonly allocated: Nanos;
  readonly idle: ResourceSplit | undefined;
  readonly idleGpuSeconds: number;
  /** Set when the engine could not account the node: it has no cost, its pods none either (see unattributed). */
  readonly skipped?: FactsProblem | undefined;
}

/** A pod the engine gave no share: on a node it does not know, or skipped (its own facts, or its node's). */
export interface Unattributed {
  readonly pod: PodFacts;
  readonly reason: string;
  /** Whose facts it was skipped for; undefined when its node is not known to the engine. */
  readonly skipped?: { readonly by: 'pod' | 'node'; readonly problem: FactsProblem } | undefined;
}

export interface IntervalCost {
  readonly interval: Interval;
  readonly pods: readonly PodCost[];
  readonly nodes: readonly NodeCost[];
  /** Pods that name a node the engine was not given, or that it skipped: reported, never silently dropped. */
  readonly unattributed: readonly Unattributed[];
}
