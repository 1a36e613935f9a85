/**
 * The idleGPU and scaleToZero rules' idle clock, planned: from the workload's measurement and the clock kept
 * in memory (or read back from aicost.dev/idle-since after a restart), warn, then after the grace period act
 * (Enforce) or record what would be done (Audit). Unknown metrics never lead to an action: the clock resets.
 */
import { parseDuration } from '../config/duration.ts';
import { formatMoney, parseMoney, type Nanos } from '../cost/money.ts';
import { unusableBecause } from './conditions.ts';
import { decideIdle, type IdleRule, type IdleState, type WindowMeasure } from './idle.ts';
import { actionStamp, pastRfc3339Ms, recordedSince } from './last-action.ts';
import { modeOf, type PolicyRef, type RuleName } from './match.ts';
import type {
  ActionRecord,
  MemoryChange,
  PendingTurnOff,
  Effect,
  PlanContext,
  PlanMeasurement,
  PlanWorkload,
  PolicyMemory,
  Unit,
  WorkloadInput,
} from './plan-types.ts';
import {
  actionPast,
  actionReason,
  actionVerb,
  annotate,
  event,
  POLICY_ANNOTATION,
  rfc3339,
  unit,
  workloadName,
} from './plan-words.ts';
import { COST_PER_HOUR_BEFORE, costPerHourBeforeText } from './savings.ts';

export type IdleRuleName = 'idleGPU' | 'scaleToZero';

export interface IdlePlan {
  readonly units: Unit[];
  readonly estimatedPerHour: Nanos;
  /** Each GPU pod the rule governs: measured, or why not. */
  readonly pods: { readonly measured: boolean; readonly problem: string }[];
}

const NOTHING: IdlePlan = { units: [], estimatedPerHour: 0n, pods: [] };

export function idleKey(rule: IdleRuleName, w: PlanWorkload): string {
  return `${rule}/${w.kind}/${w.namespace}/${w.name}`;
}

/** The worst of the workload's GPU pods in the window; undefined without a measurement or pods. */
export function measureWorkload(w: PlanWorkload, m: PlanMeasurement | undefined): WindowMeasure | undefined {
  if (!m || w.pods.length === 0) return undefined;
  let max = 0;
  let coverage = 1;
  for (const pod of w.pods) {
    const key = `${pod.namespace}/${pod.name}`;
    const u = m.pods.get(key);
    if (!u)
      return {
        known: false,
        reason: m.unknown.get(key) ?? 'no DCGM data',
        maxUtilization: 0,
        coverage: 0,
        windowStartMs: m.windowStartMs,
      };
    max = Math.max(max, u.max);
    coverage = Math.min(coverage, u.coverage);
  }
  return { known: m.available, reason: m.reason, maxUtilization: max, coverage, windowStartMs: m.windowStartMs };
}

export function planIdleRule(
  input: WorkloadInput,
  policy: PolicyRef,
  rule: IdleRuleName,
  memory: Pick<PolicyMemory, 'idle' | 'audited'>,
  ctx: PlanContext,
): IdlePlan {
  const { workload: w } = input;
  const spec = policy.spec.rules[rule];
  if (!spec) return NOTHING;
  if (w.kind === 'Job' ? w.record?.suspended : w.kind !== 'Pod' && w.record?.replicas === 0) return NOTHING; // off
  const m = ctx.measurement;
  const pods = m
    ? w.pods.map((pod) => {
        const key = `${pod.namespace}/${pod.name}`;
        const problem = unusableBecause(m.pods.get(key), spec.minCoverage / 100, m.unknown.get(key));
        return { measured: problem === undefined, problem: `${key}: ${problem ?? ''}` };
      })
    : [];
  let measure = measureWorkload(w, m);
  if (!measure) return { ...NOTHING, pods };
  if (rule === 'scaleToZero' && input.requests) measure = { ...measure, ...input.requests };
  const idleRule: IdleRule = {
    threshold: spec.utilizationThreshold / 100,
    idleAfterMs: parseDuration(spec.idleAfter) ?? 3_600_000,
    gracePeriodMs: rule === 'idleGPU' ? (parseDuration(policy.spec.rules.idleGPU?.gracePeriod ?? '15m') ?? 0) : 0,
    minCoverage: spec.minCoverage / 100,
  };
  const key = idleKey(rule, w);
  // Read back as untrusted: garbage or a future time is as if absent (a fresh episode starts).
  const idleSinceMs = pastRfc3339Ms(w.annotations[POLICY_ANNOTATION.idleSince], ctx.nowMs);
  const previous: IdleState = memory.idle.get(key) ?? (idleSinceMs === undefined ? {} : { idleSinceMs });
  const result = decideIdle(idleRule, previous, measure, ctx.nowMs);
  const d = result.decision;
  const effects: Effect[] = [];
  // Both modes keep idle-since (and Audit its record in last-action), so a restart resumes the episode.
  if (result.clearAnnotation) effects.push(annotate({ [POLICY_ANNOTATION.idleSince]: null }));
  const forget = d.kind === 'active' || d.kind === 'unknown' ? [key] : [];
  const base = { idle: [[key, result.state] as const], audited: { remove: forget } };
  const mode = modeOf(policy.spec, rule, ctx.defaultMode);
  if (d.kind === 'warn') {
    effects.push(
      event(
        'Warning',
        'GPUIdle',
        `GPUs under ${spec.utilizationThreshold}% since ${rfc3339(d.idleSinceMs)}; policy ${policy.name} (${rule}, ${mode}) will ${actionVerb(w.kind)} it at ${rfc3339(d.actAtMs)} unless it becomes active`,
      ),
      annotate({ [POLICY_ANNOTATION.idleSince]: rfc3339(d.idleSinceMs) }),
    );
  }
  if (d.kind !== 'act') return { units: [unit(effects, { memory: base })], estimatedPerHour: 0n, pods };
  const acting = { policy, rule, key, idleSinceMs: d.idleSinceMs, effects, base };
  if (protectedByAnnotation(w, policy, rule))
    return { units: [planProtected(acting, memory)], estimatedPerHour: 0n, pods };
  if (mode === 'Audit') return { units: [planAudit(w, acting, memory, ctx)], estimatedPerHour: w.costPerHour, pods };
  return { units: planEnforce(w, acting, ctx), estimatedPerHour: 0n, pods };
}

interface Acting {
  readonly policy: PolicyRef;
  readonly rule: IdleRuleName;
  readonly key: string;
  readonly idleSinceMs: number;
  readonly effects: Effect[];
  readonly base: { readonly idle: readonly (readonly [string, IdleState])[] };
}

function protectedByAnnotation(w: PlanWorkload, policy: PolicyRef, rule: IdleRuleName): boolean {
  return (
    w.annotations[POLICY_ANNOTATION.doNotDisrupt] === 'true' &&
    (rule !== 'idleGPU' || policy.spec.rules.idleGPU?.respectDoNotDisrupt !== false)
  );
}

function planProtected(a: Acting, memory: Pick<PolicyMemory, 'audited'>): Unit {
  if (memory.audited.has(a.key)) return unit(a.effects, { memory: a.base });
  return unit(
    [
      ...a.effects,
      event(
        'Normal',
        'IdleButProtected',
        `idle, but annotated ${POLICY_ANNOTATION.doNotDisrupt}: "true"; policy ${a.policy.name} leaves it running`,
      ),
    ],
    { memory: { ...a.base, audited: { add: [a.key] } } },
  );
}

function planAudit(w: PlanWorkload, a: Acting, memory: Pick<PolicyMemory, 'audited'>, ctx: PlanContext): Unit {
  const lastAction = w.annotations[POLICY_ANNOTATION.lastAction];
  if (memory.audited.has(a.key) || recordedSince(lastAction, a.policy.name, a.rule, a.idleSinceMs, ctx.nowMs))
    return unit(a.effects, { memory: a.base });
  const action = actionVerb(w.kind);
  return unit(
    [
      ...a.effects,
      annotate({ [POLICY_ANNOTATION.lastAction]: auditStamp(w, a.policy.name, a.rule, ctx.nowMs) }),
      event(
        'Normal',
        'WouldScaleDown',
        `Audit: policy ${a.policy.name} (${a.rule}) would ${action} this idle workload, saving about ${formatMoney(w.costPerHour, 4)} per hour`,
      ),
    ],
    {
      memory: { ...a.base, audited: { add: [a.key] } },
      records: [
        {
          policy: a.policy.name,
          workload: workloadName(w),
          rule: a.rule,
          action: `would-${action}`,
          mode: 'Audit',
          reason: `idle since ${rfc3339(a.idleSinceMs)}`,
          saving: w.costPerHour,
        },
      ],
    },
  );
}

function planEnforce(w: PlanWorkload, a: Acting, ctx: PlanContext): Unit[] {
  const message = `policy ${a.policy.name} (${a.rule}) ${actionPast(w.kind)} this workload: GPUs idle since ${rfc3339(a.idleSinceMs)}; saving about ${formatMoney(w.costPerHour, 4)} per hour`;
  return turnOff(
    w,
    { policy: a.policy.name, rule: a.rule, idleSinceMs: a.idleSinceMs, nowMs: ctx.nowMs },
    {
      before: a.effects,
      after: [event('Warning', actionReason(w.kind), message)],
      // Acted: the next episode starts afresh.
      memory: { idle: [[a.key, undefined]] },
      record: {
        policy: a.policy.name,
        workload: workloadName(w),
        rule: a.rule,
        action: actionVerb(w.kind),
        mode: 'Enforce',
        reason: `idle since ${rfc3339(a.idleSinceMs)}`,
        saving: w.costPerHour,
      },
    },
  );
}

/** What Enforce would have done, in aicost.dev/last-action. */
export function auditStamp(w: PlanWorkload, policy: string, rule: RuleName, nowMs: number): string {
  return actionStamp(`Audit: would be ${actionPast(w.kind)}`, policy, rule, rfc3339(nowMs));
}

/**
 * Turning a workload off: the units that do it, with what the caller adds before and after, and the hourly
 * saving that realizes while it stays off (none for an eviction). A Deployment or StatefulSet first records
 * what waking it needs (replicas-before) and what it cost awake, in a unit of its own: should scaling then
 * fail, the rest is remembered (PolicyMemory.turningOff) and finished next pass, rather than the recorded
 * replicas-before on a running endpoint being taken for a manual scale-up.
 */
export function turnOff(
  w: PlanWorkload,
  at: { readonly policy: string; readonly rule: RuleName; readonly idleSinceMs: number; readonly nowMs: number },
  with_: { before: readonly Effect[]; after: readonly Effect[]; memory: MemoryChange; record: ActionRecord },
): Unit[] {
  const stamp = actionStamp(actionPast(w.kind), at.policy, at.rule, rfc3339(at.nowMs));
  const before = costPerHourBeforeText(w.costPerHour);
  const realized = [{ policy: at.policy, perHour: w.kind === 'Pod' ? 0n : parseMoney(before) }];
  const done = { records: [with_.record], realized };
  if (w.kind === 'Pod')
    return [unit([...with_.before, { kind: 'evict' }, ...with_.after], { ...done, memory: with_.memory })];
  if (w.kind === 'Job') {
    const annotations = { [POLICY_ANNOTATION.lastAction]: stamp, [COST_PER_HOUR_BEFORE]: before };
    return [
      unit([...with_.before, { kind: 'suspend-job', annotations }, ...with_.after], { ...done, memory: with_.memory }),
    ];
  }
  const finish: PendingTurnOff = { effects: [{ kind: 'scale-to-zero' }, ...with_.after], ...done };
  const key = workloadName(w);
  const prepare = annotate({
    [POLICY_ANNOTATION.replicasBefore]: String(w.record?.replicas ?? 1),
    [COST_PER_HOUR_BEFORE]: before,
    [POLICY_ANNOTATION.asleepSince]: rfc3339(at.nowMs),
    [POLICY_ANNOTATION.lastAction]: stamp,
    [POLICY_ANNOTATION.idleSince]: rfc3339(at.idleSinceMs),
  });
  return [
    unit([...with_.before, prepare], { memory: { turningOff: { set: [[key, finish]] } } }),
    unit(finish.effects, { ...done, memory: { ...with_.memory, turningOff: { remove: [key] } } }),
  ];
}

/** Finishes a turn-off whose scaling failed last pass, while the workload still carries its replicas-before. */
export function finishTurnOff(w: PlanWorkload, pending: PendingTurnOff): Unit {
  const key = workloadName(w);
  if (w.annotations[POLICY_ANNOTATION.replicasBefore] === undefined)
    return unit([], { memory: { turningOff: { remove: [key] } } }); // someone undid it meanwhile
  return unit(pending.effects, {
    records: pending.records,
    realized: pending.realized,
    memory: { turningOff: { remove: [key] } },
  });
}
