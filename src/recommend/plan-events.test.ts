import { describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import {
  planRecommendationEvents,
  recommendationKey,
  RECOMMENDATION_GONE_REASON,
  RECOMMENDATION_REASON,
} from './plan-events.ts';
import type { Recommendation } from './types.ts';

function rec(over: Partial<Recommendation> & { details?: Recommendation['details'] } = {}): Recommendation {
  return {
    type: 'right-size',
    target: 'serving/Deployment/chat-api',
    clusterId: 'prod-1',
    monthlySaving: parseMoney('901.3348325'),
    currency: 'USD',
    confidence: 'medium',
    reason: 'GPUs at most 10 % busy using 6144 MiB of 40960 MiB: g4dn.xlarge (Tesla-T4) fits with 25 % headroom',
    details: { recommendedInstanceType: 'g4dn.xlarge' },
    ...over,
  };
}
const node = rec({
  type: 'empty-node',
  target: 'Node/gpu-spare',
  monthlySaving: parseMoney('734.38'),
  confidence: 'high',
  reason: 'no pod requested any of its 1 GPUs for 2 h, costing 2.01 USD: scale it down',
  details: {},
});
const before = (...list: Recommendation[]) => new Map(list.map((r) => [recommendationKey(r), r]));
const changes = (previous: Map<string, Recommendation>, current: Recommendation[]) =>
  planRecommendationEvents(previous, current).map((e) => [e.change, e.recommendation.target, e.reason]);

describe('planRecommendationEvents', () => {
  it.each([
    ['nothing before, nothing now', before(), [], []],
    ['a new one', before(), [rec()], [['new', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]]],
    ['the same one again: nothing', before(rec()), [rec()], []],
    ['a saving moved by under 1 %: nothing', before(rec()), [rec({ monthlySaving: parseMoney('895') })], []],
    [
      'a saving moved by 1 % or more',
      before(rec()),
      [rec({ monthlySaving: parseMoney('892.32') })],
      [['changed', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]],
    ],
    [
      'another recommended instance type',
      before(rec()),
      [rec({ details: { recommendedInstanceType: 'g6.xlarge' } })],
      [['changed', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]],
    ],
    [
      'the confidence rose',
      before(rec()),
      [rec({ confidence: 'high' })],
      [['changed', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]],
    ],
    [
      'another currency',
      before(rec()),
      [rec({ currency: 'EUR' })],
      [['changed', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]],
    ],
    ['gone', before(rec(), node), [node], [['gone', 'serving/Deployment/chat-api', RECOMMENDATION_GONE_REASON]]],
    [
      'another type for the same target is another recommendation',
      before(rec()),
      [rec(), rec({ type: 'fewer-gpus', details: { recommendedGpusPerPod: 1 } })],
      [['new', 'serving/Deployment/chat-api', RECOMMENDATION_REASON]],
    ],
    [
      'a key twice in the current set counts once',
      before(),
      [node, node],
      [['new', 'Node/gpu-spare', RECOMMENDATION_REASON]],
    ],
  ])('%s', (_name, previous, current, expected) => {
    expect(changes(previous, current)).toEqual(expected);
  });

  it('says the type, what it advises, the saving a month with its currency, and the confidence', () => {
    const [added] = planRecommendationEvents(before(), [rec()]);
    expect(added?.message).toBe(
      'right-size to g4dn.xlarge: saves 901.33 USD a month (confidence medium): GPUs at most 10 % busy using 6144 MiB of 40960 MiB: g4dn.xlarge (Tesla-T4) fits with 25 % headroom',
    );
    const [gone] = planRecommendationEvents(before(node), []);
    expect(gone?.message).toBe(
      "empty-node no longer recommended: the last run's data no longer supports it (it would have saved 734.38 USD a month)",
    );
    const [fewer] = planRecommendationEvents(before(), [
      rec({ type: 'fewer-gpus', details: { recommendedGpusPerPod: 1 } }),
    ]);
    expect(fewer?.message).toMatch(/^fewer-gpus to 1 per pod: saves 901\.33 USD a month \(confidence medium\)/);
  });
});
