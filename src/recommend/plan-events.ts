/**
 * Which Events the operator's recommender gives (docs/unit-economics.md#in-the-operator): one per recommendation
 * change, never one for a recommendation seen unchanged. Pure: the previous set (kept in memory by type and
 * target) and the current one in, the Events out.
 *
 * A change is a recommendation that is new, one whose saving moved by 1 % or more of what it was (the window
 * slides every run, and a saving that moves by a few nano-units is the same advice), whose currency,
 * confidence or recommended target (instance type, GPUs per pod) changed, or one that is gone.
 */
import { formatMoney } from '../cost/money.ts';
import type { Recommendation } from './types.ts';

export const RECOMMENDATION_REASON = 'Recommendation';
export const RECOMMENDATION_GONE_REASON = 'RecommendationGone';

export type RecommendationKey = string;

/** Recommendations are kept by type and target: a workload has at most one of each type. */
export function recommendationKey(r: Pick<Recommendation, 'type' | 'target'>): RecommendationKey {
  return `${r.type}|${r.target}`;
}

export interface RecommendationEvent {
  readonly change: 'new' | 'changed' | 'gone';
  /** The current recommendation, or the previous one when it is gone. */
  readonly recommendation: Recommendation;
  readonly reason: string;
  readonly message: string;
}

/** What a recommendation advises, to compare: the instance type or GPU count it recommends, else nothing. */
function advised(r: Recommendation): string {
  const d = r.details;
  if (r.type === 'right-size') return String(d.recommendedInstanceType ?? '');
  if (r.type === 'fewer-gpus') return String(d.recommendedGpusPerPod ?? '');
  return '';
}

function savingMoved(before: bigint, now: bigint): boolean {
  const delta = now > before ? now - before : before - now;
  return delta * 100n >= (before < 0n ? -before : before) && delta !== 0n;
}

function changed(before: Recommendation, now: Recommendation): boolean {
  return (
    before.currency !== now.currency ||
    before.confidence !== now.confidence ||
    advised(before) !== advised(now) ||
    savingMoved(before.monthlySaving, now.monthlySaving)
  );
}

/** `<type>: <what it advises>, saving <amount> <currency> a month (confidence <c>): <reason>`. */
export function recommendationMessage(r: Recommendation): string {
  const what = advised(r);
  const to = r.type === 'right-size' ? ` to ${what}` : r.type === 'fewer-gpus' ? ` to ${what} per pod` : '';
  return (
    `${r.type}${to}: saves ${formatMoney(r.monthlySaving, 2)} ${r.currency} a month ` +
    `(confidence ${r.confidence}): ${r.reason}`
  );
}

/**
 * The Events for going from `previous` to `current`, in a stable order (the current set's, then the gone). A
 * recommendation seen with the same key twice in `current` counts once (the first).
 */
export function planRecommendationEvents(
  previous: ReadonlyMap<RecommendationKey, Recommendation>,
  current: readonly Recommendation[],
): RecommendationEvent[] {
  const events: RecommendationEvent[] = [];
  const seen = new Set<RecommendationKey>();
  for (const r of current) {
    const key = recommendationKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    const before = previous.get(key);
    if (before !== undefined && !changed(before, r)) continue;
    events.push({
      change: before === undefined ? 'new' : 'changed',
      recommendation: r,
      reason: RECOMMENDATION_REASON,
      message: recommendationMessage(r),
    });
  }
  for (const [key, before] of previous) {
    if (seen.has(key)) continue;
    events.push({
      change: 'gone',
      recommendation: before,
      reason: RECOMMENDATION_GONE_REASON,
      message: `${before.type} no longer recommended: the last run's data no longer supports it (it would have saved ${formatMoney(before.monthlySaving, 2)} ${before.currency} a month)`,
    });
  }
  return events;
}
