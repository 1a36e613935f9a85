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
import { workloadKey } from '../cost/rollup.ts';
import type { PodFacts, WorkloadRef } from '../cost/types.ts';
import type { AccountingPlan, TargetUpdate } from './accounting-plan.ts';
import { workloadRecordOf } from './node-facts.ts';
import { LOW_UTILIZATION, workloadClass, type WorkloadClass } from '../report/efficiency.ts';
import { rollupLabelValues, RollupLabels } from './rollup-labels.ts';
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

  /**
   * `serving`: the workload keys whose inference series the cycle saw (efficiency.ts's default rule); undefined
   * when unit costs are off or the queries failed, which classifies as no series.
   */
  record(plan: AccountingPlan, currency: string, serving?: ReadonlySet<string>): void {
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
      if (lowUtilization(update)) metrics.lowUtilizationGpuHours.inc(labels, update.measuredGpuSeconds / 3600);
      const served = serving?.has(`${ref.kind}/${ref.namespace}/${ref.name}`) ?? false;
      if (this.recordClass(ref, update, currency, served) === 'inference') {
        metrics.endpointGpuHours.inc(labels, update.gpuSecondsDelta / 3600);
        if (update.busyGpuSeconds > 0) metrics.endpointUsedGpuHours.inc(labels, update.gpuSecondsDelta / 3600);
      }
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

  /**
   * A workload's cost by its class and roll-up labels, under the labels' cardinality guard (three classes at
   * most per label set); returns the class (undefined for a cycle with neither cost nor GPU-seconds). Its labels are its own over its namespace's, as the ledger's (whose pod labels also
   * count: a class label set only on pods classifies in the report, not here).
   */
  private recordClass(
    ref: WorkloadRef,
    update: TargetUpdate,
    currency: string,
    serving: boolean,
  ): WorkloadClass | undefined {
    if (update.delta === 0n && update.gpuSecondsDelta === 0) return undefined;
    const { metrics, labelKeys, cache } = this.deps;
    const namespace = cache.namespaces.store.get(ref.namespace)?.labels;
    const workload = workloadRecordOf(cache, ref.kind, `${ref.namespace}/${ref.name}`)?.labels;
    const own = { ...namespace, ...workload };
    const workloadKind = ref.kind === 'Other' ? 'Pod' : ref.kind; // plan.workloads holds no Other
    const cls = workloadClass({ workloadKind, labels: own, servedModels: serving ? '' : undefined });
    const labels: Record<string, string> = { currency };
    const values = rollupLabelValues(labelKeys, {}, workload, namespace);
    labelKeys.forEach((k, i) => (labels[labelName(k)] = values[i] ?? UNSET));
    if (update.delta !== 0n)
      metrics.costByClass.inc({ ...metrics.guardLabels(labels), class: cls ?? 'development' }, money(update.delta));
    return cls;
  }
}

/** The keys of the workloads with a pod whose inference series the cycle saw. */
export function servingWorkloads(
  pods: readonly PodFacts[],
  served: ReadonlyMap<string, unknown> | Error | undefined,
): ReadonlySet<string> | undefined {
  if (served === undefined || served instanceof Error) return undefined;
  const keys = new Set<string>();
  for (const pod of pods) if (served.has(`${pod.namespace}/${pod.name}`)) keys.add(workloadKey(pod.workload));
  return keys;
}

/** The cycle's measured GPU-seconds were under 70 % busy (efficiency.ts's threshold, on the cycle's mean). */
function lowUtilization(update: TargetUpdate): boolean {
  return update.measuredGpuSeconds > 0 && update.busyGpuSeconds < LOW_UTILIZATION * update.measuredGpuSeconds;
}

/** A counter's value: Prometheus counters are floats; the money behind them stays exact. */
function money(n: Nanos): number {
  return Number(formatMoney(n, 9));
}
