/**
 * The accounting cycle's metrics, recorded from its plan: per workload from the plan's updates, by namespace,
 * by the roll-up label keys (both with an idle row, see rollup-rows.ts) and per node. Kept apart from the
 * cycle (accounting.ts) so that each stays small.
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { Metrics } from '../controller/metrics.ts';
import { labelName } from '../controller/metrics.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import { UNSET } from '../cost/rollup.ts';
import type { WorkloadRef } from '../cost/types.ts';
import type { AccountingPlan, TargetUpdate } from './accounting-plan.ts';
import { workloadRecordOf } from './node-facts.ts';
import { RollupLabels } from './rollup-labels.ts';
import { IDLE_ROW, rollupRows } from './rollup-rows.ts';

export interface AccountingMetricsDeps {
  readonly metrics: Metrics;
  readonly labelKeys: readonly string[];
  /** Where a pod's workload's and namespace's labels are read (see rollup-labels.ts). */
  readonly cache: ClusterCache;
}

export class AccountingMetrics {
  private readonly deps: AccountingMetricsDeps;
  private readonly labels: RollupLabels;

  constructor(deps: AccountingMetricsDeps) {
    this.deps = deps;
    const { cache } = deps;
    this.labels = new RollupLabels(deps.labelKeys, {
      workload: (kind, key) => workloadRecordOf(cache, kind, key)?.labels,
      namespace: (name) => cache.namespaces.store.get(name)?.labels,
    });
  }

  record(plan: AccountingPlan, currency: string): void {
    const { metrics, labelKeys } = this.deps;
    const workloads = new Map<string, { ref: WorkloadRef; update: TargetUpdate }>();
    for (const [key, update] of plan.workloads) {
      const [kind = '', namespace = '', name = ''] = key.split('/');
      workloads.set(key, { ref: { kind: kind as WorkloadRef['kind'], namespace, name }, update });
    }
    for (const { ref, update } of workloads.values()) {
      const labels = metrics.guardWorkload({ namespace: ref.namespace, workload_kind: ref.kind, workload: ref.name });
      const withCurrency = { ...labels, currency };
      metrics.cost.inc(withCurrency, money(update.delta));
      if (update.spotSavingsDelta > 0n) metrics.spotSavings.inc(withCurrency, money(update.spotSavingsDelta));
      metrics.gpuHours.inc(labels, update.gpuSecondsDelta / 3600);
      metrics.idleGpuHours.inc(labels, update.idleGpuSecondsDelta / 3600);
      metrics.idleGpuCost.inc(withCurrency, money(update.idleGpuCostDelta));
      if (update.display.utilization === undefined) metrics.utilization.remove(labels);
      else metrics.utilization.set(labels, update.display.utilization);
    }
    // The roll-ups by namespace and by labels cover the cycle's main segment, as the node counters do, so that
    // each adds up to the node cost with its idle row (a ledger's delta can also hold a catch-up span).
    const rows = rollupRows(plan.main, labelKeys.length, this.labels.of);
    for (const [namespace, total] of rows.namespaces) metrics.namespaceCost.inc({ namespace, currency }, money(total));
    for (const [key, { values, total }] of rows.labels) {
      const labels: Record<string, string> = { currency };
      labelKeys.forEach((k, i) => (labels[labelName(k)] = values[i] ?? UNSET));
      // The idle row is one fixed series: the cardinality guard never folds it.
      metrics.costByLabels.inc(key === IDLE_ROW ? labels : metrics.guardLabels(labels), money(total));
    }
    for (const nc of plan.main.nodes) {
      if (!nc.cost || !nc.idle) continue;
      metrics.nodeCost.inc({ node: nc.node.name, capacity_type: nc.node.capacityType, currency }, money(nc.cost.total));
      metrics.nodeIdleCost.inc({ node: nc.node.name, currency }, money(nc.idle.total));
    }
  }
}

/** A counter's value: Prometheus counters are floats; the money behind them stays exact. */
function money(n: Nanos): number {
  return Number(formatMoney(n, 9));
}
