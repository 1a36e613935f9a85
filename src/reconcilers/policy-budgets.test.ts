/**
 * Budgets (issue #16): PolicyBudgets alone (gauges, passes without a plan), then the whole operator on the
 * in-memory API with a fake clock: the spend from the ledger and the accountant's memory, the thresholds'
 * Events once each, a restart between them, a period roll-over, a deleted workload, an unknown time zone.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { createMetrics } from '../controller/metrics.ts';
import { policySpecSchema, type PolicyStatus } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { RecentWindows } from '../ledger/accrual.ts';
import { LedgerStore } from '../ledger/store.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, startOperator, type HarnessLedger } from '../testing/harness.ts';
import { jobRow } from '../testing/ledger-rows.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { BudgetSpend } from './budget-spend.ts';
import { budgetsToSleep, PolicyBudgets } from './policy-budgets.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 23, 12);

const record = (name: string, rules: Record<string, unknown>): PolicyRecord => ({
  name,
  uid: `uid-${name}`,
  generation: 1,
  spec: policySpecSchema.parse({ rules }),
  invalid: undefined,
  status: undefined,
});

const RECENT: RecentWindows = {
  windows: [
    {
      windowStartMs: T,
      rows: [jobRow({ windowStartMs: T, windowEndMs: T + HOUR, cost: 5n * 10n ** 9n })],
      targets: [],
    },
  ],
  throughMs: T + HOUR / 2,
};

function budgets(sink: MemorySink, recent: () => RecentWindows | undefined) {
  const metrics = createMetrics([], 10);
  const spend = new BudgetSpend({
    store: new LedgerStore(sink),
    clusterId: 'prod-1',
    windowMs: HOUR,
    protectedNamespaces: new Set(),
    log: pino({ level: 'silent' }),
  });
  return { metrics, budgets: new PolicyBudgets({ spend, recent, log: pino({ level: 'silent' }), metrics }) };
}

describe('PolicyBudgets', () => {
  it('sets the gauges of each budget, and removes them when the budget goes', async () => {
    const { metrics, budgets: b } = budgets(new MemorySink(), () => RECENT);
    const plans = await b.plan([record('a', { budget: { amount: '10' } }), record('b', { idleGPU: {} })], 'USD', T);
    expect([...plans.keys()]).toEqual(['a']);
    expect(plans.get('a')?.status).toMatchObject({ spent: '5.000000', percent: 50 });
    const text = () => metrics.registry.getSingleMetricAsString('aicost_budget_spent_ratio');
    expect(await text()).toContain('aicost_budget_spent_ratio{policy="a"} 0.5');
    await b.plan([record('a', { idleGPU: {} })], 'USD', T);
    expect(await text()).not.toContain('policy="a"');
  });

  it('plans nothing, so the status keeps its budget, before the first accounting cycle or when the ledger fails', async () => {
    const early = budgets(new MemorySink(), () => undefined).budgets;
    expect((await early.plan([record('a', { budget: { amount: '10' } })], 'USD', T)).size).toBe(0);
    const sink = new MemorySink();
    sink.kill();
    const failing = budgets(sink, () => RECENT).budgets;
    expect((await failing.plan([record('a', { budget: { amount: '10' } })], 'USD', T)).size).toBe(0);
  });

  it('builds no open-window rows when no policy has a budget: that would cost every cycle every target', async () => {
    let asked = 0;
    const b = budgets(new MemorySink(), () => (asked++, RECENT)).budgets;
    expect((await b.plan([record('b', { idleGPU: {} })], 'USD', T)).size).toBe(0);
    expect(asked).toBe(0);
    await b.plan([record('a', { budget: { amount: '10' } })], 'USD', T);
    expect(asked).toBe(1);
  });

  it('skips a budget whose time zone it cannot use (Ready says why)', async () => {
    const { budgets: b } = budgets(new MemorySink(), () => RECENT);
    const plans = await b.plan([record('a', { budget: { amount: '10', timeZone: 'Mars/Olympus' } })], 'USD', T);
    expect(plans.size).toBe(0);
  });
});

describe('budgetsToSleep', () => {
  const exceeded = {
    periodStart: '2026-11-01T00:00:00Z',
    periodEnd: '2026-12-01T00:00:00Z',
    accountedUntil: '2026-11-23T12:00:00Z',
    spent: '10.421000',
    percent: 104,
    forecast: '30.00',
    forecastPercent: 300,
    exceededAt: '2026-11-23T10:00:00Z',
  };
  const withStatus = (rules: Record<string, unknown>, status: PolicyStatus, generation = 1): PolicyRecord => ({
    ...record('p', rules),
    generation,
    status,
  });
  const sleepy = { budget: { amount: '10.00', mode: 'Enforce', onExceeded: ['ScaleDevToZero'] } };
  it.each([
    ['exceeded, from the status of this generation', sleepy, { observedGeneration: 1, budget: exceeded }, 1, T, true],
    [
      'a status of the generation before (just edited)',
      sleepy,
      { observedGeneration: 1, budget: exceeded },
      2,
      T,
      false,
    ],
    [
      'no ScaleDevToZero',
      { budget: { amount: '10.00', onExceeded: ['DenyNewGPUPods'] } },
      { observedGeneration: 1, budget: exceeded },
      1,
      T,
      false,
    ],
    ['not exceeded', sleepy, { observedGeneration: 1, budget: { ...exceeded, exceededAt: undefined } }, 1, T, false],
    ['the period over', sleepy, { observedGeneration: 1, budget: exceeded }, 1, Date.UTC(2026, 11, 1), false],
  ] as const)('%s', (_name, rules, status, generation, nowMs, expected) => {
    const p = withStatus(rules, status, generation);
    const out = budgetsToSleep([p], new Map(), nowMs, 'Audit', 'USD');
    expect(out.has('p')).toBe(expected);
    if (expected)
      expect(out.get('p')).toEqual({
        policy: 'p',
        mode: 'Enforce',
        exceededAtMs: Date.UTC(2026, 10, 23, 10),
        spent: '10.42',
        amount: '10.00',
        currency: 'USD',
      });
  });
});

const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const JOBS = '/apis/batch/v1/namespaces/ml/jobs';
const PODS = '/api/v1/namespaces/ml/pods';
/** Monday 23 November 2026, 00:00 UTC: a weekly period starts. */
const MONDAY = Date.UTC(2026, 10, 23);

/**
 * A 1-GPU node at 3.60 $/h with no CPU or memory to price, so its one pod, a Job's in namespace ml (team
 * research), costs 0.001 $ a second from its start.
 */
function seed(api: FakeKube, startMs: number): void {
  api.put('/api/v1/nodes', {
    metadata: { name: 'gpu-1', annotations: { 'aicost.dev/price-per-hour': '3.6' } },
    status: { allocatable: { cpu: '0', memory: '0', 'nvidia.com/gpu': '1' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/api/v1/namespaces', { metadata: { name: 'web', labels: { team: 'web' } } });
  api.put(JOBS, { metadata: { name: 'train', namespace: 'ml', uid: 'job-uid' } });
  api.put(PODS, {
    metadata: {
      name: 'train-0',
      namespace: 'ml',
      uid: 'pod-uid',
      ownerReferences: [{ kind: 'Job', name: 'train', controller: true }],
    },
    spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(startMs).toISOString() },
  });
}

function budgetPolicy(api: FakeKube, name: string, team: string, budget: Record<string, unknown>): void {
  api.put(POLICIES, {
    metadata: { name, generation: 1 },
    spec: { namespaceSelector: { matchLabels: { team } }, rules: { budget: { period: 'Weekly', ...budget } } },
  });
}

/** A new spec for a policy, as `kubectl edit` gives: the next generation, the status kept. */
function editPolicy(api: FakeKube, name: string, rules: Record<string, unknown>): void {
  const current = api.object(`${POLICIES}/${name}`);
  if (!current) throw new Error(`no policy ${name}`);
  const spec = current.spec as Record<string, unknown>;
  api.put(POLICIES, {
    ...current,
    metadata: { ...current.metadata, generation: Number(current.metadata.generation ?? 1) + 1 },
    spec: { ...spec, rules },
  });
}

const statusOf = (api: FakeKube, name = 'research') =>
  api.object(`${POLICIES}/${name}`)?.status as PolicyStatus | undefined;
const budgetOf = (api: FakeKube, name = 'research') => statusOf(api, name)?.budget;

/** Events as "reason percent % kind/namespace/name xcount", on the policy (in default) or on namespace ml. */
function events(api: FakeKube, where: 'policy' | 'namespace'): string[] {
  const prefix = where === 'policy' ? '/api/v1/namespaces/default/events/' : '/api/v1/namespaces/ml/events/';
  return api
    .objectsUnder(prefix)
    .filter((e) => String(e.reason).startsWith('Budget'))
    .sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)))
    .map((e) => {
      const percent = /(\d+) %/.exec(String(e.message))?.[1] ?? '?';
      const on = e.involvedObject as { kind: string; name: string; namespace: string };
      return `${String(e.reason)} ${percent} % ${on.kind}/${on.namespace}/${on.name} x${String(e.count)}`;
    });
}
const reasons = (list: readonly string[]) => list.map((e) => e.split(' ').slice(0, 2).join(' '));

const ALL_FOUR = [
  'BudgetThresholdCrossed 60',
  'BudgetThresholdCrossed 80',
  'BudgetThresholdCrossed 95',
  'BudgetExceeded 100',
];

async function start(api: FakeKube, clock: FakeClock, ledger: HarnessLedger) {
  return startOperator(api, clock, new FakePrometheus(), ['team'], 'Audit', undefined, ledger);
}

/** The seeded cluster with one weekly budget, "research" on team research, and an operator started at `startMs`. */
async function world(budget: Record<string, unknown>, ledger: HarnessLedger = {}, startMs = MONDAY) {
  const api = new FakeKube();
  seed(api, startMs);
  budgetPolicy(api, 'research', 'research', budget);
  const clock = new FakeClock(startMs);
  return { api, clock, op: await start(api, clock, ledger) };
}

/** Runs `cycles` cycles of a minute (59 s, then a cycle that lets the writers finish in its last second). */
async function run(op: Awaited<ReturnType<typeof start>>, clock: FakeClock, cycles: number): Promise<void> {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    await clock.advance(59_000);
    await op.cycle();
  }
}

/** The spent-ratio gauge of a policy, as the text Prometheus scrapes. */
async function spentRatio(op: Awaited<ReturnType<typeof start>>, policy: string): Promise<string | undefined> {
  const text = await op.metrics.registry.getSingleMetricAsString('aicost_budget_spent_ratio');
  return new RegExp(`aicost_budget_spent_ratio\\{policy="${policy}"\\} (\\S+)`).exec(text)?.[1];
}

describe('budgets on the in-memory API', () => {
  it('crosses 60, 80, 95 and 100 % of a small budget in a few cycles, each Event once, and reports it', async () => {
    const { api, clock, op } = await world({ amount: '0.30' });
    budgetPolicy(api, 'web', 'web', { amount: '0.30' });
    const seen: string[][] = [];
    for (let cycle = 1; cycle <= 8; cycle++) {
      await run(op, clock, 1);
      seen.push(reasons(events(api, 'policy')));
    }
    // Spent after cycle k: about 0.001 $ × (60k − 1) s. 60 % (0.18) at cycle 4, 80 % and 95 % at 5, 100 % at 6.
    expect(seen.map((s) => s.length)).toEqual([0, 0, 0, 1, 3, 4, 4, 4]);
    expect(events(api, 'policy')).toEqual([
      'BudgetThresholdCrossed 60 % AICostPolicy//research x1',
      'BudgetThresholdCrossed 80 % AICostPolicy//research x1',
      'BudgetThresholdCrossed 95 % AICostPolicy//research x1',
      'BudgetExceeded 100 % AICostPolicy//research x1',
    ]);
    expect(events(api, 'namespace')).toEqual([
      'BudgetThresholdCrossed 60 % Namespace/ml/ml x1',
      'BudgetThresholdCrossed 80 % Namespace/ml/ml x1',
      'BudgetThresholdCrossed 95 % Namespace/ml/ml x1',
      'BudgetExceeded 100 % Namespace/ml/ml x1',
    ]);
    expect(budgetOf(api)).toMatchObject({
      periodStart: '2026-11-23T00:00:00Z',
      accountedUntil: '2026-11-23T00:07:59Z',
      spent: '0.478017',
      percent: 159,
      lastThresholdCrossed: 100,
    });
    // The first cycle, [23:59:59, 00:00:59), put 1/60 of its 0.059 $ in the hour before Monday (the ledger splits
    // a cycle over a window boundary pro rata): 0.478017 $ this week, and a new team's run-rate counted from
    // the start of its first hour with spend, Sunday 23:00: 0.479 $ over 4,079 s, for the week's other 604,321 s.
    expect(budgetOf(api)?.forecast).toBe('71.44');
    expect(budgetOf(api, 'web')).toMatchObject({ spent: '0.000000', percent: 0, forecast: '0.00' });
    expect(await spentRatio(op, 'research')).toBe('1.593388');
    // No hour before the last one with spend: no baseline, so no anomaly (a first run is not a spike).
    expect(await op.metrics.registry.getSingleMetricAsString('aicost_budget_anomaly')).toContain(
      'aicost_budget_anomaly{policy="research"} 0',
    );
    expect(statusOf(api)?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Valid');
    await op.stop();
  });

  it('keeps the spend exact across a restart before, between or after the crossings, and repeats no Event', async () => {
    const runWith = async (restartBefore: number | undefined) => {
      const sink = new MemorySink();
      const started = await world({ amount: '0.30' }, { sink });
      const { api, clock } = started;
      let { op } = started;
      for (let cycle = 1; cycle <= 8; cycle++) {
        if (cycle === restartBefore) {
          await op.stop();
          op = await start(api, clock, { sink: sink.reopen() });
        }
        await run(op, clock, 1);
      }
      const ratio = await spentRatio(op, 'research');
      await op.stop();
      return { budget: budgetOf(api), ratio, policy: events(api, 'policy'), namespace: events(api, 'namespace') };
    };
    const straight = await runWith(undefined);
    expect(reasons(straight.policy)).toEqual(ALL_FOUR);
    expect(reasons(straight.namespace)).toEqual(ALL_FOUR);
    expect(straight.ratio).toBe('1.593388');
    // Cycle 4 crosses 60 %, 5 crosses 80 and 95 %, 6 crosses 100 %: a restart before the first crossing, between
    // 60 and 80, between 95 and 100, and after the last.
    for (const restartBefore of [4, 5, 6, 7]) {
      expect(await runWith(restartBefore), `restarted before cycle ${restartBefore}`).toEqual(straight);
    }
  });

  it('starts the next period afresh: the spend since its start, each threshold announced again', async () => {
    const sunday = MONDAY + 7 * 86_400_000 - 5 * 60_000; // Sunday 29 November, 23:55
    const { api, clock, op } = await world({ amount: '0.15' }, {}, sunday);
    await run(op, clock, 5);
    // 0.299 $ by Sunday 23:59:59: 60 to 100 % of 0.15.
    expect(budgetOf(api)).toMatchObject({
      periodStart: '2026-11-23T00:00:00Z',
      spent: '0.299000',
      lastThresholdCrossed: 100,
    });
    await run(op, clock, 3);
    // Monday 00:02:59: 179 s of the new week, 0.179 $ (119 %).
    expect(budgetOf(api)).toMatchObject({
      periodStart: '2026-11-30T00:00:00Z',
      spent: '0.179000',
      percent: 119,
      lastThresholdCrossed: 100,
    });
    // The new week: the Events of the first week were new objects, and so are these.
    expect(reasons(events(api, 'policy'))).toEqual([...ALL_FOUR, ...ALL_FOUR]);
    expect(reasons(events(api, 'namespace'))).toEqual([...ALL_FOUR, ...ALL_FOUR]);
    await op.stop();
  });

  it("keeps a deleted Job's spend once its windows have left memory (1-minute ledger windows)", async () => {
    const { api, clock, op } = await world({ amount: '1' }, { windowMs: 60_000 });
    await run(op, clock, 4);
    // 239 s of 0.001 $, less the 1/60 of the first cycle's 0.059 $ that lies before Monday (the week before):
    // 239,000,000 − 983,333 nano-dollars, in millionths.
    expect(await spentRatio(op, 'research')).toBe('0.238016');
    api.remove(PODS, 'train-0');
    api.remove(JOBS, 'train');
    await run(op, clock, 6);
    // The next cycle counts the pod's last second, up to its deletion at 00:04:00. Six one-minute windows
    // later, the Job's windows are only in the ledger, and its spend is all there.
    expect(await spentRatio(op, 'research')).toBe('0.239016');
    expect(budgetOf(api)).toMatchObject({ spent: '0.239017', percent: 23, accountedUntil: '2026-11-23T00:09:59Z' });
    await op.stop();
  });

  it('counts a pod its tenant labels as another team in its namespace’s budget: namespaceSelector reads the namespace', async () => {
    const api = new FakeKube();
    seed(api, MONDAY);
    // The tenant of namespace ml (team research) labels its Job and its pod as team web's.
    for (const [collection, path] of [
      [JOBS, `${JOBS}/train`],
      [PODS, `${PODS}/train-0`],
    ] as const) {
      const object = api.object(path);
      if (!object) throw new Error(`no ${path}`);
      api.put(collection, { ...object, metadata: { ...object.metadata, labels: { team: 'web' } } });
    }
    budgetPolicy(api, 'research', 'research', { amount: '1' });
    budgetPolicy(api, 'web', 'web', { amount: '1' });
    const clock = new FakeClock(MONDAY);
    const op = await start(api, clock, {});
    await run(op, clock, 3);
    // 179 s of 0.001 $ by 00:02:59, less the 0.000983 $ of the first cycle that lies before Monday.
    expect(budgetOf(api)).toMatchObject({ spent: '0.178017', percent: 17 });
    expect(budgetOf(api, 'web')).toMatchObject({ spent: '0.000000', percent: 0 });
    await op.stop();
  });

  it('says an unknown time zone in Ready, and gives that budget no status', async () => {
    const { api, clock, op } = await world({ amount: '0.01', timeZone: 'Mars/Olympus' });
    await run(op, clock, 3);
    expect(statusOf(api)?.budget).toBeUndefined();
    expect(statusOf(api)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSchedule',
      message: 'budget.timeZone: unknown time zone "Mars/Olympus"',
    });
    expect(events(api, 'policy')).toEqual([]);
    expect(await spentRatio(op, 'research')).toBeUndefined();
    await op.stop();
  });

  it('counts a namespace deleted with its Job between two cycles, and gives its Events on the policy only', async () => {
    const { api, clock, op } = await world({ amount: '1.00' });
    await run(op, clock, 2);
    // The namespace, its Job and its pod all leave the cache before the next cycle.
    api.remove(PODS, 'train-0');
    api.remove(JOBS, 'train');
    api.remove('/api/v1/namespaces', 'ml');
    await run(op, clock, 1);
    // Up to the deletion at 00:02:00, the week's part: 0.120 $ less 0.000983 $ before Monday. The Job's row
    // in the open window is still team research's.
    expect(await spentRatio(op, 'research')).toBe('0.119016');
    expect(budgetOf(api)).toMatchObject({ spent: '0.119017', percent: 11 });
    expect(events(api, 'policy')).toEqual([]);
    // The amount lowered: the spend so far (no longer growing) is 79 % of it.
    editPolicy(api, 'research', { budget: { period: 'Weekly', amount: '0.15' } });
    await run(op, clock, 1);
    expect(budgetOf(api)).toMatchObject({ spent: '0.119017', percent: 79, lastThresholdCrossed: 60 });
    expect(events(api, 'policy')).toEqual(['BudgetThresholdCrossed 60 % AICostPolicy//research x1']);
    expect(events(api, 'namespace')).toEqual([]);
    await op.stop();
  });

  it('keeps status.budget while the ledger cannot be read, and drops it with the gauges when the budget goes', async () => {
    const sink = new MemorySink();
    const { api, clock, op } = await world({ amount: '1.00' }, { sink });
    await run(op, clock, 2);
    // The ledger's storage fails. Between listings the budget reads the accountant's memory only (cycles 3 to
    // 5); the listing due 5 minutes after the first, at cycle 6, fails, and so does each pass after it.
    sink.kill();
    await run(op, clock, 3);
    const before = budgetOf(api);
    expect(before).toMatchObject({ accountedUntil: '2026-11-23T00:04:59Z', spent: '0.298017' });
    await run(op, clock, 3);
    expect(budgetOf(api)).toEqual(before);
    expect(await spentRatio(op, 'research')).toBe('0.298016');
    // The budget removed from the policy: its status and its gauges go.
    editPolicy(api, 'research', { idleGPU: {} });
    expect(budgetOf(api)).toBeDefined();
    await run(op, clock, 1);
    expect(statusOf(api)).toBeDefined();
    expect(budgetOf(api)).toBeUndefined();
    expect(await spentRatio(op, 'research')).toBeUndefined();
    await op.stop();
  });

  it('puts the dev endpoints in scope to sleep once the budget is exceeded (ScaleDevToZero), and production not', async () => {
    const api = new FakeKube();
    seed(api, MONDAY);
    budgetPolicy(api, 'research', 'research', { amount: '0.30', mode: 'Enforce', onExceeded: ['ScaleDevToZero'] });
    api.put(POLICIES, {
      metadata: { name: 'dev-endpoints', generation: 1 },
      spec: { selector: { matchLabels: { env: 'dev' } }, rules: { scaleToZero: { idleAfter: '1h' } } },
    });
    for (const [name, env] of [
      ['chat', 'dev'],
      ['serve', 'prod'],
    ] as const) {
      api.put('/api/v1/nodes', {
        metadata: { name: `gpu-${name}`, annotations: { 'aicost.dev/price-per-hour': '0' } },
        status: { allocatable: { cpu: '0', memory: '0', 'nvidia.com/gpu': '1' } },
      });
      api.put('/apis/apps/v1/namespaces/ml/deployments', {
        metadata: { name, namespace: 'ml', uid: `${name}-uid`, labels: { env } },
        spec: { replicas: 1, template: { metadata: {} } },
      });
      api.put('/apis/apps/v1/namespaces/ml/replicasets', {
        metadata: {
          name: `${name}-rs`,
          namespace: 'ml',
          ownerReferences: [{ kind: 'Deployment', name, uid: `${name}-uid`, controller: true }],
        },
      });
      api.put(PODS, {
        metadata: {
          name: `${name}-0`,
          namespace: 'ml',
          uid: `${name}-pod`,
          ownerReferences: [{ kind: 'ReplicaSet', name: `${name}-rs`, controller: true }],
        },
        spec: { nodeName: `gpu-${name}`, containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
        status: { phase: 'Running', startTime: new Date(MONDAY).toISOString() },
      });
    }
    const clock = new FakeClock(MONDAY);
    const op = await start(api, clock, {});
    const replicas = (name: string) =>
      (api.object(`/apis/apps/v1/namespaces/ml/deployments/${name}`)?.spec as { replicas: number }).replicas;
    await run(op, clock, 5);
    expect(budgetOf(api)?.exceededAt).toBeUndefined();
    expect(replicas('chat')).toBe(1);
    await run(op, clock, 1); // 100 % at cycle 6: exceeded, and the dev endpoint sleeps in the same pass
    const exceededAt = budgetOf(api)?.exceededAt;
    expect(exceededAt).toBe('2026-11-23T00:05:59Z');
    expect(replicas('chat')).toBe(0);
    expect(replicas('serve')).toBe(1);
    const chat = api.object('/apis/apps/v1/namespaces/ml/deployments/chat')?.metadata.annotations ?? {};
    expect(chat['aicost.dev/sleep-handled']).toBe(exceededAt);
    expect(chat['aicost.dev/last-action']).toBe('scaled to zero by policy research (budget) at 2026-11-23T00:05:59Z');
    expect(statusOf(api)?.lastActions?.map((a) => [a.workload, a.rule, a.action, a.mode])).toEqual([
      ['Deployment/ml/chat', 'budget', 'scale-to-zero', 'Enforce'],
    ]);
    // Woken by hand while still over budget: a person decided, it stays awake; exceededAt survives a restart.
    const asleep = api.object('/apis/apps/v1/namespaces/ml/deployments/chat');
    if (!asleep) throw new Error('no Deployment chat');
    api.put('/apis/apps/v1/namespaces/ml/deployments', {
      ...asleep,
      spec: { replicas: 1, template: { metadata: {} } },
    });
    await op.stop();
    const again = await start(api, clock, {});
    await run(again, clock, 2);
    expect(replicas('chat')).toBe(1);
    expect(budgetOf(api)?.exceededAt).toBe(exceededAt);
    await again.stop();
  });
});
