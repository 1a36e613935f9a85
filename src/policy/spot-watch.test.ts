import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import {
  checkpointFreshness,
  declaredInterval,
  forgoneSavingPerHour,
  interruptionTaint,
  lastCheckpointMs,
  placementToRecord,
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
      nowMs: T,
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

describe('spot placements to count', () => {
  const placed = (name: string, startedAtSeconds: number | undefined, placement: string, policy = 'spot-train') => ({
    name,
    startedAtSeconds,
    annotations: { 'aicost.dev/spot-placement': placement, 'aicost.dev/spot-policy': policy },
  });
  it.each([
    ['no pod placed', [{ name: 'a', startedAtSeconds: 1, annotations: {} }], undefined, undefined],
    ['one pod, not yet counted', [placed('a', 1, 'Preferred')], undefined, 'Preferred by spot-train'],
    ['one pod, counted', [placed('a', 1, 'Preferred')], 'Preferred by spot-train', undefined],
    ['kept off spot', [placed('a', 1, 'Avoided')], undefined, 'Avoided by spot-train'],
    ['required', [placed('a', 1, 'Required')], 'Preferred by spot-train', 'Required by spot-train'],
    [
      'by another policy now',
      [placed('a', 1, 'Preferred', 'team-spot')],
      'Preferred by spot-train',
      'Preferred by team-spot',
    ],
    [
      'the newest pod decides',
      [placed('old', 1, 'Avoided'), placed('new', 2, 'Preferred')],
      'Preferred by spot-train',
      undefined,
    ],
    [
      'the newest pod decides, either order',
      [placed('new', 2, 'Preferred'), placed('old', 1, 'Avoided')],
      undefined,
      'Preferred by spot-train',
    ],
    [
      'a pod not started yet is the oldest',
      [placed('a', undefined, 'Avoided'), placed('b', 1, 'Required')],
      undefined,
      'Required by spot-train',
    ],
    [
      'same start: by name',
      [placed('b', 1, 'Avoided'), placed('a', 1, 'Required')],
      undefined,
      'Avoided by spot-train',
    ],
    ['an unknown placement', [placed('a', 1, 'Sometimes')], undefined, undefined],
    [
      'no policy named',
      [{ name: 'a', startedAtSeconds: 1, annotations: { 'aicost.dev/spot-placement': 'Preferred' } }],
      undefined,
      undefined,
    ],
  ])('%s', (_name, pods, recorded, expected) => {
    expect(placementToRecord(pods, recorded)?.marker).toBe(expected);
  });

  it.each([
    ['Preferred', 'SpotPlacement', 'the spot webhook gave its pods a preferred spot placement (pod new)'],
    ['Required', 'SpotPlacement', 'the spot webhook gave its pods a required spot placement (pod new)'],
    ['Avoided', 'SpotAvoided', 'the spot webhook kept its pods off spot (pod new)'],
  ])('a %s placement is a %s entry naming the pod it read', (placement, action, reason) => {
    expect(placementToRecord([placed('old', 1, 'Avoided'), placed('new', 2, placement)], undefined)).toEqual({
      policy: 'spot-train',
      action,
      reason,
      marker: `${placement} by spot-train`,
    });
  });
});
