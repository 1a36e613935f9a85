import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { budgetNoticeDue, readyCondition, stamp } from './conditions.ts';

const spec = (rules: Record<string, unknown>) => policySpecSchema.parse({ rules });
const BUDGET = { amount: '1500.00' };

describe('policy conditions', () => {
  it.each([
    [
      'an invalid spec',
      undefined,
      'rules: at least one',
      undefined,
      { status: 'False', reason: 'InvalidSpec', message: 'rules: at least one' },
    ],
    [
      'a schedule it cannot run',
      spec({ scaleToZero: {} }),
      undefined,
      'scaleToZero.schedule: unknown time zone "Mars/Olympus"',
      {
        status: 'False',
        reason: 'InvalidSchedule',
        message: 'scaleToZero.schedule: unknown time zone "Mars/Olympus"',
      },
    ],
    [
      'enforced rules only',
      spec({ idleGPU: {}, spot: { placement: 'Preferred' } }),
      undefined,
      undefined,
      { status: 'True', reason: 'Valid', message: 'the policy is valid and enforced' },
    ],
    [
      'a budget only',
      spec({ budget: BUDGET }),
      undefined,
      undefined,
      {
        status: 'True',
        reason: 'BudgetNotEnforced',
        message:
          'the policy is valid but does nothing: rules.budget is accepted but not enforced yet: no alert, Event or action comes from it',
      },
    ],
    [
      'a budget and one enforced rule',
      spec({ idleGPU: {}, budget: BUDGET }),
      undefined,
      undefined,
      {
        status: 'True',
        reason: 'BudgetNotEnforced',
        message:
          'the policy is valid and idleGPU is enforced; rules.budget is accepted but not enforced yet: no alert, Event or action comes from it',
      },
    ],
    [
      'a budget and two enforced rules',
      spec({ scaleToZero: {}, spot: { placement: 'Forbidden' }, budget: BUDGET }),
      undefined,
      undefined,
      {
        status: 'True',
        reason: 'BudgetNotEnforced',
        message:
          'the policy is valid and scaleToZero, spot are enforced; rules.budget is accepted but not enforced yet: no alert, Event or action comes from it',
      },
    ],
  ])('Ready for %s', (_name, s, invalid, schedule, expected) => {
    expect(readyCondition(s, invalid, schedule)).toEqual({ type: 'Ready', ...expected });
  });

  it.each([
    ['no status yet', undefined, 'BudgetNotEnforced', true],
    ['Ready was Valid', [{ type: 'Ready', reason: 'Valid' }], 'BudgetNotEnforced', true],
    ['Ready was InvalidSpec', [{ type: 'Ready', reason: 'InvalidSpec' }], 'BudgetNotEnforced', true],
    ['already said', [{ type: 'Ready', reason: 'BudgetNotEnforced' }], 'BudgetNotEnforced', false],
    [
      'only another condition had the reason',
      [{ type: 'MetricsAvailable', reason: 'BudgetNotEnforced' }],
      'BudgetNotEnforced',
      true,
    ],
    ['no budget', undefined, 'Valid', false],
  ])('budget notice with %s: %s', (_name, previous, reason, due) => {
    expect(budgetNoticeDue(previous, { type: 'Ready', status: 'True', reason, message: '' })).toBe(due);
  });

  it.each([
    ['first time', undefined, 'T1'],
    ['same status', [{ type: 'Ready', status: 'True', lastTransitionTime: 'T0' }], 'T0'],
    ['flipped', [{ type: 'Ready', status: 'False', lastTransitionTime: 'T0' }], 'T1'],
    ['another type', [{ type: 'MetricsAvailable', status: 'True', lastTransitionTime: 'T0' }], 'T1'],
  ])('lastTransitionTime when %s', (_name, previous, expected) => {
    const c = stamp({ type: 'Ready', status: 'True', reason: 'Valid', message: 'x'.repeat(1200) }, previous, 7, 'T1');
    expect(c).toEqual({
      type: 'Ready',
      status: 'True',
      observedGeneration: 7,
      lastTransitionTime: expected,
      reason: 'Valid',
      message: 'x'.repeat(1000),
    });
  });
});
