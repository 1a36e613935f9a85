/**
 * The accounting cycle (leader only), every --interval:
 * 1. ask Prometheus for GPU utilization (one query per signal for the whole cluster) and, while it answers,
 * 2. take the GPU nodes and the pods on them from the cache (and pods deleted since the last cycle), price
 *    the nodes and plan the money of the new ledgers (accounting-plan.ts);
 * 3. complete the plan with the measured utilization (a Prometheus failure leaves it unknown and accrual
 *    goes on), update metrics;
 * 4. hand the plan to the durable ledger (accounting-ledger.ts), which queues the window rows off this path,
 *    and changed annotations to the annotation writer, which patches them at a bounded rate.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { NodeRecord, PodRecord, WorkloadRecord } from '../controller/projections.ts';
import type { GpuUtilization, NodeFacts, PodFacts } from '../cost/types.ts';
import type { PodUtilization } from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { NodePrice, PricingProvider } from '../pricing/provider.ts';
import { renderAnnotations, type Ledger } from '../cost/ledger.ts';
import { displayKey } from './annotations.ts';
import { initMeasureMetrics, measurePods, querySignal } from './accounting-measure.ts';
import { AccountingMetrics } from './accounting-metrics.ts';
import {
  draftAccounting,
  finishAccounting,
  type AccountingPlan,
  type Ledgers,
  type Mutable,
  type TargetUpdate,
} from './accounting-plan.ts';
import type { AccountingLedger } from './accounting-ledger.ts';
import { adoptAnnotationLedgers } from './accounting-seed.ts';
import { reportCycle, type CycleReport } from './accounting-report.ts';
import type { PricedNode } from './ledger-describe.ts';
import type { AnnotationWriter, WriteTarget } from './annotation-writer.ts';
import { UnpricedNodes } from './unpriced-nodes.ts';
import { isGpuNode, nodeFacts, podFacts, priceOf, workloadRecordOf, workloadUids } from './node-facts.ts';
import { PodDepartures } from './pod-owners.ts';

export interface AccountingOptions {
  readonly intervalMs: number;
  readonly idleThreshold: number;
  readonly minCoverage: number;
  readonly scrapeIntervalMs: number;
  readonly labelKeys: readonly string[];
  /** --dcgm-selector. */
  readonly dcgmSelector: string;
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
  /** The durable ledger: where accrual resumes, and where each cycle's rows go. */
  readonly ledger: AccountingLedger;
}

/** One cycle's facts (gatherFacts): GPU nodes priced, by name too, and the pods on them with their cache keys. */
interface CycleFacts {
  readonly pricing: PricingProvider;
  readonly nodes: NodeFacts[];
  readonly unpriced: { name: string; reason: string }[];
  readonly priced: Map<string, PricedNode>;
  readonly pods: MutablePodFacts[];
  readonly keys: string[];
  readonly live: boolean[];
}

export type { CycleReport, HourlyRates } from './accounting-report.ts';

interface CycleSpan {
  readonly startedMs: number;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly lookBackSeconds: number;
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
  /** Pods deleted since the last cycle, and every pod's verified owner (pod-owners.ts). */
  private readonly departures = new PodDepartures();
  private lastReport: CycleReport | undefined;
  private readonly recorder: AccountingMetrics;
  private readonly unpricedNodes: UnpricedNodes;
  /** Facts by cached pod projection (see factsOf); entries go with their projection. */
  private readonly facts = new WeakMap<PodRecord, { node: NodeRecord; owners: number; facts: MutablePodFacts }>();
  /** Node prices and facts by cached node projection (see pricedNode). */
  private readonly nodeFacts = new WeakMap<
    NodeRecord,
    { pricing: PricingProvider; price: NodePrice; facts: NodeFacts }
  >();
  /**
   * Counts changes of the owners' identities (an owner added, deleted, or its uid or Deployment link
   * changed): a pod's workload is resolved through them by uid (workloadOf). Other changes, such as the
   * annotations the operator writes each cycle, leave every pod's workload as it was.
   */
  private ownerChanges = 0;
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
    // A ReplicaSet's projection is all identity (its uid and its Deployment's name and uid).
    deps.cache.replicaSets.onChange(() => this.ownerChanges++);
    for (const owners of [deps.cache.jobs, deps.cache.deployments, deps.cache.statefulSets])
      owners.onChange((_key, current, previous) => {
        if (current?.uid !== previous?.uid) this.ownerChanges++;
      });
    deps.cache.pods.onChange((_key, current, previous) => {
      // A pod a relist finds gone was deleted while no watch saw it: it accrues up to when the watch was lost,
      // the last moment it was known to run, not through the outage.
      const seenUntilMs = deps.cache.pods.unwatchedSinceMs ?? deps.clock.now();
      this.departures.onPodChange(current, previous, deps.cache, {
        nowSeconds: Math.floor(deps.clock.now() / 1000),
        seenUntilSeconds: Math.floor(seenUntilMs / 1000),
      });
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

  /** The cumulative ledgers in memory, read-only: what the annotations display (and the tests compare). */
  get cumulative(): Ledgers {
    return this.ledgers;
  }

  /** Forgets in-memory progress: the next cycle resumes from the durable ledger (after a leader change). */
  reset(): void {
    this.lastCycleEndSeconds = undefined;
    for (const map of Object.values(this.ledgers)) map.clear();
    this.deps.ledger.reset();
  }

  async runCycle(): Promise<CycleReport> {
    const { clock } = this.deps;
    const span = this.cycleSpan();
    // The preferred signal is asked for first, so that Prometheus computes its answer while the facts are
    // gathered; one turn of the event loop sends the request before the synchronous work below. Its latency
    // metric and --prometheus-timeout therefore include that work (tens of milliseconds for 10,000 pods).
    const preferred = querySignal(this.deps, 0, span.endSeconds, span.lookBackSeconds);
    await new Promise<void>((resolve) => setImmediate(resolve));

    // 1-2. Facts: GPU nodes, priced; pods on them, with their workloads.
    const facts = this.gatherFacts();
    // Ledgers: the durable ledger's after a start or a leader change (it throws when unreadable: resuming
    // from anything else could count twice), else in memory; annotations only where the ledger allows.
    await this.deps.ledger.ready(this.ledgers, facts.pricing.currency);
    for (const key of this.deps.ledger.retireReplaced(workloadUids(this.deps.cache, facts.pods)))
      this.ledgers.workloads.delete(key);
    adoptAnnotationLedgers({
      ...this.deps,
      ledgers: this.ledgers,
      pods: facts.pods,
      keys: facts.keys,
      tombstones: this.departures.tombstones,
      currency: facts.pricing.currency,
      cycleStartSeconds: span.startSeconds,
      nowSeconds: span.endSeconds,
    });
    const factsAtMs = clock.now();

    // 3. The money, planned while Prometheus may still be answering: it does not depend on utilization.
    const draft = draftAccounting({
      nowSeconds: span.endSeconds,
      cycleStartSeconds: span.startSeconds,
      currency: facts.pricing.currency,
      nodes: facts.nodes,
      pods: facts.pods,
      ledgers: this.ledgers,
    });
    const draftedAtMs = clock.now();
    const measurement = await this.measure(facts, span, preferred);

    // Then what utilization decides: idle GPU-seconds and the displayed utilization; the metrics, the
    // ledger's rows (written off this path) and the ledgers in memory.
    const measuredAtMs = clock.now();
    const plan = finishAccounting(draft);
    this.recorder.record(plan, facts.pricing.currency);
    this.deps.ledger.record({
      cycleStartSeconds: span.startSeconds,
      nowSeconds: span.endSeconds,
      catalogDate: facts.pricing.catalogDate,
      currency: facts.pricing.currency,
      pods: facts.pods,
      plan,
      nodes: facts.priced,
      podLedgersBefore: this.ledgers.pods,
    });
    this.keep(plan);

    // 4. Annotations.
    const plannedAtMs = clock.now();
    const writes = this.offerAll(plan, facts);

    this.lastCycleEndSeconds = span.endSeconds;
    this.departures.settle(span.endSeconds);
    await this.unpricedNodes.update(facts.unpriced);
    const phasesMs = {
      facts: factsAtMs - span.startedMs,
      draft: draftedAtMs - factsAtMs,
      measure: measuredAtMs - draftedAtMs,
      plan: plannedAtMs - measuredAtMs,
      annotate: clock.now() - plannedAtMs,
    };
    this.lastReport = reportCycle(this.deps, {
      ...span,
      facts,
      measurement: measurement.status,
      writes,
      plan,
      phasesMs,
    });
    return this.lastReport;
  }

  /**
   * The cycle's span [start, end) in epoch seconds (from the last cycle's end, else one interval back) and how
   * far utilization looks back: at least two scrape intervals, since a window shorter than the spacing of the
   * samples would hold none half of the time, and every such cycle would read as unknown.
   */
  private cycleSpan(): CycleSpan {
    const { clock, options } = this.deps;
    const startedMs = clock.now();
    const endSeconds = Math.floor(startedMs / 1000);
    const intervalSeconds = Math.max(1, Math.round(options.intervalMs / 1000));
    const startSeconds = Math.min(endSeconds, this.lastCycleEndSeconds ?? endSeconds - intervalSeconds);
    const scrapeSeconds = Math.ceil((2 * options.scrapeIntervalMs) / 1000);
    const lookBackSeconds = Math.max(1, endSeconds - startSeconds, scrapeSeconds);
    return { startedMs, startSeconds, endSeconds, lookBackSeconds };
  }

  /** The GPU nodes, priced, and the pods on them (and pods deleted since the last cycle), with their keys. */
  private gatherFacts(): CycleFacts {
    const { cache } = this.deps;
    const pricing = this.deps.pricing.current();
    const facts: CycleFacts = { pricing, nodes: [], unpriced: [], priced: new Map(), pods: [], keys: [], live: [] };
    for (const node of cache.nodes.store.values()) {
      if (!isGpuNode(node)) continue;
      const priced = this.pricedNode(node, pricing);
      if (!priced.price.priced) facts.unpriced.push({ name: node.name, reason: priced.price.reason });
      facts.nodes.push(priced.facts);
      facts.priced.set(node.name, { record: node, price: priced.price, facts: priced.facts });
    }
    // Pods with their cache keys ("namespace/name"), built once: measuring, seeding and annotating all join
    // on the key, and a fleet has 10,000 pods a cycle. Tombstones are pods deleted since the last cycle.
    const add = (key: string, record: PodRecord, isLive: boolean) => {
      const node = facts.priced.get(record.nodeName)?.record;
      const pod = node ? this.factsOf(record, node) : undefined;
      if (!pod) return;
      facts.pods.push(pod);
      facts.keys.push(key);
      facts.live.push(isLive);
    };
    for (const [key, record] of cache.pods.store) add(key, record, true);
    for (const t of this.departures.tombstones.values()) {
      const key = `${t.namespace}/${t.name}`;
      if (!cache.pods.store.has(key)) add(key, t, false);
    }
    return facts;
  }

  /** Waits for the utilization and sets it on the GPU pods' facts (the accountant's own, so in place). */
  private async measure(facts: CycleFacts, window: CycleSpan, preferred: ReturnType<typeof querySignal>) {
    const { pods, keys } = facts;
    const gpuKeys = keys.filter((_, i) => (pods[i]?.gpuUnits ?? 0) > 0);
    const measurement = await measurePods(this.deps, gpuKeys, window.endSeconds, window.lookBackSeconds, preferred);
    this.lastMeasurement = {
      available: measurement.status.available,
      reason: measurement.status.reason,
      windowStartMs: window.startSeconds * 1000,
      windowEndMs: window.endSeconds * 1000,
      pods: measurement.pods,
      unknown: measurement.unknown,
    };
    pods.forEach((p, i) => {
      const u = p.gpuUnits > 0 ? measurement.pods.get(keys[i] ?? '') : undefined;
      if (u) p.utilization = { mean: u.mean, idleRatio: u.idleRatio } satisfies GpuUtilization;
    });
    return measurement;
  }

  /** The plan's ledgers are the accountant's from now on, offered to the annotation writer or not. */
  private keep(plan: AccountingPlan): void {
    for (const [uid, u] of plan.pods) this.ledgers.pods.set(uid, u.ledger);
    for (const [key, u] of plan.workloads) this.ledgers.workloads.set(key, u.ledger);
    for (const [namespace, u] of plan.namespaces) this.ledgers.namespaces.set(namespace, u.ledger);
  }

  /** Offers the annotations of live GPU pods, cached workloads and namespaces; returns the writes scheduled. */
  private offerAll(plan: AccountingPlan, facts: CycleFacts): number {
    const { cache } = this.deps;
    let writes = 0;
    for (let i = 0; i < facts.pods.length; i++) {
      const pod = facts.pods[i] as PodFacts;
      const u = facts.live[i] && pod.gpuUnits > 0 ? plan.pods.get(pod.uid) : undefined;
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
    return writes;
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
   * A pod's facts, reused from the last cycle while its projection, its node's and (for an owned pod) the
   * owners' identities are unchanged: most of a fleet's pods are, and rebuilding 10,000 facts a cycle was a
   * large share of the cycle's garbage. The utilization is cleared: this cycle's measurement sets it.
   */
  private factsOf(record: PodRecord, node: NodeRecord): MutablePodFacts | undefined {
    const cached = this.facts.get(record);
    if (cached?.node === node && (record.owner === undefined || cached.owners === this.ownerChanges)) {
      cached.facts.utilization = undefined;
      return cached.facts;
    }
    // podFacts builds a new object: this cycle may set its utilization.
    const facts = podFacts(record, node, this.departures.owners.workloadOf(record, this.deps.cache)) as
      MutablePodFacts | undefined;
    if (facts) this.facts.set(record, { node, owners: this.ownerChanges, facts });
    return facts;
  }

  private workloadRecord(kind: string, key: string): WorkloadRecord | undefined {
    return workloadRecordOf(this.deps.cache, kind, key);
  }

  private offer(target: WriteTarget, update: TargetUpdate): number {
    return this.deps.writer.offer(target, displayKey(update.ledger, update.display), () =>
      renderAnnotations(update.ledger, update.display),
    )
      ? 1
      : 0;
  }
}
