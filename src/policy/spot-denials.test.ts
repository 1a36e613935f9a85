import { describe, expect, it } from 'vitest';
import { BUDGET_DENIAL, BUDGET_WOULD_DENY } from '../budget/admission.ts';
import { deniedToRecord, SPOT_DENIAL, type DeniedEvent } from './spot-denials.ts';

const denied = (name: string, count: number, counted?: string, policy = 'spot-train'): DeniedEvent => ({
  uid: `uid-${name}`,
  namespace: 'ml',
  name,
  policy,
  count,
  counted,
  workload: 'Job/ml/train',
});
const POLICIES = new Set(['spot-train']);

describe('deniedToRecord', () => {
  it.each([
    ['a new Event: one denial', [denied('e', 1)], {}, [['e', 1, '1']]],
    ['already counted', [denied('e', 1, '1')], {}, []],
    ['its count grew to 3 after one was counted', [denied('e', 3, '1')], {}, [['e', 2, '3']]],
    ['counted by this leader, the cache not showing it yet', [denied('e', 3, '1')], { 'uid-e': 3 }, []],
    ['the cache ahead of what this leader wrote', [denied('e', 4, '3')], { 'uid-e': 2 }, [['e', 1, '4']]],
    ['a count below the counted one (never written so)', [denied('e', 2, '5')], {}, []],
    ['an unreadable counted value counts as none', [denied('e', 2, 'two')], {}, [['e', 2, '2']]],
    ['a policy that no longer exists', [denied('e', 2, undefined, 'gone')], {}, []],
    [
      'several, by name',
      [denied('b', 2), denied('a', 1), denied('c', 1, '1')],
      {},
      [
        ['a', 1, '1'],
        ['b', 2, '2'],
      ],
    ],
  ])('%s', (_name, events, written, expected) => {
    const records = deniedToRecord(SPOT_DENIAL, events, new Map(Object.entries(written)), POLICIES);
    expect(records.map((r) => [r.name, r.newDenials, r.marker])).toEqual(expected);
  });

  it('is a SpotDenied entry for the named policy and the denied workload, saying how many', () => {
    expect(deniedToRecord(SPOT_DENIAL, [denied('train.1', 3, '1')], new Map(), POLICIES)).toEqual([
      {
        kind: SPOT_DENIAL,
        uid: 'uid-train.1',
        namespace: 'ml',
        name: 'train.1',
        policy: 'spot-train',
        workload: 'Job/ml/train',
        newDenials: 2,
        marker: '3',
        reason: 'the spot webhook denied 2 pods that selected spot nodes (Event ml/train.1)',
      },
    ]);
    expect(deniedToRecord(SPOT_DENIAL, [denied('train.1', 1)], new Map(), POLICIES)[0]?.reason).toBe(
      'the spot webhook denied a pod that selected spot nodes (Event ml/train.1)',
    );
  });

  it.each([
    [BUDGET_DENIAL, 1, 'the budget refused a new GPU pod (Event ml/train.1)'],
    [BUDGET_DENIAL, 3, 'the budget refused 3 new GPU pods (Event ml/train.1)'],
    [BUDGET_WOULD_DENY, 1, 'the budget would have refused a new GPU pod (Event ml/train.1)'],
    [BUDGET_WOULD_DENY, 2, 'the budget would have refused 2 new GPU pods (Event ml/train.1)'],
  ])("says what a budget's Event stands for: %#", (kind, count, reason) => {
    expect(deniedToRecord(kind, [denied('train.1', count)], new Map(), POLICIES)[0]?.reason).toBe(reason);
  });
});
