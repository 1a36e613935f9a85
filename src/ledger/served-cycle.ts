/**
 * What each ledger target served in one accounting cycle (issue #17; docs/unit-economics.md#in-the-ledger), from
 * the inference servers' counts over the trailing --inference-window that the cycle asked Prometheus for anyway
 * (src/reconcilers/unit-costs.ts): no query of its own.
 *
 * A cycle's count is the window's count at the window's mean rate: count × span / W, span being the cycle's
 * seconds (at most W), in integers, rounded half up. Summed over cycles it is what the servers counted, late by
 * up to the window and smoothed over it: a ledger window's tokens are those of the trailing window's rate, not
 * exactly those served inside it. Counting a cycle's own increase instead would need the queries twice (once
 * over the cycle), and PromQL extrapolates short ranges as much.
 */
import type { PodFacts } from '../cost/types.ts';
import type { PodInference } from '../measure/inference-metrics.ts';
import { MAX_SERVED_MODELS } from './row.ts';

/** Whole counts; undefined where no pod's server counts it. */
export interface ServedCounts {
  readonly promptTokens?: bigint | undefined;
  readonly generatedTokens?: bigint | undefined;
  readonly requests?: bigint | undefined;
}

export interface ServedInCycle extends ServedCounts {
  /** The models the pods' series name, sorted and joined with commas; '' when they name none. */
  readonly models: string;
}

const SIGNALS = [
  ['promptTokens', 'promptTokens'],
  ['generatedTokens', 'generationTokens'],
  ['requests', 'requests'],
] as const;

/**
 * What a target's pods served over the cycle; undefined when none has series. `windowSeconds` is W, `spanSeconds`
 * the cycle's length (a span longer than W, after an outage, counts as W: nothing is known before the window).
 */
export function servedInCycle(
  pods: readonly Pick<PodFacts, 'namespace' | 'name'>[],
  served: ReadonlyMap<string, PodInference>,
  spanSeconds: number,
  windowSeconds: number,
): ServedInCycle | undefined {
  const readings = pods.flatMap((pod) => served.get(`${pod.namespace}/${pod.name}`) ?? []);
  if (readings.length === 0 || windowSeconds <= 0) return undefined;
  const span = BigInt(Math.max(0, Math.min(Math.round(spanSeconds), windowSeconds)));
  const window = BigInt(windowSeconds);
  const counts: Record<string, bigint> = {};
  for (const [field, signal] of SIGNALS) {
    const values = readings.flatMap((r) => r[signal] ?? []);
    if (values.length === 0) continue;
    // Whole counts over the window first, as the unit costs round them (src/cost/unit-cost.ts).
    const whole = BigInt(Math.max(0, Math.round(values.reduce((s, v) => s + v, 0))));
    counts[field] = (whole * span * 2n + window) / (window * 2n);
  }
  const models = [...new Set(readings.flatMap((r) => r.models))].sort().join(',').slice(0, MAX_SERVED_MODELS);
  return { models, ...counts };
}
