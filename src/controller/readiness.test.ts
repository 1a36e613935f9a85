import { describe, expect, it } from 'vitest';
import { readiness, type ReadinessFacts } from './readiness.ts';

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
