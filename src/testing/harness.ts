/**
 * Builds the operator's reconcilers on an in-memory API and a fake clock, as src/main.ts wires them on
 * the real ones: for reconcile unit tests.
 */
import { pino, type Logger } from 'pino';
import { collectionPath } from '../controller/api-paths.ts';
import { FakeClock } from '../controller/clock.ts';
import { createClusterCache } from '../controller/cluster-cache.ts';
import { createEventRecorder, type EventRecorder } from '../controller/events.ts';
import { createMetrics } from '../controller/metrics.ts';
import { Reflector } from '../controller/reflector.ts';
import { runWorkers } from '../controller/workqueue.ts';
import { projectPolicy, type PolicyRecord } from '../crds/policy-record.ts';
import type { MatrixSeries } from '../measure/gpu-utilization.ts';
import { PrometheusError, type PrometheusClient } from '../measure/prometheus-client.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { createPricingProvider } from '../pricing/provider.ts';
import type { CustomPricing } from '../pricing/custom-pricing.ts';
import { SpotAdmission } from '../reconcilers/spot-admission.ts';
import { buildOperator, type OperatorOptions } from '../operator.ts';
import type { ObjectSink } from '../ledger/sink.ts';
import { LedgerStore } from '../ledger/store.ts';
import type { FakeKube } from './fake-kube.ts';
import { MemorySink } from './memory-sink.ts';

const log = pino({ level: 'silent' });

/**
 * Serves DCGM_FI_PROF_GR_ENGINE_ACTIVE for the pods in `utilization` ("namespace/name" -> ratio) and
 * DCGM_FI_DEV_GPU_UTIL for those in `devUtilization` (percent), a sample every 5 s; and instant vectors (the
 * inference signals' increases) from `vectors`.
 */
export class FakePrometheus implements PrometheusClient {
  down = false;
  readonly utilization = new Map<string, number>();
  readonly devUtilization = new Map<string, number>();
  /** Answers to other queries (e.g. a policy's requestsQuery), by a substring of the query. */
  readonly answers = new Map<string, number>();
  /** The range queries asked (DCGM, policies). */
  readonly queries: string[] = [];
  /**
   * Instant-vector answers by metric name: every query that names the metric (followed by `{` or `[`) gets its
   * series, each with its one value, as PromQL's `sum by` would have made them.
   */
  readonly vectors = new Map<string, { labels: Record<string, string>; value: number | string }[]>();
  readonly vectorQueries: string[] = [];
  queryVector(query: string, time: number): Promise<MatrixSeries[]> {
    this.vectorQueries.push(query);
    if (this.down) return Promise.reject(new PrometheusError('connection refused'));
    const series: MatrixSeries[] = [];
    for (const [metric, answers] of this.vectors) {
      if (!query.includes(`${metric}{`) && !query.includes(`${metric}[`)) continue;
      for (const { labels, value } of answers) series.push({ metric: labels, values: [[time, String(value)]] });
    }
    return Promise.resolve(series);
  }
  queryMatrix(query: string, time: number): Promise<MatrixSeries[]> {
    this.queries.push(query);
    if (this.down) return Promise.reject(new PrometheusError('connection refused'));
    for (const [needle, value] of this.answers) {
      if (query.includes(needle)) return Promise.resolve([{ metric: {}, values: [[time, String(value)]] }]);
    }
    const source = query.startsWith('DCGM_FI_PROF_GR_ENGINE_ACTIVE')
      ? this.utilization
      : query.startsWith('DCGM_FI_DEV_GPU_UTIL')
        ? this.devUtilization
        : new Map<string, number>();
    const window = Number(/\[(\d+)s\]/.exec(query)?.[1] ?? 60);
    const series: MatrixSeries[] = [];
    for (const [key, value] of source) {
      const [namespace = '', pod = ''] = key.split('/');
      const values: (readonly [number, string])[] = [];
      for (let t = time - window + 5; t <= time; t += 5) values.push([t, String(value)]);
      series.push({ metric: { pod, namespace, gpu: '0' }, values });
    }
    return Promise.resolve(series);
  }
}

const POLICIES_PATH = collectionPath('AICostPolicy');

function policyReflector(api: FakeKube, clock: FakeClock): Reflector<PolicyRecord> {
  return new Reflector<PolicyRecord>(
    { name: 'aicostpolicies', path: POLICIES_PATH, project: projectPolicy },
    api,
    clock,
    log,
  );
}

/** An AdmissionReview of a Pod CREATE in `namespace`, as the API server sends it to the spot webhook. */
export function podCreateReview(object: unknown, over: Record<string, unknown> = {}, namespace = 'ml') {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'req-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace,
      object,
      ...over,
    },
  };
}

/** The spot admission webhook's reviewer on an in-memory API, wired as src/main.ts wires it. */
export async function startSpotAdmission(
  api: FakeKube,
  clock: FakeClock,
  options: {
    defaultMode?: 'Audit' | 'Enforce';
    conventions?: 'all' | 'observed';
    /** Defaults to a recorder that writes Events to the in-memory API. */
    events?: EventRecorder;
    /** Defaults to a silent logger. */
    log?: Logger;
    /** Defaults to the built-in catalog's prices. */
    pricing?: PricingSource;
  } = {},
) {
  const metrics = createMetrics(['team'], 100);
  const fixed = createPricingProvider();
  const cache = createClusterCache(api, clock, log, metrics, { labelKeys: ['team'] });
  const policies = policyReflector(api, clock);
  await cache.start();
  await policies.start();
  const admission = new SpotAdmission({
    cache,
    policies,
    events: options.events ?? createEventRecorder(api, clock, log),
    metrics,
    log: options.log ?? log,
    clock,
    pricing: options.pricing ?? { current: () => fixed, refresh: () => Promise.resolve(undefined) },
    protectedNamespaces: new Set(['kube-system', 'aicost-system']),
    defaultMode: options.defaultMode ?? 'Audit',
    conventions: options.conventions ?? 'all',
  });
  return {
    admission,
    metrics,
    stop() {
      cache.stop();
      policies.stop();
    },
  };
}

/** The ledger an operator of the harness writes: by default a new one in memory, so every start is a first. */
export interface HarnessLedger {
  readonly sink?: ObjectSink;
  readonly clusterId?: string;
  readonly windowMs?: number;
  readonly intervalMs?: number;
  /** --ledger-flush-interval; 0 (every cycle) by default. */
  readonly flushMs?: number;
}

/** The operator's options in the reconcile tests: a minute's interval, every write at once, Audit. */
export function harnessOptions(over: Partial<OperatorOptions> = {}): OperatorOptions {
  return {
    labelKeys: ['team'],
    idleOwnerLabel: undefined,
    intervalMs: 60_000,
    idleThreshold: 0.05,
    minCoverage: 0.6,
    scrapeIntervalMs: 15_000,
    annotateIntervalMs: 0,
    writeQps: 100,
    writeBurst: 100,
    namespace: 'aicost-system',
    defaultMode: 'Audit',
    ledgerWindowMs: 3_600_000,
    ledgerFlushMs: 0,
    ledgerRetentionMs: 0,
    dcgmSelector: '',
    inferenceWindowMs: 3_600_000,
    inferenceSelector: '',
    recommendIntervalMs: 0,
    recommendWindowMs: 86_400_000,
    recommendEmptyAfterMs: 7_200_000,
    ...over,
  };
}

/** A g5.xlarge GPU node (priced by the built-in catalog) named g5. */
export function putG5Node(api: FakeKube): void {
  api.put('/api/v1/nodes', {
    metadata: { name: 'g5', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
    status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
  });
}

/**
 * The operator's graph on the in-memory API with the harness's options and a ledger in memory, nothing started:
 * for the tests that run it as src/main.ts does, under the manager and leader election.
 */
export function buildFakeOperator(
  api: FakeKube,
  clock: FakeClock,
  prometheus: PrometheusClient,
  over: { readonly store?: LedgerStore; readonly options?: Partial<OperatorOptions> } = {},
) {
  const metrics = createMetrics(['team'], 100);
  const fixed = createPricingProvider();
  const operator = buildOperator({
    client: api,
    prometheus,
    pricing: { current: () => fixed, refresh: () => Promise.resolve(undefined) },
    clock,
    log,
    metrics,
    options: harnessOptions(over.options),
    ledger: { store: over.store ?? new LedgerStore(new MemorySink()), clusterId: 'test-cluster' },
  });
  return { operator, metrics };
}

export async function startOperator(
  api: FakeKube,
  clock: FakeClock,
  prometheus: PrometheusClient,
  labelKeys: readonly string[] = ['team'],
  defaultMode: 'Audit' | 'Enforce' = 'Audit',
  custom?: CustomPricing,
  ledgerOptions: HarnessLedger = {},
  /** Any other option, over the harness's (e.g. --annotate-interval). */
  over: Partial<OperatorOptions> = {},
) {
  const metrics = createMetrics(labelKeys, 100);
  const store = new LedgerStore(ledgerOptions.sink ?? new MemorySink());
  const fixed = createPricingProvider(custom);
  const pricing: PricingSource = { current: () => fixed, refresh: () => Promise.resolve(undefined) };
  // The same graph src/main.ts builds; the tests drive the cycles themselves rather than start the manager.
  const operator = buildOperator({
    client: api,
    prometheus,
    pricing,
    clock,
    log,
    metrics,
    ledger: { store, clusterId: ledgerOptions.clusterId ?? 'test-cluster' },
    options: harnessOptions({
      labelKeys,
      defaultMode,
      intervalMs: ledgerOptions.intervalMs ?? 60_000,
      ledgerWindowMs: ledgerOptions.windowMs ?? 3_600_000,
      ledgerFlushMs: ledgerOptions.flushMs ?? 0,
      ...over,
    }),
  });
  const { cache, policies, denials, accountant, policyController, writer, writeQueue: queue, ledger } = operator;
  await policies.start();
  await cache.start();
  await Promise.all(denials.map((d) => d.events.start()));
  const workers = runWorkers(queue, 2, (key) => writer.reconcile(key), clock);
  return {
    accountant,
    policyController,
    metrics,
    ledger,
    store,
    /** One accounting cycle, then the policy cycle, then let the writers finish. */
    async cycle() {
      await accountant.runCycle();
      await ledger.flush();
      await policyController.runCycle();
      await clock.advance(1000);
    },
    /** Stops the caches and queues, as a process exits; `kill` is left to the sink (MemorySink.kill). */
    async stop() {
      await ledger.flush();
      queue.shutdown();
      cache.stop();
      policies.stop();
      for (const d of denials) d.events.stop();
      await workers;
    },
  };
}

/**
 * Starts an operator on `api` at `start` and runs `minutes` of it: each minute 59 s of time, then one cycle
 * (which lets the writers finish in its last second).
 */
export async function runOperatorFor(api: FakeKube, prometheus: PrometheusClient, minutes: number, start: number) {
  const clock = new FakeClock(start);
  const op = await startOperator(api, clock, prometheus);
  for (let i = 0; i < minutes; i++) {
    await clock.advance(59_000);
    await op.cycle();
  }
  return { op, clock };
}
