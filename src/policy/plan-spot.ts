/**
 * The spot watch, planned, for every GPU workload: on spot nodes, Events for overdue checkpoints and for
 * reclaims (with the work at risk since the last checkpoint); on on-demand nodes, under a spot rule that would
 * send it to spot, the saving it forgoes. Each episode is reported once while it lasts. The governing spot
 * policy, if any, gets a status entry for each, and for the placement the spot webhook gave the pods.
 */
import type { PodRecord } from '../controller/projections.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import { modeOf, type PolicyRef } from './match.ts';
import type { ActionRecord, Episode, PlanContext, PlanWorkload, PolicyMemory, Unit } from './plan-types.ts';
import { annotate, event, formatInterval, rfc3339, unit, workloadName } from './plan-words.ts';
import { checkCheckpoint } from './spot.ts';
import {
  checkpointFreshness,
  declaredInterval,
  forgoneSavingPerHour,
  lastCheckpointMs,
  placementToRecord,
  SPOT_RECORDED,
  workAtRisk,
} from './spot-watch.ts';

export interface SpotPlan {
  readonly units: Unit[];
  readonly seen: { readonly episode: Episode; readonly key: string }[];
  readonly estimatedPerHour: Nanos;
}

interface Watch {
  readonly w: PlanWorkload;
  readonly policy: PolicyRef | undefined;
  readonly mode: 'Audit' | 'Enforce';
  readonly memory: Pick<PolicyMemory, 'reported'>;
  readonly ctx: PlanContext;
  readonly plan: { units: Unit[]; seen: SpotPlan['seen']; estimatedPerHour: Nanos };
}

export function planSpotWatch(
  w: PlanWorkload,
  policy: PolicyRef | undefined,
  memory: Pick<PolicyMemory, 'reported'>,
  ctx: PlanContext,
): SpotPlan {
  const mode = policy ? modeOf(policy.spec, 'spot', ctx.defaultMode) : 'Audit';
  const watch: Watch = { w, policy, mode, memory, ctx, plan: { units: [], seen: [], estimatedPerHour: 0n } };
  for (const pod of w.pods) {
    const node = ctx.node(pod.nodeName);
    if (!node || pod.startedAtSeconds === undefined) continue;
    if (node.spot) {
      if (node.interruption) watchReclaim(watch, pod, node.name, node.interruption);
      watchCheckpoint(watch, pod, node.name);
    } else watchForgone(watch, pod, node.name);
  }
  return watch.plan;
}

/** Reports an episode once: a unit with its Event (and status entry) the first time it is seen. */
function report(watch: Watch, episode: Episode, key: string, build: () => Omit<Unit, 'memory'>): void {
  // Keyed by workload, an episode is seen once per pod: reported once, at its first pod.
  if (watch.plan.seen.some((s) => s.episode === episode && s.key === key)) return;
  watch.plan.seen.push({ episode, key });
  if (watch.memory.reported[episode].has(key)) return;
  const built = build();
  watch.plan.units.push({ ...built, memory: { reported: [{ episode, key }] } });
}

function spotRecord(watch: Watch, action: string, reason: string, saving: Nanos): ActionRecord[] {
  if (!watch.policy) return [];
  return [
    {
      policy: watch.policy.name,
      workload: workloadName(watch.w),
      rule: 'spot',
      action,
      mode: watch.mode,
      reason,
      saving,
    },
  ];
}

function watchReclaim(watch: Watch, pod: PodRecord, nodeName: string, taint: string): void {
  const { w, ctx } = watch;
  report(watch, 'interrupted', `${pod.uid}/${nodeName}`, () => {
    const last = lastCheckpointMs(pod.annotations, w.annotations);
    const gpus = Object.values(pod.gpuRequests).reduce((a, b) => a + b, 0);
    const since = Math.max(last ?? 0, (pod.startedAtSeconds ?? 0) * 1000);
    const risk = workAtRisk(gpus, since, ctx.nowMs, ctx.podCostPerHour(pod.uid));
    const from = last === undefined ? 'it started, no checkpoint reported' : `its last checkpoint at ${rfc3339(last)}`;
    const reason = `spot node ${nodeName} is being reclaimed (${taint}): pod ${pod.name} risks ${risk.gpuHours.toFixed(2)} GPU-hours (${formatMoney(risk.cost, 2)} ${ctx.currency}) of work since ${from}`;
    return {
      effects: [{ kind: 'count-at-risk', cost: risk.cost }, event('Warning', 'SpotInterruption', reason)],
      records: spotRecord(watch, 'SpotInterrupted', reason, 0n),
      realized: [],
    };
  });
}

function watchCheckpoint(watch: Watch, pod: PodRecord, nodeName: string): void {
  const { w, ctx } = watch;
  const intervalMs = declaredInterval(pod.annotations) ?? declaredInterval(w.annotations);
  if (intervalMs === undefined) return;
  const fresh = checkpointFreshness({
    intervalMs,
    lastCheckpointMs: lastCheckpointMs(pod.annotations, w.annotations),
    startedAtMs: (pod.startedAtSeconds ?? 0) * 1000,
    nowMs: ctx.nowMs,
  });
  if (!fresh.stale) return;
  report(watch, 'stale', workloadName(w), () => {
    const last = fresh.reported
      ? `last checkpoint at ${rfc3339(fresh.sinceMs)}`
      : 'no checkpoint reported (aicost.dev/last-checkpoint)';
    const reason = `${last} is older than twice the declared interval of ${formatInterval(intervalMs)}, on spot node ${nodeName}`;
    return {
      effects: [event('Warning', 'CheckpointStale', reason)],
      records: spotRecord(watch, 'CheckpointStale', reason, 0n),
      realized: [],
    };
  });
}

function watchForgone(watch: Watch, pod: PodRecord, nodeName: string): void {
  const { w, ctx, policy } = watch;
  const rule = policy?.spec.rules.spot;
  if (!policy || !rule || rule.placement === 'Forbidden') return;
  if (!checkCheckpoint({ ...w.annotations, ...pod.annotations }, rule).valid) return;
  const prices = ctx.spotPrices(nodeName);
  if (!prices) return;
  const saving = forgoneSavingPerHour(ctx.podCostPerHour(pod.uid), prices.onDemandPerHour, prices.spotPerHour);
  if (saving <= 0n) return;
  watch.plan.estimatedPerHour += saving;
  report(watch, 'forgone', workloadName(w), () => {
    const reason = `runs on on-demand node ${nodeName} though it checkpoints: spot would save about ${formatMoney(saving, 2)} ${ctx.currency}/h`;
    return {
      effects: [event('Normal', 'ForgoneSpotSaving', reason)],
      records: [
        {
          policy: policy.name,
          workload: workloadName(w),
          rule: 'spot',
          action: 'ForgoneSpotSaving',
          mode: 'Audit',
          reason,
          saving,
        },
      ],
      realized: [],
    };
  });
}

/**
 * Counts, in the status of the policy named on the pods, the placement the spot webhook gave them. Webhook
 * replicas are not leaders and write nothing but Events; what they leave in the API is the placement marks
 * on each pod they changed, so the leader reads those, once per workload and placement, and remembers it in
 * aicost.dev/spot-recorded on the workload (so a restart does not count it again). A denied pod never
 * exists: denials are in the SpotDenied Events and aicost_webhook_admissions_total, not here.
 */
export function planPlacement(w: PlanWorkload, spotWinner: PolicyRef | undefined, ctx: PlanContext): Unit[] {
  const placed = placementToRecord(w.pods, w.annotations[SPOT_RECORDED]);
  // The marks are on the tenant's pods: count them only for the policy that governs this workload's spot
  // placement, in Enforce, which is the only case the webhook writes them.
  if (!placed || !spotWinner || placed.policy !== spotWinner.name) return [];
  if (modeOf(spotWinner.spec, 'spot', ctx.defaultMode) !== 'Enforce') return [];
  const record: ActionRecord = {
    policy: placed.policy,
    workload: workloadName(w),
    rule: 'spot',
    action: placed.action,
    mode: 'Enforce',
    reason: placed.reason,
    saving: 0n,
  };
  return [unit([annotate({ [SPOT_RECORDED]: placed.marker })], { records: [record] })];
}
