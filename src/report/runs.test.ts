import { describe, expect, it } from 'vitest';
import { allRows, T0 } from '../testing/report-ledger.ts';
import { HOUR_MS } from '../testing/ledger-rows.ts';
import { RunSums, summarizeRuns, toRuns } from './runs.ts';

function runs(namespace?: string) {
  const sums = new RunSums(namespace);
  sums.add(allRows());
  return toRuns(sums.sums());
}

describe('aicost report runs', () => {
  it('lists every Job, the deleted one too, with sums over its windows and its last outcome', () => {
    expect(
      runs().map((r) => [r.clusterId, r.name, r.team, r.experiment, r.outcome, r.gpuHours, r.idleGpuCost, r.cost]),
    ).toEqual([
      ['prod-1', 'train-a', 'alpha', 'exp-1', 'running', 3_000_000_000n, 300_000_000n, 3_000_000_003n],
      ['prod-1', 'train-b', 'alpha', 'exp-1', 'failed', 2_000_000_000n, 0n, 2_500_000_000n],
      ['prod-2', 'train-c', 'beta', 'exp-2', 'running', 8_000_000_000n, 1n, 4_000_000_000n],
    ]);
  });

  it('takes the outcome of the last window, whatever order the windows come in', () => {
    const sums = new RunSums();
    const rows = allRows().filter((r) => r.workloadName === 'train-a');
    sums.add(rows.filter((r) => r.windowStartMs === T0 + HOUR_MS));
    sums.add(rows.filter((r) => r.windowStartMs !== T0 + HOUR_MS));
    // The third window (pieces) of the fixture says running again: the last window wins.
    expect(toRuns(sums.sums()).map((r) => [r.outcome, r.firstStartMs, r.lastEndMs])).toEqual([
      ['running', T0, T0 + 3 * HOUR_MS],
    ]);
  });

  it('weights utilization by GPU-hours over the measured windows; none measured is null', () => {
    const byName = Object.fromEntries(runs().map((r) => [r.name, r.utilization]));
    // train-a: 0.5, 1 and 1 over one GPU-hour each.
    expect(byName['train-a']).toBeCloseTo(2.5 / 3, 12);
    expect(byName['train-b']).toBeNull();
  });

  it('summarizes per team and experiment: cost of all runs over the successful ones', () => {
    const sums = new RunSums();
    sums.add(allRows().map((r) => (r.workloadName === 'train-a' ? { ...r, jobOutcome: 'succeeded' as const } : r)));
    expect(summarizeRuns(toRuns(sums.sums()))).toEqual([
      {
        team: 'alpha',
        experiment: 'exp-1',
        currency: 'USD',
        runs: 2,
        succeeded: 1,
        failed: 1,
        running: 0,
        cost: 5_500_000_003n,
        costPerSuccessfulRun: 5_500_000_003n,
      },
      {
        team: 'beta',
        experiment: 'exp-2',
        currency: 'USD',
        runs: 1,
        succeeded: 0,
        failed: 0,
        running: 1,
        cost: 4_000_000_000n,
        costPerSuccessfulRun: null,
      },
    ]);
  });

  it('keeps to one namespace when asked', () => {
    expect(runs('serving')).toEqual([]);
  });
});
