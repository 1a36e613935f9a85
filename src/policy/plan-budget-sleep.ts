/**
 * A budget's ScaleDevToZero, planned: while a budget with `onExceeded: [ScaleDevToZero]` is exceeded, the
 * endpoints in its scope that a scaleToZero rule governs ("dev": what its owners already agreed may sleep)
 * go to sleep now, without waiting for their idle clock. Once per exceeded episode: the sleep is recorded in
 * aicost.dev/sleep-handled (the exceeded time), so an endpoint woken after it (aicost.dev/wake, its wake
 * schedule, a manual scale-up) stays awake: a person decided. Running production, what no scaleToZero rule
 * governs, is never touched. A namespace with aicost.dev/budget-override is left alone.
 */
import { pastRfc3339Ms, recordedSince } from './last-action.ts';
import type { Mode, PolicyRef } from './match.ts';
import { auditStamp, turnOff } from './plan-idle.ts';
import type { PlanContext, PlanWorkload, PolicyMemory, Unit } from './plan-types.ts';
import { annotate, event, POLICY_ANNOTATION, rfc3339, unit, workloadName } from './plan-words.ts';

/** A budget at or over its amount whose policy asks for ScaleDevToZero. */
export interface ExceededBudget {
  readonly policy: string;
  readonly mode: Mode;
  /** status.budget.exceededAt: the episode, and what sleep-handled records. */
  readonly exceededAtMs: number;
  /** For the messages: the spend to the cent, the amount and the currency. */
  readonly spent: string;
  readonly amount: string;
  readonly currency: string;
}

/**
 * The first exceeded budget (in policy name order) among those matching the workload, unless its namespace
 * overrides budgets. `matched` is the policies matching the workload (RuleAssignment.matched): the live
 * workload's labels and its namespace's own labels, exemptions honoured, as for every action.
 */
export function budgetFor(
  matched: readonly string[],
  exceeded: ReadonlyMap<string, ExceededBudget>,
  overridden: boolean,
): ExceededBudget | undefined {
  if (overridden || exceeded.size === 0) return undefined;
  const names = matched.filter((p) => exceeded.has(p)).sort();
  return names.length === 0 ? undefined : exceeded.get(names[0] as string);
}

/**
 * Puts an awake Deployment to sleep for the budget, or records in Audit that it would. Undefined when there
 * is nothing to do: asleep already, or this episode's sleep was handled (the idle clock decides then).
 */
export function planBudgetSleep(
  w: PlanWorkload,
  stz: PolicyRef,
  budget: ExceededBudget,
  memory: Pick<PolicyMemory, 'audited'>,
  ctx: Pick<PlanContext, 'nowMs'>,
): { readonly units: Unit[]; readonly estimatedPerHour: bigint } | undefined {
  if (!w.record || (w.record.replicas ?? 0) === 0) return undefined;
  // A future sleep-handled would make the endpoint immune to every later episode: read back strictly.
  const handled = pastRfc3339Ms(w.annotations[POLICY_ANNOTATION.sleepHandled], ctx.nowMs);
  if (handled !== undefined && handled >= Math.floor(budget.exceededAtMs / 1000) * 1000) return undefined;
  const reason = `budget ${budget.policy} exceeded (${budget.spent} of ${budget.amount} ${budget.currency} spent)`;
  const record = {
    policy: budget.policy,
    workload: workloadName(w),
    rule: 'budget' as const,
    mode: budget.mode,
    reason: `${reason}: onExceeded ScaleDevToZero`,
    saving: w.costPerHour,
  };
  if (budget.mode === 'Audit') {
    const key = `budget/${w.namespace}/${w.name}/${String(budget.exceededAtMs)}`;
    const lastAction = w.annotations[POLICY_ANNOTATION.lastAction];
    if (memory.audited.has(key) || recordedSince(lastAction, budget.policy, 'budget', budget.exceededAtMs, ctx.nowMs))
      return { units: [], estimatedPerHour: w.costPerHour };
    const effects = [
      annotate({ [POLICY_ANNOTATION.lastAction]: auditStamp(w, budget.policy, 'budget', ctx.nowMs) }),
      event(
        'Normal',
        'WouldScaleDown',
        `Audit: ${reason}: it would put this endpoint to sleep now (onExceeded: ScaleDevToZero; scaleToZero rule of policy ${stz.name})`,
      ),
    ];
    return {
      units: [
        unit(effects, { memory: { audited: { add: [key] } }, records: [{ ...record, action: 'would-scale-to-zero' }] }),
      ],
      estimatedPerHour: w.costPerHour,
    };
  }
  const units = turnOff(
    w,
    { policy: budget.policy, rule: 'budget', idleSinceMs: ctx.nowMs, nowMs: ctx.nowMs },
    {
      before: [],
      after: [
        annotate({ [POLICY_ANNOTATION.sleepHandled]: rfc3339(budget.exceededAtMs) }),
        event(
          'Warning',
          'ScaledToZero',
          `${reason}: put this endpoint to sleep (onExceeded: ScaleDevToZero; scaleToZero rule of policy ${stz.name}); aicost.dev/wake wakes it`,
        ),
      ],
      memory: {},
      record: { ...record, action: 'scale-to-zero' },
    },
  );
  return { units, estimatedPerHour: 0n };
}
