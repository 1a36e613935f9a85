/**
 * The operator's Prometheus metrics, on a registry of its own (no global default registry). Workload and
 * label series are bounded by a cardinality guard: past the limit, new series are folded into
 * "__overflow__" so a cluster with 20,000 workloads cannot blow up the scrape.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BuildInfo } from '../build-info.ts';
import { efficiencyMetrics } from './efficiency-metrics.ts';
import { recommendationMetrics } from './recommendation-metrics.ts';

export const OVERFLOW = '__overflow__';

/** Prometheus label names from label keys: "app.kubernetes.io/team" -> "label_app_kubernetes_io_team". */
export function labelName(key: string): string {
  return `label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export class CardinalityGuard {
  private readonly seen = new Set<string>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  /** The labels to use: the given ones while under the limit (or already seen), else all folded. */
  admit<T extends Record<string, string>>(labels: T, fold: (labels: T) => T): T {
    const key = JSON.stringify(labels);
    if (this.seen.has(key)) return labels;
    if (this.seen.size < this.limit) {
      this.seen.add(key);
      return labels;
    }
    return fold(labels);
  }
}

const WORKLOAD_LABELS = ['namespace', 'workload_kind', 'workload', 'currency'] as const;

/**
 * `build`, when given, is published as aicost_build_info (the composition root gives it; tests need not).
 * The groups register their metrics in this order, which is the order of the scrape.
 */
export function createMetrics(labelKeys: readonly string[], cardinalityLimit: number, build?: BuildInfo) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aicost_' });
  const workloadGuard = new CardinalityGuard(cardinalityLimit);
  const labelGuard = new CardinalityGuard(cardinalityLimit);

  const m = {
    registry,
    ...costMetrics(registry, labelKeys),
    ...unitCostMetrics(registry),
    ...efficiencyMetrics(registry, [...labelKeys.map(labelName), 'currency']),
    ...accountingCycleMetrics(registry),
    ...kubeApiMetrics(registry),
    ...policyMetrics(registry),
    ...webhookMetrics(registry),
    ...spotMetrics(registry),
    ...runtimeMetrics(registry),
    ...recommendationMetrics(registry, new CardinalityGuard(cardinalityLimit)),
    guardWorkload<T extends { namespace: string; workload_kind: string; workload: string }>(labels: T): T {
      return workloadGuard.admit(labels, (l) => ({ ...l, workload: OVERFLOW }));
    },
    guardLabels(labels: Record<string, string>): Record<string, string> {
      return labelGuard.admit(labels, (l) =>
        Object.fromEntries(Object.entries(l).map(([k, v]) => [k, k === 'currency' ? v : OVERFLOW])),
      );
    },
  };
  if (build) m.buildInfo.set({ version: build.version, commit: build.commit, node_version: build.nodeVersion }, 1);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The cost accrued (by workload, by roll-up label, by namespace, by node) and the GPU time behind it. */
function costMetrics(registry: Registry, labelKeys: readonly string[]) {
  const byLabelNames = [...labelKeys.map(labelName), 'currency'];
  return {
    cost: new Counter({
      name: 'aicost_cost_total',
      help: 'Accrued cost by workload, in the currency label',
      labelNames: WORKLOAD_LABELS,
      registers: [registry],
    }),
    gpuHours: new Counter({
      name: 'aicost_gpu_hours_total',
      help: 'GPU-hours held by workload',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    idleGpuHours: new Counter({
      name: 'aicost_idle_gpu_hours_total',
      help: 'Measured GPU-hours under the idle threshold, by workload',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    idleGpuCost: new Counter({
      name: 'aicost_idle_gpu_cost_total',
      help: 'Cost of the measured GPU-hours under the idle threshold, by workload, in the currency label',
      labelNames: WORKLOAD_LABELS,
      registers: [registry],
    }),
    utilization: new Gauge({
      name: 'aicost_gpu_utilization_ratio',
      help: 'GPU-weighted utilization over the last accounting window (absent when unknown)',
      labelNames: ['namespace', 'workload_kind', 'workload'],
      registers: [registry],
    }),
    costByLabels: new Counter({
      name: 'aicost_cost_by_labels_total',
      help: 'Accrued cost by the configured roll-up label keys',
      labelNames: byLabelNames,
      registers: [registry],
    }),
    namespaceCost: new Counter({
      name: 'aicost_namespace_cost_total',
      help: 'Accrued cost by namespace',
      labelNames: ['namespace', 'currency'],
      registers: [registry],
    }),
    nodeCost: new Counter({
      name: 'aicost_node_cost_total',
      help: 'Cost of priced GPU nodes',
      labelNames: ['node', 'capacity_type', 'currency'],
      registers: [registry],
    }),
    nodeIdleCost: new Counter({
      name: 'aicost_node_idle_cost_total',
      help: 'Cost of GPU node capacity no pod requested',
      labelNames: ['node', 'currency'],
      registers: [registry],
    }),
  };
}

/**
 * Inference endpoints' unit costs over the trailing window (docs/unit-economics.md), by workload like the cost
 * metrics (under their cardinality guard), the models the endpoint's series name, and the basis (allocation or
 * usage); absent when unknown.
 */
function unitCostMetrics(registry: Registry) {
  const labelNames = ['namespace', 'workload_kind', 'workload', 'model', 'basis'] as const;
  return {
    costPerMillionTokens: new Gauge({
      name: 'aicost_cost_per_million_tokens',
      help: "An inference endpoint's cost per million tokens over the trailing --inference-window, by basis (allocation: its whole cost; usage: its cost while serving) and tokens (all, input: prompt, output: generated), in the currency label",
      labelNames: [...labelNames, 'tokens', 'currency'],
      registers: [registry],
    }),
    costPerThousandRequests: new Gauge({
      name: 'aicost_cost_per_thousand_requests',
      help: "An inference endpoint's cost per thousand successful requests over the trailing --inference-window, by basis, in the currency label",
      labelNames: [...labelNames, 'currency'],
      registers: [registry],
    }),
  };
}

/** The accounting cycle: what it could not price or measure, Prometheus, and when and how long it ran. */
function accountingCycleMetrics(registry: Registry) {
  return {
    unpricedNodes: new Gauge({
      name: 'aicost_unpriced_nodes',
      help: 'GPU nodes the pricing provider could not price: 1 per node, with the reason',
      labelNames: ['node', 'reason'],
      registers: [registry],
    }),
    nodesSkipped: new Gauge({
      name: 'aicost_nodes_skipped',
      help: 'GPU nodes the cost engine left out of the last cycle (their pods with them), by reason; the Node has an AccountingSkipped Event',
      labelNames: ['reason'],
      registers: [registry],
    }),
    podsSkipped: new Gauge({
      name: 'aicost_pods_skipped',
      help: 'Pods the cost engine left out of the last cycle for their own requests, by reason; the Pod has an AccountingSkipped Event',
      labelNames: ['reason'],
      registers: [registry],
    }),
    trackedObjects: new Gauge({
      name: 'aicost_tracked_objects',
      help: 'Entries the accountant, the ledger and the annotation writer keep in memory, by kind: objects live or gone whose final ledger rows are not yet written',
      labelNames: ['kind'],
      registers: [registry],
    }),
    utilizationUnknownPods: new Gauge({
      name: 'aicost_utilization_unknown_pods',
      help: 'GPU pods whose utilization was unknown in the last cycle',
      registers: [registry],
    }),
    metricsAvailable: new Gauge({
      name: 'aicost_gpu_metrics_available',
      help: '1 when the last Prometheus queries succeeded',
      registers: [registry],
    }),
    promErrors: new Counter({
      name: 'aicost_prometheus_query_errors_total',
      help: 'Failed Prometheus queries',
      labelNames: ['signal'],
      registers: [registry],
    }),
    promLatency: new Histogram({
      name: 'aicost_prometheus_query_duration_seconds',
      help: 'Prometheus query latency, from the request to the summarized answer (which may wait while the operator gathers its facts)',
      labelNames: ['signal'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cycleDuration: new Histogram({
      name: 'aicost_accounting_cycle_duration_seconds',
      help: 'Duration of an accounting cycle',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    lastCycle: new Gauge({
      name: 'aicost_accounting_last_cycle_timestamp_seconds',
      help: 'End of the last accounted interval',
      registers: [registry],
    }),
    ledgerWriteErrors: new Counter({
      name: 'aicost_ledger_write_errors_total',
      help: 'Failed writes to the ledger sink (a window, a piece or the state snapshot); each is retried next cycle',
      registers: [registry],
    }),
    ledgerLastWindow: new Gauge({
      name: 'aicost_ledger_last_window_timestamp_seconds',
      help: 'Start of the last ledger window written whole (compacted) to the sink',
      registers: [registry],
    }),
  };
}

/** The operator's annotation writes and requests to the Kubernetes API. */
function kubeApiMetrics(registry: Registry) {
  return {
    annotationWrites: new Counter({
      name: 'aicost_annotation_writes_total',
      help: 'Annotation patches by result',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'aicost_kube_api_requests_total',
      help: 'Kubernetes API requests by verb',
      labelNames: ['verb'],
      registers: [registry],
    }),
  };
}

/** What policies did (Enforce) or would have done (Audit), and where their budgets stand. */
function policyMetrics(registry: Registry) {
  return {
    policyActions: new Counter({
      name: 'aicost_policy_actions_total',
      help: 'Policy actions taken (Enforce) or recorded (Audit)',
      labelNames: ['policy', 'rule', 'action', 'mode'],
      registers: [registry],
    }),
    budgetSpentRatio: new Gauge({
      name: 'aicost_budget_spent_ratio',
      help: "A budget's spend in its current period over its amount (1 when the amount is reached), by policy",
      labelNames: ['policy'],
      registers: [registry],
    }),
    budgetForecastRatio: new Gauge({
      name: 'aicost_budget_forecast_ratio',
      help: "A budget's forecast spend at its period's end over its amount, by policy",
      labelNames: ['policy'],
      registers: [registry],
    }),
    budgetAnomaly: new Gauge({
      name: 'aicost_budget_anomaly',
      help: "1 while a budget's scope spends more than its anomaly factor times its baseline over the last hour, else 0, by policy",
      labelNames: ['policy'],
      registers: [registry],
    }),
    budgetSpendRateRatio: new Gauge({
      name: 'aicost_budget_spend_rate_ratio',
      help: "A budget's scope's spend over the last hour over its baseline (+Inf over a zero baseline), by policy",
      labelNames: ['policy'],
      registers: [registry],
    }),
  };
}

/** The spot admission webhook. */
function webhookMetrics(registry: Registry) {
  return {
    webhookAdmissions: new Counter({
      name: 'aicost_webhook_admissions_total',
      help: 'Pods the spot admission webhook reviewed, by policy, action (PreferSpot, RequireSpot, AvoidSpot, DenySpot, None), mode and verdict',
      labelNames: ['policy', 'action', 'mode', 'verdict'],
      registers: [registry],
    }),
    budgetAdmissions: new Counter({
      name: 'aicost_budget_admissions_total',
      help: "GPU pods the admission webhook judged by an exceeded budget's DenyNewGPUPods, by policy and verdict: denied (Enforce), would_deny (Audit), overridden (the namespace's aicost.dev/budget-override), replacement (a pod of a workload older than the excess)",
      labelNames: ['policy', 'verdict'],
      registers: [registry],
    }),
    webhookRefused: new Counter({
      name: 'aicost_webhook_refused_total',
      help: 'Requests and connections the webhook refused, by reason: body_too_large, in_flight_bytes, read_timeout, connections, tls, bad_request',
      labelNames: ['reason'],
      registers: [registry],
    }),
    webhookLatency: new Histogram({
      name: 'aicost_webhook_duration_seconds',
      help: 'Time to answer one admission review',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
  };
}

/** Spot: the savings, the work at risk on reclaimed nodes, and stale checkpoints. */
function spotMetrics(registry: Registry) {
  return {
    spotSavings: new Counter({
      name: 'aicost_spot_savings_total',
      help: 'On-demand price of the GPU time workloads spent on spot, minus what it cost, by workload',
      labelNames: WORKLOAD_LABELS,
      registers: [registry],
    }),
    spotAtRisk: new Counter({
      name: 'aicost_spot_work_at_risk_total',
      help: 'Cost of the work since the last checkpoint of workloads whose spot node was being reclaimed',
      labelNames: WORKLOAD_LABELS,
      registers: [registry],
    }),
    checkpointStale: new Gauge({
      name: 'aicost_checkpoint_stale_workloads',
      help: 'Running spot workloads whose last checkpoint is older than twice their declared interval',
      registers: [registry],
    }),
  };
}

/** The runtime: build, leadership, informers, reconciles and work queues (controller-runtime names). */
function runtimeMetrics(registry: Registry) {
  return {
    buildInfo: new Gauge({
      name: 'aicost_build_info',
      help: 'Always 1; its labels say which build runs: the version, the git commit and the Node.js version',
      labelNames: ['version', 'commit', 'node_version'],
      registers: [registry],
    }),
    leader: new Gauge({ name: 'aicost_leader', help: '1 while this replica is the leader', registers: [registry] }),
    synced: new Gauge({
      name: 'aicost_informer_synced',
      help: '1 while the resource cache is synced: listed, and its last list succeeded',
      labelNames: ['resource'],
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'aicost_watch_restarts_total',
      help: 'List/watch restarts after errors',
      labelNames: ['resource'],
      registers: [registry],
    }),
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Reconciliations by result',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Reconciliation errors',
      labelNames: ['controller'],
      registers: [registry],
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Reconciliation duration',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    queueAdds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Work queue adds',
      labelNames: ['name'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Work queue depth',
      labelNames: ['name'],
      registers: [registry],
    }),
    queueRetries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Work queue retries',
      labelNames: ['name'],
      registers: [registry],
    }),
  };
}
