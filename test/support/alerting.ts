/**
 * Debian's Prometheus and Alertmanager started by a test, on free loopback ports: the chart's PrometheusRule
 * loaded as a rule file (there is no prometheus-operator here), the Alertmanager route of docs/budgets.md with its
 * receivers swapped for webhooks the test serves, and every notification recorded with the receiver it reached.
 * Used by the alerts tier (fake replicas' /metrics) and by the budgets e2e (the live operator's /metrics).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { CHART, find, render, type Obj } from '../chart/helm.ts';
import { freePorts, stopProcess } from './processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Rule {
  alert: string;
  expr: string;
}
export interface RuleGroup {
  name: string;
  rules: Rule[];
}
export interface Delivered {
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
export interface AlertingTools {
  PROMETHEUS: string;
  PROMTOOL: string;
  ALERTMANAGER: string;
  AMTOOL: string;
}

/** Installs the packages once if missing (test/alerts/install-prometheus.sh) and names their binaries. */
export function installAlerting(): AlertingTools {
  const installed = execFileSync('bash', [join(ROOT, 'test/alerts/install-prometheus.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  const lines = installed.trim().split('\n');
  return Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as unknown as AlertingTools;
}

/** The chart's rule groups with every `for` at 0s (a step shows in seconds; the expressions are the chart's). */
export function chartRuleGroups(...extraArgs: string[]): RuleGroup[] {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
    prometheusRule: { for: Record<string, string> };
  };
  const forZero = Object.keys(values.prometheusRule.for).flatMap((k) => ['--set', `prometheusRule.for.${k}=0s`]);
  const objs = render('--set', 'prometheusRule.enabled=true', ...forZero, ...extraArgs);
  const rule = find(objs, 'PrometheusRule') as (Obj & { spec: { groups: RuleGroup[] } }) | undefined;
  if (!rule) throw new Error('the chart rendered no PrometheusRule with prometheusRule.enabled=true');
  return rule.spec.groups;
}

/** The Alertmanager configuration of docs/budgets.md, as written. */
export function documentedAlertmanagerConfig(): string {
  const doc = readFileSync(join(ROOT, 'docs/budgets.md'), 'utf8');
  const block = /```yaml\n(# alertmanager\.yml[^\n]*\n[\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/budgets.md has no ```yaml block starting with "# alertmanager.yml"');
  return block;
}

/** The same route, each receiver a webhook of the test, notifying within a second. */
function webhookConfig(documented: string, receiversPort: number): string {
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

/** An HTTP server on a free port of 127.0.0.1; closed by `closeAll`. */
export async function listen(
  servers: Server[],
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('a listening socket without a TCP port');
  return address.port;
}

export interface AlertingOptions {
  readonly tools: AlertingTools;
  readonly groups: RuleGroup[];
  /** The scrape job's name: the `job` label of every alert. */
  readonly job: string;
  /** host:port targets scraped every second; `setTargets` changes them while running. */
  readonly targets: readonly string[];
}

/** A running Prometheus and Alertmanager with the test's webhook receivers; `stop` ends all of it. */
export class AlertingStack {
  readonly delivered: Delivered[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly servers: Server[] = [];
  private promUrl = '';

  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(options: AlertingOptions): Promise<AlertingStack> {
    const stack = new AlertingStack(mkdtempSync(join(tmpdir(), 'aicost-alerts-')));
    try {
      await stack.boot(options);
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  private async boot({ tools, groups, job, targets }: AlertingOptions): Promise<void> {
    const { dir } = this;
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups }, { lineWidth: 0 }));
    writeFileSync(join(dir, 'alertmanager-documented.yml'), documentedAlertmanagerConfig());
    this.setTargets(targets);
    const receiversPort = await listen(this.servers, (req, res) => this.receive(req, res));
    const ports = await freePorts(['prometheus', 'alertmanager'] as const);
    writeFileSync(join(dir, 'alertmanager.yml'), webhookConfig(documentedAlertmanagerConfig(), receiversPort));
    await this.startServer(
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
      // A file of targets, so that a restarted operator (a new metrics port) is scraped without a reload.
      scrape_configs: [{ job_name: job, file_sd_configs: [{ files: [join(dir, 'targets.json')] }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(prometheusConfig));
    await this.startServer(
      'prometheus',
      tools.PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      ],
      ports.prometheus,
    );
    this.promUrl = `http://127.0.0.1:${ports.prometheus}`;
  }

  /** Replaces the scraped targets (written whole, then renamed, so Prometheus never reads half a file). */
  setTargets(targets: readonly string[]): void {
    const file = join(this.dir, 'targets.json');
    writeFileSync(`${file}.tmp`, JSON.stringify([{ targets }]));
    renameSync(`${file}.tmp`, file);
  }

  /** Serves an HTTP handler on a free port that stops with the stack (e.g. a replica's /metrics). */
  serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
    return listen(this.servers, handler);
  }

  /** Alertmanager's webhook notifications, each alert recorded with the receiver it was routed to. */
  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        receiver: string;
        alerts: Omit<Delivered, 'receiver'>[];
      };
      for (const a of body.alerts) {
        this.delivered.push({
          receiver: body.receiver,
          status: a.status,
          labels: a.labels,
          annotations: a.annotations,
        });
      }
      res.writeHead(200).end();
    });
  }

  /** Starts a server and waits for its /-/ready; its output goes to <dir>/<name>.log, quoted when it fails. */
  private async startServer(name: string, binary: string, args: string[], port: number): Promise<void> {
    const logFile = join(this.dir, `${name}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn(binary, args, { cwd: this.dir, stdio: ['ignore', log, log] });
    closeSync(log);
    this.children.push(child);
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

  async prometheus<T>(path: string): Promise<T> {
    const res = await fetch(`${this.promUrl}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** Alerts pending or firing in Prometheus. */
  async activeAlerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    return (await this.prometheus<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts'))
      .alerts;
  }

  /** Polls until `probe` gives a value; fails with what was delivered and what is active. */
  async until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await probe();
      if (value !== undefined) return value;
      await sleep(100);
    }
    const active = await this.activeAlerts().catch((e: unknown) => String(e));
    throw new Error(
      `timed out waiting for ${what}; delivered: ${JSON.stringify(this.delivered)}; active: ${JSON.stringify(active)}`,
    );
  }

  /** The first notification of an alert whose labels include these, in this status. */
  arrival(
    alertname: string,
    labels: Record<string, string>,
    status = 'firing',
    timeoutMs = 30_000,
  ): Promise<Delivered> {
    return this.until(
      `${status} ${alertname} ${JSON.stringify(labels)}`,
      () =>
        this.delivered.find(
          (d) =>
            d.status === status &&
            d.labels.alertname === alertname &&
            Object.entries(labels).every(([k, v]) => d.labels[k] === v),
        ),
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => stopProcess(c)));
    await Promise.all(this.servers.map((s) => new Promise((done) => s.close(done))));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
