/**
 * The chart's PrometheusRule, from the values to a notification, through real programs: helm renders it (every
 * `for` at 0s, so that a step shows in seconds; the expressions are the chart's), promtool checks it, Debian's
 * Prometheus evaluates it every second against two replicas, a leader and a standby, whose /metrics are the
 * operator's own registry (src/controller/metrics.ts) served here, so a renamed series fails this test; and
 * Debian's Alertmanager routes what fires with the route of docs/budgets.md to webhook receivers served here.
 * Prometheus and Alertmanager are installed once by install-prometheus.sh (as root).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/controller/metrics.ts';
import {
  AlertingStack,
  chartRuleGroups,
  installAlerting,
  type AlertingTools,
  type RuleGroup,
} from '../support/alerting.ts';

/** The receivers of the route in docs/budgets.md. */
const SLACK = 'slack-gpu-costs';
const PAGER = 'pagerduty-gpu-costs';
const DEFAULT = 'default';
const JOB = 'aicost-operator';

let tools: AlertingTools;
let stack: AlertingStack | undefined;
const started = (): AlertingStack => {
  if (!stack) throw new Error('the alerting stack did not start');
  return stack;
};
let groups: RuleGroup[] = [];
const leader = replica();
const standby = replica();
let leaderInstance = '';
let standbyInstance = '';
/** What the leader's accountant does at each scrape: a cycle ends (or not), a ledger write fails (or not). */
const cycle = { accounts: true, ledgerWriteFails: false };

function replica(): Metrics {
  return createMetrics(['team'], 100);
}

function serveMetrics(m: Metrics, beforeScrape: () => void): Promise<number> {
  return started().serve((_req, res) => {
    beforeScrape();
    void m.registry.metrics().then((text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text));
  });
}

const activeAlerts = () => started().activeAlerts();
const arrival = (alertname: string, labels: Record<string, string>, status = 'firing') =>
  started().arrival(alertname, labels, status);

/** A healthy operator: every budget under its first level, GPU metrics measured, accounting on time. */
function healthy(m: Metrics): void {
  m.leader.set(1);
  m.metricsAvailable.set(1);
  m.utilizationUnknownPods.set(0);
  for (const [policy, spent, forecast, rate] of [
    ['team-a', 0.3, 0.5, 0.9],
    ['team-b', 0.5, 0.9, 1.1],
    ['team-c', 0.2, 0.4, 1],
  ] as const) {
    m.budgetSpentRatio.set({ policy }, spent);
    m.budgetForecastRatio.set({ policy }, forecast);
    m.budgetAnomaly.set({ policy }, 0);
    m.budgetSpendRateRatio.set({ policy }, rate);
  }
}

beforeAll(async () => {
  tools = installAlerting();
  // An extra label on every alert, as a platform team would add its cluster's name.
  groups = chartRuleGroups('--set', 'prometheusRule.alertLabels.cluster=test');
  const running = await AlertingStack.start({ tools, groups, job: JOB, targets: [] });
  stack = running;

  // The standby is as a replica that never led: the gauges it exports unset, aicost_leader 0.
  healthy(leader);
  standby.leader.set(0);
  const leaderPort = await serveMetrics(leader, () => {
    if (cycle.accounts) leader.lastCycle.set(Date.now() / 1000);
    if (cycle.ledgerWriteFails) leader.ledgerWriteErrors.inc();
  });
  const standbyPort = await serveMetrics(standby, () => undefined);
  leaderInstance = `127.0.0.1:${leaderPort}`;
  standbyInstance = `127.0.0.1:${standbyPort}`;
  running.setTargets([leaderInstance, standbyInstance]);
});

afterAll(async () => {
  await stack?.stop();
});

describe("the chart's PrometheusRule in Prometheus and Alertmanager", () => {
  it('passes promtool check rules; the documented Alertmanager configuration passes amtool check-config', () => {
    const rules = spawnSync(tools.PROMTOOL, ['check', 'rules', join(started().dir, 'rules.yml')], { encoding: 'utf8' });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
    const am = spawnSync(tools.AMTOOL, ['check-config', join(started().dir, 'alertmanager-documented.yml')], {
      encoding: 'utf8',
    });
    expect(am.status, am.stdout + am.stderr).toBe(0);
  });

  it('a healthy leader and a standby: nothing pending, firing or delivered', async () => {
    await started().until('both replicas scraped', async () => {
      const series = await started().prometheus<{ result: unknown[] }>('/api/v1/query?query=aicost_leader');
      return series.result.length === 2 || undefined;
    });
    // Two evaluations of every group after both scrapes, then time for a notification to come through.
    const since = Date.now();
    await started().until('two evaluations of every rule group', async () => {
      const data = await started().prometheus<{ groups: { lastEvaluation: string }[] }>('/api/v1/rules');
      const at = (t: string) => Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
      return data.groups.every((g) => at(g.lastEvaluation) > since + 1000) || undefined;
    });
    await sleep(2000);
    expect(await activeAlerts()).toEqual([]);
    expect(started().delivered).toEqual([]);
  });

  it('AICostBudgetSpent: one level at a time, info and warning to Slack, critical to PagerDuty', async () => {
    const steps = [
      [0.65, '60', 'info', '65%', SLACK],
      [0.85, '80', 'warning', '85%', SLACK],
      [0.97, '95', 'warning', '97%', SLACK],
      [1.02, '100', 'critical', '102%', PAGER],
    ] as const;
    let below = '';
    for (const [ratio, threshold, severity, percent, receiver] of steps) {
      leader.budgetSpentRatio.set({ policy: 'team-a' }, ratio);
      const alert = await arrival('AICostBudgetSpent', { policy: 'team-a', threshold });
      // No instance or pod: the identity outlives a leader change.
      expect(alert).toEqual({
        receiver,
        status: 'firing',
        labels: { alertname: 'AICostBudgetSpent', job: JOB, policy: 'team-a', severity, threshold, cluster: 'test' },
        annotations: {
          summary: `team-a: ${percent} of the budget spent`,
          description:
            `AICostPolicy team-a has spent ${percent} of its budget this period (the ${threshold} % level). ` +
            'kubectl get acp team-a shows the spend, the amount and the forecast.',
        },
      });
      if (below) await arrival('AICostBudgetSpent', { policy: 'team-a', threshold: below }, 'resolved');
      below = threshold;
    }
    const active = (await activeAlerts()).filter((a) => a.labels.policy === 'team-a');
    expect(active.map((a) => [a.labels.alertname, a.labels.threshold, a.state])).toEqual([
      ['AICostBudgetSpent', '100', 'firing'],
    ]);
  });

  it('AICostBudgetForecastOver: a forecast over the amount, resolved once the spend reaches it', async () => {
    leader.budgetForecastRatio.set({ policy: 'team-b' }, 1.3);
    expect(await arrival('AICostBudgetForecastOver', { policy: 'team-b' })).toEqual({
      receiver: SLACK,
      status: 'firing',
      labels: {
        alertname: 'AICostBudgetForecastOver',
        job: JOB,
        policy: 'team-b',
        severity: 'warning',
        cluster: 'test',
      },
      annotations: {
        summary: "team-b: forecast 130% of the budget by the period's end",
        description:
          'AICostPolicy team-b is forecast to spend 130% of its budget by the end of the period, from its hourly ' +
          'spend of the last five weeks. status.budget.forecastCrossingTime (kubectl get acp team-b -o yaml) says ' +
          'when it reaches the amount.',
      },
    });
    leader.budgetSpentRatio.set({ policy: 'team-b' }, 1);
    expect(await arrival('AICostBudgetSpent', { policy: 'team-b', threshold: '100' })).toMatchObject({
      receiver: PAGER,
    });
    await arrival('AICostBudgetForecastOver', { policy: 'team-b' }, 'resolved');
  });

  it("AICostSpendAnomaly: the hour's spend over the baseline in the description", async () => {
    leader.budgetSpendRateRatio.set({ policy: 'team-c' }, 4.2);
    leader.budgetAnomaly.set({ policy: 'team-c' }, 1);
    expect(await arrival('AICostSpendAnomaly', { policy: 'team-c' })).toEqual({
      receiver: SLACK,
      status: 'firing',
      labels: { alertname: 'AICostSpendAnomaly', job: JOB, policy: 'team-c', severity: 'warning', cluster: 'test' },
      annotations: {
        summary: 'team-c: spend over its anomaly factor',
        description: 'The scope of AICostPolicy team-c spent 4.2 times its baseline in the last hour.',
      },
    });
  });

  it('AICostUnpricedNodes: one alert with the count of unpriced nodes', async () => {
    leader.unpricedNodes.set({ node: 'gpu-a', reason: 'no price for p5.48xlarge in eu-north-9' }, 1);
    leader.unpricedNodes.set({ node: 'gpu-b', reason: 'no instance type label' }, 1);
    const alert = await arrival('AICostUnpricedNodes', {});
    expect(alert).toMatchObject({
      receiver: SLACK,
      labels: { job: JOB, instance: leaderInstance, severity: 'warning', cluster: 'test' },
      annotations: { summary: '2 GPU nodes without a price' },
    });
    expect(alert.labels).not.toHaveProperty('node');
  });

  it("GPU metrics: the leader's failing queries, then pods without data once the queries succeed", async () => {
    leader.metricsAvailable.set(0);
    leader.utilizationUnknownPods.set(3);
    expect(await arrival('AICostGPUMetricsUnavailable', {})).toMatchObject({
      receiver: SLACK,
      labels: { job: JOB, instance: leaderInstance, severity: 'warning', cluster: 'test' },
      annotations: { summary: "GPU utilization unknown, the operator's Prometheus queries fail" },
    });
    // The same evaluation saw 3 unknown pods: they are the failed queries' doing, not an alert of their own.
    expect((await activeAlerts()).map((a) => a.labels.alertname)).not.toContain('AICostGPUUtilizationUnknown');

    leader.metricsAvailable.set(1);
    expect(await arrival('AICostGPUUtilizationUnknown', {})).toMatchObject({
      receiver: SLACK,
      labels: { instance: leaderInstance, severity: 'warning' },
      annotations: { summary: '3 GPU pods without DCGM data' },
    });
    await arrival('AICostGPUMetricsUnavailable', {}, 'resolved');
  });

  it('AICostAccountingStalled and AICostLedgerWriteErrors: a last cycle an hour old, failing ledger writes', async () => {
    cycle.accounts = false;
    leader.lastCycle.set(Date.now() / 1000 - 3600);
    const stalled = await arrival('AICostAccountingStalled', {});
    expect(stalled).toMatchObject({ receiver: SLACK, labels: { instance: leaderInstance, severity: 'warning' } });
    expect(stalled.annotations.summary).toMatch(/^The accountant has not accounted for 1h 0m \d+s$/);

    cycle.ledgerWriteFails = true;
    expect(await arrival('AICostLedgerWriteErrors', {})).toMatchObject({
      receiver: SLACK,
      labels: { instance: leaderInstance, severity: 'warning' },
      annotations: { summary: 'Writes to the cost ledger fail' },
    });
  });

  it('the standby and the default receiver got nothing; the pager got only critical alerts', () => {
    expect(started().delivered.filter((d) => d.labels.instance === standbyInstance)).toEqual([]);
    expect(started().delivered.filter((d) => d.receiver === DEFAULT)).toEqual([]);
    expect(started().delivered.filter((d) => (d.receiver === PAGER) !== (d.labels.severity === 'critical'))).toEqual(
      [],
    );
  });
});
