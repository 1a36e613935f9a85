/**
 * Each policy's status from what the pass saw and did: the workloads it matched or lost to a more specific
 * policy, the actions carried out (history), the savings it realizes and estimates, and its conditions.
 */
import { jsonEqual } from '../controller/deep-equal.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import type { PolicyStatus } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import { periodProblem } from '../budget/period.ts';
import { metricsCondition, readyCondition, stamp } from './conditions.ts';
import type { Mode, PolicyRef, RuleName } from './match.ts';
import type { Action, PlanMeasurement, WorkloadTally } from './plan-types.ts';
import { rfc3339 } from './plan-words.ts';
import { scheduleProblem } from './schedule.ts';

const HOURS_PER_MONTH = 730n;
/** The most overridden entries a policy's status lists (the count is kept in full). */
const MAX_OVERRIDDEN_LISTED = 20;

export interface PolicyTally {
  matched: number;
  overridden: { workload: string; rule: RuleName; by: string }[];
  overriddenCount: number;
  /** Would-be savings: Audit's would-be actions, the spot saving forgone. */
  estimatedPerHour: Nanos;
  /** What the workloads the policy holds off (or turned off this pass) cost awake. */
  realizedPerHour: Nanos;
  /** The GPU pods of the workloads whose idleGPU or scaleToZero rule this policy governs, measured or not. */
  pods: { measured: number; unknown: number; example: string | undefined };
}

export function emptyTally(): PolicyTally {
  return {
    matched: 0,
    overridden: [],
    overriddenCount: 0,
    estimatedPerHour: 0n,
    realizedPerHour: 0n,
    pods: { measured: 0, unknown: 0, example: undefined },
  };
}

/** Adds what one workload gives its policies; policies not in `tallies` (deleted meanwhile) are skipped. */
export function addToTallies(tallies: ReadonlyMap<string, PolicyTally>, workload: string, t: WorkloadTally): void {
  for (const name of t.matched) {
    const tally = tallies.get(name);
    if (tally) tally.matched++;
  }
  for (const o of t.overridden) {
    const tally = tallies.get(o.policy);
    if (!tally) continue;
    tally.overriddenCount++;
    if (tally.overridden.length < MAX_OVERRIDDEN_LISTED) tally.overridden.push({ workload, rule: o.rule, by: o.by });
  }
  for (const e of t.estimated) {
    const tally = tallies.get(e.policy);
    if (tally) tally.estimatedPerHour += e.perHour;
  }
  for (const h of t.held) {
    const tally = tallies.get(h.policy);
    if (tally) tally.realizedPerHour += h.perHour;
  }
  for (const p of t.pods) {
    const tally = tallies.get(p.policy);
    if (!tally) continue;
    if (p.measured) tally.pods.measured++;
    else if (tally.pods.unknown++ === 0) tally.pods.example = p.problem;
  }
}

export interface StatusPlan {
  readonly status: PolicyStatus;
  /** False when the status is what the API holds already: no write. */
  readonly changed: boolean;
}

export function planStatus(
  policy: PolicyRecord,
  tally: PolicyTally,
  history: { readonly actions: readonly Action[]; readonly count: number },
  ctx: {
    readonly measurement: PlanMeasurement | undefined;
    readonly defaultMode: Mode;
    readonly currency: string;
    readonly nowMs: number;
  },
  /** status.budget: this pass's, or the one the status has while the budget could not be evaluated. */
  budget?: PolicyStatus['budget'],
  /** status.recommendations, for a policy with rules.recommendations (src/recommend/policy-summary.ts). */
  recommendations?: PolicyStatus['recommendations'],
): StatusPlan {
  const previous = policy.status;
  const now = rfc3339(ctx.nowMs);
  const ready = readyCondition(policy.spec, policy.invalid, policy.spec ? schedulesProblem(policy.spec) : undefined);
  const readsUtilization = policy.spec?.rules.idleGPU !== undefined || policy.spec?.rules.scaleToZero !== undefined;
  const status: PolicyStatus = {
    observedGeneration: policy.generation,
    ...(policy.spec ? { mode: policy.spec.mode ?? ctx.defaultMode } : {}),
    conditions: [ready, metricsCondition(ctx.measurement, readsUtilization, tally.pods)].map((c) =>
      stamp(c, previous?.conditions, policy.generation, now),
    ),
    matchedWorkloads: tally.matched,
    actionCount: history.count,
    lastActions: [...history.actions],
    overridden: tally.overridden,
    overriddenCount: tally.overriddenCount,
    realizedSavingsPerHour: formatMoney(tally.realizedPerHour, 4),
    realizedSavingsPerMonth: formatMoney(tally.realizedPerHour * HOURS_PER_MONTH, 2),
    estimatedSavingsPerHour: formatMoney(tally.estimatedPerHour, 4),
    estimatedSavingsPerMonth: formatMoney(tally.estimatedPerHour * HOURS_PER_MONTH, 2),
    ...(budget ? { budget } : {}),
    currency: ctx.currency,
    ...(recommendations ? { recommendations } : {}),
  };
  return { status, changed: !jsonEqual(status, previous) };
}

function schedulesProblem(spec: PolicyRef['spec']): string | undefined {
  const budget = spec.rules.budget;
  const budgetProblem = budget && periodProblem(budget.timeZone);
  if (budgetProblem) return `budget.timeZone: ${budgetProblem}`;
  const schedule = spec.rules.scaleToZero?.schedule;
  if (!schedule) return undefined;
  for (const expression of [schedule.wake, schedule.sleep]) {
    const problem = expression === undefined ? undefined : scheduleProblem(expression, schedule.timeZone);
    if (problem) return `scaleToZero.schedule: ${problem}`;
  }
  return undefined;
}
