/**
 * The chart's PrometheusRule, from the values to a notification, through real programs: helm renders it (every
 * `for` at 0s, so that a step shows in seconds; the expressions are the chart's), promtool checks it, Debian's
 * Prometheus evaluates it every second against two replicas, a leader and a standby, whose /metrics are the
 * operator's own registry (src/controller/metrics.ts) served here, so a renamed series fails this test; and
 * Debian's Alertmanager routes what fires with the route of docs/budgets.md to webhook receivers served here.
 * Prometheus and Alertmanager are installed once by install-prometheus.sh (as root).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createMetrics, type Metrics } from '../../src/controller/metrics.ts';
import { CHART, find, render, ROOT, type Obj } from '../chart/helm.ts';
import { freePorts, stopProcess } from '../support/processes.ts';

/** The receivers of the route in docs/budgets.md. */
const SLACK = 'slack-gpu-costs';
const PAGER = 'pagerduty-gpu-costs';
const DEFAULT = 'default';
const JOB = 'aicost-operator';

interface Rule {
  alert: string;
  expr: string;
}
interface Delivered {
  receiver: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Route {
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
}
interface Tools {
  PROMETHEUS: string;
  PROMTOOL: string;
  ALERTMANAGER: string;
  AMTOOL: string;
}

let dir = '';
let tools: Tools;
let groups: { name: string; rules: Rule[] }[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];
const delivered: Delivered[] = [];
let promUrl = '';
const leader = replica();
const standby = replica();
let leaderInstance = '';
let standbyInstance = '';
/** What the leader's accountant does at each scrape: a cycle ends (or not), a ledger write fails (or not). */
const cycle = { accounts: true, ledgerWriteFails: false };

function replica(): Metrics {
  return createMetrics(['team'], 100);
}

/** An HTTP server on a free port of 127.0.0.1. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('a listening socket without a TCP port');
  return address.port;
}

function serveMetrics(m: Metrics, beforeScrape: () => void): Promise<number> {
  return listen((_req, res) => {
    beforeScrape();
    void m.registry.metrics().then((text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text));
  });
}

/** Alertmanager's webhook notifications, each alert recorded with the receiver it was routed to. */
function serveReceivers(): Promise<number> {
  return listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        receiver: string;
        alerts: Omit<Delivered, 'receiver'>[];
      };
      for (const a of body.alerts) {
        delivered.push({ receiver: body.receiver, status: a.status, labels: a.labels, annotations: a.annotations });
      }
      res.writeHead(200).end();
    });
  });
}

/** The chart's rule groups, with the test's short `for` and an extra label on every alert. */
function renderGroups(): { name: string; rules: Rule[] }[] {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
    prometheusRule: { for: Record<string, string> };
  };
  const forZero = Object.keys(values.prometheusRule.for).flatMap((k) => ['--set', `prometheusRule.for.${k}=0s`]);
  const objs = render(
    '--set',
    'prometheusRule.enabled=true',
    '--set',
    'prometheusRule.alertLabels.cluster=test',
    ...forZero,
  );
  const rule = find(objs, 'PrometheusRule') as
    (Obj & { spec: { groups: { name: string; rules: Rule[] }[] } }) | undefined;
  if (!rule) throw new Error('the chart rendered no PrometheusRule with prometheusRule.enabled=true');
  return rule.spec.groups;
}

/** The Alertmanager configuration of docs/budgets.md, as written. */
function documentedConfig(): string {
  const doc = readFileSync(join(ROOT, 'docs/budgets.md'), 'utf8');
  const block = /```yaml\n(# alertmanager\.yml[^\n]*\n[\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/budgets.md has no ```yaml block starting with "# alertmanager.yml"');
  return block;
}

/** The same route, each receiver a webhook of this test, notifying within a second. */
function testConfig(documented: string, receiversPort: number): string {
  const config = parse(documented) as { route: Route; receivers: { name: string }[] };
  const quick = (route: Route): Route => ({
    ...route,
    group_wait: '1s',
    group_interval: '1s',
    ...(route.routes ? { routes: route.routes.map(quick) } : {}),
  });
  return stringify({
    ...config,
    route: quick(config.route),
    receivers: config.receivers.map(({ name }) => ({
      name,
      webhook_configs: [{ url: `http://127.0.0.1:${receiversPort}/${name}`, send_resolved: true }],
    })),
  });
}

/** Starts a server and waits for its /-/ready; its output goes to <dir>/<name>.log, quoted when it fails. */
async function start(name: string, binary: string, args: string[], port: number): Promise<void> {
  const logFile = join(dir, `${name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);
  children.push(child);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`http://127.0.0.1:${port}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await sleep(200);
  }
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(`${name} did not become ready (exit code ${child.exitCode}):\n${tail}`);
}

async function prometheus<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
  return body.data;
}

/** Alerts pending or firing in Prometheus. */
const activeAlerts = async () =>
  (await prometheus<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;

/** Polls until `probe` gives a value; fails with what was delivered so far. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  const active = await activeAlerts().catch((e: unknown) => String(e));
  throw new Error(
    `timed out waiting for ${what}; delivered: ${JSON.stringify(delivered)}; active: ${JSON.stringify(active)}`,
  );
}

/** The first notification of an alert whose labels include these, in this status. */
const arrival = (alertname: string, labels: Record<string, string>, status = 'firing') =>
  until(`${status} ${alertname} ${JSON.stringify(labels)}`, () =>
    delivered.find(
      (d) =>
        d.status === status &&
        d.labels.alertname === alertname &&
        Object.entries(labels).every(([k, v]) => d.labels[k] === v),
    ),
  );

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
  const installed = execFileSync('bash', [join(import.meta.dirname, 'install-prometheus.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  const lines = installed.trim().split('\n');
  tools = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as unknown as Tools;
  dir = mkdtempSync(join(tmpdir(), 'aicost-alerts-'));
  groups = renderGroups();
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups }, { lineWidth: 0 }));
  writeFileSync(join(dir, 'alertmanager-documented.yml'), documentedConfig());

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
  const receiversPort = await serveReceivers();

  const ports = await freePorts(['prometheus', 'alertmanager'] as const);
  writeFileSync(join(dir, 'alertmanager.yml'), testConfig(documentedConfig(), receiversPort));
  await start(
    'alertmanager',
    tools.ALERTMANAGER,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
      // No high-availability peers: the gossip port would be a fixed one.
      '--cluster.listen-address=',
    ],
    ports.alertmanager,
  );
  const prometheusConfig = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [join(dir, 'rules.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${ports.alertmanager}`] }] }] },
    scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [leaderInstance, standbyInstance] }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(prometheusConfig));
  await start(
    'prometheus',
    tools.PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
    ],
    ports.prometheus,
  );
  promUrl = `http://127.0.0.1:${ports.prometheus}`;
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopProcess(c)));
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the chart's PrometheusRule in Prometheus and Alertmanager", () => {
  it('passes promtool check rules; the documented Alertmanager configuration passes amtool check-config', () => {
    const rules = spawnSync(tools.PROMTOOL, ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
    const am = spawnSync(tools.AMTOOL, ['check-config', join(dir, 'alertmanager-documented.yml')], {
      encoding: 'utf8',
    });
    expect(am.status, am.stdout + am.stderr).toBe(0);
  });

  it('a healthy leader and a standby: nothing pending, firing or delivered', async () => {
    await until('both replicas scraped', async () => {
      const series = await prometheus<{ result: unknown[] }>('/api/v1/query?query=aicost_leader');
      return series.result.length === 2 || undefined;
    });
    // Two evaluations of every group after both scrapes, then time for a notification to come through.
    const since = Date.now();
    await until('two evaluations of every rule group', async () => {
      const data = await prometheus<{ groups: { lastEvaluation: string }[] }>('/api/v1/rules');
      const at = (t: string) => Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
      return data.groups.every((g) => at(g.lastEvaluation) > since + 1000) || undefined;
    });
    await sleep(2000);
    expect(await activeAlerts()).toEqual([]);
    expect(delivered).toEqual([]);
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
    expect(delivered.filter((d) => d.labels.instance === standbyInstance)).toEqual([]);
    expect(delivered.filter((d) => d.receiver === DEFAULT)).toEqual([]);
    expect(delivered.filter((d) => (d.receiver === PAGER) !== (d.labels.severity === 'critical'))).toEqual([]);
  });
});
