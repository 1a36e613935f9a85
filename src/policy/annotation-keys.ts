/**
 * Who may write which aicost.dev/ annotation. Users write a handful of keys (a checkpoint declaration, an
 * exemption, a wake request, a budget override); every other aicost.dev/ key is the operator's own record,
 * and a value a tenant set for one must never lower a cost or trigger an action. The chart's
 * ValidatingAdmissionPolicy and the spot webhook both enforce this list.
 */
export const OPERATOR_PREFIX = 'aicost.dev/';

export const USER_ANNOTATION_KEYS: ReadonlySet<string> = new Set([
  'aicost.dev/wake',
  'aicost.dev/exempt',
  'aicost.dev/checkpoint-path',
  'aicost.dev/checkpoint-interval',
  'aicost.dev/last-checkpoint',
  'aicost.dev/budget-override',
]);

/** The operator's keys among `annotations`: on a Pod CREATE, set by whoever created it, not by the operator. */
export function operatorKeysIn(annotations: Readonly<Record<string, string>> | undefined): string[] {
  if (!annotations) return [];
  return Object.keys(annotations).filter((k) => k.startsWith(OPERATOR_PREFIX) && !USER_ANNOTATION_KEYS.has(k));
}
