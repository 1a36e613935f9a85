/**
 * Which ledger rows a budget counts: the rows of the workloads its policy matches, deleted ones included.
 * Matching is deterministic (a restart counts the same rows again), on the labels as they were when the row
 * was written:
 * - `namespaceSelector` is matched against the namespace's own labels, as for a live workload
 *   (policy/match.ts), so a tenant who labels its pods cannot move their spend out of its namespace's budget.
 *   A row without them (written before the ledger kept them, or of a namespace the cache never held) is
 *   matched on its merged labels instead, as all rows were before;
 * - `selector` and `exclude.selectors` are matched against the row's labels, the merge of its namespace's, its
 *   workload's and its first pod's labels (pod over workload over namespace): what `aicost report --by
 *   <label>` groups by.
 * A row keeps no annotations, so matching a row differs from matching a live workload in three ways:
 * - the selectors see the merged labels, not the workload's alone;
 * - `aicost.dev/exempt` is not seen: an exempt workload is spared actions, not counted out of a budget;
 * - there is no precedence: every budget counts every row it matches, so a team budget and a cluster-wide
 *   one both count the team's spend.
 * As for live workloads, `exclude` applies, and kube-system and the operator's namespace never count.
 *
 * A node's idle capacity belongs to no workload, so a budget does not count it, unless a node label owns it
 * (--idle-owner-label; issue #18): an idle pool its team reserved is that team's cost, and a team budget that
 * left it out would read low. Owned idle counts in a budget whose namespaceSelector or selector names the
 * owner label's key, when every selector matches the label (`team=ml` owns the idle: a budget of the
 * namespaces labelled `team: ml`, or of the workloads labelled so, counts it; a budget that selects on other
 * labels, or on none, does not, so a cluster-wide budget sees the same rows whether idle has owners or not).
 * A node has no namespace: the owner label stands in for the namespace's labels, exclude.namespaces does not
 * apply, and exclude.selectors do.
 */
import type { PolicySpec } from '../crds/aicost-policy.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { matchesSelector } from '../policy/selector.ts';

type LabelSelector = NonNullable<PolicySpec['selector']>;

export type ScopedRow = Pick<LedgerRow, 'workloadKind' | 'namespace' | 'labels' | 'namespaceLabels' | 'idleOwner'>;

export function rowInScope(spec: PolicySpec, row: ScopedRow, protectedNamespaces: ReadonlySet<string>): boolean {
  if (row.workloadKind === 'Node') return ownedIdleInScope(spec, row);
  if (protectedNamespaces.has(row.namespace)) return false;
  if (!matchesSelector(spec.namespaceSelector, row.namespaceLabels ?? row.labels)) return false;
  if (!matchesSelector(spec.selector, row.labels)) return false;
  if (spec.exclude?.namespaces?.includes(row.namespace)) return false;
  return !(spec.exclude?.selectors ?? []).some((s) => matchesSelector(s, row.labels));
}

/** An owned Node row (labels: the owner label alone, idle-owner.ts) in the budget's scope, as above. */
function ownedIdleInScope(spec: PolicySpec, row: ScopedRow): boolean {
  const keys = Object.keys(row.labels);
  const [key] = keys;
  if (!row.idleOwner || keys.length !== 1 || key === undefined) return false;
  const names = (s: LabelSelector | undefined) =>
    s !== undefined &&
    (Object.hasOwn(s.matchLabels ?? {}, key) || (s.matchExpressions ?? []).some((e) => e.key === key));
  if (!names(spec.namespaceSelector) && !names(spec.selector)) return false;
  if (!matchesSelector(spec.namespaceSelector, row.labels) || !matchesSelector(spec.selector, row.labels)) return false;
  return !(spec.exclude?.selectors ?? []).some((s) => matchesSelector(s, row.labels));
}

/** What decides a budget's rows: a policy edit that changes it makes the budget read the ledger again. */
export function scopeKey(spec: PolicySpec): string {
  return JSON.stringify([spec.namespaceSelector ?? null, spec.selector ?? null, spec.exclude ?? null]);
}
