/**
 * What the right-sizing rules read about one workload: its identity and node type from the ledger, and per
 * pod per GPU what dcgm-exporter measured over the window (src/recommend/observe.ts builds it).
 */
import type { Nanos } from '../cost/money.ts';
import { WORKLOAD_CLASSES, WORKLOAD_CLASS_LABEL, type WorkloadClass } from '../report/efficiency.ts';

/**
 * Training runs end by themselves and size their GPUs for throughput, so only inference and development
 * workloads are right-sized. The label `aicost.dev/workload-class` says which a workload is, with the values the
 * report's spend by class reads (src/report/efficiency.ts); without it a Job is training, a bare Pod (a
 * notebook, a shell) development and a Deployment or StatefulSet inference: right-sizing treats the last two
 * alike, so it needs no inference series to tell them apart.
 */
export function workloadClassOf(kind: string, labels: Readonly<Record<string, string>>): WorkloadClass {
  const given = labels[WORKLOAD_CLASS_LABEL];
  const known = WORKLOAD_CLASSES.find((c) => c === given);
  if (known) return known;
  return kind === 'Job' ? 'training' : kind === 'Pod' ? 'development' : 'inference';
}

/**
 * One pod's GPUs over the window, summed up per pod by PromQL (observe.ts): the Prometheus client keeps only the
 * labels that join a series to its pod, so a GPU's series of different signals cannot be paired afterwards.
 */
export interface PodObservation {
  readonly pod: string;
  /** GPUs with utilization series. */
  readonly gpus: number;
  /** The highest of its GPUs' mean utilization over the window, ratio 0..1 (GR_ENGINE_ACTIVE, else GPU_UTIL / 100). */
  readonly busiestUtilization: number;
  /** GPUs whose mean utilization stayed under the idle floor. */
  readonly unusedGpus: number;
  /** The share of the window its least covered GPU's samples cover, 0..1. */
  readonly coverage: number;
  /** Highest DCGM_FI_DEV_FB_USED of any of its GPUs, MiB; undefined unless every GPU has a memory series. */
  readonly maxMemoryUsedMiB: number | undefined;
}

export interface WorkloadObservation {
  readonly clusterId: string;
  /** `namespace/Kind/name`. */
  readonly target: string;
  readonly workloadClass: WorkloadClass;
  readonly instanceType: string;
  readonly region: string;
  readonly gpuModel: string;
  readonly currency: string;
  /** The workload's mean cost per hour over the window, from the ledger. */
  readonly costPerHour: Nanos;
  /** How long the ledger and the metrics both cover, seconds. */
  readonly observedSeconds: number;
  readonly pods: readonly PodObservation[];
}
