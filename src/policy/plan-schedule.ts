/**
 * scaleToZero's sleeping side, planned: wake a sleeping Deployment on aicost.dev/wake or its wake schedule,
 * respect a manual scale-up, and put an awake endpoint to sleep when its sleep schedule fires.
 */
import { lastFire, parseCron } from './cron.ts';
import { pastRfc3339Ms, recordedSince } from './last-action.ts';
import { modeOf, type PolicyRef } from './match.ts';
import { auditStamp, idleKey, turnOff } from './plan-idle.ts';
import type { PlanContext, PlanWorkload, PolicyMemory, Unit } from './plan-types.ts';
import { annotate, event, POLICY_ANNOTATION, rfc3339, unit, workloadName } from './plan-words.ts';
import { COST_PER_HOUR_BEFORE } from './savings.ts';

export type SleepState = 'awake' | 'asleep' | 'woken';

const CLEAR_SLEEP = {
  [POLICY_ANNOTATION.replicasBefore]: null,
  [COST_PER_HOUR_BEFORE]: null,
  [POLICY_ANNOTATION.asleepSince]: null,
  [POLICY_ANNOTATION.idleSince]: null,
  [POLICY_ANNOTATION.wake]: null,
  [POLICY_ANNOTATION.pausedVia]: null,
} as const;

/**
 * Whether the Deployment was awake, stays asleep, or is awake again (woken, or scaled up by hand), and the
 * unit that wakes it.
 */
export function planWake(
  w: PlanWorkload,
  policy: PolicyRef,
  ctx: PlanContext,
): { readonly state: SleepState; readonly units: Unit[] } {
  const before = w.annotations[POLICY_ANNOTATION.replicasBefore];
  if (before === undefined || !w.record) return { state: 'awake', units: [] };
  const freshWindow = { idle: [[idleKey('scaleToZero', w), undefined] as const] };
  // Under KEDA the replica count follows the ScaledObject, not a person: it says nothing of a manual scale.
  const viaKeda = w.annotations[POLICY_ANNOTATION.pausedVia] === 'keda';
  if (!viaKeda && (w.record.replicas ?? 0) > 0) {
    // Someone scaled it up by hand: do not fight it; a fresh idle window starts.
    const effects = [
      annotate({ ...CLEAR_SLEEP, [POLICY_ANNOTATION.lastAction]: `manual scale-up noticed at ${rfc3339(ctx.nowMs)}` }),
      event(
        'Normal',
        'ManualScaleUp',
        'scaled up by hand while asleep: the operator stops holding it at zero and starts a fresh idle window',
      ),
    ];
    return { state: 'woken', units: [unit(effects, { memory: freshWindow })] };
  }
  const reason = wakeReason(w, policy, ctx.nowMs);
  if (!reason) return { state: 'asleep', units: [] };
  const replicas = restoreReplicas(before);
  const effects = [
    { kind: 'restore', replicas } as const,
    annotate({
      ...CLEAR_SLEEP,
      [POLICY_ANNOTATION.lastAction]: `${reason} at ${rfc3339(ctx.nowMs)}, ${String(replicas)} replicas restored`,
    }),
    event('Normal', 'Woken', `${reason}: ${String(replicas)} replicas restored`),
  ];
  return { state: 'woken', units: [unit(effects, { memory: freshWindow })] };
}

function wakeReason(w: PlanWorkload, policy: PolicyRef, nowMs: number): string | undefined {
  if (w.annotations[POLICY_ANNOTATION.wake] !== undefined) return `woken on demand (${POLICY_ANNOTATION.wake})`;
  const schedule = policy.spec.rules.scaleToZero?.schedule;
  if (!schedule) return undefined;
  // Unreadable or in the future (the tenant can edit it): as if asleep since before the last wake firing, so
  // the endpoint wakes rather than being held off by a value the operator did not write.
  const asleepSinceMs = pastRfc3339Ms(w.annotations[POLICY_ANNOTATION.asleepSince], nowMs) ?? -Infinity;
  const fired = lastFire(parseCron(schedule.wake), schedule.timeZone, nowMs);
  return fired !== undefined && fired > asleepSinceMs
    ? `woken by the schedule "${schedule.wake}" (${schedule.timeZone})`
    : undefined;
}

/**
 * Puts an awake endpoint to sleep when the sleep schedule fired after the wake schedule. Each sleep firing is
 * handled once (aicost.dev/sleep-handled), so waking an endpoint by hand in the evening is not undone.
 * Undefined when the schedule does not apply now: the idle clock decides instead.
 */
export function planSleep(
  w: PlanWorkload,
  policy: PolicyRef,
  memory: Pick<PolicyMemory, 'audited'>,
  ctx: PlanContext,
): { readonly units: Unit[]; readonly estimatedPerHour: bigint } | undefined {
  const schedule = policy.spec.rules.scaleToZero?.schedule;
  if (!schedule?.sleep || !w.record || (w.record.replicas ?? 0) === 0) return undefined;
  const slept = lastFire(parseCron(schedule.sleep), schedule.timeZone, ctx.nowMs);
  if (slept === undefined) return undefined;
  const woke = lastFire(parseCron(schedule.wake), schedule.timeZone, ctx.nowMs);
  // A future sleep-handled would exempt the endpoint from every later firing: read back strictly.
  const handled = pastRfc3339Ms(w.annotations[POLICY_ANNOTATION.sleepHandled], ctx.nowMs);
  if ((woke !== undefined && woke >= slept) || (handled !== undefined && handled >= slept)) return undefined;
  const mode = modeOf(policy.spec, 'scaleToZero', ctx.defaultMode);
  const reason = `sleep schedule "${schedule.sleep}" (${schedule.timeZone})`;
  const record = {
    policy: policy.name,
    workload: workloadName(w),
    rule: 'scaleToZero' as const,
    mode,
    reason,
    saving: w.costPerHour,
  };
  if (mode === 'Audit') {
    const key = `sleep/${w.namespace}/${w.name}/${String(slept)}`;
    const lastAction = w.annotations[POLICY_ANNOTATION.lastAction];
    if (memory.audited.has(key) || recordedSince(lastAction, policy.name, 'scaleToZero', slept, ctx.nowMs))
      return { units: [], estimatedPerHour: w.costPerHour };
    const effects = [
      annotate({ [POLICY_ANNOTATION.lastAction]: auditStamp(w, policy.name, 'scaleToZero', ctx.nowMs) }),
      event(
        'Normal',
        'WouldScaleDown',
        `Audit: policy ${policy.name} would put this endpoint to sleep on its ${reason}`,
      ),
    ];
    const audited = { audited: { add: [key] } };
    return {
      units: [unit(effects, { memory: audited, records: [{ ...record, action: 'would-scale-to-zero' }] })],
      estimatedPerHour: w.costPerHour,
    };
  }
  const units = turnOff(
    w,
    { policy: policy.name, rule: 'scaleToZero', idleSinceMs: ctx.nowMs, nowMs: ctx.nowMs },
    {
      before: [],
      after: [
        annotate({ [POLICY_ANNOTATION.sleepHandled]: rfc3339(slept) }),
        event('Normal', 'ScaledToZero', `policy ${policy.name} put this endpoint to sleep on its ${reason}`),
      ],
      memory: {},
      record: { ...record, action: 'scale-to-zero' },
    },
  );
  return { units, estimatedPerHour: 0n };
}

/** The most replicas a wake restores: more is not a count the operator recorded (a tenant can edit it). */
export const MAX_RESTORED_REPLICAS = 1000;

/** replicas-before read back: an integer from 1 to MAX_RESTORED_REPLICAS, else 1. */
export function restoreReplicas(text: string | undefined): number {
  if (text === undefined || !/^\d{1,4}$/.test(text)) return 1;
  const n = Number(text);
  return n >= 1 && n <= MAX_RESTORED_REPLICAS ? n : 1;
}
