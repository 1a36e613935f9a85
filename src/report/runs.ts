/**
 * `aicost report runs`: every training run (a Job) in the range, from the ledger alone, so a Job deleted long
 * ago still appears. A run's figures are sums over its windows; its outcome is the one of its last window;
 * utilization is the mean weighted by GPU-hours over the windows where it was measured (unknown stays unknown).
 * The summary gives, per team and experiment, what it cost to get one successful run: the cost of every run
 * (failed and running ones included: they are part of the price of success) over the runs that succeeded.
 */
import { divRoundHalfUp } from '../cost/money.ts';
import type { JobOutcome, LedgerRow } from '../ledger/row.ts';

/** One Job's sums over the range, as either engine computes them. */
export interface RunSum {
  readonly clusterId: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly team: string;
  readonly experiment: string;
  readonly currency: string;
  readonly firstStartMs: number;
  readonly lastEndMs: number;
  readonly outcome: JobOutcome;
  readonly gpuHours: bigint;
  readonly idleGpuCost: bigint;
  readonly cost: bigint;
  /** Σ utilization × GPU-hours (in nano-hours) and Σ GPU-hours over the windows where utilization was measured. */
  readonly utilizationWeighted: number;
  readonly measuredGpuHours: number;
}

export interface Run extends Omit<RunSum, 'utilizationWeighted' | 'measuredGpuHours'> {
  /** Ratio 0..1; null when no window of the run had it measured (or the run held no GPU). */
  readonly utilization: number | null;
}

export interface RunSummary {
  readonly team: string;
  readonly experiment: string;
  readonly currency: string;
  readonly runs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  readonly cost: bigint;
  /** null when no run succeeded: there is no price of a success yet. */
  readonly costPerSuccessfulRun: bigint | null;
}

/** Sums Job rows into runs; add rows one window at a time, oldest first. */
export class RunSums {
  private readonly namespace: string | undefined;
  private readonly runs = new Map<string, Mutable<RunSum>>();

  constructor(namespace?: string) {
    this.namespace = namespace;
  }

  add(rows: Iterable<LedgerRow>): void {
    for (const row of rows) {
      if (row.workloadKind !== 'Job') continue;
      if (this.namespace !== undefined && row.namespace !== this.namespace) continue;
      const id = JSON.stringify([row.clusterId, row.workloadUid, row.currency]);
      const measured = row.utilization === null ? 0 : Number(row.gpuHours);
      const run = this.runs.get(id);
      if (!run) {
        this.runs.set(id, {
          clusterId: row.clusterId,
          uid: row.workloadUid,
          namespace: row.namespace,
          name: row.workloadName,
          team: row.team,
          experiment: row.experiment,
          currency: row.currency,
          firstStartMs: row.windowStartMs,
          lastEndMs: row.windowEndMs,
          outcome: row.jobOutcome,
          gpuHours: row.gpuHours,
          idleGpuCost: row.idleGpuCost,
          cost: row.cost,
          utilizationWeighted: (row.utilization ?? 0) * measured,
          measuredGpuHours: measured,
        });
        continue;
      }
      run.firstStartMs = Math.min(run.firstStartMs, row.windowStartMs);
      if (row.windowEndMs >= run.lastEndMs) {
        // The latest window says what the Job is now, and what its labels were last.
        run.lastEndMs = row.windowEndMs;
        run.outcome = row.jobOutcome;
        run.team = row.team;
        run.experiment = row.experiment;
      }
      run.gpuHours += row.gpuHours;
      run.idleGpuCost += row.idleGpuCost;
      run.cost += row.cost;
      run.utilizationWeighted += (row.utilization ?? 0) * measured;
      run.measuredGpuHours += measured;
    }
  }

  sums(): RunSum[] {
    return [...this.runs.values()];
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Runs from their sums, oldest first (then by namespace and name). */
export function toRuns(sums: readonly RunSum[]): Run[] {
  return sums
    .map(({ utilizationWeighted, measuredGpuHours, ...rest }) => ({
      ...rest,
      utilization: measuredGpuHours > 0 ? utilizationWeighted / measuredGpuHours : null,
    }))
    .sort(
      (a, b) =>
        a.firstStartMs - b.firstStartMs ||
        compare(a.clusterId, b.clusterId) ||
        compare(a.namespace, b.namespace) ||
        compare(a.name, b.name) ||
        compare(a.uid, b.uid),
    );
}

/** Per team, experiment and currency: how many runs, how they ended, and the cost of one successful run. */
export function summarizeRuns(runs: readonly Run[]): RunSummary[] {
  const groups = new Map<string, Mutable<RunSummary>>();
  for (const run of runs) {
    const id = JSON.stringify([run.team, run.experiment, run.currency]);
    let s = groups.get(id);
    if (!s) {
      s = {
        team: run.team,
        experiment: run.experiment,
        currency: run.currency,
        runs: 0,
        succeeded: 0,
        failed: 0,
        running: 0,
        cost: 0n,
        costPerSuccessfulRun: null,
      };
      groups.set(id, s);
    }
    s.runs += 1;
    if (run.outcome === 'succeeded') s.succeeded += 1;
    else if (run.outcome === 'failed') s.failed += 1;
    else s.running += 1;
    s.cost += run.cost;
  }
  return [...groups.values()]
    .map((s) => ({ ...s, costPerSuccessfulRun: s.succeeded > 0 ? divRoundHalfUp(s.cost, BigInt(s.succeeded)) : null }))
    .sort((a, b) => compare(a.team, b.team) || compare(a.experiment, b.experiment) || compare(a.currency, b.currency));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
