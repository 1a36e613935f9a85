import { describe, expect, it } from 'vitest';
import { createMetrics, OVERFLOW } from './metrics.ts';

describe('metrics', () => {
  it('publishes which build runs as aicost_build_info', async () => {
    const metrics = createMetrics([], 10, { version: '0.1.0', commit: 'cafe', nodeVersion: 'v24.1.0' });
    expect(await metrics.registry.metrics()).toContain(
      'aicost_build_info{version="0.1.0",commit="cafe",node_version="v24.1.0"} 1\n',
    );
  });

  it('folds the series of workloads beyond the cardinality limit into __overflow__; earlier ones keep theirs', async () => {
    const metrics = createMetrics(['team'], 2);
    const workload = (name: string) => ({ namespace: 'ml', workload_kind: 'Job', workload: name });
    // a and b fill the limit; c and d are folded into one series; a, seen before, keeps its own.
    for (const [name, cost] of [
      ['a', 1],
      ['b', 2],
      ['c', 4],
      ['d', 8],
      ['a', 16],
    ] as const)
      metrics.cost.inc({ ...metrics.guardWorkload(workload(name)), currency: 'USD' }, cost);
    expect((await metrics.cost.get()).values.map((v) => [v.labels.workload, v.value])).toEqual([
      ['a', 17],
      ['b', 2],
      [OVERFLOW, 12],
    ]);
    expect(OVERFLOW).toBe('__overflow__');

    // The roll-up label series fold every label but the currency.
    const byTeam = (team: string) => metrics.guardLabels({ label_team: team, currency: 'EUR' });
    expect(['x', 'y', 'z', 'x'].map(byTeam)).toEqual([
      { label_team: 'x', currency: 'EUR' },
      { label_team: 'y', currency: 'EUR' },
      { label_team: '__overflow__', currency: 'EUR' },
      { label_team: 'x', currency: 'EUR' },
    ]);
  });
});
