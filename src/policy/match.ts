/**
 * Which policy governs which rule of a workload. Precedence, for each rule on its own: among the policies
 * that match the workload and define the rule, the most specific wins (the number of requirements in its
 * selector plus its namespaceSelector), then the policy name in alphabetical order. Losing policies report
 * the workload as "overridden" in their status. kube-system and the operator's namespace are never matched;
 * a workload annotated aicost.dev/exempt: "true" is skipped by every policy that allows exemptions.
 * Budgets have no precedence: every budget counts the spend of what it matches (budget/scope.ts), so a team's
 * budget and a cluster-wide one both count the team's workloads.
 */
import type { PolicySpec } from '../crds/aicost-policy.ts';
import { matchesSelector, specificity } from './selector.ts';

export const EXEMPT_ANNOTATION = 'aicost.dev/exempt';
export const RULES = ['idleGPU', 'scaleToZero', 'spot', 'budget'] as const;
export type RuleName = (typeof RULES)[number];

export interface PolicyRef {
  readonly name: string;
  readonly spec: PolicySpec;
}

/**
 * What policy matching reads of a workload, and nothing more: the policy engine's input. Its identity is not
 * part of it (matching never reads it); callers keep that in a WorkloadRef or a WorkloadRecord.
 */
export interface WorkloadView {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
}

export type MatchOutcome =
  | { readonly applies: true }
  | { readonly applies: false; readonly reason: 'protected-namespace' | 'not-selected' | 'excluded' | 'exempt' };

export function matchPolicy(
  policy: PolicyRef,
  w: WorkloadView,
  protectedNamespaces: ReadonlySet<string>,
): MatchOutcome {
  if (protectedNamespaces.has(w.namespace)) return { applies: false, reason: 'protected-namespace' };
  const spec = policy.spec;
  if (!matchesSelector(spec.namespaceSelector, w.namespaceLabels) || !matchesSelector(spec.selector, w.labels)) {
    return { applies: false, reason: 'not-selected' };
  }
  if (spec.exclude?.namespaces?.includes(w.namespace)) return { applies: false, reason: 'excluded' };
  if (spec.exclude?.selectors?.some((s) => matchesSelector(s, w.labels))) return { applies: false, reason: 'excluded' };
  if (spec.allowExemptions && w.annotations[EXEMPT_ANNOTATION] === 'true') return { applies: false, reason: 'exempt' };
  return { applies: true };
}

export interface RuleAssignment {
  /** The policy that governs each rule of the workload (never budget: budgets stack). */
  readonly winners: Partial<Record<RuleName, PolicyRef>>;
  /** Policies that matched and define a rule but lost it to a more specific one. */
  readonly overridden: readonly { readonly policy: string; readonly rule: RuleName; readonly by: string }[];
  /** Policies that matched the workload at all (for matched counts). */
  readonly matched: readonly string[];
}

export function assignRules(
  policies: readonly PolicyRef[],
  w: WorkloadView,
  protectedNamespaces: ReadonlySet<string>,
): RuleAssignment {
  const matching = policies.filter((p) => matchPolicy(p, w, protectedNamespaces).applies);
  const ordered = [...matching].sort((a, b) => {
    const sa = specificity(a.spec.selector) + specificity(a.spec.namespaceSelector);
    const sb = specificity(b.spec.selector) + specificity(b.spec.namespaceSelector);
    return sb - sa || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
  const winners: Partial<Record<RuleName, PolicyRef>> = {};
  const overridden: { policy: string; rule: RuleName; by: string }[] = [];
  for (const rule of RULES) {
    if (rule === 'budget') continue;
    for (const p of ordered) {
      if (p.spec.rules[rule] === undefined) continue;
      const winner = winners[rule];
      if (winner) overridden.push({ policy: p.name, rule, by: winner.name });
      else winners[rule] = p;
    }
  }
  return { winners, overridden, matched: matching.map((p) => p.name) };
}

export type Mode = 'Audit' | 'Enforce';

/** The mode a rule runs in: its own, else the policy's, else the operator's default (--default-mode). */
export function modeOf(spec: PolicySpec, rule: RuleName, defaultMode: Mode): Mode {
  const r = spec.rules[rule] as { mode?: Mode } | undefined;
  return r?.mode ?? spec.mode ?? defaultMode;
}
