/**
 * The policy plan's vocabulary: what a pass reads (a snapshot of the governed workloads and the cycle's
 * measurement), what it remembers between passes (PolicyMemory), and what it asks the executor to do (Effects,
 * grouped into Units). plan.ts turns the first two into the third without I/O; the executor in
 * reconcilers/policy-executor.ts performs the effects.
 */
import type { PodRecord, WorkloadRecord } from '../controller/projections.ts';
import type { PolicyStatus } from '../crds/aicost-policy.ts';
import type { Nanos } from '../cost/money.ts';
import type { IdleState, WindowMeasure } from './idle.ts';
import type { ExceededBudget } from './plan-budget-sleep.ts';
import type { Mode, PolicyRef, RuleAssignment, RuleName } from './match.ts';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job' | 'Pod';

/** A governed workload: its identity, what matching reads, its cached record and its running GPU pods. */
export interface PlanWorkload {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The workload's operator annotations over its pod template's (a bare pod: its own). */
  readonly annotations: Readonly<Record<string, string>>;
  readonly record: WorkloadRecord | undefined;
  readonly pods: readonly PodRecord[];
  /** What it costs per hour now: the accounting report's figure, else the sum of its pods' rates. */
  readonly costPerHour: Nanos;
}

/** What the spot watch reads of a node. */
export interface PlanNode {
  readonly name: string;
  readonly spot: boolean;
  /** The interruption taint on a spot node being reclaimed. */
  readonly interruption: string | undefined;
}

/** An on-demand node's price, and the same node's price as spot. */
export interface SpotPrices {
  readonly onDemandPerHour: Nanos;
  readonly spotPerHour: Nanos;
}

/** The cycle's GPU measurement, as the accountant made it. */
export interface PlanMeasurement {
  readonly available: boolean;
  readonly reason: string;
  readonly windowStartMs: number;
  /** By "namespace/pod", pods with enough coverage. */
  readonly pods: ReadonlyMap<string, { readonly max: number; readonly coverage: number }>;
  /** By "namespace/pod", GPU pods left unknown, with the reason. */
  readonly unknown: ReadonlyMap<string, string>;
}

export interface PlanContext {
  readonly nowMs: number;
  readonly defaultMode: Mode;
  readonly currency: string;
  readonly measurement: PlanMeasurement | undefined;
  readonly node: (name: string) => PlanNode | undefined;
  /** Undefined when either price is unknown. Asked only under a spot rule that would send a pod to spot. */
  readonly spotPrices: (nodeName: string) => SpotPrices | undefined;
  /** A pod's current hourly cost (0 when the accountant has none). */
  readonly podCostPerHour: (uid: string) => Nanos;
  /** Exceeded budgets whose onExceeded has ScaleDevToZero, by policy name; none when absent. */
  readonly exceededBudgets?: ReadonlyMap<string, ExceededBudget>;
  /** Whether the namespace carries aicost.dev/budget-override (budgets then act on none of it). */
  readonly budgetOverride?: (namespace: string) => boolean;
}

/** One workload's input to the plan: the workload, the policies that won its rules, and its request rate. */
export interface WorkloadInput {
  readonly workload: PlanWorkload;
  readonly assignment: RuleAssignment;
  /** From the governing scaleToZero rule's requestsQuery, when it has one. */
  readonly requests: Pick<WindowMeasure, 'requestRate' | 'requestsKnown'> | undefined;
}

export type Effect =
  | { readonly kind: 'annotate'; readonly annotations: Readonly<Record<string, string | null>> }
  | { readonly kind: 'event'; readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string }
  /** Deployment/StatefulSet to zero: KEDA's paused-replicas when a ScaledObject drives it, else the scale. */
  | { readonly kind: 'scale-to-zero' }
  /** Deployment back to `replicas`, unpausing KEDA first when a ScaledObject drives it. */
  | { readonly kind: 'restore'; readonly replicas: number }
  | { readonly kind: 'suspend-job'; readonly annotations: Readonly<Record<string, string>> }
  /** An Eviction, so PodDisruptionBudgets hold. */
  | { readonly kind: 'evict' }
  /** aicost_spot_at_risk, by workload. */
  | { readonly kind: 'count-at-risk'; readonly cost: Nanos };

export type Action = NonNullable<PolicyStatus['lastActions']>[number];

/** A status entry for a policy, kept once the effects of its unit were carried out. */
export interface ActionRecord {
  readonly policy: string;
  readonly rule: RuleName;
  readonly action: string;
  readonly mode: 'Audit' | 'Enforce';
  readonly reason: string;
  readonly saving: Nanos;
  /** Actions this entry stands for (several denials of one Event, counted at once). */
  readonly count?: number;
  /** Kind/namespace/name. */
  readonly workload: string;
}

/** What a unit changes in PolicyMemory once its effects were carried out. */
export interface MemoryChange {
  /** Idle clocks by rule/kind/namespace/name; undefined forgets one. */
  readonly idle?: readonly (readonly [string, IdleState | undefined])[];
  readonly audited?: { readonly add?: readonly string[]; readonly remove?: readonly string[] };
  /** Turn-offs half done (replicas-before written, not yet scaled), by Kind/namespace/name. */
  readonly turningOff?: {
    readonly set?: readonly (readonly [string, PendingTurnOff])[];
    readonly remove?: readonly string[];
  };
  /** Spot episodes now reported (an Event and a status entry each). */
  readonly reported?: readonly { readonly episode: Episode; readonly key: string }[];
}

/**
 * Effects that belong together, in order. The executor stops a workload at its first failing unit: that unit
 * and the ones after it leave memory and status as they were, so the next pass plans them again.
 */
export interface Unit {
  readonly effects: readonly Effect[];
  readonly records: readonly ActionRecord[];
  /** Saving per hour the unit realizes once done (a workload turned off), by policy. */
  readonly realized: readonly { readonly policy: string; readonly perHour: Nanos }[];
  readonly memory: MemoryChange;
}

/** The rest of a turn-off whose first unit (replicas-before) was written. */
export interface PendingTurnOff {
  readonly effects: readonly Effect[];
  readonly records: readonly ActionRecord[];
  readonly realized: Unit['realized'];
}

export type Episode = 'stale' | 'interrupted' | 'forgone';

/** What a workload gives its policies' status whatever the units' outcome. */
export interface WorkloadTally {
  readonly matched: readonly string[];
  readonly overridden: readonly { readonly policy: string; readonly rule: RuleName; readonly by: string }[];
  readonly estimated: readonly { readonly policy: string; readonly perHour: Nanos }[];
  /** Held off from before this pass (asleep, suspended): realized saving. */
  readonly held: readonly { readonly policy: string; readonly perHour: Nanos }[];
  readonly pods: readonly { readonly policy: string; readonly measured: boolean; readonly problem: string }[];
}

export interface WorkloadPlan {
  readonly workload: PlanWorkload;
  readonly units: readonly Unit[];
  readonly tally: WorkloadTally;
  /** Spot episodes current this pass (reported or not): an episode not seen again is forgotten. */
  readonly seen: readonly { readonly episode: Episode; readonly key: string }[];
}

/**
 * What a policy pass keeps between passes. Lost on restart by design: every piece either comes back from the
 * API (idle-since, last-action, sleep-handled, spot-recorded, aicost.dev/counted) or only dedupes Events.
 */
export interface PolicyMemory {
  readonly idle: Map<string, IdleState>;
  /** Audit records made in the current idle episode or sleep firing, so a would-be action is reported once. */
  readonly audited: Set<string>;
  readonly reported: Record<Episode, Set<string>>;
  /** aicost.dev/counted as this leader wrote it, by Event uid: the cache may not show its own write yet. */
  readonly deniedCounted: Map<string, number>;
  /**
   * Turn-offs whose scaling failed after replicas-before was written: finished next pass. Lost on restart, when
   * the endpoint is taken as scaled up by hand (a fresh idle window: an action delayed, never one too many).
   */
  readonly turningOff: Map<string, PendingTurnOff>;
  /** Each policy's recent actions and count, seeded from its status. */
  readonly history: Map<string, { actions: Action[]; count: number }>;
}

export function emptyMemory(): PolicyMemory {
  return {
    idle: new Map(),
    audited: new Set(),
    reported: { stale: new Set(), interrupted: new Set(), forgone: new Set() },
    deniedCounted: new Map(),
    turningOff: new Map(),
    history: new Map(),
  };
}

export type { PolicyRef };
