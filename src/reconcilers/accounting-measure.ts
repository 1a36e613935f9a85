/**
 * The accounting cycle's measurement of GPU utilization: one range query per signal for the whole cluster,
 * the fallback signal only when the preferred one left a GPU pod without data, summarized per pod. A failed
 * query leaves utilization unknown (never zero) and is counted; cost accrues regardless.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../controller/metrics.ts';
import { asError, errorSummary } from '../controller/errors.ts';
import {
  combineSignals,
  SIGNALS,
  summarizeSignal,
  type PodUtilization,
  type SignalSummary,
} from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';

export interface MeasureDeps {
  readonly prometheus: PrometheusClient;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly options: {
    readonly idleThreshold: number;
    readonly minCoverage: number;
    readonly scrapeIntervalMs: number;
    /** PromQL label matchers every query carries (--dcgm-selector); '' for none. */
    readonly dcgmSelector: string;
  };
}

export interface MeasurementStatus {
  readonly available: boolean;
  readonly reason: string;
  readonly measuredPods: number;
  readonly unknownPods: number;
}

/**
 * Every signal's error counter starts at 0, so a dashboard or an alert sees "no errors" rather than no
 * series (rate() over a counter that was never created has nothing to say).
 */
export function initMeasureMetrics(metrics: Metrics): void {
  for (const signal of SIGNALS) metrics.promErrors.inc({ signal: signal.metric }, 0);
}

/** One signal's query, summarized; a failure is counted and returned, never thrown. */
export async function querySignal(
  deps: MeasureDeps,
  signalIndex: number,
  nowSeconds: number,
  windowSeconds: number,
): Promise<SignalSummary | Error> {
  const { prometheus, metrics, options } = deps;
  const signal = SIGNALS[signalIndex] ?? SIGNALS[0];
  const end = metrics.promLatency.startTimer({ signal: signal.metric });
  try {
    const selector = options.dcgmSelector === '' ? '' : `{${options.dcgmSelector}}`;
    const series = await prometheus.queryMatrix(`${signal.metric}${selector}[${windowSeconds}s]`, nowSeconds);
    return summarizeSignal(series, signal.scale, signal.metric, {
      windowSeconds,
      idleThreshold: options.idleThreshold,
      scrapeIntervalSeconds: options.scrapeIntervalMs / 1000,
    });
  } catch (error) {
    metrics.promErrors.inc({ signal: signal.metric });
    return asError(error);
  } finally {
    end();
  }
}

/** Measures the GPU pods given by key ("namespace/name"); the preferred signal's query is already asked. */
export async function measurePods(
  deps: MeasureDeps,
  gpuPods: readonly string[],
  nowSeconds: number,
  windowSeconds: number,
  preferred: Promise<SignalSummary | Error>,
): Promise<{
  pods: ReadonlyMap<string, PodUtilization>;
  unknown: ReadonlyMap<string, string>;
  status: MeasurementStatus;
}> {
  const { metrics, options, log } = deps;
  const summaries: SignalSummary[] = [];
  const failures: string[] = [];
  for (let index = 0; index < SIGNALS.length; index++) {
    // A fallback signal is asked for only when the preferred ones left a GPU pod without data: with
    // profiling metrics enabled (the usual case) that halves the Prometheus work of a cycle.
    if (summaries.length > 0 && gpuPods.every((key) => decidedBy(summaries, key))) break;
    const result = index === 0 ? await preferred : await querySignal(deps, index, nowSeconds, windowSeconds);
    if (result instanceof Error) failures.push(errorSummary(result));
    else summaries.push(result);
  }
  const available = failures.length === 0;
  metrics.metricsAvailable.set(available ? 1 : 0);
  if (!available)
    log.warn({ errors: failures }, 'Prometheus queries failed: utilization is unknown this cycle, cost still accrues');
  const combined = combineSignals(summaries, options.minCoverage);
  const known = new Map<string, PodUtilization>();
  const unknown = new Map<string, string>();
  for (const key of gpuPods) {
    const u = combined.pods.get(key);
    if (u) known.set(key, u);
    else
      unknown.set(
        key,
        available ? (combined.unknown.get(key) ?? 'no DCGM series for this pod') : `Prometheus query failed`,
      );
  }
  const unknownPods = gpuPods.length - known.size;
  metrics.utilizationUnknownPods.set(unknownPods);
  const reason = !available
    ? `Prometheus query failed: ${failures[0] ?? ''}`
    : unknownPods > 0
      ? `${unknownPods} of ${gpuPods.length} GPU pods have no or too little DCGM data`
      : 'all GPU pods measured';
  return { pods: known, unknown, status: { available, reason, measuredPods: known.size, unknownPods } };
}

/** Whether a signal already gave the pod a reading (or found its samples malformed). */
function decidedBy(summaries: readonly SignalSummary[], key: string): boolean {
  return summaries.some((s) => s.pods.has(key) || s.malformed.has(key));
}
