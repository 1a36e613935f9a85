import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { metricsCondition, readyCondition, stamp, unusableBecause } from './conditions.ts';

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
      'an alert-only budget: enforced',
      spec({ budget: BUDGET }),
      undefined,
      undefined,
      { status: 'True', reason: 'Valid', message: 'the policy is valid and enforced' },
    ],
    [
      'a budget in a time zone it cannot use',
      spec({ idleGPU: {}, budget: { ...BUDGET, timeZone: 'Mars/Olympus' } }),
      undefined,
      'budget.timeZone: unknown time zone "Mars/Olympus"',
      { status: 'False', reason: 'InvalidSchedule', message: 'budget.timeZone: unknown time zone "Mars/Olympus"' },
    ],
  ])('Ready for %s', (_name, s, invalid, schedule, expected) => {
    expect(readyCondition(s, invalid, schedule)).toEqual({ type: 'Ready', ...expected });
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

describe('MetricsAvailable', () => {
  const up = { available: true, reason: 'all GPU pods measured' };
  const pods = (measured: number, unknown: number) => ({
    measured,
    unknown,
    example: unknown > 0 ? 'ml/train-0: no DCGM series for this pod' : undefined,
  });
  const GOVERNED = "GPU pods governed by this policy's idleGPU or scaleToZero rule";
  it.each([
    ['no utilization rule', up, false, pods(0, 3), 'True', 'NotNeeded', 'no rule of this policy reads GPU utilization'],
    [
      'no utilization rule, Prometheus down',
      { available: false, reason: 'Prometheus query failed: refused' },
      false,
      pods(0, 3),
      'True',
      'NotNeeded',
      'no rule of this policy reads GPU utilization',
    ],
    [
      'no accounting cycle yet',
      undefined,
      true,
      pods(0, 0),
      'False',
      'MetricsUnavailable',
      'no accounting cycle yet: no action is taken on unknown utilization',
    ],
    [
      'Prometheus down',
      { available: false, reason: 'Prometheus query failed: refused' },
      true,
      pods(0, 2),
      'False',
      'MetricsUnavailable',
      'Prometheus query failed: refused: no action is taken on unknown utilization',
    ],
    ['no pods', up, true, pods(0, 0), 'True', 'NoGPUPods', `no running ${GOVERNED}: nothing to measure`],
    [
      'no pod with data',
      up,
      true,
      pods(0, 2),
      'False',
      'NoData',
      `none of the 2 ${GOVERNED} has usable DCGM data (ml/train-0: no DCGM series for this pod): no action is taken on unknown utilization`,
    ],
    [
      'some pods with data',
      up,
      true,
      pods(3, 1),
      'True',
      'PartiallyMeasured',
      `3 of 4 ${GOVERNED} measured; the workloads of the other 1 are not acted on (ml/train-0: no DCGM series for this pod)`,
    ],
    ['every pod with data', up, true, pods(4, 0), 'True', 'Measured', `4 of 4 ${GOVERNED} measured`],
  ])('%s', (_name, cycle, reads, measured, status, reason, message) => {
    expect(metricsCondition(cycle, reads, measured)).toEqual({ type: 'MetricsAvailable', status, reason, message });
  });

  it.each([
    ['no data, with the reason', undefined, 'Prometheus query failed', 'Prometheus query failed'],
    ['no data', undefined, undefined, 'no DCGM data'],
    ['too little coverage', { coverage: 0.5 }, undefined, "metric coverage 50% is under the rule's 80%"],
    ['just enough coverage', { coverage: 0.8 }, undefined, undefined],
    ['full coverage', { coverage: 1 }, undefined, undefined],
  ])('a pod with %s', (_name, utilization, unknownReason, expected) => {
    expect(unusableBecause(utilization, 0.8, unknownReason)).toBe(expected);
  });
});
