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
 * As for live workloads, `exclude` applies, kube-system and the operator's namespace never count, and neither
 * does a node's idle capacity (its Node rows belong to no workload).
 */
import type { PolicySpec } from '../crds/aicost-policy.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { matchesSelector } from '../policy/selector.ts';

export type ScopedRow = Pick<LedgerRow, 'workloadKind' | 'namespace' | 'labels' | 'namespaceLabels'>;

export function rowInScope(spec: PolicySpec, row: ScopedRow, protectedNamespaces: ReadonlySet<string>): boolean {
  if (row.workloadKind === 'Node' || protectedNamespaces.has(row.namespace)) return false;
  if (!matchesSelector(spec.namespaceSelector, row.namespaceLabels ?? row.labels)) return false;
  if (!matchesSelector(spec.selector, row.labels)) return false;
  if (spec.exclude?.namespaces?.includes(row.namespace)) return false;
  return !(spec.exclude?.selectors ?? []).some((s) => matchesSelector(s, row.labels));
}

/** What decides a budget's rows: a policy edit that changes it makes the budget read the ledger again. */
export function scopeKey(spec: PolicySpec): string {
  return JSON.stringify([spec.namespaceSelector ?? null, spec.selector ?? null, spec.exclude ?? null]);
}
