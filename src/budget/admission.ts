/**
 * A budget's DenyNewGPUPods at admission, as a pure function of the policies (spec and status), the pod's
 * resolved owner, its namespace's override and the time. The admission webhook (reconcilers/budget-admission.ts)
 * only runs it, counts the verdicts and records the Events.
 *
 * - Only GPU pods are touched, and only by a budget that is exceeded now: its status says since when
 *   (status.budget.exceededAt, written by the leader) for a period that has not ended, and it describes the
 *   spec in force (observedGeneration), so an edit of the amount is never judged on the old one's figures.
 * - A pod of a workload that existed when the budget was exceeded (its Deployment, StatefulSet or Job, cached
 *   with the uid its reference names, was created before) is a replacement, admitted: running production is
 *   never stopped by a budget. Anything else is new: a bare pod, an owner not cached or forged, a ReplicaSet of
 *   its own or an owner of another kind (their creation time is not known, and a claim is not proof).
 * - The namespace annotation aicost.dev/budget-override lets new pods through, with an Event naming it.
 * - Enforce refuses, naming the budget, the spend, who to ask and the override; Audit admits with a warning.
 * Budgets have no precedence: every exceeded budget in scope is judged, in name order, up to the first refusal.
 */
import { formatMoney, parseMoney, type Nanos } from '../cost/money.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import { matchPolicy, modeOf, type Mode, type WorkloadView } from '../policy/match.ts';
import type { DenialKind } from '../policy/spot-denials.ts';

export const BUDGET_OVERRIDE = 'aicost.dev/budget-override';
/** On the webhook's budget Events: the policy whose budget judged the pod. */
export const BUDGET_POLICY_ANNOTATION = 'aicost.dev/budget-policy';
export const BUDGET_REASON = {
  denied: 'BudgetDenied',
  wouldDeny: 'BudgetWouldDeny',
  overridden: 'BudgetOverridden',
} as const;

const CENTS = 2;

const pods = (n: number) => (n === 1 ? 'a new GPU pod' : `${String(n)} new GPU pods`);

/** The refusals the leader counts in the policy's status, from the webhook's BudgetDenied Events. */
export const BUDGET_DENIAL: DenialKind = {
  eventReason: BUDGET_REASON.denied,
  policyAnnotation: BUDGET_POLICY_ANNOTATION,
  rule: 'budget',
  action: 'DenyNewGPUPods',
  mode: 'Enforce',
  says: (n) => `the budget refused ${pods(n)}`,
};

/** Audit's would-be refusals, counted the same way from the BudgetWouldDeny Events. */
export const BUDGET_WOULD_DENY: DenialKind = {
  ...BUDGET_DENIAL,
  eventReason: BUDGET_REASON.wouldDeny,
  mode: 'Audit',
  says: (n) => `the budget would have refused ${pods(n)}`,
};

/**
 * The pod's workload as the webhook resolved its controller reference (resolveOwner): a Deployment,
 * StatefulSet or Job cached with the uid the reference names carries its creation time; any other reference
 * (not cached yet, a kind the operator does not cache) is only what the pod claims. Undefined: a bare pod, or
 * a reference naming a cached object of another uid (forged).
 */
export type PodOwner =
  | {
      readonly verified: true;
      readonly kind: string;
      readonly name: string;
      readonly createdAtSeconds: number | undefined;
    }
  | { readonly verified: false; readonly kind: string; readonly name: string }
  | undefined;

export interface BudgetAdmissionInput {
  readonly policies: Iterable<PolicyRecord>;
  /** The pod as the policies match it: namespace labels, its workload's labels under its own. */
  readonly view: WorkloadView;
  readonly protectedNamespaces: ReadonlySet<string>;
  readonly defaultMode: Mode;
  readonly nowMs: number;
  /** Whether the pod requests GPUs (requestsGpu): budgets touch nothing else. */
  readonly gpu: boolean;
  readonly owner: PodOwner;
  /**
   * Whether a workload controller asks (isWorkloadController): only its pods can be replacements. A tenant can
   * read the uid of its own old ReplicaSet or Job and name it in a pod of its own; the reference then checks
   * out, but the requester does not.
   */
  readonly byController: boolean;
  /** The pod's name, or its generateName: what an Event or a message names when it has no owner. */
  readonly podName: string;
  /** The namespace's aicost.dev/budget-override, if set and not empty. */
  readonly override: string | undefined;
}

export type BudgetVerdictName = 'denied' | 'would_deny' | 'overridden' | 'replacement';

export interface BudgetVerdict {
  readonly policy: string;
  readonly verdict: BudgetVerdictName;
  /** About the pod's owner (or its namespace, for a pod without one); none for a replacement. */
  readonly event: { readonly type: 'Warning'; readonly reason: string; readonly message: string } | undefined;
  /** An admission warning, for a pod admitted over the budget. */
  readonly warning: string | undefined;
}

export interface BudgetAdmissionDecision {
  /** In policy name order, up to and including the first refusal. */
  readonly verdicts: readonly BudgetVerdict[];
  /** The first refusal's message (403); undefined when the pod is admitted. */
  readonly refusal: string | undefined;
}

/** A budget that is exceeded now, with what its messages say. */
interface ActingBudget {
  readonly policy: string;
  readonly mode: Mode;
  readonly amount: Nanos;
  readonly spent: Nanos;
  readonly currency: string;
  readonly periodEnd: string;
  readonly exceededAtMs: number;
  readonly contact: string;
}

/**
 * The policies with a budget whose scope holds the pod, in name order: matched as policies match a workload
 * (namespace labels, workload and pod labels, exclude, protected namespaces), except that aicost.dev/exempt is
 * not read. Any tenant can set it on its pods, and a budget is not something a tenant opts out of: the
 * override is a namespace annotation that the tenant's usual rights do not reach.
 */
export function budgetsInScope(
  policies: Iterable<PolicyRecord>,
  view: WorkloadView,
  protectedNamespaces: ReadonlySet<string>,
): PolicyRecord[] {
  const unexempted = { ...view, annotations: {} };
  const out: PolicyRecord[] = [];
  for (const p of policies) {
    if (!p.spec?.rules.budget) continue;
    if (matchPolicy({ name: p.name, spec: p.spec }, unexempted, protectedNamespaces).applies) out.push(p);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The budget as DenyNewGPUPods reads it, when it acts on pods now; else undefined. */
function acting(policy: PolicyRecord, nowMs: number, defaultMode: Mode): ActingBudget | undefined {
  const rule = policy.spec?.rules.budget;
  const status = policy.status;
  const budget = status?.budget;
  if (!policy.spec || !rule?.onExceeded.includes('DenyNewGPUPods') || !status || !budget?.exceededAt) return undefined;
  // A status of another generation may hold an amount or a scope the policy no longer has.
  if (status.observedGeneration !== policy.generation) return undefined;
  const exceededAtMs = Date.parse(budget.exceededAt);
  const periodEndMs = Date.parse(budget.periodEnd);
  if (!Number.isFinite(exceededAtMs) || !(periodEndMs > nowMs)) return undefined;
  const amount = safeMoney(rule.amount);
  const spent = safeMoney(budget.spent);
  if (amount === undefined || spent === undefined) return undefined;
  return {
    policy: policy.name,
    mode: modeOf(policy.spec, 'budget', defaultMode),
    amount,
    spent,
    currency: status.currency ?? '',
    periodEnd: budget.periodEnd,
    exceededAtMs,
    contact: rule.contact?.trim() || `the platform team (owners of AICostPolicy ${policy.name})`,
  };
}

/**
 * The identities kube-controller-manager creates pods under: each controller's own service account
 * (--use-service-account-credentials, the default of kubeadm and the managed services) or its own user.
 */
const WORKLOAD_CONTROLLERS: ReadonlySet<string> = new Set([
  'system:serviceaccount:kube-system:replicaset-controller',
  'system:serviceaccount:kube-system:job-controller',
  'system:serviceaccount:kube-system:statefulset-controller',
  'system:kube-controller-manager',
]);

export function isWorkloadController(username: string): boolean {
  return WORKLOAD_CONTROLLERS.has(username);
}

export function decideBudgetAdmission(input: BudgetAdmissionInput): BudgetAdmissionDecision {
  if (!input.gpu) return { verdicts: [], refusal: undefined };
  const verdicts: BudgetVerdict[] = [];
  for (const policy of budgetsInScope(input.policies, input.view, input.protectedNamespaces)) {
    const budget = acting(policy, input.nowMs, input.defaultMode);
    if (!budget) continue;
    const verdict = judge(budget, input);
    verdicts.push(verdict);
    if (verdict.verdict === 'denied') return { verdicts, refusal: refusalMessage(budget, input.view.namespace) };
  }
  return { verdicts, refusal: undefined };
}

function judge(budget: ActingBudget, input: BudgetAdmissionInput): BudgetVerdict {
  const { owner } = input;
  const policy = budget.policy;
  const createdAtSeconds = owner?.verified && input.byController ? owner.createdAtSeconds : undefined;
  if (createdAtSeconds !== undefined && createdAtSeconds * 1000 < budget.exceededAtMs) {
    return { policy, verdict: 'replacement', event: undefined, warning: undefined };
  }
  const workload = workloadText(input);
  const exceeded = `the budget of ${money(budget.amount, budget.currency)} is exceeded until ${budget.periodEnd}`;
  if (input.override !== undefined) {
    const message = `aicost budget ${policy}: ${exceeded}; a new GPU pod of ${workload} went through on namespace ${input.view.namespace}'s ${BUDGET_OVERRIDE}: ${JSON.stringify(input.override)}`;
    return { policy, verdict: 'overridden', event: warningEvent(BUDGET_REASON.overridden, message), warning: message };
  }
  if (budget.mode === 'Audit') {
    const message = `aicost budget ${policy} (Audit) would refuse new GPU pods of ${workload}: ${exceeded}`;
    const warning = `aicost budget ${policy} is exceeded (${spentOf(budget)}) until ${budget.periodEnd}: admitted in Audit; Enforce would refuse this new GPU pod`;
    return { policy, verdict: 'would_deny', event: warningEvent(BUDGET_REASON.wouldDeny, message), warning };
  }
  const message = `aicost budget ${policy} refused a new GPU pod of ${workload}: ${exceeded}; ask ${budget.contact}`;
  return { policy, verdict: 'denied', event: warningEvent(BUDGET_REASON.denied, message), warning: undefined };
}

/** What the API server tells the pod's creator: what refused it, why, who to ask, and the way out. */
function refusalMessage(budget: ActingBudget, namespace: string): string {
  return (
    `aicost budget ${budget.policy} is exceeded: ${spentOf(budget)} in the period ending ${budget.periodEnd}, ` +
    `so new GPU pods in its scope are refused. Ask ${budget.contact}; urgent work can go through with the ` +
    `annotation ${BUDGET_OVERRIDE}=<reason> on namespace ${namespace}.`
  );
}

function spentOf(budget: ActingBudget): string {
  return `${money(budget.spent, budget.currency)} spent of ${money(budget.amount, budget.currency)}`;
}

/** The pod's workload as its Events and messages name it: Kind namespace/name. */
function workloadText({ owner, view, podName }: BudgetAdmissionInput): string {
  return owner ? `${owner.kind} ${view.namespace}/${owner.name}` : `Pod ${view.namespace}/${podName}`;
}

function warningEvent(reason: string, message: string): BudgetVerdict['event'] {
  return { type: 'Warning', reason, message };
}

/** An amount to the cent with its currency, as the budget's other messages show it. */
export function money(nanos: Nanos, currency: string): string {
  return currency ? `${formatMoney(nanos, CENTS)} ${currency}` : formatMoney(nanos, CENTS);
}

/** A decimal string read back from a spec or a status; undefined for anything else. */
export function safeMoney(text: string): Nanos | undefined {
  try {
    return parseMoney(text);
  } catch {
    return undefined;
  }
}
