/**
 * The accounting cycle (leader only), every --interval:
 * 1. take the GPU nodes and the pods on them from the cache (and pods deleted since the last cycle);
 * 2. price the nodes; measure GPU utilization with one Prometheus query per signal for the whole cluster;
 *    a Prometheus failure leaves utilization unknown and accrual goes on;
 * 3. plan the new ledgers (accounting-plan.ts), update metrics;
 * 4. hand changed annotations to the annotation writer, which patches them at a bounded rate.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { Metrics } from '../controller/metrics.ts';
import { labelName } from '../controller/metrics.ts';
import type { PodRecord, WorkloadRecord } from '../controller/projections.ts';
import { errorSummary } from '../controller/reflector.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import type { GpuUtilization, NodeFacts, PodFacts, WorkloadRef } from '../cost/types.ts';
import {
  combineSignals,
  SIGNALS,
  summarizeSignal,
  type PodUtilization,
  type SignalSummary,
} from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { displayKey, renderAnnotations, type Ledger } from './annotations.ts';
import { planAccounting, type AccountingPlan, type TargetUpdate } from './accounting-plan.ts';
import type { AnnotationWriter, WriteTarget } from './annotation-writer.ts';
import { isGpuNode, nodeFacts, podFacts, priceOf, workloadOf } from './node-facts.ts';

export interface AccountingOptions {
  readonly intervalMs: number;
  readonly idleThreshold: number;
  readonly minCoverage: number;
  readonly scrapeIntervalMs: number;
  readonly labelKeys: readonly string[];
}

export interface MeasurementStatus {
  readonly available: boolean;
  readonly reason: string;
  readonly measuredPods: number;
  readonly unknownPods: number;
}

/** What the last cycle measured, for the policy controller. */
export interface Measurement {
  readonly available: boolean;
  readonly reason: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** By "namespace/pod", pods with enough coverage. */
  readonly pods: ReadonlyMap<string, PodUtilization>;
  /** By "namespace/pod", GPU pods left unknown, with the reason. */
  readonly unknown: ReadonlyMap<string, string>;
}

export interface CycleReport {
  readonly at: number;
  readonly pods: number;
  readonly nodes: number;
  readonly unpricedNodes: readonly { name: string; reason: string }[];
  readonly measurement: MeasurementStatus;
  readonly writesQueued: number;
  /** Current hourly cost by workload key (Kind/namespace/name), for estimated savings. */
  readonly workloadCostPerHour: ReadonlyMap<string, Nanos>;
  readonly podCostPerHour: ReadonlyMap<string, Nanos>;
  readonly durationMs: number;
}

export interface AccountantDeps {
  readonly cache: ClusterCache;
  readonly pricing: PricingSource;
  readonly prometheus: PrometheusClient;
  readonly writer: AnnotationWriter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly options: AccountingOptions;
}

export class Accountant {
  private lastCycleEnd: number | undefined;
  private readonly ledgers = {
    pods: new Map<string, Ledger>(),
    workloads: new Map<string, Ledger>(),
    namespaces: new Map<string, Ledger>(),
  };
  /** Pods deleted since the last cycle, kept until their final span is accrued. */
  private readonly tombstones = new Map<string, PodRecord>();
  private lastReport: CycleReport | undefined;
  private lastMeasurement: Measurement | undefined;
  private readonly deps: AccountantDeps;

  constructor(deps: AccountantDeps) {
    this.deps = deps;
    deps.cache.pods.onChange((_key, current, previous) => {
      if (current === undefined && previous !== undefined) {
        const endedAt = previous.endedAt ?? previous.deletingAt ?? Math.floor(deps.clock.now() / 1000);
        this.tombstones.set(previous.uid, { ...previous, endedAt });
      }
    });
  }

  get report(): CycleReport | undefined {
    return this.lastReport;
  }

  get currency(): string {
    return this.deps.pricing.current().currency;
  }

  get measurement(): Measurement | undefined {
    return this.lastMeasurement;
  }

  /** Forgets in-memory progress: the next cycle resumes from the annotations (after a leader change). */
  reset(): void {
    this.lastCycleEnd = undefined;
    for (const map of Object.values(this.ledgers)) map.clear();
  }

  async runCycle(): Promise<CycleReport> {
    const { cache, clock, metrics, options, log } = this.deps;
    const started = clock.now();
    const now = Math.floor(started / 1000);
    const intervalSeconds = Math.max(1, Math.round(options.intervalMs / 1000));
    const cycleStart = Math.min(now, this.lastCycleEnd ?? now - intervalSeconds);

    // 1-2. Facts: GPU nodes, priced; pods on them, with their workloads.
    const pricing = this.deps.pricing.current();
    const nodes: NodeFacts[] = [];
    const unpriced: { name: string; reason: string }[] = [];
    const gpuNodes = new Map<string, ReturnType<typeof cache.nodes.store.get>>();
    for (const node of cache.nodes.store.values()) {
      if (!isGpuNode(node)) continue;
      const price = priceOf(node, pricing);
      if (!price.priced) unpriced.push({ name: node.name, reason: price.reason });
      nodes.push(nodeFacts(node, price));
      gpuNodes.set(node.name, node);
    }
    const records = [
      ...cache.pods.store.values(),
      ...[...this.tombstones.values()].filter((t) => !cache.pods.store.has(`${t.namespace}/${t.name}`)),
    ];
    const pods: PodFacts[] = [];
    for (const record of records) {
      const node = gpuNodes.get(record.nodeName);
      if (!node) continue;
      const facts = podFacts(record, node, workloadOf(record, cache.replicaSets.store));
      if (facts) pods.push(facts);
    }

    // Utilization looks back at least two scrape intervals: a window shorter than the spacing of the samples
    // would hold none half of the time, and every such cycle would read as unknown.
    const factsAt = clock.now();
    const measureWindow = Math.max(now - cycleStart, Math.ceil((2 * options.scrapeIntervalMs) / 1000));
    const measurement = await this.measure(pods, now, measureWindow);
    this.lastMeasurement = {
      available: measurement.status.available,
      reason: measurement.status.reason,
      windowStartMs: cycleStart * 1000,
      windowEndMs: now * 1000,
      pods: measurement.pods,
      unknown: measurement.unknown,
    };
    const measured = pods.map((p) => {
      const u = measurement.pods.get(`${p.namespace}/${p.name}`);
      return u && p.gpuUnits > 0
        ? { ...p, utilization: { mean: u.mean, idleRatio: u.idleRatio } satisfies GpuUtilization }
        : p;
    });

    // 3. Plan from the ledgers: in memory when we have them, else from the annotations in the cache.
    const measuredAt = clock.now();
    this.seedLedgers(measured);
    const plan = planAccounting({
      now,
      cycleStart,
      currency: pricing.currency,
      nodes,
      pods: measured,
      ledgers: this.ledgers,
    });
    this.record(plan, pricing.currency);

    // 4. Annotations.
    const plannedAt = clock.now();
    let writes = 0;
    const byUid = new Map(measured.map((p) => [p.uid, p]));
    for (const [uid, u] of plan.pods) {
      const pod = byUid.get(uid);
      if (pod && cache.pods.store.has(`${pod.namespace}/${pod.name}`)) {
        writes += this.offer({ kind: 'Pod', namespace: pod.namespace, name: pod.name, uid, id: uid }, u);
      }
    }
    for (const [key, u] of plan.workloads) {
      const [kind = '', namespace = '', name = ''] = key.split('/');
      const record = this.workloadRecord(kind, `${namespace}/${name}`);
      if (record) writes += this.offer({ kind: record.kind, namespace, name, uid: record.uid, id: key }, u);
    }
    for (const [namespace, u] of plan.namespaces) {
      if (cache.namespaces.store.has(namespace))
        writes += this.offer({ kind: 'Namespace', namespace: '', name: namespace, uid: '', id: namespace }, u);
    }

    this.lastCycleEnd = now;
    for (const [uid, t] of this.tombstones) if ((t.endedAt ?? 0) <= now) this.tombstones.delete(uid);
    metrics.unpricedNodes.set(unpriced.length);
    metrics.lastCycle.set(now);
    const report: CycleReport = {
      at: now,
      pods: pods.length,
      nodes: nodes.length,
      unpricedNodes: unpriced,
      measurement: measurement.status,
      writesQueued: writes,
      durationMs: clock.now() - started,
      workloadCostPerHour: new Map([...plan.workloads].map(([k, u]) => [k, u.display.costPerHour])),
      podCostPerHour: new Map([...plan.pods].map(([uid, u]) => [uid, u.display.costPerHour])),
    };
    metrics.cycleDuration.observe(report.durationMs / 1000);
    this.lastReport = report;
    log.info(
      {
        at: report.at,
        pods: report.pods,
        nodes: report.nodes,
        unpriced: unpriced.length,
        measured: report.measurement.measuredPods,
        unknown: report.measurement.unknownPods,
        writesQueued: writes,
        durationMs: report.durationMs,
        // Where the time went: cache to facts, Prometheus, the plan, the annotation offers.
        phasesMs: {
          facts: factsAt - started,
          measure: measuredAt - factsAt,
          plan: plannedAt - measuredAt,
          annotate: report.durationMs - (plannedAt - started),
        },
      },
      'accounting cycle done',
    );
    if (unpriced.length > 0)
      log.warn(
        { unpriced: unpriced.slice(0, 10) },
        'GPU nodes without a price: their pods have no cost until a price is configured',
      );
    return report;
  }

  private async measure(
    pods: readonly PodFacts[],
    now: number,
    windowSeconds: number,
  ): Promise<{
    pods: ReadonlyMap<string, PodUtilization>;
    unknown: ReadonlyMap<string, string>;
    status: MeasurementStatus;
  }> {
    const { prometheus, metrics, options, log } = this.deps;
    const gpuPods = pods.filter((p) => p.gpuUnits > 0);
    const summaries: SignalSummary[] = [];
    const failures: string[] = [];
    const window = Math.max(1, windowSeconds);
    for (const signal of SIGNALS) {
      // A fallback signal is asked for only when the preferred ones left a GPU pod without data: with
      // profiling metrics enabled (the usual case) that halves the Prometheus work of a cycle.
      if (summaries.length > 0 && gpuPods.every((p) => decidedBy(summaries, `${p.namespace}/${p.name}`))) break;
      const end = metrics.promLatency.startTimer({ signal: signal.metric });
      try {
        const series = await prometheus.queryMatrix(`${signal.metric}[${window}s]`, now);
        summaries.push(
          summarizeSignal(series, signal.scale, signal.metric, {
            windowSeconds: window,
            idleThreshold: options.idleThreshold,
            scrapeIntervalSeconds: options.scrapeIntervalMs / 1000,
          }),
        );
      } catch (error) {
        metrics.promErrors.inc({ signal: signal.metric });
        failures.push(errorSummary(error));
      } finally {
        end();
      }
    }
    const available = failures.length === 0;
    metrics.metricsAvailable.set(available ? 1 : 0);
    if (!available)
      log.warn(
        { errors: failures },
        'Prometheus queries failed: utilization is unknown this cycle, cost still accrues',
      );
    const combined = combineSignals(summaries, options.minCoverage);
    const known = new Map<string, PodUtilization>();
    const unknown = new Map<string, string>();
    for (const p of gpuPods) {
      const key = `${p.namespace}/${p.name}`;
      const u = combined.pods.get(key);
      if (u) known.set(key, u);
      else
        unknown.set(
          key,
          available ? (combined.unknown.get(key) ?? 'no DCGM series for this pod') : `Prometheus query failed`,
        );
    }
    const unknownPods = gpuPods.length - known.size;
    metrics.utilizationUnknownPods.set(unknownPods);
    const reason = !available
      ? `Prometheus query failed: ${failures[0] ?? ''}`
      : unknownPods > 0
        ? `${unknownPods} of ${gpuPods.length} GPU pods have no or too little DCGM data`
        : 'all GPU pods measured';
    return { pods: known, unknown, status: { available, reason, measuredPods: known.size, unknownPods } };
  }

  private seedLedgers(pods: readonly PodFacts[]): void {
    const { cache } = this.deps;
    const adopt = (map: Map<string, Ledger>, id: string, fromAnnotations: Ledger | undefined) => {
      const mine = map.get(id);
      if (fromAnnotations && (!mine || fromAnnotations.accountedUntil > mine.accountedUntil))
        map.set(id, fromAnnotations);
    };
    const seen = new Set<string>();
    for (const pod of pods) {
      adopt(this.ledgers.pods, pod.uid, cache.pods.store.get(`${pod.namespace}/${pod.name}`)?.ledger);
      const key = workloadKey(pod.workload);
      if (!seen.has(key)) {
        seen.add(key);
        adopt(
          this.ledgers.workloads,
          key,
          this.workloadRecord(pod.workload.kind, `${pod.namespace}/${pod.workload.name}`)?.ledger,
        );
      }
      if (!seen.has(`ns:${pod.namespace}`)) {
        seen.add(`ns:${pod.namespace}`);
        adopt(this.ledgers.namespaces, pod.namespace, cache.namespaces.store.get(pod.namespace)?.ledger);
      }
    }
  }

  private workloadRecord(kind: string, key: string): WorkloadRecord | undefined {
    const { cache } = this.deps;
    if (kind === 'Job') return cache.jobs.store.get(key);
    if (kind === 'Deployment') return cache.deployments.store.get(key);
    if (kind === 'StatefulSet') return cache.statefulSets.store.get(key);
    return undefined;
  }

  private ledgerMap(target: WriteTarget): Map<string, Ledger> {
    if (target.kind === 'Pod') return this.ledgers.pods;
    if (target.kind === 'Namespace') return this.ledgers.namespaces;
    return this.ledgers.workloads;
  }

  private offer(target: WriteTarget, update: TargetUpdate): number {
    this.ledgerMap(target).set(target.id, update.ledger);
    return this.deps.writer.offer(target, displayKey(update.ledger, update.display), () =>
      renderAnnotations(update.ledger, update.display),
    )
      ? 1
      : 0;
  }

  private record(plan: AccountingPlan, currency: string): void {
    const { metrics, options } = this.deps;
    const money = (n: Nanos) => Number(formatMoney(n, 9));
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
      if (update.display.utilization === undefined) metrics.utilization.remove(labels);
      else metrics.utilization.set(labels, update.display.utilization);
    }
    for (const [namespace, update] of plan.namespaces)
      metrics.namespaceCost.inc({ namespace, currency }, money(update.delta));
    for (const pc of plan.main.pods) {
      if (!pc.cost) continue;
      const labels: Record<string, string> = { currency };
      for (const key of options.labelKeys) labels[labelName(key)] = pc.pod.labels[key] ?? '__unset__';
      metrics.costByLabels.inc(metrics.guardLabels(labels), money(pc.cost.total));
    }
    for (const nc of plan.main.nodes) {
      if (!nc.cost || !nc.idle) continue;
      metrics.nodeCost.inc({ node: nc.node.name, capacity_type: nc.node.capacityType, currency }, money(nc.cost.total));
      metrics.nodeIdleCost.inc({ node: nc.node.name, currency }, money(nc.idle.total));
    }
  }
}

/** Whether a signal already gave the pod a reading (or found its samples malformed). */
function decidedBy(summaries: readonly SignalSummary[], key: string): boolean {
  return summaries.some((s) => s.pods.has(key) || s.malformed.has(key));
}
