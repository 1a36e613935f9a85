/**
 * A policy pass as a pure function: for each governed workload, the rules its winning policies give it, in
 * this order: wake a sleeping endpoint first (aicost.dev/wake, the wake schedule, a manual scale-up), then the
 * sleep schedule, then an exceeded budget's ScaleDevToZero, then the idle clock (idleGPU, scaleToZero), then
 * the spot watch and the spot webhook's placements. The result is units of effects for the executor, what
 * each policy's status counts whatever the outcome, and the spot episodes current this pass. Nothing here
 * reads the clock or the API.
 */
import { budgetFor, planBudgetSleep, type ExceededBudget } from './plan-budget-sleep.ts';
import { finishTurnOff, planIdleRule, type IdlePlan } from './plan-idle.ts';
import { workloadName } from './plan-words.ts';
import { planSleep, planWake } from './plan-schedule.ts';
import { planPlacement, planSpotWatch } from './plan-spot.ts';
import type {
  ActionRecord,
  PlanContext,
  PolicyMemory,
  Unit,
  WorkloadInput,
  WorkloadPlan,
  WorkloadTally,
} from './plan-types.ts';
import type { DenialRecord } from './spot-denials.ts';
import { heldOffSavingPerHour } from './savings.ts';
import { nextScheduleFireMs, type WakeSchedule } from './schedule.ts';
import type { PolicyRef } from './match.ts';

const NO_BUDGETS: ReadonlyMap<string, ExceededBudget> = new Map();

export function planWorkload(
  input: WorkloadInput,
  memory: Pick<PolicyMemory, 'idle' | 'audited' | 'reported' | 'turningOff'>,
  ctx: PlanContext,
): WorkloadPlan {
  const { workload: w, assignment } = input;
  const units: Unit[] = [];
  const estimated: { policy: string; perHour: bigint }[] = [];
  const held: { policy: string; perHour: bigint }[] = [];
  let pods: WorkloadTally['pods'] = [];
  const addIdle = (policy: PolicyRef, plan: IdlePlan) => {
    units.push(...plan.units);
    if (plan.estimatedPerHour > 0n) estimated.push({ policy: policy.name, perHour: plan.estimatedPerHour });
    pods = [...pods, ...plan.pods.map((p) => ({ policy: policy.name, ...p }))];
  };
  const pending = memory.turningOff.get(workloadName(w));
  if (pending) units.push(finishTurnOff(w, pending));
  const stz = pending ? undefined : assignment.winners.scaleToZero;
  const idle = pending ? undefined : assignment.winners.idleGPU;
  const heldPerHour = heldOffSavingPerHour({
    ...w,
    replicas: w.record?.replicas,
    suspended: w.record?.suspended ?? false,
  });
  if (stz && w.kind === 'Deployment') {
    const wake = planWake(w, stz, ctx);
    units.push(...wake.units);
    if (wake.state === 'asleep' && heldPerHour !== undefined) held.push({ policy: stz.name, perHour: heldPerHour });
    const sleep = wake.state === 'awake' ? planSleep(w, stz, memory, ctx) : undefined;
    const overBudget =
      wake.state === 'awake' && !sleep
        ? budgetFor(assignment.matched, ctx.exceededBudgets ?? NO_BUDGETS, ctx.budgetOverride?.(w.namespace) ?? false)
        : undefined;
    const budgetSleep = overBudget ? planBudgetSleep(w, stz, overBudget, memory, ctx) : undefined;
    if (sleep) {
      units.push(...sleep.units);
      if (sleep.estimatedPerHour > 0n) estimated.push({ policy: stz.name, perHour: sleep.estimatedPerHour });
    } else if (overBudget && budgetSleep) {
      units.push(...budgetSleep.units);
      if (budgetSleep.estimatedPerHour > 0n)
        estimated.push({ policy: overBudget.policy, perHour: budgetSleep.estimatedPerHour });
    } else if (wake.state === 'awake') addIdle(stz, planIdleRule(input, stz, 'scaleToZero', memory, ctx));
  } else if (idle && heldPerHour !== undefined) held.push({ policy: idle.name, perHour: heldPerHour });
  if (idle && !(stz && w.kind === 'Deployment')) addIdle(idle, planIdleRule(input, idle, 'idleGPU', memory, ctx));
  const spot = planSpotWatch(w, assignment.winners.spot, memory, ctx);
  units.push(...spot.units, ...planPlacement(w, assignment.winners.spot, ctx));
  const spotPolicy = assignment.winners.spot;
  if (spotPolicy && spot.estimatedPerHour > 0n)
    estimated.push({ policy: spotPolicy.name, perHour: spot.estimatedPerHour });
  return {
    workload: w,
    units,
    seen: spot.seen,
    tally: {
      matched: assignment.matched,
      overridden: assignment.overridden,
      estimated,
      held,
      pods,
    },
  };
}

/** When the next wake or sleep schedule of any valid policy fires, so the pass comes back then. */
export function nextWakeAtMs(policies: readonly PolicyRef[], nowMs: number): number | undefined {
  const schedules: WakeSchedule[] = [];
  for (const p of policies) if (p.spec.rules.scaleToZero?.schedule) schedules.push(p.spec.rules.scaleToZero.schedule);
  return nextScheduleFireMs(schedules, nowMs);
}

/** The webhook's denials (or, for a budget in Audit, would-be denials) of one Event as a status entry. */
export function denialRecord(d: DenialRecord): ActionRecord {
  return {
    policy: d.policy,
    workload: d.workload,
    rule: d.kind.rule,
    action: d.kind.action,
    mode: d.kind.mode,
    reason: d.reason,
    saving: 0n,
    count: d.newDenials,
  };
}
