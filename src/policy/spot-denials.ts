/**
 * Counting the admission webhook's denials in the policies' status, as a pure function. A denied pod never
 * exists, so its only trace is the webhook's Event (SpotDenied; a budget's BudgetDenied, or BudgetWouldDeny in
 * Audit): the webhook names the policy on the Event (aicost.dev/spot-policy, aicost.dev/budget-policy), its
 * recorder raises the Event's count on every repeat, and the leader writes on the Event how many of those it
 * counted (aicost.dev/counted). Both live in the API, so a restart or a new leader neither loses nor recounts
 * a denial, for as long as the Event lives (the API server's event TTL).
 */
import type { Mode, RuleName } from './match.ts';
import { SPOT_ANNOTATION } from './spot.ts';

export const SPOT_DENIED = 'SpotDenied';
/** On a SpotDenied Event: the policy whose spot rule denied the pod (written by the webhook). */
export const DENIED_BY = SPOT_ANNOTATION.policy;
/** On a SpotDenied Event: how many of its denials the policy's status counts already (written by the leader). */
export const DENIALS_COUNTED = 'aicost.dev/counted';

/** One kind of the webhook's denial Events, and the status entries they become. */
export interface DenialKind {
  /** The Events' reason. */
  readonly eventReason: string;
  /** The annotation on the Event that names the policy. */
  readonly policyAnnotation: string;
  readonly rule: RuleName;
  readonly action: string;
  readonly mode: Mode;
  /** The status entry's reason for `n` denials. */
  readonly says: (n: number) => string;
}

export const SPOT_DENIAL: DenialKind = {
  eventReason: SPOT_DENIED,
  policyAnnotation: DENIED_BY,
  rule: 'spot',
  action: 'SpotDenied',
  mode: 'Enforce',
  says: (n) => `the spot webhook denied ${n === 1 ? 'a pod' : `${String(n)} pods`} that selected spot nodes`,
};

export interface DeniedEvent {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly policy: string;
  /** The Event's count: the denials it stands for. */
  readonly count: number;
  /** aicost.dev/counted as last seen, unparsed. */
  readonly counted: string | undefined;
  /** Kind/namespace/name of the workload (or pod) whose pod was denied. */
  readonly workload: string;
}

export interface DenialRecord {
  readonly kind: DenialKind;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly policy: string;
  readonly workload: string;
  /** Denials the policy's status does not count yet. */
  readonly newDenials: number;
  /** The value of aicost.dev/counted once they are counted. */
  readonly marker: string;
  readonly reason: string;
}

/**
 * The denials each Event holds that its policy's status has not counted yet: its count less the larger of
 * aicost.dev/counted and what this leader wrote (`written`, by uid: the cache may not show its own write
 * yet). Events of policies that no longer exist are left alone. Ordered by namespace and name.
 */
export function deniedToRecord(
  kind: DenialKind,
  events: Iterable<DeniedEvent>,
  written: ReadonlyMap<string, number>,
  policies: ReadonlySet<string>,
): DenialRecord[] {
  const out: DenialRecord[] = [];
  for (const e of events) {
    if (!policies.has(e.policy)) continue;
    const counted = Math.max(parseCount(e.counted), written.get(e.uid) ?? 0);
    const newDenials = e.count - counted;
    if (newDenials <= 0) continue;
    out.push({
      kind,
      uid: e.uid,
      namespace: e.namespace,
      name: e.name,
      policy: e.policy,
      workload: e.workload,
      newDenials,
      marker: String(e.count),
      reason: `${kind.says(newDenials)} (Event ${e.namespace}/${e.name})`,
    });
  }
  return out.sort((a, b) =>
    a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
  );
}

/** A count written by the leader; anything else counts as nothing counted. */
function parseCount(text: string | undefined): number {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : 0;
}
