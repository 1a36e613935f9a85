/**
 * The accounting cycle's metrics, recorded from its plan: per workload from the plan's updates, by namespace,
 * by the roll-up label keys and per node. Kept apart from the cycle (accounting.ts) so that each stays small.
 */
import type { Metrics } from '../controller/metrics.ts';
import { labelName } from '../controller/metrics.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import type { WorkloadRef } from '../cost/types.ts';
import type { AccountingPlan, TargetUpdate } from './accounting-plan.ts';

export interface AccountingMetricsDeps {
  readonly metrics: Metrics;
  readonly labelKeys: readonly string[];
}

export class AccountingMetrics {
  /** The roll-up key of a pod's labels, by the cached labels object. */
  private readonly labelKeyOf = new WeakMap<object, string>();
  private readonly deps: AccountingMetricsDeps;

  constructor(deps: AccountingMetricsDeps) {
    this.deps = deps;
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
      metrics.cost.inc({ ...labels, currency }, money(update.delta));
      if (update.spotSavingsDelta > 0n)
        metrics.spotSavings.inc({ ...labels, currency }, money(update.spotSavingsDelta));
      metrics.gpuHours.inc(labels, update.gpuSecondsDelta / 3600);
      metrics.idleGpuHours.inc(labels, update.idleGpuSecondsDelta / 3600);
      metrics.idleGpuCost.inc({ ...labels, currency }, money(update.idleGpuCostDelta));
      if (update.display.utilization === undefined) metrics.utilization.remove(labels);
      else metrics.utilization.set(labels, update.display.utilization);
    }
    for (const [namespace, update] of plan.namespaces)
      metrics.namespaceCost.inc({ namespace, currency }, money(update.delta));
    // Summed per label combination first: a fleet has thousands of pods and a handful of combinations, and
    // each counter increment hashes its labels.
    const byLabels = new Map<string, { pod: Readonly<Record<string, string>>; total: Nanos }>();
    for (const pc of plan.main.pods) {
      if (!pc.cost) continue;
      // A pod's labels object lives as long as its cached projection, so its key is built once.
      const podLabels = pc.pod.labels;
      let key = this.labelKeyOf.get(podLabels);
      if (key === undefined) {
        key = labelKeys.map((k) => podLabels[k] ?? '__unset__').join('\u0000');
        this.labelKeyOf.set(podLabels, key);
      }
      const sum = byLabels.get(key);
      if (sum) sum.total += pc.cost.total;
      else byLabels.set(key, { pod: podLabels, total: pc.cost.total });
    }
    for (const { pod, total } of byLabels.values()) {
      const labels: Record<string, string> = { currency };
      for (const key of labelKeys) labels[labelName(key)] = pod[key] ?? '__unset__';
      metrics.costByLabels.inc(metrics.guardLabels(labels), money(total));
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
