/**
 * The accountant's side of the durable ledger (issue #15; docs/ledger.md):
 * - on a start or a leader change it reads the ledger's cumulatives back (ledger/durable.ts) and seeds the
 *   accountant's ledgers of workloads and bare pods with them: the ledger, not the annotations, is where
 *   accrual resumes. Only on a first start with an empty ledger are opening balances imported, once, from
 *   validated annotations, and their rows flagged imported;
 * - each cycle it turns the plan into observations (one per workload, bare pod and GPU node), lets the
 *   accrual compute the window rows, and queues them for the writer, off the cycle's critical path.
 *
 * Target ids: a Job, Deployment or StatefulSet by the accountant's workload key "Kind/namespace/name", a pod
 * of no workload by "Pod/<uid>", a node's idle capacity by "Node/<name>".
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { Metrics } from '../controller/metrics.ts';
import { attributeInterval } from '../cost/engine.ts';
import type { Ledger } from '../cost/ledger.ts';
import { divRoundHalfUp } from '../cost/money.ts';
import type { NodeCost, PodFacts } from '../cost/types.ts';
import { LedgerAccrual, type Observation, type RecentWindows, type RowDescriptor } from '../ledger/accrual.ts';
import {
  fromLedger,
  nanoHours,
  toLedger,
  toSeconds,
  withServedCounts,
  withStorageCost,
  type Cumulative,
} from '../ledger/cumulative.ts';
import { servedInCycle } from '../ledger/served-cycle.ts';
import type { PodInference } from '../measure/inference-metrics.ts';
import { loadLedger } from '../ledger/durable.ts';
import { LedgerWriter } from '../ledger/ledger-writer.ts';
import type { LedgerStore } from '../ledger/store.ts';
import type { AccountingPlan, Ledgers } from './accounting-plan.ts';
import { groupByNode, groupByTarget } from './ledger-groups.ts';
import { describeNode, WorkloadDescriptions, type DescribeContext, type PricedNode } from './ledger-describe.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { storageByWorkload, storageObservations, storageOf, storageOnlyTargets } from './storage-accounting.ts';

export interface AccountingLedgerDeps {
  readonly store: LedgerStore;
  readonly clusterId: string;
  readonly windowSeconds: number;
  /** The open window's piece is written at most this often (and at each window's end); 0: every cycle. */
  readonly flushSeconds: number;
  readonly cache: ClusterCache;
  /** Prices the claims of each cycle's storage (storage-accounting.ts); without it, no storage is accounted. */
  readonly pricing?: PricingSource | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** --idle-owner-label: the node label whose value owns a node's idle row (idle-owner.ts); undefined: off. */
  readonly idleOwnerLabel?: string | undefined;
}

/** What one cycle hands the ledger. */
export interface LedgerCycle {
  readonly cycleStartSeconds: number;
  readonly nowSeconds: number;
  readonly catalogDate: string;
  readonly currency: string;
  readonly pods: readonly PodFacts[];
  readonly plan: AccountingPlan;
  readonly nodes: ReadonlyMap<string, PricedNode>;
  /** Every pod's ledger as it was before this cycle (the accountant's, before it keeps the plan's). */
  readonly podLedgersBefore: ReadonlyMap<string, Ledger>;
  /**
   * What the inference servers counted per pod ("namespace/name") over the trailing window of `windowSeconds`
   * (unit-costs.ts); undefined when unit costs are off or the queries failed: nothing is counted this cycle.
   */
  readonly served?: { readonly pods: ReadonlyMap<string, PodInference>; readonly windowSeconds: number } | undefined;
}

/** The piece id of the open window: one for every leader (see ledger-writer.ts). */
const PIECE_ID = 'accountant';

type MutableLedgers = { readonly [K in keyof Ledgers]: Map<string, Ledger> };

export class AccountingLedger {
  private readonly accrual: LedgerAccrual;
  private readonly writer: LedgerWriter;
  private loaded = false;
  private readonly descriptions = new WorkloadDescriptions();
  /** When the open window's piece was last queued; undefined after a start or reset (the first cycle writes). */
  private pieceAtSeconds: number | undefined;
  private importing = false;
  /** The workloads with storage cost that the last cycle's compute plan did not hold (offerStorageOnly). */
  storageOnly: readonly string[] = [];
  readonly storageCostOf = (id: string): bigint | undefined => this.accrual.closing(id)?.storageCost;
  /**
   * Each node's idle GPU-seconds as the engine counts them (fractions of a second included): converted to
   * nano-hours whole each cycle, as a workload's are, so that their rounding never adds up.
   */
  private readonly nodeIdleSeconds = new Map<string, number>();
  /**
   * The end of the last window the sink confirmed written whole (windows are written in order); at a load,
   * the open window's start. A gone object's target is forgotten only once its rows are in such windows.
   */
  private writtenThroughSeconds: number | undefined;
  private readonly deps: AccountingLedgerDeps;

  constructor(deps: AccountingLedgerDeps) {
    this.deps = deps;
    this.accrual = new LedgerAccrual(deps.clusterId, deps.windowSeconds);
    this.writer = new LedgerWriter({
      store: deps.store,
      clusterId: deps.clusterId,
      pieceId: PIECE_ID,
      log: deps.log,
      onError: () => deps.metrics.ledgerWriteErrors.inc(),
      onWindowWritten: (startSeconds) => {
        deps.metrics.ledgerLastWindow.set(startSeconds);
        const end = startSeconds + deps.windowSeconds;
        if (this.writtenThroughSeconds === undefined || end > this.writtenThroughSeconds)
          this.writtenThroughSeconds = end;
      },
    });
  }

  /** True on a first start with an empty ledger, until its first cycle is recorded: annotations may be imported. */
  get importsAnnotations(): boolean {
    return this.importing;
  }

  /**
   * Reads the ledger back once after a start or reset() and seeds `ledgers` with it. Throws when the sink
   * cannot be read: accounting must not resume from anything else (it would count twice).
   */
  async ready(ledgers: MutableLedgers, currency: string): Promise<void> {
    if (this.loaded) return;
    const { store, clusterId, windowSeconds, clock, log } = this.deps;
    const loaded = await loadLedger(store, clusterId, windowSeconds, clock.now());
    this.accrual.seed(loaded.openWindowStartSeconds, loaded.targets);
    for (const { windowStartMs, rows } of loaded.compactLater) this.writer.compact(windowStartMs, rows);
    for (const [id, { closing }] of loaded.targets) {
      if (id.startsWith('Node/')) continue;
      if (id.startsWith('Pod/')) ledgers.pods.set(id.slice('Pod/'.length), toLedger(closing, currency));
      else ledgers.workloads.set(id, toLedger(closing, currency));
    }
    this.importing = loaded.empty;
    // Everything before the open window is in the sink already (window files, or pieces to compact as they are).
    this.writtenThroughSeconds = loaded.openWindowStartSeconds;
    this.loaded = true;
    log.info(
      { sink: store.url, clusterId, targets: loaded.targets.size, openWindow: loaded.openWindowStartSeconds },
      loaded.empty ? 'ledger is empty: importing opening balances from annotations' : 'resumed from the ledger',
    );
  }

  /**
   * Workloads whose name now belongs to another object (deleted and created again under the same name, so
   * another uid): the old one's cumulative is retired under its uid (its rows stay, as a deleted workload's do)
   * and the new one starts from nothing. Returns their keys, whose ledgers in memory the caller drops.
   */
  retireReplaced(uids: ReadonlyMap<string, string>): string[] {
    const retired: string[] = [];
    for (const [key, uid] of uids) {
      const was = this.accrual.described(key)?.workloadUid;
      // A uid of "Kind/namespace/name" is the fallback for a workload never seen in the cache: no uid to compare.
      if (!uid || !was || was === uid || was.includes('/')) continue;
      if (this.accrual.retire(key, was)) retired.push(key);
    }
    return retired;
  }

  /** An opening balance from a workload's or bare pod's annotations (validated by the caller). */
  importBalance(id: string, ledger: Ledger): void {
    this.accrual.importOpening(id, fromLedger(ledger, undefined));
  }

  /** Turns the cycle's plan into window rows and queues their writes. */
  record(cycle: LedgerCycle): void {
    const ctx = { ...cycle, cache: this.deps.cache, idleOwnerLabel: this.deps.idleOwnerLabel };
    const observations: Observation[] = [];
    const byTarget = groupByTarget(cycle.pods);
    const planned = storageOf(this.deps.cache, this.deps.pricing, cycle);
    const storage = storageByWorkload(planned);
    for (const [key, update] of cycle.plan.workloads) {
      const [kind = '', namespace = '', name = ''] = key.split('/');
      const pods = byTarget.get(key) ?? [];
      const target = { kind: kind as 'Job', namespace, name };
      const described = this.descriptions.describe(ctx, key, target, pods, this.accrual.described(key));
      const previous = this.accrual.closing(key);
      const accrued = fromLedger(update.ledger, previous, update.measuredGpuSeconds, update.busyGpuSeconds);
      const cumulative = withStorageCost(accrued, previous, storage.get(key));
      storage.delete(key);
      observations.push({ id: key, ...withServed(cycle, pods, previous, cumulative, described) });
    }
    observations.push(
      ...storageObservations({ ...ctx, storage: planned }, storage, {
        closing: (id) => this.accrual.closing(id),
        describe: (key, target) => this.descriptions.describe(ctx, key, target, [], this.accrual.described(key)),
      }),
    );
    for (const [uid, update] of cycle.plan.pods) {
      const id = `Pod/${uid}`;
      const pod = byTarget.get(id)?.[0];
      if (!pod) continue;
      const previous = this.accrual.closing(id);
      const target = { kind: 'Pod' as const, namespace: pod.namespace, name: pod.name };
      const described = this.descriptions.describe(ctx, id, target, [pod], this.accrual.described(id));
      const accrued = fromLedger(update.ledger, previous, update.measuredGpuSeconds, update.busyGpuSeconds);
      const { cumulative, describe } = withServed(cycle, [pod], previous, accrued, described);
      // A pod new to the ledger that was accounted before went into its workload's row until now (its owner
      // left the cache first, or a restart lost which it was: pod-owners.ts): only what follows is its own.
      const before = previous ? undefined : cycle.podLedgersBefore.get(uid);
      const billedElsewhere = before && fromLedger(before, undefined);
      observations.push({ id, cumulative, describe, billedElsewhere });
    }
    const byNode = groupByNode(cycle.pods);
    for (const nc of cycle.plan.main.nodes) {
      const node = cycle.nodes.get(nc.node.name);
      if (node) observations.push(this.nodeObservation(ctx, nc, node, byNode.get(nc.node.name) ?? []));
    }
    const due = this.pieceDue(cycle.nowSeconds);
    if (due) this.pieceAtSeconds = cycle.nowSeconds;
    this.accrual.release(this.writtenThroughSeconds);
    this.writer.enqueue(this.accrual.observe(cycle.cycleStartSeconds, cycle.nowSeconds, observations, due));
    this.descriptions.endCycle();
    this.importing = false;
    this.storageOnly = storageOnlyTargets(this.accrual.ids(), (id) => this.accrual.closing(id), cycle.plan.workloads);
  }

  /**
   * Whether this cycle writes the open window's piece: every --ledger-flush-interval, and on the first cycle
   * of a window (the window that ended is written whole anyway). Between pieces a kill loses the measured
   * utilization of the cycles since the last one, never cost: accrual resumes from the piece's cumulatives
   * and the span after it is attributed again, as after any restart.
   */
  private pieceDue(nowSeconds: number): boolean {
    const last = this.pieceAtSeconds;
    if (last === undefined || nowSeconds - last >= this.deps.flushSeconds) return true;
    const window = this.deps.windowSeconds;
    return Math.floor(nowSeconds / window) !== Math.floor(last / window);
  }

  /** The windows accrued in memory, for budgets; undefined until this leader's first cycle has read the ledger. */
  recentWindows(): RecentWindows | undefined {
    if (!this.loaded) return undefined;
    this.accrual.release(this.writtenThroughSeconds);
    return this.accrual.recent();
  }

  /**
   * Whether a target's rows are all written (LedgerAccrual.settled): the accountant may then forget the
   * object's ledger when the object is gone.
   */
  settled(id: string): boolean {
    return this.accrual.settled(id, this.writtenThroughSeconds);
  }

  /**
   * Forgets the targets whose objects are gone (`gone`) and whose rows are all written: without this, every
   * Job a cluster ever ran would stay in memory and in each state snapshot. Returns how many gone targets wait
   * for their last window to be written.
   */
  forgetGone(gone: (id: string) => boolean): number {
    let waiting = 0;
    for (const id of [...this.accrual.ids()]) {
      if (!gone(id)) continue;
      if (!this.settled(id)) {
        waiting++;
        continue;
      }
      this.accrual.forget(id);
      this.nodeIdleSeconds.delete(id);
    }
    // A node's target may have left the accrual before (LedgerAccrual forgets nodes unseen for a day).
    for (const id of this.nodeIdleSeconds.keys()) if (gone(id) && this.settled(id)) this.nodeIdleSeconds.delete(id);
    return waiting;
  }

  /** What the ledger keeps in memory, by kind (tests, aicost_tracked_objects). */
  sizes(): { ledgerTargets: number; nodeIdle: number } {
    return { ledgerTargets: this.accrual.size, nodeIdle: this.nodeIdleSeconds.size };
  }

  /** Forgets the state: the next cycle reads the ledger again (a leader change). */
  reset(): void {
    this.writtenThroughSeconds = undefined;
    this.pieceAtSeconds = undefined;
    this.loaded = false;
    this.importing = false;
    this.nodeIdleSeconds.clear();
    this.writer.clear();
  }

  /** Waits for the queued writes (tests, and a clean stop). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /**
   * A node's idle cumulative: its last one, plus the capacity no pod requested since then. The main segment's
   * idle comes from the plan; a span before it (after a restart) is attributed to the node alone with its
   * current pods, as the accountant attributes its targets' catch-up spans.
   */
  private nodeObservation(
    cycle: DescribeContext & LedgerCycle,
    nc: NodeCost,
    node: PricedNode,
    onNode: readonly PodFacts[],
  ): Observation {
    const id = `Node/${node.record.name}`;
    const previous = this.accrual.closing(id);
    let idle = idleOf(nc);
    if (previous && previous.accountedUntil < cycle.cycleStartSeconds) {
      const span = { start: previous.accountedUntil, end: cycle.cycleStartSeconds };
      const unmeasured = onNode.map((p) => ({ ...p, utilization: undefined }));
      const [gap] = attributeInterval(span, [nc.node], unmeasured).nodes;
      if (gap) idle = addIdle(idle, idleOf(gap));
    }
    const pods = onNode.filter((p) => (p.until ?? Infinity) > cycle.cycleStartSeconds);
    const base = previous ?? { ...zeroNode, accountedUntil: cycle.cycleStartSeconds };
    const seconds = (this.nodeIdleSeconds.get(id) ?? toSeconds(base.gpuHours)) + idle.gpuSeconds;
    this.nodeIdleSeconds.set(id, seconds);
    const cumulative: Cumulative = {
      cost: base.cost + idle.cost,
      gpuHours: nanoHours(seconds),
      idleGpuHours: nanoHours(seconds),
      idleGpuCost: (base.idleGpuCost ?? 0n) + idle.gpuCost,
      spotSavings: (base.spotSavings ?? 0n) + idle.onDemand - idle.cost,
      measuredGpuHours: 0n,
      busyGpuHours: 0n,
      accountedUntil: cycle.nowSeconds,
    };
    return { id, cumulative, describe: describeNode(cycle, node, pods.length) };
  }
}

const zeroNode: Cumulative = {
  cost: 0n,
  gpuHours: 0n,
  idleGpuHours: 0n,
  idleGpuCost: 0n,
  spotSavings: 0n,
  measuredGpuHours: 0n,
  busyGpuHours: 0n,
  accountedUntil: 0,
};

interface Idle {
  readonly cost: bigint;
  readonly gpuCost: bigint;
  readonly gpuSeconds: number;
  readonly onDemand: bigint;
}

/** A node's unrequested capacity in one attribution: its cost (0 when unpriced), GPU-hours and on-demand value. */
function idleOf(nc: NodeCost): Idle {
  const cost = nc.idle?.total ?? 0n;
  const price = nc.node.perHour?.total;
  const onDemandPerHour = nc.node.onDemandPerHour;
  const onDemand =
    price && onDemandPerHour !== undefined && onDemandPerHour !== price
      ? divRoundHalfUp(cost * onDemandPerHour, price)
      : cost;
  return { cost, gpuCost: nc.idle?.gpu ?? 0n, gpuSeconds: nc.idleGpuSeconds, onDemand };
}

function addIdle(a: Idle, b: Idle): Idle {
  return {
    cost: a.cost + b.cost,
    gpuCost: a.gpuCost + b.gpuCost,
    gpuSeconds: a.gpuSeconds + b.gpuSeconds,
    onDemand: a.onDemand + b.onDemand,
  };
}

/** A target's cumulative and row fields with what its pods served in the cycle (served-cycle.ts). */
function withServed(
  cycle: LedgerCycle,
  pods: readonly PodFacts[],
  previous: Cumulative | undefined,
  cumulative: Cumulative,
  describe: RowDescriptor,
): { cumulative: Cumulative; describe: RowDescriptor } {
  const served =
    cycle.served &&
    servedInCycle(pods, cycle.served.pods, cycle.nowSeconds - cycle.cycleStartSeconds, cycle.served.windowSeconds);
  return {
    cumulative: withServedCounts(cumulative, previous, served),
    describe: served ? { ...describe, servedModels: served.models } : describe,
  };
}
