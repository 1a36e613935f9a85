/**
 * A budget on the local cluster (issue #16), in numbered steps:
 *
 * 1. A Job holds one GPU of a p4d.24xlarge (kwok) in a fresh namespace; a policy puts a budget of 0.06 $ on
 *    that namespace, with the default thresholds. At 1.76070525 $ per GPU-hour (docs/cost-model.md) the Job
 *    spends 0.06 $ in about 123 s: 60 % after about 74 s, 80 % after 98, 95 % after 117 (each level stands
 *    for a few cycles, so that Alertmanager can say it while it fires).
 * 2. The operator (2 s accounting cycles, a ledger in a directory written every cycle, one-minute ledger
 *    windows so that windows leave its memory and are read back from the files) runs until 60 % is announced,
 *    and is killed with SIGKILL; a new one runs until 100 % is announced. Debian's Prometheus scrapes whichever
 *    runs, every second, and evaluates the chart's PrometheusRule (every `for` at 0s); Debian's Alertmanager
 *    routes what fires with the route of docs/budgets.md to webhook receivers served by the test.
 * 3. Each threshold gave exactly one Warning Event on the policy and one in the namespace, the kill and the
 *    new process notwithstanding, and one firing notification: 60, 80 and 95 % to Slack, 100 % to PagerDuty.
 * 4. status.budget.spent (six decimals) is the hand computation, the GPU's price times the seconds from the
 *    pod's start to status.budget.accountedUntil, within a millionth of a dollar; kubectl shows it in the
 *    SPENT column, beside BUDGET and FORECAST.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMoney, type Nanos } from '../../src/cost/money.ts';
import type { PolicySpec, PolicyStatus } from '../../src/crds/aicost-policy.ts';
import {
  cluster,
  createTestNamespace,
  kubectlFor,
  runningPod,
  waitFor,
  type TestNamespace,
} from './support/cluster.ts';
import { AlertingStack, chartRuleGroups, installAlerting } from '../support/alerting.ts';
import { metricValue, OperatorProcess } from './support/operator.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
/** The GPU part of a p4d.24xlarge per GPU-hour (docs/cost-model.md), in nano-dollars; the pod asks a GPU only. */
const P4D_GPU_HOUR_NANOS = 1_760_705_250n;
const AMOUNT = '0.06';
/** A millionth of a dollar, in nano-dollars. */
const MICRO = 1000n;

let ns: TestNamespace;
let ledgerDir: string;
const operators: OperatorProcess[] = [];
let alerting: AlertingStack | undefined;

beforeAll(async () => {
  kubectl(['apply', '--server-side', '-f', resolve(ROOT, 'deploy/crds')]);
  kubectl(['wait', '--for=condition=Established', 'crd/aicostpolicies.aicost.dev', '--timeout=30s']);
  alerting = await AlertingStack.start({
    tools: installAlerting(),
    groups: chartRuleGroups(),
    job: 'aicost-operator',
    targets: [],
  });
});
afterAll(async () => {
  await alerting?.stop();
});
beforeEach(async () => {
  ns = await createTestNamespace(client, 'budget');
  ledgerDir = mkdtempSync(join(tmpdir(), 'aicost-budget-e2e-'));
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  kubectl(['delete', 'acp', ns.name, '--ignore-not-found']);
  await ns.remove();
  rmSync(ledgerDir, { recursive: true, force: true });
});

function operator(): OperatorProcess {
  const op = OperatorProcess.start({
    kubeconfig,
    logDir,
    name: `${ns.name}-${operators.length}`,
    args: [
      ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
      ...['--interval', '2s', '--annotate-interval', '0s', '--leader-elect', 'false', '--namespace', `${ns.name}-op`],
      ...['--ledger', join(ledgerDir, 'ledger'), '--ledger-flush-interval', '0s', '--ledger-window', '1m'],
    ],
  });
  operators.push(op);
  return op;
}

/** Prometheus scrapes this operator (and no other) once it serves its metrics. */
async function scrape(op: OperatorProcess): Promise<void> {
  const port = await waitFor(() => op.metricsPort(), { description: 'the metrics port in the log', timeoutMs: 30_000 });
  if (!alerting) throw new Error('Prometheus and Alertmanager did not start');
  alerting.setTargets([`127.0.0.1:${String(port)}`]);
}

/** The policy as the API returns it (the operator's own types: the CRD is generated from them). */
interface Policy {
  spec: PolicySpec;
  status?: PolicyStatus;
}
const policy = () => client.get<Policy>(`${POLICIES}/${ns.name}`);
const lastCrossed = async () => (await policy()).status?.budget?.lastThresholdCrossed ?? 0;

/** The budget Events of the policy (in default) or in the namespace, as "reason percent xcount", sorted. */
async function budgetEvents(where: 'policy' | 'namespace'): Promise<string[]> {
  type Event = { reason: string; message: string; count?: number; involvedObject: { kind: string; name: string } };
  const items = (await client.list<Event>(`/api/v1/namespaces/${where === 'policy' ? 'default' : ns.name}/events`))
    .items;
  const kind = where === 'policy' ? 'AICostPolicy' : 'Namespace';
  return items
    .filter((e) => e.reason.startsWith('Budget') && e.involvedObject.kind === kind && e.involvedObject.name === ns.name)
    .map((e) => `${e.reason} ${/(\d+) %/.exec(e.message)?.[1] ?? '?'} x${String(e.count ?? 1)}`)
    .sort();
}

/** One GPU of a p4d from `fromMs` to `untilMs` (whole seconds both), in nano-dollars. */
function handNanos(fromMs: number, untilMs: number): Nanos {
  return (P4D_GPU_HOUR_NANOS * BigInt(untilMs - fromMs)) / 3_600_000n;
}

describe('a budget on the local cluster', () => {
  it('crosses 60, 80, 95 and 100 % once each, across a kill -9, alerting each level, with the spend of the hand computation', async () => {
    // 1. The Job, then the budget on its namespace.
    await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
      metadata: { name: 'train' },
      spec: {
        template: {
          metadata: { labels: { app: 'train' }, annotations: { 'dcgm-sim.aicost.dev/utilization': '90' } },
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
            containers: [
              { name: 'trainer', image: 'registry.local/trainer:1', resources: { limits: { 'nvidia.com/gpu': '1' } } },
            ],
          },
        },
      },
    });
    const pod = await runningPod(client, ns.name, 'app=train');
    const startedMs = Date.parse(pod.status.startTime ?? '');
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'aicost.dev/v1alpha1',
        kind: 'AICostPolicy',
        metadata: { name: ns.name },
        spec: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } },
          rules: { budget: { amount: AMOUNT } },
        },
      }),
    );
    expect((await policy()).spec.rules.budget?.alertAt).toEqual([60, 80, 95, 100]);

    // 2. The first operator until 60 % is announced, Events included (a kill between the status and its Events
    // would lose them: docs/budgets.md), then kill -9 and a second one until 100 %.
    const first = operator();
    await scrape(first);
    await waitFor(
      async () =>
        (await lastCrossed()) >= 60 &&
        (await budgetEvents('policy')).length > 0 &&
        (await budgetEvents('namespace')).length > 0,
      { description: 'the budget to announce 60 %', timeoutMs: 150_000 },
    );
    // And said by Alertmanager, so that the kill cannot be what keeps the 60 % level from it.
    await alerting?.arrival('AICostBudgetSpent', { policy: ns.name, threshold: '60' });
    await first.stop('SIGKILL');
    const second = operator();
    await scrape(second);
    await waitFor(async () => (await lastCrossed()) === 100, {
      description: 'the budget to announce 100 %',
      timeoutMs: 120_000,
    });
    const ratio = await waitFor(
      async () => metricValue(await second.metrics(), 'aicost_budget_spent_ratio', { policy: ns.name }),
      { description: 'the spent-ratio gauge', timeoutMs: 10_000 },
    );
    expect(ratio).toBeGreaterThanOrEqual(1);
    // Each level fired and was delivered, routed by its severity; the 100 % one may still be on its way.
    for (const [threshold, severity, receiver] of [
      ['60', 'info', 'slack-gpu-costs'],
      ['80', 'warning', 'slack-gpu-costs'],
      ['95', 'warning', 'slack-gpu-costs'],
      ['100', 'critical', 'pagerduty-gpu-costs'],
    ] as const) {
      const alert = await alerting?.arrival('AICostBudgetSpent', { policy: ns.name, threshold });
      expect(alert).toMatchObject({ receiver, labels: { job: 'aicost-operator', severity } });
    }
    // The status stands still from here: what follows reads one pass's figures.
    await second.stop('SIGTERM');

    // 3. One Event per threshold, on the policy and in the namespace.
    const once = [
      'BudgetExceeded 100 x1',
      'BudgetThresholdCrossed 60 x1',
      'BudgetThresholdCrossed 80 x1',
      'BudgetThresholdCrossed 95 x1',
    ];
    expect(await budgetEvents('policy')).toEqual(once);
    expect(await budgetEvents('namespace')).toEqual(once);

    // 4. The spend against the hand computation, from the pod's start (or the period's, should the run straddle
    // the first of a month) to accountedUntil.
    const { status } = await policy();
    const budget = status?.budget;
    if (!budget) throw new Error(`no status.budget on ${ns.name}`);
    const fromMs = Math.max(startedMs, Date.parse(budget.periodStart));
    const hand = handNanos(fromMs, Date.parse(budget.accountedUntil));
    const diff = parseMoney(budget.spent) - hand;
    expect(diff < 0n ? -diff : diff, `spent ${budget.spent}, by hand ${hand} nano-dollars`).toBeLessThanOrEqual(MICRO);
    expect(budget.percent).toBeGreaterThanOrEqual(100);
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Valid' });
    const table = kubectl(['get', 'acp', ns.name]);
    expect(table).toMatch(/NAME\s+MODE\s+MATCHED\s+ACTIONS\s+SPENT\s+BUDGET\s+FORECAST\s+READY\s+AGE/);
    const [spent, amount, forecast] = [budget.spent, AMOUNT, budget.forecast].map((v) => v.replace('.', '\\.'));
    expect(table).toMatch(
      new RegExp(`^${ns.name}\\s+Audit\\s+\\d+\\s+\\d+\\s+${spent}\\s+${amount}\\s+${forecast}\\s+True`, 'm'),
    );
  }, 300_000);
});
