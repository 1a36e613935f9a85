/**
 * status.recommendations of a policy that asks for them (spec.rules.recommendations): the current
 * recommendations whose workload the policy selects, counted by type, their total monthly saving, and the
 * largest few. Pure: the caller says which targets the policy selects (policy/match.ts over its cache).
 * Empty GPU nodes and commitments concern no workload, so no policy selects them: their Events and gauge
 * show them.
 */
import { formatMoney } from '../cost/money.ts';
import type { PolicyStatus } from '../crds/aicost-policy.ts';
import { sortRecommendations } from './format.ts';
import type { Recommendation, RecommendationType } from './types.ts';

export type RecommendationsStatus = NonNullable<PolicyStatus['recommendations']>;

const TYPE_ORDER: readonly RecommendationType[] = ['right-size', 'fewer-gpus', 'empty-node', 'commitment'];

/**
 * `selects`: whether the policy selects the workload a target (`namespace/Kind/name`) names; `currency`: the
 * operator's, which the summary is in (a recommendation in another, from a ledger written before a currency
 * change, is left out rather than added to a different unit).
 */
export function recommendationsSummary(
  current: readonly Recommendation[],
  selects: (target: string) => boolean,
  currency: string,
  top: number,
): RecommendationsStatus {
  const mine = sortRecommendations(
    current.filter(
      (r) => r.type !== 'empty-node' && r.type !== 'commitment' && r.currency === currency && selects(r.target),
    ),
  );
  const total = mine.reduce((sum, r) => sum + r.monthlySaving, 0n);
  const byType = TYPE_ORDER.flatMap((type) => {
    const of = mine.filter((r) => r.type === type);
    if (of.length === 0) return [];
    const saving = of.reduce((sum, r) => sum + r.monthlySaving, 0n);
    return [{ type, count: of.length, monthlySaving: formatMoney(saving, 2) }];
  });
  return {
    count: mine.length,
    monthlySaving: formatMoney(total, 2),
    currency,
    byType,
    top: mine.slice(0, top).map((r) => ({
      type: r.type,
      target: r.target,
      monthlySaving: formatMoney(r.monthlySaving, 2),
      confidence: r.confidence,
    })),
  };
}
