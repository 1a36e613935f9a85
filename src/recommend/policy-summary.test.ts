import { describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import { recommendationsSummary } from './policy-summary.ts';
import type { Recommendation } from './types.ts';

const rec = (type: Recommendation['type'], target: string, saving: string, currency = 'USD'): Recommendation => ({
  type,
  target,
  clusterId: 'prod-1',
  monthlySaving: parseMoney(saving),
  currency,
  confidence: 'medium',
  reason: '',
  details: {},
});

const CURRENT = [
  rec('right-size', 'serving/Deployment/chat-api', '901.3348325'),
  rec('fewer-gpus', 'research/Deployment/embedder', '2519.376'),
  rec('right-size', 'research/StatefulSet/notebook', '100.005'),
  rec('empty-node', 'Node/gpu-spare', '734.38'),
  rec('commitment', 'p4d/us-east-1', '4808.72'),
  rec('right-size', 'serving/Deployment/old', '50', 'EUR'),
];

describe('recommendationsSummary', () => {
  it('counts what the policy selects by type, with the total and the largest first', () => {
    expect(recommendationsSummary(CURRENT, () => true, 'USD', 2)).toEqual({
      count: 3,
      monthlySaving: '3520.72',
      currency: 'USD',
      byType: [
        { type: 'right-size', count: 2, monthlySaving: '1001.34' },
        { type: 'fewer-gpus', count: 1, monthlySaving: '2519.38' },
      ],
      top: [
        { type: 'fewer-gpus', target: 'research/Deployment/embedder', monthlySaving: '2519.38', confidence: 'medium' },
        { type: 'right-size', target: 'serving/Deployment/chat-api', monthlySaving: '901.33', confidence: 'medium' },
      ],
    });
  });

  it('leaves out the workloads the policy does not select, nodes, commitments and other currencies', () => {
    const selects = (target: string) => target.startsWith('serving/');
    expect(recommendationsSummary(CURRENT, selects, 'USD', 3)).toMatchObject({
      count: 1,
      monthlySaving: '901.33',
      byType: [{ type: 'right-size', count: 1, monthlySaving: '901.33' }],
    });
  });

  it('is zero when nothing is recommended, and lists none with top 0', () => {
    expect(recommendationsSummary([], () => true, 'USD', 3)).toEqual({
      count: 0,
      monthlySaving: '0.00',
      currency: 'USD',
      byType: [],
      top: [],
    });
    expect(recommendationsSummary(CURRENT, () => true, 'USD', 0).top).toEqual([]);
  });
});
