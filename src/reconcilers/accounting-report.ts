/** What an accounting cycle reports: its figures for the policy controller and /readyz, its metrics and log line. */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { Nanos } from '../cost/money.ts';
import type { MeasurementStatus } from './accounting-measure.ts';
import type { AccountingPlan, TargetUpdate } from './accounting-plan.ts';

export interface HourlyRates {
  get(key: string): Nanos | undefined;
}

export interface CycleReport {
  readonly atSeconds: number;
  readonly pods: number;
  readonly nodes: number;
  readonly unpricedNodes: readonly { name: string; reason: string }[];
  readonly measurement: MeasurementStatus;
  readonly writesQueued: number;
  /** Current hourly cost by workload key (Kind/namespace/name), for estimated savings. */
  readonly workloadCostPerHour: HourlyRates;
  /** Current hourly cost by pod uid (GPU pods). */
  readonly podCostPerHour: HourlyRates;
  readonly durationMs: number;
}

export interface CycleDone {
  readonly endSeconds: number;
  readonly startedMs: number;
  readonly facts: {
    readonly pods: readonly unknown[];
    readonly nodes: readonly unknown[];
    readonly unpriced: readonly { name: string; reason: string }[];
  };
  readonly measurement: MeasurementStatus;
  readonly writes: number;
  readonly plan: AccountingPlan;
  /**
   * Where the time went: cache to facts and ledgers, then the money (both while Prometheus computes), the
   * rest of the wait for Prometheus with parsing its answer, utilization's part of the plan with the metrics
   * and the ledger's rows, the annotation offers.
   */
  readonly phasesMs: Readonly<Record<string, number>>;
}

/** The cycle's report, with its metrics set and its log lines written. */
export function reportCycle(deps: { clock: Clock; metrics: Metrics; log: Logger }, done: CycleDone): CycleReport {
  const { clock, metrics, log } = deps;
  const { plan, writes } = done;
  const { unpriced } = done.facts;
  metrics.lastCycle.set(done.endSeconds);
  const report: CycleReport = {
    atSeconds: done.endSeconds,
    pods: done.facts.pods.length,
    nodes: done.facts.nodes.length,
    unpricedNodes: unpriced,
    measurement: done.measurement,
    writesQueued: writes,
    durationMs: clock.now() - done.startedMs,
    workloadCostPerHour: rates(plan.workloads),
    podCostPerHour: rates(plan.pods),
  };
  metrics.cycleDuration.observe(report.durationMs / 1000);
  log.info(
    {
      at: report.atSeconds,
      pods: report.pods,
      nodes: report.nodes,
      unpriced: unpriced.length,
      measured: report.measurement.measuredPods,
      unknown: report.measurement.unknownPods,
      writesQueued: writes,
      durationMs: report.durationMs,
      phasesMs: done.phasesMs,
    },
    'accounting cycle done',
  );
  if (unpriced.length > 0)
    log.warn(
      { unpriced: unpriced.slice(0, 10) },
      'nodes without a price: their pods have no cost until a price is configured',
    );
  return report;
}

/** The current hourly rates of a plan's targets, read through the plan rather than copied out of it. */
function rates(updates: ReadonlyMap<string, TargetUpdate>): HourlyRates {
  return { get: (key) => updates.get(key)?.display.costPerHour };
}
