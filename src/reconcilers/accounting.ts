/**
 * The accounting cycle (leader only), every --interval:
 * 1. ask Prometheus for GPU utilization (one query per signal for the whole cluster), and for what the inference
 *    servers served over the trailing --inference-window (unit-costs.ts), and while it answers,
 * 2. take the accounted nodes (every node unless --account-nodes narrows them) and the pods on them from the cache (and pods deleted since the last cycle), price
 *    the nodes and plan the money of the new ledgers (accounting-plan.ts);
 * 3. complete the plan with the measured utilization (a Prometheus failure leaves it unknown and accrual
 *    goes on), plan the endpoints' unit costs, update metrics;
 * 4. hand the plan to the durable ledger (accounting-ledger.ts), which queues the window rows off this path,
 *    and changed annotations to the annotation writer, which patches them at a bounded rate.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { GpuUtilization, PodFacts } from '../cost/types.ts';
import type { PodUtilization } from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { Ledger } from '../cost/ledger.ts';
import { initMeasureMetrics, measurePods, querySignal } from './accounting-measure.ts';
import { AccountingMetrics, servingWorkloads } from './accounting-metrics.ts';
import {
  draftAccounting,
  finishAccounting,
  type AccountingPlan,
  type Ledgers,
  type TargetUpdate,
} from './accounting-plan.ts';
import type { AccountingLedger } from './accounting-ledger.ts';
import { adoptAnnotationLedgers } from './accounting-seed.ts';
import { reportCycle, type CycleReport } from './accounting-report.ts';
import type { AnnotationWriter, WriteTarget } from './annotation-writer.ts';
import { FactsGatherer, type CycleFacts } from './cycle-facts.ts';
import { forgetDeparted } from './departed.ts';
import { skippedIn, SkippedObjects } from './skipped-objects.ts';
import { UnpricedNodes } from './unpriced-nodes.ts';
import type { LabelSelector } from '../crds/aicost-policy.ts';
import { workloadRecordOf, workloadUids } from './node-facts.ts';
import { PodDepartures } from './pod-owners.ts';
import { UnitCosts, type CycleUnitCosts, type UnitCostPart } from './unit-costs.ts';
import { annotated, offerStorageOnly } from './storage-accounting.ts';

export interface AccountingOptions {
  readonly intervalMs: number;
  readonly idleThreshold: number;
  readonly minCoverage: number;
  readonly scrapeIntervalMs: number;
  readonly labelKeys: readonly string[];
  /** --dcgm-selector. */
  readonly dcgmSelector: string;
  /** --inference-window (0: no unit costs) and --inference-selector. */
  readonly inferenceWindowMs: number;
  readonly inferenceSelector: string;
  /** --account-nodes: the nodes accounted; undefined: every node. */
  readonly accountNodes?: LabelSelector | undefined;
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
  /** For the Events on unpriced nodes and on the nodes and pods the engine skips. */
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly options: AccountingOptions;
  /** The durable ledger: where accrual resumes, and where each cycle's rows go. */
  readonly ledger: AccountingLedger;
}

export type { CycleReport, HourlyRates } from './accounting-report.ts';

interface CycleSpan {
  readonly startedMs: number;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly lookBackSeconds: number;
}

/** What the accountant, its ledger and its annotation writer keep in memory, by kind (aicost_tracked_objects). */
export type TrackedSizes = Readonly<{
  podLedgers: number;
  workloadLedgers: number;
  namespaceLedgers: number;
  tombstones: number;
  ledgerTargets: number;
  nodeIdle: number;
  writerStates: number;
  podOwners: number;
}>;
/**
 * How often, at most, gone objects are looked for: a look goes over every object kept (tens of milliseconds at
 * 10,000 pods), and what it frees can wait a few minutes.
 */
const FORGET_EVERY_SECONDS = 300;

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
  private readonly skipped: SkippedObjects;
  private readonly gatherer: FactsGatherer;
  /** Something was deleted (or reloaded) since the last forgetDeparted, or it left entries waiting. */
  private lookForGone = true;
  private forgotAtSeconds: number | undefined;
  private lastMeasurement: Measurement | undefined;
  private readonly unitCosts: UnitCosts;
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
    this.skipped = new SkippedObjects(deps.metrics, deps.events);
    this.gatherer = new FactsGatherer(deps.cache, this.departures.owners, deps.options.accountNodes);
    this.unitCosts = new UnitCosts(deps);
    const { cache, clock } = deps;
    cache.pods.onChange((_key, current, previous) => {
      // A pod a relist finds gone was deleted while no watch saw it: it accrues up to when the watch was lost,
      // the last moment it was known to run, not through the outage.
      const seenUntilMs = cache.pods.unwatchedSinceMs ?? clock.now();
      this.departures.onPodChange(current, previous, cache, {
        nowSeconds: Math.floor(clock.now() / 1000),
        seenUntilSeconds: Math.floor(seenUntilMs / 1000),
      });
    });
    for (const kind of [cache.pods, cache.jobs, cache.deployments, cache.statefulSets, cache.namespaces, cache.nodes])
      kind.onChange((_key, current) => {
        if (current === undefined) this.lookForGone = true;
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
    // The ledger's targets come back from the sink, those of objects deleted meanwhile too.
    this.lookForGone = true;
    this.forgotAtSeconds = undefined;
  }

  /** What is kept in memory per object, by kind: each follows the live objects (see departed.ts). */
  sizes(): TrackedSizes {
    return {
      podLedgers: this.ledgers.pods.size,
      workloadLedgers: this.ledgers.workloads.size,
      namespaceLedgers: this.ledgers.namespaces.size,
      tombstones: this.departures.tombstones.size,
      ...this.deps.ledger.sizes(),
      writerStates: this.deps.writer.size,
      podOwners: this.departures.owners.size,
    };
  }

  async runCycle(): Promise<CycleReport> {
    const { clock } = this.deps;
    const span = this.cycleSpan();
    // The preferred signal is asked for first, so that Prometheus computes its answer while the facts are
    // gathered; one turn of the event loop sends the request before the synchronous work below. Its latency
    // metric and --prometheus-timeout therefore include that work (tens of milliseconds for 10,000 pods).
    const preferred = querySignal(this.deps, 0, span.endSeconds, span.lookBackSeconds);
    const inference = this.unitCosts.ask(span.endSeconds);
    await new Promise<void>((resolve) => setImmediate(resolve));

    // 1-2. Facts: GPU nodes, priced; pods on them, with their workloads.
    const facts = this.gatherer.gather(this.deps.pricing.current(), this.departures.tombstones.values());
    // Ledgers: the durable ledger's after a start or a leader change (it throws when unreadable: resuming
    // from anything else could count twice), else in memory; annotations only where the ledger allows.
    await this.deps.ledger.ready(this.ledgers, facts.pricing.currency);
    for (const key of this.deps.ledger.retireReplaced(workloadUids(this.deps.cache, facts.pods))) {
      this.ledgers.workloads.delete(key);
      this.lookForGone = true; // the retired target is to be forgotten once written
    }
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
    const served = await inference;

    // Then what utilization decides: idle GPU-seconds and the displayed utilization; the metrics, the
    // ledger's rows (written off this path) and the ledgers in memory.
    const measuredAtMs = clock.now();
    const plan = finishAccounting(draft);
    this.recorder.record(plan, facts.pricing.currency, servingWorkloads(facts.pods, served));
    const unitCosts = this.unitCosts.plan(
      served,
      { nowSeconds: span.endSeconds, nodes: facts.nodes, pods: facts.pods },
      facts.pricing.currency,
    );
    this.deps.ledger.record({
      cycleStartSeconds: span.startSeconds,
      nowSeconds: span.endSeconds,
      catalogDate: facts.pricing.catalogDate,
      currency: facts.pricing.currency,
      pods: facts.pods,
      plan,
      nodes: facts.priced,
      podLedgersBefore: this.ledgers.pods,
      served:
        served === undefined || served instanceof Error
          ? undefined
          : { pods: served, windowSeconds: this.unitCosts.windowSeconds },
    });
    this.keep(plan);

    // 4. Annotations.
    const plannedAtMs = clock.now();
    const writes = this.offerAll(plan, facts, unitCosts);

    this.lastCycleEndSeconds = span.endSeconds;
    this.forgetDeparted(plan, span.endSeconds);
    await this.unpricedNodes.update(facts.unpriced);
    await this.skipped.update(skippedIn(plan.main));
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
  private offerAll(plan: AccountingPlan, facts: CycleFacts, unitCosts: CycleUnitCosts): number {
    const { cache, ledger } = this.deps;
    let writes = 0;
    for (let i = 0; i < facts.pods.length; i++) {
      const pod = facts.pods[i] as PodFacts;
      const u = facts.live[i] && pod.gpuUnits > 0 ? plan.pods.get(pod.uid) : undefined;
      if (u)
        writes += this.offer({ kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, id: pod.uid }, u);
    }
    for (const [key, u] of plan.workloads) {
      const [kind = '', namespace = '', name = ''] = key.split('/');
      const record = workloadRecordOf(cache, kind, `${namespace}/${name}`);
      if (!record) continue;
      const target: WriteTarget = { kind: record.kind, namespace, name, uid: record.uid, id: key };
      writes += this.offer(target, u, record.kind === 'Job' ? undefined : this.unitCosts.partOf(key, unitCosts));
    }
    for (const key of ledger.storageOnly)
      writes += offerStorageOnly(this.deps, key, ledger.storageCostOf(key), this.ledgers.workloads.get(key));
    for (const [namespace, u] of plan.namespaces) {
      if (cache.namespaces.store.has(namespace))
        writes += this.offer({ kind: 'Namespace', namespace: '', name: namespace, uid: '', id: namespace }, u);
    }
    return writes;
  }

  /**
   * Retires the tombstones whose final span is accrued and forgets the objects gone since (departed.ts); sets
   * aicost_tracked_objects. A retired tombstone's objects are gone only from the next cycle (this one accrued
   * their last span), so they make it look again then.
   */
  private forgetDeparted(plan: AccountingPlan, endSeconds: number): void {
    const before = this.departures.tombstones.size;
    this.departures.settle(endSeconds);
    const retired = before - this.departures.tombstones.size;
    const due = this.forgotAtSeconds === undefined || endSeconds - this.forgotAtSeconds >= FORGET_EVERY_SECONDS;
    if (this.lookForGone && due) {
      this.forgotAtSeconds = endSeconds;
      const { cache, ledger, writer } = this.deps;
      const tombstones = this.departures.tombstones;
      const waiting = forgetDeparted({ cache, ledger, writer, ledgers: this.ledgers, tombstones, plan });
      this.lookForGone = waiting > 0;
    }
    if (retired > 0) this.lookForGone = true;
    const sizes: Readonly<Record<string, number>> = this.sizes();
    for (const [kind, size] of Object.entries(sizes)) this.deps.metrics.trackedObjects.set({ kind }, size);
  }

  private offer(target: WriteTarget, update: TargetUpdate, unit?: UnitCostPart): number {
    const { key, render } = annotated(update, this.deps.ledger.storageCostOf(target.id));
    const offered = unit
      ? this.deps.writer.offer(target, `${key}|${unit.key}`, () => ({ ...render(), ...unit.render() }), unit.shape)
      : this.deps.writer.offer(target, key, render);
    return offered ? 1 : 0;
  }
}
