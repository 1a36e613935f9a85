import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import {
  checkpointFreshness,
  declaredInterval,
  forgoneSavingPerHour,
  interruptionTaint,
  lastCheckpointMs,
  workAtRisk,
} from './spot-watch.ts';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;

describe('spot watch', () => {
  it.each([
    [[{ key: 'karpenter.sh/disrupted' }], 'karpenter.sh/disrupted'],
    [
      [{ key: 'node.kubernetes.io/unschedulable' }, { key: 'aws-node-termination-handler/spot-itn' }],
      'aws-node-termination-handler/spot-itn',
    ],
    [[{ key: 'cloud.google.com/impending-node-termination' }], 'cloud.google.com/impending-node-termination'],
    [[{ key: 'nvidia.com/gpu' }], undefined],
    [[], undefined],
  ])('interruption taint of %j is %s', (taints, expected) => {
    expect(interruptionTaint(taints)).toBe(expected);
  });

  it('reads the declared interval and the latest checkpoint of pod and workload', () => {
    expect(declaredInterval({ 'aicost.dev/checkpoint-interval': '15m' })).toBe(15 * MIN);
    expect(declaredInterval({ 'aicost.dev/checkpoint-interval': 'soon' })).toBeUndefined();
    expect(declaredInterval({})).toBeUndefined();
    expect(
      lastCheckpointMs(
        { 'aicost.dev/last-checkpoint': '2026-11-23T11:40:00Z' },
        { 'aicost.dev/last-checkpoint': '2026-11-23T11:50:00Z' },
        { 'aicost.dev/last-checkpoint': 'garbage' },
      ),
    ).toBe(T - 10 * MIN);
    expect(lastCheckpointMs({})).toBeUndefined();
  });

  it.each([
    // interval, last checkpoint (min before T), started (min before T), stale, since (min before T)
    [10, 5, 120, false, 5],
    [10, 20, 120, false, 20],
    [10, 21, 120, true, 21],
    [10, undefined, 15, false, 15],
    [10, undefined, 25, true, 25],
    // A checkpoint older than the pod (a previous run's) counts from the pod's start.
    [10, 90, 5, false, 5],
  ])('interval %sm, last %sm ago, started %sm ago: stale=%s', (interval, last, started, stale, since) => {
    const f = checkpointFreshness({
      intervalMs: interval * MIN,
      lastCheckpointMs: last === undefined ? undefined : T - last * MIN,
      startedAtMs: T - started * MIN,
      now: T,
    });
    expect(f.stale).toBe(stale);
    expect(f.sinceMs).toBe(T - since * MIN);
    expect(f.reported).toBe(last !== undefined);
  });

  it('work at risk: GPU-hours and cost since the last checkpoint, exact', () => {
    const r = workAtRisk(8, T - 45 * MIN, T, parseMoney('21.957642'));
    expect(r.gpuHours).toBe(6);
    expect(formatMoney(r.cost, 6)).toBe('16.468232'); // 21.957642 * 0.75 = 16.4682315, half up
    expect(workAtRisk(1, T + MIN, T, parseMoney('1')).cost).toBe(0n);
  });

  it('forgone saving: the pod rate scaled by the spot discount of its node type', () => {
    expect(formatMoney(forgoneSavingPerHour(parseMoney('4'), parseMoney('10'), parseMoney('3')), 6)).toBe('2.800000');
    expect(forgoneSavingPerHour(parseMoney('4'), parseMoney('10'), parseMoney('10'))).toBe(0n);
    expect(forgoneSavingPerHour(parseMoney('4'), 0n, 0n)).toBe(0n);
  });
});
