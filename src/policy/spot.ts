/**
 * Spot placement with a checkpoint contract, as pure functions of (pod, rule, mode, spot conventions).
 * The admission webhook (reconcilers/spot-admission.ts) only runs them and sends the answer.
 *
 * - A pod that declares checkpointing (aicost.dev/checkpoint-path and aicost.dev/checkpoint-interval no
 *   longer than the rule's maximum) and is matched by a Preferred or Required rule gets a node affinity for
 *   spot capacity and the tolerations of the spot taints, for every convention at once.
 * - A pod without a valid declaration (or matched by Forbidden) is kept off spot with a required
 *   anti-affinity; if it selects spot nodes itself, it is denied with a message saying what to add.
 * - Audit changes nothing: the pod is admitted as it is, with an admission warning and an Event saying what
 *   Enforce would do.
 * What the user set is never removed: affinities are combined (AND) with the user's, tolerations appended.
 */
import { parseDuration } from '../config/duration.ts';
import { SPOT_LABELS } from '../pricing/capacity-type.ts';
import { operatorKeysIn } from './annotation-keys.ts';

export const SPOT_ANNOTATION = {
  checkpointPath: 'aicost.dev/checkpoint-path',
  checkpointInterval: 'aicost.dev/checkpoint-interval',
  lastCheckpoint: 'aicost.dev/last-checkpoint',
  /** Set by the webhook on the pods it changed: Preferred, Required or Avoided. */
  placement: 'aicost.dev/spot-placement',
  policy: 'aicost.dev/spot-policy',
} as const;

export const DEFAULT_MAX_CHECKPOINT_INTERVAL_MS = 30 * 60_000;

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
  preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
}

export interface Affinity {
  nodeAffinity?: NodeAffinity;
  [other: string]: unknown;
}

/** The parts of a Pod the decision reads. */
export interface PodForAdmission {
  metadata?: { name?: string; generateName?: string; annotations?: Record<string, string> };
  spec?: {
    nodeSelector?: Record<string, string>;
    affinity?: Affinity;
    tolerations?: Toleration[];
  };
}

/** One platform's way of marking spot nodes: the label, and the taint it puts on them, if any. */
export interface SpotConvention {
  readonly key: string;
  readonly value: string;
  readonly toleration: Toleration | undefined;
}

// GKE spot/preemptible pools are commonly tainted with their own label (the GKE docs recommend it); AKS
// taints every spot pool. EKS and Karpenter do not taint spot capacity by default.
const TAINTED = new Set([
  'cloud.google.com/gke-spot',
  'cloud.google.com/gke-preemptible',
  'kubernetes.azure.com/scalesetpriority',
]);

export const SPOT_CONVENTIONS: readonly SpotConvention[] = SPOT_LABELS.map(({ key, value }) => ({
  key,
  value,
  toleration: TAINTED.has(key) ? { key, operator: 'Equal', value, effect: 'NoSchedule' } : undefined,
}));

/** The conventions seen on the cluster's nodes, or all of them when no node carries any. */
export function observedConventions(nodeLabels: Iterable<Readonly<Record<string, string>>>): SpotConvention[] {
  const seen = new Set<SpotConvention>();
  for (const labels of nodeLabels) {
    for (const c of SPOT_CONVENTIONS) if (labels[c.key] === c.value) seen.add(c);
  }
  return seen.size === 0 ? [...SPOT_CONVENTIONS] : SPOT_CONVENTIONS.filter((c) => seen.has(c));
}

export interface SpotRuleView {
  readonly placement: 'Preferred' | 'Required' | 'Forbidden';
  readonly requireCheckpoint: boolean;
  readonly maxCheckpointInterval?: string | undefined;
}

export type CheckpointCheck =
  | { readonly valid: true; readonly intervalMs: number | undefined }
  | { readonly valid: false; readonly problem: string };

/** Whether the pod's annotations declare checkpointing within the rule's maximum interval. */
export function checkCheckpoint(
  annotations: Readonly<Record<string, string>> | undefined,
  rule: SpotRuleView,
): CheckpointCheck {
  const path = annotations?.[SPOT_ANNOTATION.checkpointPath]?.trim();
  const intervalText = annotations?.[SPOT_ANNOTATION.checkpointInterval]?.trim();
  const maxMs = rule.maxCheckpointInterval
    ? (parseDuration(rule.maxCheckpointInterval) ?? DEFAULT_MAX_CHECKPOINT_INTERVAL_MS)
    : DEFAULT_MAX_CHECKPOINT_INTERVAL_MS;
  const intervalMs = intervalText ? parseDuration(intervalText) : undefined;
  if (!rule.requireCheckpoint) return { valid: true, intervalMs };
  const maxText = rule.maxCheckpointInterval ?? '30m';
  if (!path && !intervalText) {
    return {
      valid: false,
      problem: `no checkpoint declaration: add the pod template annotations ${SPOT_ANNOTATION.checkpointPath} (where checkpoints are saved) and ${SPOT_ANNOTATION.checkpointInterval} (how often, at most ${maxText})`,
    };
  }
  if (!path)
    return {
      valid: false,
      problem: `add the pod template annotation ${SPOT_ANNOTATION.checkpointPath} (where checkpoints are saved)`,
    };
  if (!intervalText) {
    return {
      valid: false,
      problem: `add the pod template annotation ${SPOT_ANNOTATION.checkpointInterval} (how often, at most ${maxText})`,
    };
  }
  if (intervalMs === undefined || intervalMs <= 0) {
    return {
      valid: false,
      problem: `${SPOT_ANNOTATION.checkpointInterval} "${intervalText}" is not a duration such as 15m`,
    };
  }
  if (intervalMs > maxMs) {
    return {
      valid: false,
      problem: `${SPOT_ANNOTATION.checkpointInterval} ${intervalText} is longer than the ${maxText} this policy allows on spot`,
    };
  }
  return { valid: true, intervalMs };
}

const isSpotRequirement = (r: NodeSelectorRequirement, conventions: readonly SpotConvention[]) =>
  r.operator === 'In' && conventions.some((c) => c.key === r.key && (r.values ?? []).includes(c.value));

/** True when the pod itself asks for spot nodes: a spot nodeSelector, or a required affinity term for spot. */
export function selectsSpot(pod: PodForAdmission): boolean {
  const selector = pod.spec?.nodeSelector ?? {};
  if (SPOT_CONVENTIONS.some((c) => selector[c.key] === c.value)) return true;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return (
    terms.length > 0 &&
    terms.every((t) => (t.matchExpressions ?? []).some((r) => isSpotRequirement(r, SPOT_CONVENTIONS)))
  );
}

const PREFERRED_WEIGHT = 100;

function withRequiredTerms(
  affinity: Affinity | undefined,
  terms: (user: NodeSelectorTerm) => NodeSelectorTerm[],
): Affinity {
  const base = affinity ?? {};
  const nodeAffinity = base.nodeAffinity ?? {};
  const userTerms = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  // Terms are ORed: every user term is combined (ANDed) with ours, so the user's constraint still holds.
  const combined = (userTerms && userTerms.length > 0 ? userTerms : [{}]).flatMap(terms);
  return {
    ...base,
    nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: combined } },
  };
}

/** Required: the node is spot under one of the conventions (one term per convention, ORed). */
export function requireSpot(affinity: Affinity | undefined, conventions: readonly SpotConvention[]): Affinity {
  return withRequiredTerms(affinity, (user) =>
    conventions.map((c) => ({
      ...user,
      matchExpressions: [...(user.matchExpressions ?? []), { key: c.key, operator: 'In', values: [c.value] }],
    })),
  );
}

/** Preferred: one preference per convention; a node carries one of them, so weights do not stack. */
export function preferSpot(affinity: Affinity | undefined, conventions: readonly SpotConvention[]): Affinity {
  const base = affinity ?? {};
  const nodeAffinity = base.nodeAffinity ?? {};
  const preferred = [
    ...(nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []),
    ...conventions.map((c) => ({
      weight: PREFERRED_WEIGHT,
      preference: { matchExpressions: [{ key: c.key, operator: 'In', values: [c.value] }] },
    })),
  ];
  return { ...base, nodeAffinity: { ...nodeAffinity, preferredDuringSchedulingIgnoredDuringExecution: preferred } };
}

/** Anti-affinity: under no convention is the node spot (NotIn also matches nodes without the label). */
export function avoidSpot(affinity: Affinity | undefined): Affinity {
  return withRequiredTerms(affinity, (user) => [
    {
      ...user,
      matchExpressions: [
        ...(user.matchExpressions ?? []),
        ...SPOT_CONVENTIONS.map((c) => ({ key: c.key, operator: 'NotIn', values: [c.value] })),
      ],
    },
  ]);
}

const sameToleration = (a: Toleration, b: Toleration) =>
  a.key === b.key &&
  (a.operator ?? 'Equal') === (b.operator ?? 'Equal') &&
  a.value === b.value &&
  a.effect === b.effect;

export function addSpotTolerations(
  tolerations: readonly Toleration[] | undefined,
  conventions: readonly SpotConvention[],
): Toleration[] {
  const out = [...(tolerations ?? [])];
  for (const c of conventions) {
    if (c.toleration && !out.some((t) => sameToleration(t, c.toleration as Toleration))) out.push(c.toleration);
  }
  return out;
}

export type JsonPatchOp = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface SpotEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export type SpotDecision =
  | {
      readonly verdict: 'allow';
      readonly action: string | undefined;
      readonly warnings: readonly string[];
      readonly event: SpotEvent | undefined;
    }
  | {
      readonly verdict: 'patch';
      readonly action: string;
      readonly patch: readonly JsonPatchOp[];
      readonly warnings: readonly string[];
      readonly event: SpotEvent | undefined;
    }
  | { readonly verdict: 'deny'; readonly action: string; readonly message: string; readonly event: SpotEvent };

export interface SpotAdmissionInput {
  readonly pod: PodForAdmission;
  readonly policy: string;
  readonly rule: SpotRuleView;
  readonly mode: 'Audit' | 'Enforce';
  readonly conventions: readonly SpotConvention[];
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function patchFor(
  pod: PodForAdmission,
  affinity: Affinity,
  tolerations: Toleration[] | undefined,
  marks: Record<string, string>,
): JsonPatchOp[] {
  // Operator keys the creator set are removed first (those the webhook sets are replaced by "add" below).
  const ops: JsonPatchOp[] = stripOperatorKeys(pod).filter(
    (op) => !(op.path.slice(ANNOTATIONS_PATH.length) in escapedKeys(marks)),
  );
  // "add" on an existing member replaces it (RFC 6902 4.1): the merged value keeps everything the user set.
  ops.push({ op: 'add', path: '/spec/affinity', value: affinity });
  if (tolerations !== undefined && tolerations.length > (pod.spec?.tolerations?.length ?? 0)) {
    ops.push({ op: 'add', path: '/spec/tolerations', value: tolerations });
  }
  if (pod.metadata?.annotations === undefined) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: marks });
  } else {
    for (const [k, v] of Object.entries(marks))
      ops.push({ op: 'add', path: `/metadata/annotations/${escapePointer(k)}`, value: v });
  }
  return ops;
}

const ANNOTATIONS_PATH = '/metadata/annotations/';

function escapedKeys(marks: Record<string, string>): Record<string, true> {
  return Object.fromEntries(Object.keys(marks).map((k) => [escapePointer(k), true]));
}

/**
 * JSON patch removing the operator's keys from a pod being created: whoever set them is not the operator (a
 * pre-set spot-placement would make the pod look placed already, a pre-set cost would be read back).
 */
export function stripOperatorKeys(pod: PodForAdmission): JsonPatchOp[] {
  return operatorKeysIn(pod.metadata?.annotations).map((k) => ({
    op: 'remove',
    path: `${ANNOTATIONS_PATH}${escapePointer(k)}`,
  }));
}

/** What the webhook answers for one pod matched by a spot rule. */
export function decideSpotAdmission(input: SpotAdmissionInput): SpotDecision {
  const { pod, policy, rule, mode, conventions } = input;
  // The webhook runs once per CREATE (reinvocationPolicy: Never): a placement already on the pod was set by
  // its creator and is not trusted (stripOperatorKeys removes it); the decision reads the user's keys only.
  const annotations = pod.metadata?.annotations;
  const marks = (placement: string) => ({ [SPOT_ANNOTATION.placement]: placement, [SPOT_ANNOTATION.policy]: policy });
  const explicit = selectsSpot(pod);
  const check: CheckpointCheck =
    rule.placement === 'Forbidden'
      ? { valid: false, problem: 'spot capacity is forbidden for this workload' }
      : checkCheckpoint(annotations, rule);

  if (check.valid) {
    const action = rule.placement === 'Required' ? 'RequireSpot' : 'PreferSpot';
    if (mode === 'Audit') {
      const message = `aicost policy ${policy} (Audit) would ${rule.placement === 'Required' ? 'require' : 'prefer'} spot nodes for this pod: it checkpoints`;
      return { verdict: 'allow', action, warnings: [message], event: { type: 'Normal', reason: 'SpotAudit', message } };
    }
    const affinity =
      rule.placement === 'Required'
        ? requireSpot(pod.spec?.affinity, conventions)
        : preferSpot(pod.spec?.affinity, conventions);
    const tolerations = addSpotTolerations(pod.spec?.tolerations, conventions);
    return {
      verdict: 'patch',
      action,
      patch: patchFor(pod, affinity, tolerations, marks(rule.placement)),
      warnings: [],
      event: {
        type: 'Normal',
        reason: 'SpotPlacement',
        message: `aicost policy ${policy}: ${rule.placement === 'Required' ? 'requires' : 'prefers'} spot nodes for this pod (it checkpoints)`,
      },
    };
  }

  const why =
    rule.placement === 'Forbidden'
      ? `policy ${policy} forbids spot capacity for this workload`
      : `policy ${policy} allows spot nodes only for pods that checkpoint: ${check.problem}`;
  if (explicit) {
    const message = `aicost ${why}; or remove the spot node selector or affinity`;
    if (mode === 'Audit') {
      const warning = `${message} (Audit: admitted; Enforce would deny)`;
      return {
        verdict: 'allow',
        action: 'DenySpot',
        warnings: [warning],
        event: { type: 'Warning', reason: 'SpotAudit', message: warning },
      };
    }
    return { verdict: 'deny', action: 'DenySpot', message, event: { type: 'Warning', reason: 'SpotDenied', message } };
  }
  if (mode === 'Audit') {
    const warning = `aicost ${why} (Audit: admitted unchanged; Enforce would keep it off spot nodes)`;
    return {
      verdict: 'allow',
      action: 'AvoidSpot',
      warnings: [warning],
      event: { type: 'Warning', reason: 'SpotAudit', message: warning },
    };
  }
  return {
    verdict: 'patch',
    action: 'AvoidSpot',
    patch: patchFor(pod, avoidSpot(pod.spec?.affinity), undefined, marks('Avoided')),
    warnings: [`aicost ${why}: kept off spot nodes`],
    event: { type: 'Normal', reason: 'SpotAvoided', message: `aicost ${why}: kept off spot nodes` },
  };
}
