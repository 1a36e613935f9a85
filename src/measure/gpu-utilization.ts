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

/**
 * A sample's value as Prometheus writes it: a decimal string such as "0.25" or "1e-05". Number() alone would
 * read "", " ", null and false as 0 (an idle GPU), and "0x1" or " 1 " as numbers; "NaN" and "+Inf" are not
 * numbers of a range.
 */
const SAMPLE_VALUE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The sample's value divided by `scale`, or NaN unless it is `[finite time, decimal string]`. */
export function sampleValue(sample: unknown, scale: number): number {
  if (!Array.isArray(sample) || !Number.isFinite(sample[0])) return NaN;
  const text: unknown = sample[1];
  return typeof text === 'string' && SAMPLE_VALUE.test(text) ? Number(text) / scale : NaN;
}

export function summarizeSignal(
  series: readonly MatrixSeries[],
  scale: number,
  signal: string,
  options: SummaryOptions,
): SignalSummary {
  // One pass over the samples with running sums per pod, kept in the object that is returned (sums until
  // the end, then means): a fleet's answer is 8,000 series a cycle, and per-series arrays of values, times
  // and gaps were most of this function's time and garbage.
  const pods = new Map<string, { -readonly [K in keyof PodUtilization]: PodUtilization[K] }>();
  const malformed = new Set<string>();
  for (const s of series) {
    const key = podKeyOf(s.metric);
    if (key === undefined) continue;
    // The series come from the network: every sample is checked, whatever the type says.
    const samples = Array.isArray(s.values) ? s.values : [];
    let sum = 0;
    let idle = 0;
    let max = 0;
    let bad = false;
    for (const sample of samples) {
      const v = sampleValue(sample, scale);
      if (!Number.isFinite(v) || v < 0 || v > 1.0001) {
        bad = true;
        break;
      }
      const clamped = v > 1 ? 1 : v;
      sum += clamped;
      if (clamped < options.idleThreshold) idle++;
      if (clamped > max) max = clamped;
    }
    if (bad) {
      malformed.add(key);
      continue;
    }
    const n = samples.length;
    if (n === 0) continue;
    const coverage = coverageOfSamples(samples, options);
    const entry = pods.get(key);
    if (entry) {
      entry.mean += sum / n;
      entry.idleRatio += idle / n;
      if (coverage < entry.coverage) entry.coverage = coverage;
      if (max > entry.max) entry.max = max;
      entry.gpus++;
    } else {
      pods.set(key, { mean: sum / n, idleRatio: idle / n, coverage, max, gpus: 1, signal });
    }
  }
  for (const key of malformed) pods.delete(key);
  for (const entry of pods.values()) {
    if (entry.gpus === 1) continue;
    entry.mean /= entry.gpus;
    entry.idleRatio /= entry.gpus;
  }
  return { pods, malformed };
}

/** Share of the window covered: samples × their spacing (median gap), capped at 1. */
export function coverageOf(times: readonly number[], options: SummaryOptions): number {
  return coverageOfSamples(
    times.map((t) => [t, ''] as const),
    options,
  );
}

function coverageOfSamples(samples: MatrixSeries['values'], options: SummaryOptions): number {
  const n = samples.length;
  if (n === 0 || options.windowSeconds <= 0) return 0;
  let step = options.scrapeIntervalSeconds;
  if (n >= 2) {
    // The usual series is evenly spaced (to the millisecond Prometheus keeps): its median gap is its first
    // gap, and no sort is needed.
    const first = (samples[1]?.[0] ?? 0) - (samples[0]?.[0] ?? 0);
    const firstMs = Math.round(first * 1000);
    let even = true;
    for (let i = 2; i < n && even; i++)
      even = Math.round(((samples[i]?.[0] ?? 0) - (samples[i - 1]?.[0] ?? 0)) * 1000) === firstMs;
    if (even) step = first;
    else {
      const gaps: number[] = [];
      for (let i = 1; i < n; i++) gaps.push((samples[i]?.[0] ?? 0) - (samples[i - 1]?.[0] ?? 0));
      gaps.sort((a, b) => a - b);
      step = gaps[Math.floor(gaps.length / 2)] ?? step;
    }
  }
  return Math.min(1, (n * step) / options.windowSeconds);
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
      // Negated so that a NaN coverage (or minimum) fails it.
      if (!(u.coverage + 1e-9 >= minCoverage)) {
        unknown.set(key, `metric coverage ${Math.round(u.coverage * 100)}% is under ${Math.round(minCoverage * 100)}%`);
      } else {
        pods.set(key, u);
      }
    }
  }
  return { pods, unknown };
}
