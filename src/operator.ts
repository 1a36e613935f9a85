/**
 * The operator's graph, built from explicit dependencies: the caches, the reconcilers and the manager with its
 * controllers. src/main.ts builds it on the real API server, Prometheus and clock; src/testing/harness.ts on the
 * in-memory API, a fake Prometheus and a fake clock. Nothing here starts: the caller starts the reflectors, and
 * the manager's workers when this replica leads.
 */
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { selectorKeys } from './config/node-selector.ts';
import type { Clock } from './controller/clock.ts';
import {
  createClusterCache,
  createOwnEventReflector,
  createPolicyReflector,
  type ClusterCache,
} from './controller/cluster-cache.ts';
import { errorSummary } from './controller/errors.ts';
import { createEventRecorder, type EventRecorder } from './controller/events.ts';
import type { KubeClient } from './controller/kube-client.ts';
import { Manager } from './controller/manager.ts';
import type { Metrics } from './controller/metrics.ts';
import { followPolicySelectors } from './controller/pod-label-keys.ts';
import type { Reflector } from './controller/reflector.ts';
import { WorkQueue } from './controller/workqueue.ts';
import type { PolicyRecord } from './crds/policy-record.ts';
import type { PrometheusClient } from './measure/prometheus-client.ts';
import { BUDGET_DENIAL, BUDGET_WOULD_DENY } from './budget/admission.ts';
import { SPOT_DENIAL } from './policy/spot-denials.ts';
import type { PricingSource } from './pricing/pricing-source.ts';
import { LedgerRetention } from './ledger/retention.ts';
import type { LedgerStore } from './ledger/store.ts';
import { Accountant } from './reconcilers/accounting.ts';
import { AccountingLedger } from './reconcilers/accounting-ledger.ts';
import { AnnotationWriter } from './reconcilers/annotation-writer.ts';
import { BudgetSpend } from './reconcilers/budget-spend.ts';
import { PolicyBudgets } from './reconcilers/policy-budgets.ts';
import { PolicyController } from './reconcilers/policy-controller.ts';
import { Recommender } from './reconcilers/recommender.ts';

/** The singleton keys of the accounting and policy controllers: each passes over the whole cluster. */
const ACCOUNTING_KEY = 'cycle';
const POLICY_KEY = 'all';
const RETENTION_KEY = 'partitions';
const RECOMMEND_KEY = 'recommendations';
/** A failed run (the ledger could not be read) is tried again this soon, or at the interval if shorter. */
const RECOMMEND_RETRY_MS = 60_000;
/** A timer longer than 2^31 ms fires at once, and accounting enqueues a policy pass every interval anyway. */
const SCHEDULE_REQUEUE_CAP_MS = 3_600_000;
const NOT_SYNCED = { requeueAfterMs: 1000 };

/** The parts of the configuration the graph reads: the config itself, or a test's choice of them. */
export type OperatorOptions = Pick<
  Config,
  | 'labelKeys'
  | 'idleOwnerLabel'
  | 'intervalMs'
  | 'idleThreshold'
  | 'minCoverage'
  | 'scrapeIntervalMs'
  | 'annotateIntervalMs'
  | 'writeQps'
  | 'writeBurst'
  | 'namespace'
  | 'defaultMode'
  | 'ledgerWindowMs'
  | 'dcgmSelector'
  | 'inferenceWindowMs'
  | 'inferenceSelector'
  | 'ledgerFlushMs'
  | 'ledgerRetentionMs'
  | 'recommendIntervalMs'
  | 'recommendWindowMs'
  | 'recommendEmptyAfterMs'
> &
  Partial<Pick<Config, 'accountNodes'>>;

export interface OperatorDeps {
  readonly client: KubeClient;
  readonly prometheus: PrometheusClient;
  readonly pricing: PricingSource;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly options: OperatorOptions;
  /** The durable ledger's store (src/ledger/open-sink.ts) and this cluster's id in it. */
  readonly ledger: { readonly store: LedgerStore; readonly clusterId: string };
}

export type Operator = ReturnType<typeof buildOperator>;

export function buildOperator(deps: OperatorDeps) {
  const { client, prometheus, pricing, clock, log, metrics, options } = deps;
  const cache = createClusterCache(client, clock, log, metrics, {
    labelKeys: options.labelKeys,
    // A CPU-only node keeps only the labels something reads: --account-nodes's keys and --idle-owner-label.
    nodeLabelKeys: [...selectorKeys(options.accountNodes), ...(options.idleOwnerLabel ? [options.idleOwnerLabel] : [])],
  });
  const queueMetrics = {
    adds: (name: string) => metrics.queueAdds.inc({ name }),
    depth: (name: string, depth: number) => metrics.queueDepth.set({ name }, depth),
    retries: (name: string) => metrics.queueRetries.inc({ name }),
  };
  const policies = createPolicyReflector(client, clock, log, metrics);
  // A policy selecting bare pods by a label must find it in the pod cache, which keeps only the labels it reads.
  followPolicySelectors(policies, cache.podLabelKeys, cache.pods, log);
  const events = createEventRecorder(client, clock, log);
  // Leader only (started when leading): the webhook's denials, to count in the policies' status.
  const denials = [SPOT_DENIAL, BUDGET_DENIAL, BUDGET_WOULD_DENY].map((kind) => ({
    kind,
    events: createOwnEventReflector(client, clock, log, metrics, kind.eventReason),
  }));
  const writeQueue = new WorkQueue('annotations', clock, undefined, queueMetrics);
  const { writer, ledger, accountant } = buildAccounting(deps, cache, events, writeQueue);
  const protectedNamespaces = new Set(['kube-system', options.namespace]);
  const recommender = buildRecommender(deps, cache, events, accountant);
  const policyController = new PolicyController({
    cache,
    policies,
    denials,
    accountant,
    client,
    prometheus,
    events,
    clock,
    log: log.child({ controller: 'policy' }),
    protectedNamespaces,
    defaultMode: options.defaultMode,
    pricing,
    metrics,
    budgets: buildBudgets(deps, ledger, protectedNamespaces),
    onAction: (policy, rule, action, mode, count) => metrics.policyActions.inc({ policy, rule, action, mode }, count),
    recommendations: recommender && (() => recommender.current),
  });
  const manager = new Manager(clock, log, {
    queueMetrics,
    onResult: (controller, outcome, ms) => {
      metrics.reconcileTotal.inc({ controller, result: outcome });
      metrics.reconcileTime.observe({ controller }, ms / 1000);
      if (outcome === 'error' || outcome === 'terminal') metrics.reconcileErrors.inc({ controller });
    },
  });
  registerControllers(deps, { manager, cache, policies, accountant, policyController, writer, writeQueue });
  registerRetention(deps, manager);
  if (recommender) registerRecommender(deps, manager, cache, recommender);

  return {
    cache,
    policies,
    denials,
    events,
    writeQueue,
    writer,
    ledger,
    accountant,
    policyController,
    recommender,
    manager,
    protectedNamespaces,
    /**
     * This replica now leads: relist everything a previous leader wrote, forget what was decided before, start
     * the workers. `stopping` is asked again after the relists: a stop during them released the Lease already.
     * The accountant's reset makes its next cycle read the durable ledger again.
     */
    async startLeading(stopping: () => boolean): Promise<void> {
      await Promise.all([...cache.all, policies].map((r) => r.resync()));
      // A lost lease ends the process, so this starts once; a failed first list is retried by the reflector.
      await Promise.all(denials.map((d) => d.events.start()));
      if (stopping()) return;
      accountant.reset();
      policyController.reset();
      recommender?.reset();
      writer.reset();
      manager.start();
    },
    /**
     * This replica no longer leads: its queues take no more keys, so no reconcile starts. What is under way is
     * not waited for: the process exits next (src/leadership.ts), which ends it.
     */
    stopLeading(): void {
      writeQueue.shutdown();
      void manager.stop(0);
    },
  };
}

/** The annotation writer, the durable ledger and the accountant that feeds both. */
function buildAccounting(deps: OperatorDeps, cache: ClusterCache, events: EventRecorder, queue: WorkQueue) {
  const { client, prometheus, pricing, clock, log, metrics, options } = deps;
  const writer = new AnnotationWriter({
    client,
    clock,
    log,
    metrics,
    queue,
    annotateIntervalMs: options.annotateIntervalMs,
    writeQps: options.writeQps,
    writeBurst: options.writeBurst,
  });
  const ledger = new AccountingLedger({
    store: deps.ledger.store,
    clusterId: deps.ledger.clusterId,
    windowSeconds: options.ledgerWindowMs / 1000,
    flushSeconds: options.ledgerFlushMs / 1000,
    idleOwnerLabel: options.idleOwnerLabel,
    cache,
    pricing,
    clock,
    log: log.child({ controller: 'ledger' }),
    metrics,
  });
  const accountant = new Accountant({
    cache,
    pricing,
    prometheus,
    writer,
    ledger,
    events,
    clock,
    log: log.child({ controller: 'accounting' }),
    metrics,
    options,
  });
  return { writer, ledger, accountant };
}

/** The budgets read the durable ledger, and the windows the accountant holds in memory. */
function buildBudgets(deps: OperatorDeps, ledger: AccountingLedger, protectedNamespaces: ReadonlySet<string>) {
  const log = deps.log.child({ controller: 'budgets' });
  const spend = new BudgetSpend({
    store: deps.ledger.store,
    clusterId: deps.ledger.clusterId,
    windowMs: deps.options.ledgerWindowMs,
    protectedNamespaces,
    log,
  });
  return new PolicyBudgets({ spend, recent: () => ledger.recentWindows(), log, metrics: deps.metrics });
}

/**
 * The ledger's retention (--ledger-retention, 0: none): a controller of its own, so it runs only on the leader
 * and never beside itself; it asks again when the next daily pass is due. A failure backs off on the queue.
 */
function registerRetention({ ledger, options, clock, log }: OperatorDeps, manager: Manager): void {
  if (options.ledgerRetentionMs <= 0) return;
  const retention = new LedgerRetention({
    store: ledger.store,
    clusterId: ledger.clusterId,
    retentionMs: options.ledgerRetentionMs,
    now: () => clock.now(),
    log: log.child({ controller: 'ledger-retention' }),
  });
  manager.register({
    name: 'ledger-retention',
    initialKeys: [RETENTION_KEY],
    reconcile: async () => ({ requeueAfterMs: await retention.run() }),
  });
}

/** The recommender (--recommend-interval, 0: none), on the operator's own ledger, Prometheus and cache. */
function buildRecommender(
  deps: OperatorDeps,
  cache: ClusterCache,
  events: EventRecorder,
  accountant: Accountant,
): Recommender | undefined {
  const { options } = deps;
  if (options.recommendIntervalMs <= 0) return undefined;
  return new Recommender({
    cache,
    ledger: deps.ledger,
    prometheus: deps.prometheus,
    events,
    metrics: deps.metrics,
    clock: deps.clock,
    log: deps.log.child({ controller: 'recommendations' }),
    options,
    measurement: () => accountant.measurement,
  });
}

/**
 * A controller of its own, so it runs only on the leader and never beside itself; after each run the policies'
 * status.recommendations are brought up to date by a policy pass.
 */
function registerRecommender(deps: OperatorDeps, manager: Manager, cache: ClusterCache, recommender: Recommender) {
  const { options, log, metrics } = deps;
  manager.register({
    name: 'recommendations',
    initialKeys: [RECOMMEND_KEY],
    reconcile: async () => {
      if (!cache.hasSynced()) return NOT_SYNCED;
      try {
        await recommender.runCycle();
      } catch (error) {
        // Not the queue's backoff from 5 ms: a ledger that cannot be read is asked again in a minute.
        metrics.reconcileErrors.inc({ controller: 'recommendations' });
        log.error({ err: errorSummary(error) }, 'recommendations could not be computed; what they show is unchanged');
        return { requeueAfterMs: Math.min(options.recommendIntervalMs, RECOMMEND_RETRY_MS) };
      }
      manager.enqueue('policy', POLICY_KEY);
      return { requeueAfterMs: options.recommendIntervalMs };
    },
  });
}

/** Every loop is a controller on the manager's keyed queues; workers run only while this replica leads. */
function registerControllers(
  deps: OperatorDeps,
  parts: {
    manager: Manager;
    cache: ClusterCache;
    policies: Reflector<PolicyRecord>;
    accountant: Accountant;
    policyController: PolicyController;
    writer: AnnotationWriter;
    writeQueue: WorkQueue;
  },
): void {
  const { pricing, clock, log, metrics, options } = deps;
  const { manager, cache, policies, accountant, policyController, writer, writeQueue } = parts;
  manager.register({
    name: 'accounting',
    initialKeys: [ACCOUNTING_KEY],
    reconcile: async () => {
      if (!cache.hasSynced()) {
        log.info('waiting for the caches to sync before accounting');
        return NOT_SYNCED;
      }
      await pricing.refresh();
      try {
        await accountant.runCycle();
      } catch (error) {
        // Not the queue's backoff from 5 ms: accrual resumes from each ledger's accounted-until, so the next
        // cycle at the interval covers this one's time, and a long outage does not push it out by minutes.
        metrics.reconcileErrors.inc({ controller: 'accounting' });
        log.error({ err: errorSummary(error) }, 'accounting cycle failed; the next cycle covers its interval');
        return { requeueAfterMs: options.intervalMs };
      }
      // Policies decide on the measurement just made.
      manager.enqueue('policy', POLICY_KEY);
      return { requeueAfterMs: options.intervalMs };
    },
  });
  manager.register({
    name: 'policy',
    reconcile: async () => {
      // Not synced yet: the next accounting cycle enqueues the pass again.
      if (!policies.synced || !cache.hasSynced()) return undefined;
      // A wake or sleep schedule acts at its minute, not at the next accounting interval: the pass comes back
      // then (the key is one key, so a pass due during another runs after it).
      const { nextScheduleAtMs } = await policyController.runCycle();
      if (nextScheduleAtMs === undefined) return undefined;
      return { requeueAfterMs: Math.min(nextScheduleAtMs - clock.now(), SCHEDULE_REQUEUE_CAP_MS) };
    },
  });
  manager.register({ name: 'annotations', queue: writeQueue, workers: 4, reconcile: (key) => writer.reconcile(key) });
}
