/**
 * The conditions of an AICostPolicy's status, as pure functions of what the policy pass saw (Kubernetes API
 * conventions: a root Ready condition, observedGeneration on each, lastTransitionTime changed only when the
 * status flips). The controller only gathers the facts and writes the result.
 */
import type { PolicySpec } from '../crds/aicost-policy.ts';

export type ConditionStatus = 'True' | 'False';

/** What a condition says, before the bookkeeping of generation and transition time. */
export interface ConditionFacts {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export interface Condition extends ConditionFacts {
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

const MAX_MESSAGE = 1000;

/** The condition as written: its transition time is the previous one unless the status flipped. */
export function stamp(
  facts: ConditionFacts,
  previous: readonly { type: string; status: string; lastTransitionTime: string }[] | undefined,
  generation: number,
  nowRfc3339: string,
): Condition {
  const old = previous?.find((c) => c.type === facts.type);
  return {
    type: facts.type,
    status: facts.status,
    observedGeneration: generation,
    lastTransitionTime: old?.status === facts.status ? old.lastTransitionTime : nowRfc3339,
    reason: facts.reason,
    message: facts.message.slice(0, MAX_MESSAGE),
  };
}

/**
 * Ready: False when the operator cannot use the policy (a spec that does not parse, a schedule or a budget
 * time zone it cannot run); True otherwise.
 */
export function readyCondition(
  spec: PolicySpec | undefined,
  invalid: string | undefined,
  scheduleProblem: string | undefined,
): ConditionFacts {
  const ready = (status: ConditionStatus, reason: string, message: string): ConditionFacts => ({
    type: 'Ready',
    status,
    reason,
    message,
  });
  if (!spec) return ready('False', 'InvalidSpec', invalid ?? 'invalid spec');
  if (scheduleProblem !== undefined) return ready('False', 'InvalidSchedule', scheduleProblem);
  return ready('True', 'Valid', 'the policy is valid and enforced');
}

/** The GPU pods whose utilization a policy's idleGPU or scaleToZero rule read this cycle. */
export interface PodsMeasured {
  /** Pods with a usable window (known, with the rule's coverage). */
  readonly measured: number;
  readonly unknown: number;
  /** One unknown pod and why ("namespace/name: reason"), for the message. */
  readonly example: string | undefined;
}

/**
 * Why a pod's window is of no use to a rule, or undefined when it is usable: no data, or less coverage than
 * the rule's minimum (the test decideIdle applies, so the condition says what the decision saw).
 */
export function unusableBecause(
  utilization: { readonly coverage: number } | undefined,
  minCoverage: number,
  unknownReason: string | undefined,
): string | undefined {
  if (!utilization) return unknownReason ?? 'no DCGM data';
  if (utilization.coverage + 1e-9 < minCoverage)
    return `metric coverage ${Math.round(utilization.coverage * 100)}% is under the rule's ${Math.round(minCoverage * 100)}%`;
  return undefined;
}

/**
 * MetricsAvailable for one policy: whether the GPU pods its utilization rules govern were measured. False
 * when nothing usable was measured for them (Prometheus failed, no accounting cycle yet, or none of them has
 * data); True with the reason PartiallyMeasured when some have none (their workloads are not acted on);
 * True with NoGPUPods or NotNeeded when there is nothing to measure.
 */
export function metricsCondition(
  cycle: { readonly available: boolean; readonly reason: string } | undefined,
  readsUtilization: boolean,
  pods: PodsMeasured,
): ConditionFacts {
  const metrics = (status: ConditionStatus, reason: string, message: string): ConditionFacts => ({
    type: 'MetricsAvailable',
    status,
    reason,
    message,
  });
  const noAction = 'no action is taken on unknown utilization';
  if (!readsUtilization) return metrics('True', 'NotNeeded', 'no rule of this policy reads GPU utilization');
  if (!cycle) return metrics('False', 'MetricsUnavailable', `no accounting cycle yet: ${noAction}`);
  if (!cycle.available) return metrics('False', 'MetricsUnavailable', `${cycle.reason}: ${noAction}`);
  const total = pods.measured + pods.unknown;
  const governed = "GPU pods governed by this policy's idleGPU or scaleToZero rule";
  if (total === 0) return metrics('True', 'NoGPUPods', `no running ${governed}: nothing to measure`);
  const example = pods.example === undefined ? '' : ` (${pods.example})`;
  if (pods.measured === 0)
    return metrics('False', 'NoData', `none of the ${total} ${governed} has usable DCGM data${example}: ${noAction}`);
  if (pods.unknown > 0)
    return metrics(
      'True',
      'PartiallyMeasured',
      `${pods.measured} of ${total} ${governed} measured; the workloads of the other ${pods.unknown} are not acted on${example}`,
    );
  return metrics('True', 'Measured', `${pods.measured} of ${total} ${governed} measured`);
}
