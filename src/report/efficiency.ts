/**
 * Efficiency figures of `aicost report --efficiency` (issue #17; docs/unit-economics.md#efficiency), from what
 * ledger rows hold, per report row:
 * - spend by workload class: training, inference, development (workloadClass below);
 * - GPU-hours, those whose window's mean utilization was under 70 %, and those never measured;
 * - endpoints' used ratio: of the GPU-hours of inference workloads, the share in windows with requests or GPU
 *   activity (a measured utilization above 0). A window is the ledger's resolution: an hour with one request
 *   counts as used, an hour with none and an idle GPU as not.
 * Money and GPU-hours are nano-unit sums, exact; the ratio is exact to its four decimals.
 */
import { divRoundHalfUp } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';

/** The label a tenant may set on a workload (or its pods or namespace) to classify it. */
export const WORKLOAD_CLASS_LABEL = 'aicost.dev/workload-class';
export const WORKLOAD_CLASSES = ['training', 'inference', 'development'] as const;
export type WorkloadClass = (typeof WORKLOAD_CLASSES)[number];

/** Utilization under this (a window's mean) flags the window's GPU-hours. */
export const LOW_UTILIZATION = 0.7;

/**
 * A workload row's class; undefined for a node's idle capacity. The label wins when its value is exactly one
 * of the classes; any other value is tenant input that classifies nothing, and the default rule applies: a Job
 * trains; a workload whose inference series were seen in the window serves (inference); anything else (a
 * Deployment or StatefulSet without series, a bare pod: notebooks, dev boxes) is development. The class only
 * sorts spend: no cost depends on it.
 */
export function workloadClass(
  row: Pick<LedgerRow, 'workloadKind' | 'labels' | 'servedModels'>,
): WorkloadClass | undefined {
  if (row.workloadKind === 'Node') return undefined;
  const label = row.labels[WORKLOAD_CLASS_LABEL];
  if ((WORKLOAD_CLASSES as readonly (string | undefined)[]).includes(label)) return label as WorkloadClass;
  if (row.workloadKind === 'Job') return 'training';
  return row.servedModels === undefined ? 'development' : 'inference';
}

export interface Efficiency {
  readonly trainingCost: bigint;
  readonly inferenceCost: bigint;
  readonly developmentCost: bigint;
  /** Nano-hours. Workload rows only, but gpuHours, which holds the idle rows' unrequested GPU-hours too. */
  readonly gpuHours: bigint;
  readonly lowUtilizationGpuHours: bigint;
  readonly unmeasuredGpuHours: bigint;
  readonly endpointGpuHours: bigint;
  readonly endpointUsedGpuHours: bigint;
}

export const NO_EFFICIENCY: Efficiency = {
  trainingCost: 0n,
  inferenceCost: 0n,
  developmentCost: 0n,
  gpuHours: 0n,
  lowUtilizationGpuHours: 0n,
  unmeasuredGpuHours: 0n,
  endpointGpuHours: 0n,
  endpointUsedGpuHours: 0n,
};

export function efficiencyOf(row: LedgerRow): Efficiency {
  const cls = workloadClass(row);
  if (cls === undefined) return { ...NO_EFFICIENCY, gpuHours: row.gpuHours };
  const used = (row.requests ?? 0n) > 0n || (row.utilization ?? 0) > 0;
  return {
    trainingCost: cls === 'training' ? row.cost : 0n,
    inferenceCost: cls === 'inference' ? row.cost : 0n,
    developmentCost: cls === 'development' ? row.cost : 0n,
    gpuHours: row.gpuHours,
    lowUtilizationGpuHours: row.utilization !== null && row.utilization < LOW_UTILIZATION ? row.gpuHours : 0n,
    unmeasuredGpuHours: row.utilization === null ? row.gpuHours : 0n,
    endpointGpuHours: cls === 'inference' ? row.gpuHours : 0n,
    endpointUsedGpuHours: cls === 'inference' && used ? row.gpuHours : 0n,
  };
}

export function addEfficiency(a: Efficiency, b: Efficiency): Efficiency {
  const out: Record<string, bigint> = {};
  for (const key of Object.keys(NO_EFFICIENCY) as (keyof Efficiency)[]) out[key] = a[key] + b[key];
  return out as unknown as Efficiency;
}

/** Used over running GPU-hours of the endpoints, to four decimals, half up; null without endpoint GPU-hours. */
export function usedRatio(e: Efficiency): string | null {
  if (e.endpointGpuHours === 0n) return null;
  const tenThousandths = divRoundHalfUp(e.endpointUsedGpuHours * 10_000n, e.endpointGpuHours);
  return `${tenThousandths / 10_000n}.${(tenThousandths % 10_000n).toString().padStart(4, '0')}`;
}
