/**
 * GPU utilization per pod from NVIDIA dcgm-exporter series in Prometheus.
 *
 * One range-vector query per signal per cycle for the whole cluster (never one per pod):
 *   DCGM_FI_PROF_GR_ENGINE_ACTIVE[<window>]  (ratio 0-1; also available on MIG instances)
 *   DCGM_FI_DEV_GPU_UTIL[<window>]           (percent 0-100; the fallback, divided by 100)
 * The raw samples give the mean, the fraction of samples under the idle threshold, and the coverage of the
 * window. Missing, sparse or malformed data make a pod's utilization unknown, never zero.
 *
 * Labels: dcgm-exporter names the workload pod `pod`/`namespace`; behind a scrape with honor_labels: false
 * Prometheus renames them `exported_pod`/`exported_namespace` (and `pod` then names the exporter itself), so
 * the exported_ form wins when present. GPUs assigned to no pod carry no pod label and are skipped.
 */
export const SIGNALS = [
  { metric: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE', scale: 1 },
  { metric: 'DCGM_FI_DEV_GPU_UTIL', scale: 100 },
] as const;

export interface PodUtilization {
  /** Mean utilization ratio 0..1 over the window. */
  readonly mean: number;
  /** Fraction of samples under the idle threshold. */
  readonly idleRatio: number;
  /** Highest sample of any of the pod's GPUs, ratio 0..1 (policies compare it with their own thresholds). */
  readonly max: number;
  /** Fraction of the window the samples cover (the worst of the pod's GPUs). */
  readonly coverage: number;
  readonly gpus: number;
  readonly signal: string;
}

export interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

export interface SummaryOptions {
  readonly windowSeconds: number;
  /** Ratio 0..1 under which a sample counts as idle. */
  readonly idleThreshold: number;
  /** Sample spacing to assume when a series has a single sample. */
  readonly scrapeIntervalSeconds: number;
}

export interface SignalSummary {
  readonly pods: Map<string, PodUtilization>;
  /** Pods whose series were malformed (values outside the signal's range, not numbers). */
  readonly malformed: Set<string>;
}

/**
 * The labels that join a GPU's series to its pod (both label styles); the Prometheus client keeps only these,
 * since dcgm-exporter's dozen others (UUID, PCI bus, driver, model...) would be most of a fleet's answer.
 */
export const JOIN_LABELS = ['pod', 'namespace', 'exported_pod', 'exported_namespace'] as const;

export function podKeyOf(labels: Readonly<Record<string, string>>): string | undefined {
  const pod = labels.exported_pod ?? labels.pod;
  const namespace = labels.exported_namespace ?? labels.namespace;
  if (!pod || !namespace) return undefined;
  return `${namespace}/${pod}`;
}

export function summarizeSignal(
  series: readonly MatrixSeries[],
  scale: number,
  signal: string,
  options: SummaryOptions,
): SignalSummary {
  const perPod = new Map<string, { means: number[]; idle: number[]; coverage: number[]; max: number }>();
  const malformed = new Set<string>();
  for (const s of series) {
    const key = podKeyOf(s.metric);
    if (key === undefined) continue;
    const values: number[] = [];
    const times: number[] = [];
    let bad = false;
    for (const [t, text] of s.values) {
      const v = Number(text) / scale;
      if (!Number.isFinite(v) || v < 0 || v > 1.0001) {
        bad = true;
        break;
      }
      values.push(Math.min(1, v));
      times.push(t);
    }
    if (bad) {
      malformed.add(key);
      continue;
    }
    if (values.length === 0) continue;
    let entry = perPod.get(key);
    if (!entry) perPod.set(key, (entry = { means: [], idle: [], coverage: [], max: 0 }));
    entry.max = Math.max(entry.max, ...values);
    entry.means.push(values.reduce((a, b) => a + b, 0) / values.length);
    entry.idle.push(values.filter((v) => v < options.idleThreshold).length / values.length);
    entry.coverage.push(coverageOf(times, options));
  }
  const pods = new Map<string, PodUtilization>();
  for (const [key, e] of perPod) {
    if (malformed.has(key)) continue;
    pods.set(key, {
      mean: average(e.means),
      idleRatio: average(e.idle),
      coverage: Math.min(...e.coverage),
      max: e.max,
      gpus: e.means.length,
      signal,
    });
  }
  return { pods, malformed };
}

/** Share of the window covered: samples × their spacing (median gap), capped at 1. */
export function coverageOf(times: readonly number[], options: SummaryOptions): number {
  if (times.length === 0 || options.windowSeconds <= 0) return 0;
  let step = options.scrapeIntervalSeconds;
  if (times.length >= 2) {
    const gaps = times
      .slice(1)
      .map((t, i) => t - (times[i] ?? t))
      .sort((a, b) => a - b);
    step = gaps[Math.floor(gaps.length / 2)] ?? step;
  }
  return Math.min(1, (times.length * step) / options.windowSeconds);
}

function average(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export interface UtilizationReading {
  /** Pods with enough coverage, by "namespace/name". */
  readonly pods: ReadonlyMap<string, PodUtilization>;
  /** Pods seen in the metrics but left unknown, with the reason. */
  readonly unknown: ReadonlyMap<string, string>;
  /** Whether Prometheus answered every query. */
  readonly available: boolean;
  readonly error?: string | undefined;
}

/** Combines the signals: the preferred signal per pod where it has data, else the fallback. */
export function combineSignals(
  summaries: readonly SignalSummary[],
  minCoverage: number,
): Pick<UtilizationReading, 'pods' | 'unknown'> {
  const pods = new Map<string, PodUtilization>();
  const unknown = new Map<string, string>();
  const decided = new Set<string>();
  for (const summary of summaries) {
    for (const key of summary.malformed) {
      if (decided.has(key)) continue;
      decided.add(key);
      unknown.set(key, 'malformed DCGM samples');
    }
    for (const [key, u] of summary.pods) {
      if (decided.has(key)) continue;
      decided.add(key);
      if (u.coverage + 1e-9 < minCoverage) {
        unknown.set(key, `metric coverage ${Math.round(u.coverage * 100)}% is under ${Math.round(minCoverage * 100)}%`);
      } else {
        pods.set(key, u);
      }
    }
  }
  return { pods, unknown };
}
