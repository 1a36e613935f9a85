/**
 * Idle detection for the idleGPU and scaleToZero rules, as a pure function of the previous state, one
 * window's measurement and the time. Fail-safe by construction: a window with unknown or partial data
 * (coverage under the rule's minimum) resets the idle clock, exactly as activity does, so missing metrics
 * can delay an action but never cause one.
 *
 * 1. A window below the threshold starts (or continues) the "below since" clock.
 * 2. Once below for idleAfter, the workload is declared idle: warn (Event + aicost.dev/idle-since).
 * 3. gracePeriod after the warning, act (Enforce) or record what would be done (Audit).
 * After a restart the clock resumes from the idle-since annotation; a warning never repeats.
 */

export interface IdleRule {
  /** Ratio 0..1. */
  readonly threshold: number;
  readonly idleAfterMs: number;
  readonly gracePeriodMs: number;
  /** Ratio 0..1. */
  readonly minCoverage: number;
}

export interface WindowMeasure {
  /** False when Prometheus failed or a pod of the workload had no data. */
  readonly known: boolean;
  readonly reason: string;
  /** Highest utilization sample of any of the workload's GPUs in the window, ratio 0..1. */
  readonly maxUtilization: number;
  /** Worst coverage of the window among the workload's GPUs, ratio 0..1. */
  readonly coverage: number;
  /** Request rate from the rule's requestsQuery, when it has one; undefined when not asked. */
  readonly requestRate?: number | undefined;
  readonly requestsKnown?: boolean;
  readonly windowStartMs: number;
}

export interface IdleState {
  /** In memory: start of the current run of idle windows. */
  readonly belowSinceMs?: number | undefined;
  /** From the aicost.dev/idle-since annotation: set when the workload was declared idle. */
  readonly idleSinceMs?: number | undefined;
  /** When the warning was given (declared idle); the grace period runs from here. */
  readonly warnedAtMs?: number | undefined;
}

export type IdleDecision =
  | { readonly kind: 'active'; readonly reason: string }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'below'; readonly idleForMs: number }
  | { readonly kind: 'warn'; readonly idleSinceMs: number; readonly actAtMs: number }
  | { readonly kind: 'grace'; readonly actAtMs: number }
  | { readonly kind: 'act'; readonly idleSinceMs: number };

export interface IdleResult {
  readonly decision: IdleDecision;
  readonly state: IdleState;
  /** The workload was declared idle before and no longer is: remove the idle-since annotation. */
  readonly clearAnnotation: boolean;
}

export function decideIdle(rule: IdleRule, state: IdleState, m: WindowMeasure, nowMs: number): IdleResult {
  const declared = state.idleSinceMs !== undefined;
  const reset = (decision: IdleDecision): IdleResult => ({ decision, state: {}, clearAnnotation: declared });

  if (!m.known) return reset({ kind: 'unknown', reason: m.reason });
  if (m.coverage + 1e-9 < rule.minCoverage) {
    return reset({
      kind: 'unknown',
      reason: `metric coverage ${Math.round(m.coverage * 100)}% is under ${Math.round(rule.minCoverage * 100)}%`,
    });
  }
  if (m.requestRate !== undefined && m.requestsKnown === false)
    return reset({ kind: 'unknown', reason: 'the request-rate query failed' });
  if (m.maxUtilization >= rule.threshold) {
    return reset({ kind: 'active', reason: `GPU utilization reached ${Math.round(m.maxUtilization * 100)}%` });
  }
  if (m.requestRate !== undefined && m.requestRate > 0)
    return reset({ kind: 'active', reason: `serving ${m.requestRate.toPrecision(3)} requests/s` });

  const belowSinceMs = state.belowSinceMs ?? state.idleSinceMs ?? m.windowStartMs;
  const idleForMs = nowMs - belowSinceMs;
  if (idleForMs < rule.idleAfterMs)
    return { decision: { kind: 'below', idleForMs }, state: { belowSinceMs }, clearAnnotation: false };
  if (!declared) {
    const warnedAtMs = nowMs;
    return {
      decision: { kind: 'warn', idleSinceMs: belowSinceMs, actAtMs: warnedAtMs + rule.gracePeriodMs },
      state: { belowSinceMs, idleSinceMs: belowSinceMs, warnedAtMs },
      clearAnnotation: false,
    };
  }
  // Declared idle earlier (maybe by a previous process): the grace period runs from idle-since + idleAfter.
  const actAtMs = (state.warnedAtMs ?? belowSinceMs + rule.idleAfterMs) + rule.gracePeriodMs;
  const next: IdleState = { ...state, belowSinceMs };
  if (nowMs < actAtMs) return { decision: { kind: 'grace', actAtMs }, state: next, clearAnnotation: false };
  return { decision: { kind: 'act', idleSinceMs: belowSinceMs }, state: next, clearAnnotation: false };
}
