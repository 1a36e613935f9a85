/**
 * Right-sizing (issue #17), two pure rules over one workload's observation:
 *
 * - `right-size`: an inference or dev workload whose every GPU stayed under `maxUtilization` and used at most
 *   `maxMemoryShare` of its memory gets the cheapest catalog instance type of the same cloud whose GPUs hold the
 *   memory used plus `headroomPercent`, one instance per pod, when that costs less than the workload does now;
 * - `fewer-gpus`: a pod holding several GPUs of which some stayed under `idleUtilization` all window long.
 *
 * Conservative by design: no recommendation from less than `minObservedSeconds` of data, nor when a GPU's
 * samples cover less than `minCoverage` of the window or its memory series is missing (partial metrics).
 */
import { formatMoney, mulDivRoundHalfUp, parseMoney, type Nanos } from '../cost/money.ts';
import { gpuMemoryMiB } from '../pricing/gpu-memory.ts';
import type { CatalogEntry } from '../pricing/on-demand-catalog.ts';
import { perMonth, type Confidence, type Recommendation } from './types.ts';
import type { WorkloadObservation } from './workload-observation.ts';

export interface RightSizeSettings {
  readonly minObservedSeconds: number;
  /** Every pod's GPUs must cover at least this share of the window, 0..1. */
  readonly minCoverage: number;
  /** Ratio 0..1: the highest per-GPU mean utilization that counts as low. */
  readonly maxUtilization: number;
  /** Ratio 0..1 of the GPU's memory: the most memory used that counts as low. */
  readonly maxMemoryShare: number;
  /** Whole percent added to the memory used before fitting it into a smaller GPU. */
  readonly headroomPercent: number;
  /**
   * Ratio 0..1: a GPU whose mean stayed under this did no work (gpu-pruner's noise floor is 0.01). The query
   * applies it (observe.ts); the rule only names it.
   */
  readonly idleUtilization: number;
}

export const DEFAULT_RIGHT_SIZE: RightSizeSettings = Object.freeze({
  minObservedSeconds: 24 * 3600,
  minCoverage: 0.95,
  maxUtilization: 0.3,
  maxMemoryShare: 0.5,
  headroomPercent: 25,
  idleUtilization: 0.05,
});

/** Medium from the minimum window on; high once a whole week (weekdays and a weekend) was seen. */
const HIGH_CONFIDENCE_SECONDS = 7 * 24 * 3600;

function confidenceOf(observedSeconds: number): Confidence {
  return observedSeconds >= HIGH_CONFIDENCE_SECONDS ? 'high' : 'medium';
}

/** True when the data is long and whole enough to stand on; partial metrics give no recommendation. */
function complete(w: WorkloadObservation, s: RightSizeSettings): boolean {
  if (w.observedSeconds < s.minObservedSeconds || w.pods.length === 0) return false;
  return w.pods.every((p) => p.gpus > 0 && p.coverage >= s.minCoverage && p.maxMemoryUsedMiB !== undefined);
}

export function rightSize(
  w: WorkloadObservation,
  catalog: readonly CatalogEntry[],
  s: RightSizeSettings = DEFAULT_RIGHT_SIZE,
): Recommendation | undefined {
  if (w.workloadClass === 'training' || !complete(w, s)) return undefined;
  const current = catalog.find((e) => e.instanceType === w.instanceType);
  const memoryMiB = gpuMemoryMiB(w.gpuModel);
  if (current === undefined || memoryMiB === undefined) return undefined;
  const busiest = Math.max(...w.pods.map((p) => p.busiestUtilization));
  const usedMiB = Math.ceil(Math.max(...w.pods.map((p) => p.maxMemoryUsedMiB ?? Infinity)));
  if (busiest > s.maxUtilization || usedMiB > memoryMiB * s.maxMemoryShare) return undefined;
  const neededMiB = Math.ceil((usedMiB * (100 + s.headroomPercent)) / 100);
  const gpusPerPod = Math.max(...w.pods.map((p) => p.gpus));
  const pods = BigInt(w.pods.length);
  // One instance per pod, with at least as many GPUs: the pods keep their parallelism.
  const candidates = catalog
    .filter((e) => e.provider === current.provider && e.instanceType !== w.instanceType && e.gpuCount >= gpusPerPod)
    .filter((e) => (gpuMemoryMiB(e.gpuModel) ?? 0) >= neededMiB)
    .map((e) => ({ entry: e, costPerHour: parseMoney(e.pricePerHour) * pods }))
    .sort((a, b) => cmp(a.costPerHour, b.costPerHour) || a.entry.instanceType.localeCompare(b.entry.instanceType));
  const best = candidates[0];
  if (best === undefined || best.costPerHour >= w.costPerHour) return undefined;
  const savingPerHour = w.costPerHour - best.costPerHour;
  return {
    type: 'right-size',
    target: w.target,
    clusterId: w.clusterId,
    monthlySaving: perMonth(savingPerHour),
    currency: w.currency,
    confidence: confidenceOf(w.observedSeconds),
    reason:
      `GPUs at most ${percent(busiest)} % busy using ${usedMiB} MiB of ${memoryMiB} MiB: ` +
      `${best.entry.instanceType} (${best.entry.gpuModel}) fits with ${s.headroomPercent} % headroom`,
    details: {
      instanceType: w.instanceType,
      gpuModel: w.gpuModel,
      recommendedInstanceType: best.entry.instanceType,
      recommendedGpuModel: best.entry.gpuModel,
      pods: w.pods.length,
      gpusPerPod,
      maxUtilizationPercent: percent(busiest),
      memoryUsedMiB: usedMiB,
      gpuMemoryMiB: memoryMiB,
      costPerHour: formatMoney(w.costPerHour, 9),
      recommendedCostPerHour: formatMoney(best.costPerHour, 9),
      // The catalog prices one region per cloud; another region's price is the same figure, an estimate.
      priceEstimate: best.entry.region !== w.region,
      observedHours: Math.floor(w.observedSeconds / 3600),
    },
  };
}

export function fewerGpus(
  w: WorkloadObservation,
  s: RightSizeSettings = DEFAULT_RIGHT_SIZE,
): Recommendation | undefined {
  if (!complete(w, s)) return undefined;
  const gpusPerPod = Math.max(...w.pods.map((p) => p.gpus));
  // Every pod must leave the same GPUs unused for the pod template to ask for fewer: the least unused counts.
  const unused = Math.min(...w.pods.map((p) => p.unusedGpus));
  if (gpusPerPod < 2 || unused === 0 || unused >= gpusPerPod) return undefined;
  // The GPUs' share of the workload's whole cost: its CPU and memory stay, so this overstates the saving a
  // little, as docs/unit-economics.md says under "Fewer GPUs".
  const savingPerHour: Nanos = mulDivRoundHalfUp(w.costPerHour, unused, gpusPerPod);
  return {
    type: 'fewer-gpus',
    target: w.target,
    clusterId: w.clusterId,
    monthlySaving: perMonth(savingPerHour),
    currency: w.currency,
    confidence: confidenceOf(w.observedSeconds),
    reason: `each pod holds ${gpusPerPod} GPUs of which ${unused} stayed under ${percent(s.idleUtilization)} % busy: request ${gpusPerPod - unused}`,
    details: {
      instanceType: w.instanceType,
      pods: w.pods.length,
      gpusPerPod,
      unusedGpusPerPod: unused,
      recommendedGpusPerPod: gpusPerPod - unused,
      costPerHour: formatMoney(w.costPerHour, 9),
      observedHours: Math.floor(w.observedSeconds / 3600),
    },
  };
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** A ratio as a whole percent, for reading only (the decision compares the ratios themselves). */
const percent = (ratio: number): number => Math.round(ratio * 100);
