/**
 * The accounting cycle (leader only), every --interval:
 * 1. ask Prometheus for GPU utilization (one query per signal for the whole cluster) and, while it answers,
 * 2. take the GPU nodes and the pods on them from the cache (and pods deleted since the last cycle), price
 *    the nodes and plan the money of the new ledgers (accounting-plan.ts);
 * 3. complete the plan with the measured utilization (a Prometheus failure leaves it unknown and accrual
 *    goes on), update metrics;
 * 4. hand changed annotations to the annotation writer, which patches them at a bounded rate.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { NodeRecord, PodRecord, WorkloadRecord } from '../controller/projections.ts';
import type { Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import type { GpuUtilization, NodeFacts, PodFacts } from '../cost/types.ts';
import type { PodUtilization } from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { NodePrice, PricingProvider } from '../pricing/provider.ts';
import { renderAnnotations, type Ledger } from '../cost/ledger.ts';
import { displayKey } from './annotations.ts';
import { initMeasureMetrics, measurePods, querySignal, type MeasurementStatus } from './accounting-measure.ts';
import { AccountingMetrics } from './accounting-metrics.ts';
import { draftAccounting, finishAccounting, type Mutable, type TargetUpdate } from './accounting-plan.ts';
import type { AnnotationWriter, WriteTarget } from './annotation-writer.ts';
import { UnpricedNodes } from './unpriced-nodes.ts';
import { isGpuNode, nodeFacts, podFacts, priceOf, workloadOf, workloadRecordOf } from './node-facts.ts';

export interface AccountingOptions {
  readonly intervalMs: number;
  readonly idleThreshold: number;
  readonly minCoverage: number;
  readonly scrapeIntervalMs: number;
  readonly labelKeys: readonly string[];
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

export interface AccountantDeps {
  readonly cache: ClusterCache;
  readonly pricing: PricingSource;
  readonly prometheus: PrometheusClient;
  readonly writer: AnnotationWriter;
  /** For the Events on unpriced nodes. */
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly options: AccountingOptions;
}

/** Pod facts kept by the accountant (factsOf), which take each cycle's utilization once it is measured. */
type MutablePodFacts = Mutable<PodFacts>;

export class Accountant {
  private lastCycleEndSeconds: number | undefined;
  private readonly ledgers = {
    pods: new Map<string, Ledger>(),
    workloads: new Map<string, Ledger>(),
    namespaces: new Map<string, Ledger>(),
  };
  /** Pods deleted since the last cycle, kept until their final span is accrued. */
  private readonly tombstones = new Map<string, PodRecord>();
  private lastReport: CycleReport | undefined;
  private readonly recorder: AccountingMetrics;
  private readonly unpricedNodes: UnpricedNodes;
  /** Facts by cached pod projection (see factsOf); entries go with their projection. */
  private readonly facts = new WeakMap<PodRecord, { node: NodeRecord; replicaSets: number; facts: MutablePodFacts }>();
  /** Node prices and facts by cached node projection (see pricedNode). */
  private readonly nodeFacts = new WeakMap<
    NodeRecord,
    { pricing: PricingProvider; price: NodePrice; facts: NodeFacts }
  >();
  /** Counts ReplicaSet changes: a Deployment pod's workload is resolved through its ReplicaSet. */
  private replicaSetChanges = 0;
  private lastMeasurement: Measurement | undefined;
  private readonly deps: AccountantDeps;

  constructor(deps: AccountantDeps) {
    this.deps = deps;
    initMeasureMetrics(deps.metrics);
    this.recorder = new AccountingMetrics({
      metrics: deps.metrics,
      labelKeys: deps.options.labelKeys,
      cache: deps.cache,
    });
    this.unpricedNodes = new UnpricedNodes(deps.metrics, deps.events);
    deps.cache.replicaSets.onChange(() => this.replicaSetChanges++);
    deps.cache.pods.onChange((_key, current, previous) => {
      if (current === undefined && previous !== undefined) {
        const endedAtSeconds =
          previous.endedAtSeconds ?? previous.deletingAtSeconds ?? Math.floor(deps.clock.now() / 1000);
        this.tombstones.set(previous.uid, { ...previous, endedAtSeconds });
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
    this.lastCycleEndSeconds = undefined;
    for (const map of Object.values(this.ledgers)) map.clear();
  }

  async runCycle(): Promise<CycleReport> {
    const { cache, clock, metrics, options, log } = this.deps;
    const startedMs = clock.now();
    const nowSeconds = Math.floor(startedMs / 1000);
    const intervalSeconds = Math.max(1, Math.round(options.intervalMs / 1000));
    const cycleStartSeconds = Math.min(nowSeconds, this.lastCycleEndSeconds ?? nowSeconds - intervalSeconds);

    // The preferred signal is asked for first, so that Prometheus computes its answer while the facts are
    // gathered; one turn of the event loop sends the request before the synchronous work below. Its latency
    // metric and --prometheus-timeout therefore include that work (tens of milliseconds for 10,000 pods).
    // Utilization looks back at least two scrape intervals: a window shorter than the spacing of the samples
    // would hold none half of the time, and every such cycle would read as unknown.
    const measureWindowSeconds = Math.max(
      1,
      nowSeconds - cycleStartSeconds,
      Math.ceil((2 * options.scrapeIntervalMs) / 1000),
    );
    const preferred = querySignal(this.deps, 0, nowSeconds, measureWindowSeconds);
    await new Promise<void>((resolve) => setImmediate(resolve));

    // 1-2. Facts: GPU nodes, priced; pods on them, with their workloads.
    const pricing = this.deps.pricing.current();
    const nodes: NodeFacts[] = [];
    const unpriced: { name: string; reason: string }[] = [];
    const gpuNodes = new Map<string, ReturnType<typeof cache.nodes.store.get>>();
    for (const node of cache.nodes.store.values()) {
      if (!isGpuNode(node)) continue;
      const { price, facts } = this.pricedNode(node, pricing);
      if (!price.priced) unpriced.push({ name: node.name, reason: price.reason });
      nodes.push(facts);
      gpuNodes.set(node.name, node);
    }
    // Pods with their cache keys ("namespace/name"), built once: measuring, seeding and annotating all join
    // on the key, and a fleet has 10,000 pods a cycle. Tombstones are pods deleted since the last cycle.
    const pods: MutablePodFacts[] = [];
    const keys: string[] = [];
    const live: boolean[] = [];
    const add = (key: string, record: PodRecord, isLive: boolean) => {
      const node = gpuNodes.get(record.nodeName);
      if (!node) return;
      const facts = this.factsOf(record, node);
      if (!facts) return;
      pods.push(facts);
      keys.push(key);
      live.push(isLive);
    };
    for (const [key, record] of cache.pods.store) add(key, record, true);
    for (const t of this.tombstones.values()) {
      const key = `${t.namespace}/${t.name}`;
      if (!cache.pods.store.has(key)) add(key, t, false);
    }

    // Ledgers: in memory when we have them, else from the annotations in the cache.
    this.seedLedgers(pods, keys, cycleStartSeconds);
    const factsAtMs = clock.now();

    // 3. The money, planned while Prometheus may still be answering: it does not depend on utilization.
    const draft = draftAccounting({
      nowSeconds,
      cycleStartSeconds,
      currency: pricing.currency,
      nodes,
      pods,
      ledgers: this.ledgers,
    });
    const draftedAtMs = clock.now();
    const gpuKeys = keys.filter((_, i) => (pods[i]?.gpuUnits ?? 0) > 0);
    const measurement = await measurePods(this.deps, gpuKeys, nowSeconds, measureWindowSeconds, preferred);
    this.lastMeasurement = {
      available: measurement.status.available,
      reason: measurement.status.reason,
      windowStartMs: cycleStartSeconds * 1000,
      windowEndMs: nowSeconds * 1000,
      pods: measurement.pods,
      unknown: measurement.unknown,
    };
    // The facts are the accountant's own (factsOf), so utilization joins them in place rather than in copies.
    pods.forEach((p, i) => {
      const u = p.gpuUnits > 0 ? measurement.pods.get(keys[i] ?? '') : undefined;
      if (u) p.utilization = { mean: u.mean, idleRatio: u.idleRatio } satisfies GpuUtilization;
    });

    // Then what utilization decides: idle GPU-seconds and the displayed utilization.
    const measuredAtMs = clock.now();
    const plan = finishAccounting(draft);
    this.recorder.record(plan, pricing.currency);

    // 4. Annotations.
    const plannedAtMs = clock.now();
    let writes = 0;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i] as PodFacts;
      const u = live[i] ? plan.pods.get(pod.uid) : undefined;
      if (u)
        writes += this.offer({ kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, id: pod.uid }, u);
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

    this.lastCycleEndSeconds = nowSeconds;
    for (const [uid, t] of this.tombstones) if ((t.endedAtSeconds ?? 0) <= nowSeconds) this.tombstones.delete(uid);
    await this.unpricedNodes.update(unpriced);
    metrics.lastCycle.set(nowSeconds);
    const report: CycleReport = {
      atSeconds: nowSeconds,
      pods: pods.length,
      nodes: nodes.length,
      unpricedNodes: unpriced,
      measurement: measurement.status,
      writesQueued: writes,
      durationMs: clock.now() - startedMs,
      workloadCostPerHour: rates(plan.workloads),
      podCostPerHour: rates(plan.pods),
    };
    metrics.cycleDuration.observe(report.durationMs / 1000);
    this.lastReport = report;
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
        // Where the time went: cache to facts and ledgers, then the money (both while Prometheus computes), the
        // rest of the wait for Prometheus with parsing its answer, utilization's part of the plan with the
        // metrics, the annotation offers.
        phasesMs: {
          facts: factsAtMs - startedMs,
          draft: draftedAtMs - factsAtMs,
          measure: measuredAtMs - draftedAtMs,
          plan: plannedAtMs - measuredAtMs,
          annotate: report.durationMs - (plannedAtMs - startedMs),
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

  /**
   * Adopts the ledgers in the annotations where they are ahead of memory: after a start or a leader change
   * (memory is empty) and for objects new to this replica. A ledger already at the cycle's start was written
   * by this replica last cycle, and no other replica writes while it holds the lease, so the annotations are
   * not read again for it.
   */
  private seedLedgers(pods: readonly PodFacts[], keys: readonly string[], cycleStartSeconds: number): void {
    const { cache } = this.deps;
    const behind = (map: Map<string, Ledger>, id: string) => (map.get(id)?.accountedUntil ?? -1) < cycleStartSeconds;
    const adopt = (map: Map<string, Ledger>, id: string, fromAnnotations: Ledger | undefined) => {
      const mine = map.get(id);
      if (fromAnnotations && (!mine || fromAnnotations.accountedUntil > mine.accountedUntil))
        map.set(id, fromAnnotations);
    };
    const { pods: podLedgers, workloads, namespaces } = this.ledgers;
    const seen = new Set<string>();
    const seenNamespaces = new Set<string>();
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i] as PodFacts;
      if (behind(podLedgers, pod.uid)) adopt(podLedgers, pod.uid, cache.pods.store.get(keys[i] ?? '')?.ledger);
      const key = workloadKey(pod.workload);
      if (!seen.has(key)) {
        seen.add(key);
        if (behind(workloads, key))
          adopt(
            workloads,
            key,
            this.workloadRecord(pod.workload.kind, `${pod.namespace}/${pod.workload.name}`)?.ledger,
          );
      }
      if (!seenNamespaces.has(pod.namespace)) {
        seenNamespaces.add(pod.namespace);
        if (behind(namespaces, pod.namespace))
          adopt(namespaces, pod.namespace, cache.namespaces.store.get(pod.namespace)?.ledger);
      }
    }
  }

  /** A node's price and facts, reused while its projection and the pricing (a new object on reload) are. */
  private pricedNode(node: NodeRecord, pricing: PricingProvider): { price: NodePrice; facts: NodeFacts } {
    const cached = this.nodeFacts.get(node);
    if (cached?.pricing === pricing) return cached;
    const price = priceOf(node, pricing);
    const entry = { pricing, price, facts: nodeFacts(node, price) };
    this.nodeFacts.set(node, entry);
    return entry;
  }

  /**
   * A pod's facts, reused from the last cycle while its projection, its node's and (for a Deployment's pod)
   * the ReplicaSets are unchanged: most of a fleet's pods are, and rebuilding 10,000 facts a cycle was a
   * large share of the cycle's garbage. The utilization is cleared: this cycle's measurement sets it.
   */
  private factsOf(record: PodRecord, node: NodeRecord): MutablePodFacts | undefined {
    const cached = this.facts.get(record);
    const viaReplicaSet = record.owner?.kind === 'ReplicaSet';
    if (cached?.node === node && (!viaReplicaSet || cached.replicaSets === this.replicaSetChanges)) {
      cached.facts.utilization = undefined;
      return cached.facts;
    }
    // podFacts builds a new object: this cycle may set its utilization.
    const facts = podFacts(record, node, workloadOf(record, this.deps.cache.replicaSets.store)) as
      MutablePodFacts | undefined;
    if (facts) this.facts.set(record, { node, replicaSets: this.replicaSetChanges, facts });
    return facts;
  }

  private workloadRecord(kind: string, key: string): WorkloadRecord | undefined {
    return workloadRecordOf(this.deps.cache, kind, key);
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
}

/** The current hourly rates of a plan's targets, read through the plan rather than copied out of it. */
function rates(updates: ReadonlyMap<string, TargetUpdate>): HourlyRates {
  return { get: (key) => updates.get(key)?.display.costPerHour };
}
