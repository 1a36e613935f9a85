/**
 * The efficiency figures the live controller has (issue #17; docs/unit-economics.md#efficiency): GPU-hours under
 * 70 % by workload, under the workload guard like the other per-workload series, and cost by workload class and
 * the roll-up label keys, under the labels' guard (at most three classes a label set). Apart from metrics.ts,
 * which would outgrow its screens.
 */
import { Counter, type Registry } from 'prom-client';

/** `byLabelNames`: the roll-up label keys' names and currency, as aicost_cost_by_labels_total has them. */
export function efficiencyMetrics(registry: Registry, byLabelNames: readonly string[]) {
  return {
    lowUtilizationGpuHours: new Counter({
      name: 'aicost_low_utilization_gpu_hours_total',
      help: 'Measured GPU-hours of accounting cycles whose utilization was under 70 %, by workload',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    // The used ratio of `aicost report --efficiency` as two counters, so any window of it is a PromQL ratio:
    // rate(used[1d]) / rate(running[1d]). Used: a cycle whose measured GPU activity was above 0.
    endpointGpuHours: new Counter({
      name: 'aicost_endpoint_gpu_hours_total',
      help: 'GPU-hours held by inference endpoints (workload class inference), by workload',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    endpointUsedGpuHours: new Counter({
      name: 'aicost_endpoint_used_gpu_hours_total',
      help: 'GPU-hours of inference endpoints in accounting cycles with GPU activity, by workload',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    costByClass: new Counter({
      name: 'aicost_cost_by_class_total',
      help: 'Accrued cost of Jobs, Deployments and StatefulSets by workload class (training, inference, development) and the roll-up label keys',
      labelNames: [...byLabelNames, 'class'],
      registers: [registry],
    }),
  };
}
