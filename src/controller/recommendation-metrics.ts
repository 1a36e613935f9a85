/**
 * The recommender's gauge (issue #17; docs/unit-economics.md#in-the-operator): what each current recommendation
 * would save a month, by type, namespace (empty for a Node) and target (`Kind/name`), in the currency label.
 * Apart from metrics.ts, which would outgrow its screens.
 */
import { Gauge, type Registry } from 'prom-client';
import { OVERFLOW, type CardinalityGuard } from './metrics.ts';

export const RECOMMENDATION_LABELS = ['type', 'namespace', 'target', 'currency'] as const;

export function recommendationMetrics(registry: Registry, guard: CardinalityGuard) {
  return {
    /** A recommendation's series past the limit folds its target (the caller sums what folds together). */
    guardRecommendation<T extends { namespace: string; target: string }>(labels: T): T {
      return guard.admit(labels, (l) => ({ ...l, target: OVERFLOW }));
    },
    recommendationSaving: new Gauge({
      name: 'aicost_recommendation_monthly_saving',
      help: 'What a current recommendation (right-size, fewer-gpus, empty-node) would save over a month of 730 hours, by type, namespace and target (Kind/name), in the currency label; the series goes when the recommendation does',
      labelNames: RECOMMENDATION_LABELS,
      registers: [registry],
    }),
  };
}
