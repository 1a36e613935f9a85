/**
 * The conditions of an AICostPolicy's status, as pure functions of what the policy pass saw (Kubernetes API
 * conventions: a root Ready condition, observedGeneration on each, lastTransitionTime changed only when the
 * status flips). The controller only gathers the facts and writes the result.
 */
import type { PolicySpec } from '../crds/aicost-policy.ts';
import { RULES } from './match.ts';

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
  now: string,
): Condition {
  const old = previous?.find((c) => c.type === facts.type);
  return {
    type: facts.type,
    status: facts.status,
    observedGeneration: generation,
    lastTransitionTime: old?.status === facts.status ? old.lastTransitionTime : now,
    reason: facts.reason,
    message: facts.message.slice(0, MAX_MESSAGE),
  };
}

/** Ready's reason while the policy has a budget rule, which the operator accepts but does not enforce yet. */
export const BUDGET_NOT_ENFORCED = 'BudgetNotEnforced';

/**
 * Ready: False when the operator cannot use the policy (a spec that does not parse, a schedule it cannot
 * run); True otherwise. A budget is accepted by the API but not enforced yet, so a policy with one is Ready
 * with the reason BudgetNotEnforced rather than "enforced": the policy works, that rule does nothing.
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
  if (spec.rules.budget === undefined) return ready('True', 'Valid', 'the policy is valid and enforced');
  const enforced = RULES.filter((r) => r !== 'budget' && spec.rules[r] !== undefined);
  const budget = 'rules.budget is accepted but not enforced yet: no alert, Event or action comes from it';
  return ready(
    'True',
    BUDGET_NOT_ENFORCED,
    enforced.length === 0
      ? `the policy is valid but does nothing: ${budget}`
      : `the policy is valid and ${enforced.join(', ')} ${enforced.length === 1 ? 'is' : 'are'} enforced; ${budget}`,
  );
}

/**
 * Whether to say, with an Event on the policy, that its budget is not enforced: when Ready first takes the
 * reason BudgetNotEnforced. The previous condition comes from the API, so a restart does not repeat it.
 */
export function budgetNoticeDue(
  previous: readonly { type: string; reason: string }[] | undefined,
  next: ConditionFacts,
): boolean {
  return (
    next.reason === BUDGET_NOT_ENFORCED && previous?.find((c) => c.type === 'Ready')?.reason !== BUDGET_NOT_ENFORCED
  );
}
