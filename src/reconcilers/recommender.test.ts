/**
 * The operator's recommender wired as src/operator.ts wires it, on the in-memory API, a ledger in memory and a
 * scripted Prometheus. The scenario is the worked example's, over a 2 h window of hourly ledger windows:
 *   serving/chat-api  a Deployment holding one A100 of a p4d.24xlarge, its pod 10 % busy with 6 GiB used
 *                     -> right-size to a g4dn.xlarge, 901.3348325 USD a month, as docs/unit-economics.md computes
 *   node gpu-spare    a g5.xlarge none of whose GPUs was requested for 2 h -> empty-node, 734.38 USD a month
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FakeClock } from '../controller/clock.ts';
import { createMetrics, OVERFLOW } from '../controller/metrics.ts';
import { parseMoney } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import type { MatrixSeries } from '../measure/gpu-utilization.ts';
import { PrometheusError, type PrometheusClient } from '../measure/prometheus-client.ts';
import { podQueries } from '../recommend/observe.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { buildFakeOperator } from '../testing/harness.ts';
import { jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import type { Measurement } from './accounting.ts';
import { Recommender } from './recommender.ts';

/** A ledger sink whose listings fail while `failing` is set. */
class FlakySink extends MemorySink {
  failing = false;
  override list(prefix: string): Promise<string[]> {
    return this.failing ? Promise.reject(new Error('storage unavailable')) : super.list(prefix);
  }
}

const HOUR_MS = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 2, 10);
const WINDOW_MS = 2 * HOUR_MS;
const CLUSTER = 'test-cluster';
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const POD = 'chat-api-7d4b9c8f6d-x2x9q';

/** Answers each of the six queries of the window, per pod, as PromQL's `by (pod, namespace)` would. */
class ScriptedPrometheus implements PrometheusClient {
  down = false;
  readonly answers = new Map<string, { labels: Record<string, string>; value: string }[]>();
  readonly asked: string[] = [];
  queryVector(query: string, time: number): Promise<MatrixSeries[]> {
    this.asked.push(query);
    if (this.down) return Promise.reject(new PrometheusError('connection refused'));
    const series = (this.answers.get(query) ?? []).map((a) => ({
      metric: a.labels,
      values: [[time, a.value]] as const,
    }));
    return Promise.resolve(series);
  }
  queryMatrix(): Promise<MatrixSeries[]> {
    return Promise.resolve([]);
  }
  /** The chat pod's GPU at `busiest` (ratio) with 6 GiB used, sampled every 15 s for the whole window. */
  serve(busiest: string): void {
    const q = podQueries(WINDOW_MS / 1000, 0.05);
    const chat = { pod: POD, namespace: 'serving' };
    const one = (value: string) => [{ labels: chat, value }];
    this.answers.set(q.gpus, one('1'));
    this.answers.set(q.busiest, one(busiest));
    this.answers.set(q.samples, one(String(WINDOW_MS / 15_000)));
    this.answers.set(q.memory, one('6144'));
    this.answers.set(q.memoryGpus, one('1'));
  }
}

function hourRows(h: number): LedgerRow[] {
  const w = { clusterId: CLUSTER, windowStartMs: Date.UTC(2026, 11, 1, h), windowEndMs: Date.UTC(2026, 11, 1, h + 1) };
  const onDemand = { capacityType: 'on-demand', region: 'us-east-1', spotSavings: 0n, labels: {} } as const;
  return [
    jobRow({
      ...w,
      ...onDemand,
      namespace: 'serving',
      workloadKind: 'Deployment',
      workloadName: 'chat-api',
      workloadUid: 'u-chat',
      jobOutcome: '',
      instanceType: 'p4d.24xlarge',
      gpuModel: 'NVIDIA-A100-SXM4-40GB',
      gpuHours: 1_000_000_000n,
      cost: parseMoney('1.76070525'),
    }),
    nodeRow({
      ...w,
      ...onDemand,
      workloadName: 'gpu-spare',
      workloadUid: 'n-spare',
      instanceType: 'g5.xlarge',
      gpuModel: 'NVIDIA-A10G',
      gpuHours: 1_000_000_000n,
      cost: parseMoney('1.006'),
    }),
  ];
}

function seed(api: FakeKube): void {
  api.put('/api/v1/namespaces', { metadata: { name: 'serving', labels: { tier: 'prod' } } });
  for (const [name, type, gpus] of [
    ['gpu-p4d-1', 'p4d.24xlarge', '8'],
    ['gpu-spare', 'g5.xlarge', '1'],
  ] as const)
    api.put('/api/v1/nodes', {
      metadata: { name, labels: { 'node.kubernetes.io/instance-type': type } },
      status: { allocatable: { cpu: '96', memory: '1152Gi', 'nvidia.com/gpu': gpus } },
    });
  api.put('/apis/apps/v1/namespaces/serving/deployments', {
    metadata: { name: 'chat-api', namespace: 'serving', uid: 'u-chat', labels: { app: 'chat' } },
    spec: { replicas: 1, template: { metadata: {} } },
  });
  api.put('/apis/apps/v1/namespaces/serving/replicasets', {
    metadata: {
      name: 'chat-api-7d4b9c8f6d',
      namespace: 'serving',
      ownerReferences: [{ kind: 'Deployment', name: 'chat-api', controller: true }],
    },
  });
  api.put('/api/v1/namespaces/serving/pods', {
    metadata: {
      name: POD,
      namespace: 'serving',
      uid: 'p-chat',
      labels: { app: 'chat' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'chat-api-7d4b9c8f6d', controller: true }],
    },
    spec: { nodeName: 'gpu-p4d-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(NOW - 3 * HOUR_MS).toISOString() },
  });
  for (const [name, selector] of [
    ['chat', { app: 'chat' }],
    ['others', { app: 'other' }],
  ] as const)
    api.put(POLICIES, {
      metadata: { name, generation: 1 },
      spec: { selector: { matchLabels: selector }, rules: { recommendations: { top: 3 } } },
    });
}

let api: FakeKube;
let clock: FakeClock;
let prometheus: ScriptedPrometheus;

async function start(store?: LedgerStore) {
  const ledger = store ?? new LedgerStore(new MemorySink());
  if (!store) for (const h of [0, 1]) await ledger.writeWindow(CLUSTER, Date.UTC(2026, 11, 1, h), hourRows(h));
  const built = buildFakeOperator(api, clock, prometheus, {
    store: ledger,
    options: { recommendIntervalMs: HOUR_MS, recommendWindowMs: WINDOW_MS, recommendEmptyAfterMs: 2 * HOUR_MS },
  });
  const { operator } = built;
  await operator.cache.start();
  await operator.policies.start();
  const recommender = operator.recommender;
  if (!recommender) throw new Error('the recommender is off');
  return { ...built, recommender, ledger };
}

const events = (reason?: string) =>
  [...api.objectsUnder('/api/v1/namespaces/serving/events'), ...api.objectsUnder('/api/v1/namespaces/default/events')]
    .map((e) => e as unknown as { reason: string; message: string; involvedObject: { kind: string; name: string } })
    .filter((e) => reason === undefined || e.reason === reason)
    .map((e) => [e.involvedObject.kind, e.involvedObject.name, e.reason, e.message]);

async function gauge(metrics: ReturnType<typeof buildFakeOperator>['metrics']) {
  const { values } = await metrics.recommendationSaving.get();
  return values.map((v) => [v.labels.type, v.labels.namespace, v.labels.target, v.labels.currency, v.value]);
}

const policyStatus = (name: string) =>
  (api.object(`${POLICIES}/${name}`) as unknown as { status?: { recommendations?: unknown } }).status?.recommendations;

beforeEach(() => {
  api = new FakeKube();
  clock = new FakeClock(NOW);
  prometheus = new ScriptedPrometheus();
  seed(api);
  prometheus.serve('0.1');
});

/** A Recommender on a started operator's cache and ledger, with metrics and a measurement of the test's own. */
function direct(
  { operator, ledger }: Awaited<ReturnType<typeof start>>,
  metrics = createMetrics(['team'], 100),
  measurement: () => Measurement | undefined = () => undefined,
): Recommender {
  return new Recommender({
    cache: operator.cache,
    ledger: { store: ledger, clusterId: CLUSTER },
    prometheus,
    events: operator.events,
    metrics,
    clock,
    log: pino({ level: 'silent' }),
    options: {
      recommendWindowMs: WINDOW_MS,
      recommendEmptyAfterMs: 2 * HOUR_MS,
      ledgerWindowMs: HOUR_MS,
      scrapeIntervalMs: 15_000,
      dcgmSelector: '',
    },
    measurement,
  });
}

const RIGHT_SIZE_MESSAGE =
  'right-size to g4dn.xlarge: saves 901.33 USD a month (confidence medium): GPUs at most 10 % busy using 6144 MiB of 40960 MiB: g4dn.xlarge (Tesla-T4) fits with 25 % headroom';

describe('the recommender in the operator', () => {
  it('gives one Event per recommendation on its workload or Node, the gauge, and the policies’ summary', async () => {
    const { operator, recommender, metrics } = await start();
    expect(await recommender.runCycle()).toEqual({ recommendations: 2, events: 2, partial: undefined });
    expect(events()).toEqual([
      ['Deployment', 'chat-api', 'Recommendation', RIGHT_SIZE_MESSAGE],
      [
        'Node',
        'gpu-spare',
        'Recommendation',
        'empty-node: saves 734.38 USD a month (confidence high): no pod requested any of its 1 GPUs for 2 h, costing 2.01 USD: scale it down',
      ],
    ]);
    expect(await gauge(metrics)).toEqual([
      ['right-size', 'serving', 'Deployment/chat-api', 'USD', 901.3348325],
      ['empty-node', '', 'Node/gpu-spare', 'USD', 734.38],
    ]);
    await operator.policyController.runCycle();
    expect(policyStatus('chat')).toEqual({
      count: 1,
      monthlySaving: '901.33',
      currency: 'USD',
      byType: [{ type: 'right-size', count: 1, monthlySaving: '901.33' }],
      top: [
        { type: 'right-size', target: 'serving/Deployment/chat-api', monthlySaving: '901.33', confidence: 'medium' },
      ],
    });
    expect(policyStatus('others')).toEqual({
      count: 0,
      monthlySaving: '0.00',
      currency: 'USD',
      byType: [],
      top: [],
    });
  });

  it('gives none again while nothing changed, and one when a recommendation goes', async () => {
    const { recommender, metrics } = await start();
    await recommender.runCycle();
    await clock.advance(HOUR_MS / 2);
    expect((await recommender.runCycle()).events).toBe(0);
    expect(events()).toHaveLength(2);

    // The endpoint got busy: the right-size recommendation goes, with its Event and its series.
    prometheus.serve('0.9');
    expect((await recommender.runCycle()).events).toBe(1);
    expect(events('RecommendationGone')).toEqual([
      [
        'Deployment',
        'chat-api',
        'RecommendationGone',
        "right-size no longer recommended: the last run's data no longer supports it (it would have saved 901.33 USD a month)",
      ],
    ]);
    expect(await gauge(metrics)).toEqual([['empty-node', '', 'Node/gpu-spare', 'USD', 734.38]]);
    expect(recommender.current?.map((r) => r.type)).toEqual(['empty-node']);
  });

  it('changes nothing while the metrics are partial: no new recommendation, none gone, no Event', async () => {
    const { recommender, metrics } = await start();
    prometheus.down = true;
    // From nothing: the workloads get no recommendation from partial metrics (the node's, from the ledger, stands).
    expect(await recommender.runCycle()).toMatchObject({ recommendations: 1, events: 1 });
    expect(events().map((e) => e[1])).toEqual(['gpu-spare']);

    prometheus.down = false;
    await recommender.runCycle();
    expect(events()).toHaveLength(2);
    // Partial again: what was recommended stays, neither gone nor repeated.
    prometheus.down = true;
    expect(await recommender.runCycle()).toMatchObject({ recommendations: 2, events: 0 });
    expect(await gauge(metrics)).toHaveLength(2);
    expect(events()).toHaveLength(2);
  });

  it('recommends nothing for a workload whose GPU pod has not run the whole window, or has no figures', async () => {
    api.put('/api/v1/namespaces/serving/pods', {
      metadata: {
        name: 'chat-api-7d4b9c8f6d-new01',
        namespace: 'serving',
        labels: { app: 'chat' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'chat-api-7d4b9c8f6d', controller: true }],
      },
      spec: { nodeName: 'gpu-p4d-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(NOW - 10 * 60_000).toISOString() },
    });
    const { recommender } = await start();
    await recommender.runCycle();
    expect(recommender.current?.map((r) => r.type)).toEqual(['empty-node']);
  });

  it('reads no window it has not finished, and the window from whole ledger windows only', async () => {
    const store = new LedgerStore(new MemorySink());
    // Only the last hour is in the ledger: one hour of a two-hour window is too little.
    await store.writeWindow(CLUSTER, Date.UTC(2026, 11, 1, 1), hourRows(1));
    const { recommender } = await start(store);
    await recommender.runCycle();
    expect(recommender.current).toEqual([]);
  });

  it('changes nothing in the cluster: its only writes are Events (and the policies’ status)', async () => {
    const { operator, recommender } = await start();
    await recommender.runCycle();
    prometheus.serve('0.9');
    await recommender.runCycle();
    await operator.policyController.runCycle();
    const writes = api.requests.filter((r) => !['get', 'list', 'watch'].includes(r.verb));
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes)
      expect(
        (w.verb === 'create' && w.path.endsWith('/events')) ||
          // The fake API records a /status patch a second time as one of its parent.
          (w.verb === 'patch' && /\/aicostpolicies\/[a-z]+(\/status)?$/.test(w.path)),
        `${w.verb} ${w.path}`,
      ).toBe(true);
  });

  it('is off with --recommend-interval 0, and the policies then show no summary', async () => {
    const { operator } = buildFakeOperator(api, clock, prometheus, { options: { recommendIntervalMs: 0 } });
    expect(operator.recommender).toBeUndefined();
    await operator.cache.start();
    await operator.policies.start();
    await operator.policyController.runCycle();
    expect(policyStatus('chat')).toBeUndefined();
    expect(prometheus.asked).toEqual([]);
  });

  it('runs under the manager once synced, then every interval; an unreadable ledger is tried again in a minute', async () => {
    const sink = new FlakySink();
    const store = new LedgerStore(sink);
    for (const h of [0, 1]) await store.writeWindow(CLUSTER, Date.UTC(2026, 11, 1, h), hourRows(h));
    const { operator, metrics } = await start(store);
    const memoryQuery = podQueries(WINDOW_MS / 1000, 0.05).memory;
    const runs = () => prometheus.asked.filter((q) => q === memoryQuery).length;
    const errors = async () =>
      (await metrics.reconcileErrors.get()).values.find((v) => v.labels.controller === 'recommendations')?.value ?? 0;
    operator.manager.start();
    await clock.advance(1000);
    expect(runs()).toBe(1);
    await clock.advance(HOUR_MS - 2000);
    expect(runs()).toBe(1);
    await clock.advance(2000);
    expect(runs()).toBe(2);

    sink.failing = true;
    await clock.advance(HOUR_MS);
    expect([runs(), await errors()]).toEqual([2, 1]);
    sink.failing = false;
    await clock.advance(60_000);
    expect(runs()).toBe(3);
    await operator.manager.stop();
    operator.cache.stop();
    operator.policies.stop();
  });

  it('folds targets past the cardinality limit into __overflow__, whose series sums them', async () => {
    api.put('/api/v1/nodes', {
      metadata: { name: 'gpu-spare-2', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
      status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
    });
    const store = new LedgerStore(new MemorySink());
    for (const h of [0, 1]) {
      const rows = hourRows(h);
      const spare = rows.find((r) => r.workloadName === 'gpu-spare');
      if (spare) rows.push({ ...spare, workloadName: 'gpu-spare-2', workloadUid: 'n-spare-2' });
      await store.writeWindow(CLUSTER, Date.UTC(2026, 11, 1, h), rows);
    }
    const metrics = createMetrics(['team'], 1);
    const recommender = direct(await start(store), metrics);
    await recommender.runCycle();
    expect(await gauge(metrics)).toEqual([
      ['right-size', 'serving', 'Deployment/chat-api', 'USD', 901.3348325],
      ['empty-node', '', OVERFLOW, 'USD', 1468.76],
    ]);
  });

  it('trusts no figure from Prometheus while the last accounting cycle could not measure', async () => {
    const failed: Measurement = {
      available: false,
      reason: 'Prometheus query failed: connection refused',
      windowStartMs: NOW - 60_000,
      windowEndMs: NOW,
      pods: new Map(),
      unknown: new Map(),
    };
    const recommender = direct(await start(), undefined, () => failed);
    expect(await recommender.runCycle()).toEqual({
      recommendations: 1,
      events: 1,
      partial: 'the last accounting cycle could not measure: Prometheus query failed: connection refused',
    });
    expect(prometheus.asked).toEqual([]);
  });

  it('leaves a policy’s summary as it was until the first run after a start', async () => {
    const { operator, recommender } = await start();
    const before = { count: 7, monthlySaving: '1.00', currency: 'USD', byType: [], top: [] };
    await api.patch(`${POLICIES}/chat/status`, { status: { recommendations: before } }, 'merge');
    await clock.advance(1000);
    await operator.policyController.runCycle();
    expect(policyStatus('chat')).toEqual(before);
    await recommender.runCycle();
    await operator.policyController.runCycle();
    expect(policyStatus('chat')).toMatchObject({ count: 1, monthlySaving: '901.33' });
  });
});
