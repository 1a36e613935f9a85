/**
 * Watching workloads on spot capacity, as pure functions: is a checkpoint overdue, is the node being
 * reclaimed, how much work would be lost, and what an on-demand workload forgoes by not running on spot.
 */
import { divRoundHalfUp, type Nanos } from '../cost/money.ts';
import { parseDuration } from '../config/duration.ts';
import { SPOT_ANNOTATION } from './spot.ts';

/**
 * Taints that announce a node's reclaim: Karpenter v1 disruption (karpenter.sh/disrupted), the AWS node
 * termination handler's spot interruption notice (aws-node-termination-handler/spot-itn), and GKE's impending
 * termination of a spot or preemptible VM (cloud.google.com/impending-node-termination).
 */
export const INTERRUPTION_TAINTS: readonly string[] = [
  'karpenter.sh/disrupted',
  'aws-node-termination-handler/spot-itn',
  'cloud.google.com/impending-node-termination',
];

export function interruptionTaint(taints: readonly { readonly key: string }[]): string | undefined {
  return taints.find((t) => INTERRUPTION_TAINTS.includes(t.key))?.key;
}

/** Declared checkpoint interval in ms, when the annotations declare a valid one. */
export function declaredInterval(annotations: Readonly<Record<string, string>>): number | undefined {
  const text = annotations[SPOT_ANNOTATION.checkpointInterval];
  const ms = text === undefined ? undefined : parseDuration(text.trim());
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/** The latest aicost.dev/last-checkpoint among the given annotation sets (pod, workload), in epoch ms. */
export function lastCheckpointMs(...sources: Readonly<Record<string, string>>[]): number | undefined {
  let latest: number | undefined;
  for (const a of sources) {
    const text = a[SPOT_ANNOTATION.lastCheckpoint];
    const ms = text === undefined ? NaN : Date.parse(text);
    if (Number.isFinite(ms) && (latest === undefined || ms > latest)) latest = ms;
  }
  return latest;
}

export interface Freshness {
  readonly stale: boolean;
  /** The last checkpoint, or the pod's start when it never reported one: where a restart would resume. */
  readonly sinceMs: number;
  readonly reported: boolean;
}

/**
 * A checkpoint is overdue when the last one (or the start, if none was reported) is older than twice the
 * declared interval: one missed checkpoint is tolerated, two are not.
 */
export function checkpointFreshness(args: {
  readonly intervalMs: number;
  readonly lastCheckpointMs: number | undefined;
  readonly startedAtMs: number;
  readonly nowMs: number;
}): Freshness {
  const reported = args.lastCheckpointMs !== undefined;
  const sinceMs = Math.max(args.lastCheckpointMs ?? args.startedAtMs, args.startedAtMs);
  return { stale: args.nowMs - sinceMs > 2 * args.intervalMs, sinceMs, reported };
}

export interface WorkAtRisk {
  readonly gpuHours: number;
  readonly cost: Nanos;
}

/** GPU-hours and cost accrued since the last checkpoint: what a reclaim now would throw away. */
export function workAtRisk(gpus: number, sinceMs: number, nowMs: number, costPerHour: Nanos): WorkAtRisk {
  const ms = Math.max(0, nowMs - sinceMs);
  return { gpuHours: (gpus * ms) / 3_600_000, cost: divRoundHalfUp(costPerHour * BigInt(ms), 3_600_000n) };
}

/**
 * What an on-demand pod would save per hour on spot: its hourly cost scaled by the spot discount of the same
 * node type, (on-demand - spot) / on-demand.
 */
export function forgoneSavingPerHour(costPerHour: Nanos, onDemandPerHour: Nanos, spotPerHour: Nanos): Nanos {
  if (onDemandPerHour <= 0n || spotPerHour >= onDemandPerHour) return 0n;
  return divRoundHalfUp(costPerHour * (onDemandPerHour - spotPerHour), onDemandPerHour);
}

/** On a workload: the spot webhook's placement of its pods that its policy's status counts already. */
export const SPOT_RECORDED = 'aicost.dev/spot-recorded';
const PLACEMENTS = new Set(['Preferred', 'Required', 'Avoided']);

export interface PlacedPod {
  readonly name: string;
  /** Epoch seconds. */
  readonly startedAtSeconds: number | undefined;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface PlacementRecord {
  readonly policy: string;
  /** The status entry's action and reason: as the webhook's Events say, SpotPlacement or SpotAvoided. */
  readonly action: 'SpotPlacement' | 'SpotAvoided';
  readonly reason: string;
  /** The value of aicost.dev/spot-recorded once it is counted. */
  readonly marker: string;
}

/**
 * The placement the spot webhook gave a workload's pods (aicost.dev/spot-placement and spot-policy, which it
 * writes on each pod it changes) that the policy's status has not counted yet, or undefined. Counted once
 * per workload and placement: the newest pod's (by start, then name) is compared with the workload's
 * aicost.dev/spot-recorded, so older pods placed otherwise (before a policy change) do not make it flap.
 * Both live in the API, so a restart or a new leader does not count it again.
 */
export function placementToRecord(
  pods: readonly PlacedPod[],
  recorded: string | undefined,
): PlacementRecord | undefined {
  let newest: PlacedPod | undefined;
  for (const pod of pods) {
    const placement = pod.annotations[SPOT_ANNOTATION.placement];
    if (placement === undefined || !PLACEMENTS.has(placement) || !pod.annotations[SPOT_ANNOTATION.policy]) continue;
    const order = (p: PlacedPod) => p.startedAtSeconds ?? -Infinity;
    if (!newest || order(pod) > order(newest) || (order(pod) === order(newest) && pod.name > newest.name)) newest = pod;
  }
  if (!newest) return undefined;
  const placement = newest.annotations[SPOT_ANNOTATION.placement] ?? '';
  const policy = newest.annotations[SPOT_ANNOTATION.policy] ?? '';
  const marker = `${placement} by ${policy}`;
  if (marker === recorded) return undefined;
  return placement === 'Avoided'
    ? { policy, marker, action: 'SpotAvoided', reason: `the spot webhook kept its pods off spot (pod ${newest.name})` }
    : {
        policy,
        marker,
        action: 'SpotPlacement',
        reason: `the spot webhook gave its pods a ${placement.toLowerCase()} spot placement (pod ${newest.name})`,
      };
}
