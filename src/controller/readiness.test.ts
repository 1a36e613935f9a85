import { describe, expect, it } from 'vitest';
import { gpuMetricsState, readiness, unsyncedCaches, type ReadinessFacts } from './readiness.ts';

const ok: ReadinessFacts = { unsynced: [], electionProblem: undefined, role: 'leader', gpuMetrics: 'ok' };

describe('readiness', () => {
  it.each<[string, Partial<ReadinessFacts>, boolean, string]>([
    ['a synced leader', {}, true, 'role: leader; gpu metrics: ok'],
    [
      'a synced standby before its first cycle',
      { role: 'standby', gpuMetrics: 'no cycle yet' },
      true,
      'role: standby; gpu metrics: no cycle yet',
    ],
    ['the webhook-only role, synced', { role: 'webhook', gpuMetrics: undefined }, true, 'role: webhook'],
    ['caches still syncing', { unsynced: ['pods', 'nodes'] }, false, 'caches not synced: pods, nodes'],
    [
      'a cache whose relists fail',
      { unsynced: ['pods (list failed: 500 InternalError)'] },
      false,
      'caches not synced: pods (list failed: 500 InternalError)',
    ],
    [
      "the Lease's namespace missing",
      { electionProblem: 'namespace "aicost-system" not found', role: 'standby' },
      false,
      'leader election: namespace "aicost-system" not found',
    ],
    [
      'both',
      { electionProblem: 'namespace "x" not found', unsynced: ['pods'] },
      false,
      'leader election: namespace "x" not found; caches not synced: pods',
    ],
  ])('%s', (_name, facts, ready, detail) => {
    expect(readiness({ ...ok, ...facts })).toEqual({ ready, detail });
  });
});

describe('unsyncedCaches', () => {
  it('names the caches not synced, with the reason a failed list gave', () => {
    expect(
      unsyncedCaches([
        { name: 'nodes', synced: true, problem: undefined },
        { name: 'jobs', synced: false, problem: undefined },
        { name: 'pods', synced: false, problem: 'list failed: 500 InternalError' },
      ]),
    ).toEqual(['jobs', 'pods (list failed: 500 InternalError)']);
  });
});

describe('gpuMetricsState', () => {
  it.each([
    [undefined, 'no cycle yet'],
    [{ available: false, measuredPods: 0, unknownPods: 3 }, 'Prometheus query failed (the log says why)'],
    [{ available: true, measuredPods: 1, unknownPods: 2 }, '2 of 3 GPU pods have no or too little DCGM data'],
    [{ available: true, measuredPods: 3, unknownPods: 0 }, 'all GPU pods measured'],
  ])('%j reads %j: counts, never an error text that could quote a URL', (measurement, text) => {
    expect(gpuMetricsState(measurement)).toBe(text);
  });
});
