#!/usr/bin/env node
/**
 * The composition root: the one place that reads the environment, parses the configuration, and builds
 * every component from explicit dependencies (clock, clients, cache, pricing, metrics, logger).
 */
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { loadBuildInfo, type BuildInfo } from './build-info.ts';
import { buildOperator, type Operator } from './operator.ts';
import { parseWebhookCertArgs, route, versionOutput } from './cli.ts';
import { ConfigError, loadConfig, type Config, type Role } from './config/config.ts';
import { kubeEnvironment } from './config/kube-environment.ts';
import { ledgerS3, resolveLedger } from './config/ledger-location.ts';
import { exportCommand, reportCommand, runsCommand, type CommandIo, type ExitCode } from './report/commands.ts';
import { systemClock, type Clock } from './controller/clock.ts';
import { startHttpServers } from './controller/http-server.ts';
import { createKubeClient, type KubeClient } from './controller/kube-client.ts';
import { isClusterId } from './ledger/layout.ts';
import { openSink } from './ledger/open-sink.ts';
import { LedgerStore } from './ledger/store.ts';
import { loadDefaultConnection, type KubeConnection } from './controller/kube-connection.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { createMetrics, type Metrics } from './controller/metrics.ts';
import { readiness } from './controller/readiness.ts';
import { errorSummary } from './controller/errors.ts';
import { createPrometheusClient } from './measure/prometheus-client.ts';
import { createPricingSource } from './pricing/pricing-source.ts';
import type { WebhookServer } from './controller/webhook-server.ts';
import { serveSpotWebhook, spotAdmission, startWebhookRole } from './spot-webhook.ts';
import { generateSelfSigned } from './webhook/self-signed.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The metrics and the API server's client, which counts its requests in them; either role starts here. */
function metricsAndClient(config: Config, kube: KubeConnection, build: BuildInfo) {
  const metrics = createMetrics(config.labelKeys, config.metricsCardinalityLimit, build);
  const client = createKubeClient(kube, {
    userAgent: `aicost-operator${config.role === 'webhook' ? '-webhook' : ''}/${config.leaderElection.identity}`,
    onRequest: (verb) => metrics.apiRequests.inc({ verb }),
  });
  return { metrics, client };
}

export async function run(
  config: Config,
  log: Logger,
  kube: KubeConnection,
  build: BuildInfo,
  clock: Clock = systemClock,
): Promise<() => Promise<void>> {
  const { metrics, client } = metricsAndClient(config, kube, build);
  const pricing = await createPricingSource(config.pricingFile, config.currency, log);
  const prometheus = createPrometheusClient(config.prometheusUrl, config.prometheusTimeoutMs);
  const ledger = {
    store: new LedgerStore(await openSink(config.ledger, config.ledgerS3)),
    clusterId: await clusterIdOf(config, client),
  };
  log.info({ ledger: ledger.store.url, clusterId: ledger.clusterId }, 'ledger');
  const operator = buildOperator({
    client,
    prometheus,
    pricing,
    clock,
    log,
    metrics,
    options: config,
    ledger,
  });
  const { cache, policies, spotDenials, writeQueue, accountant, manager } = operator;

  let stopping = false;
  const startLeading = async () => {
    if (stopping) return;
    metrics.leader.set(1);
    // A function, not the flag: it changes while startLeading awaits.
    await operator.startLeading(() => stopping);
  };

  const elector = config.leaderElection.enabled
    ? new LeaderElector(config.leaderElection, client, clock, log, {
        onStartedLeading: () => void startLeading(),
        onStoppedLeading: () => {
          // As controller-runtime does: a replica that lost its lease exits, so it can never write as a
          // stale leader; its Deployment restarts it as a standby.
          log.fatal('lost the leader lease: exiting');
          process.exit(1);
        },
      })
    : undefined;

  const servers = await startHttpServers({
    bindAddress: config.bindAddress,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    registry: metrics.registry,
    healthy: () => ({ ready: true, detail: 'running' }),
    ready: () =>
      readiness({
        unsynced: [...cache.all, ...(config.webhook ? [policies] : [])].filter((r) => !r.synced).map((r) => r.name),
        electionProblem: elector?.problem,
        role: !config.leaderElection.enabled || elector?.isLeader ? 'leader' : 'standby',
        gpuMetrics: accountant.report ? accountant.report.measurement.reason : 'no cycle yet',
      }),
  });
  log.info({ metricsPort: servers.metricsPort, healthPort: servers.healthPort }, 'serving metrics and probes');

  // Every replica serves the webhook, leader or not: a review only reads the caches.
  const webhook = config.webhook ? await startSpotWebhook(config, config.webhook, operator, metrics, log) : undefined;

  // Policies first: their selectors say which pod labels the pods' first list keeps.
  await policies.start();
  await cache.start();
  log.info('caches started');
  if (elector) elector.start();
  else await startLeading();

  return async () => {
    stopping = true;
    writeQueue.shutdown();
    await manager.stop();
    await operator.ledger.flush();
    await elector?.stop();
    metrics.leader.set(0);
    cache.stop();
    policies.stop();
    spotDenials.stop();
    await webhook?.close();
    await Promise.all(servers.servers.map((s) => new Promise((r) => s.close(r))));
  };
}

/** The spot admission webhook on the operator's caches. */
function startSpotWebhook(
  config: Config,
  webhookConfig: NonNullable<Config['webhook']>,
  operator: Operator,
  metrics: Metrics,
  log: Logger,
): Promise<WebhookServer> {
  const { cache, policies, events } = operator;
  const admission = spotAdmission({ cache, policies, events, metrics, log }, config);
  return serveSpotWebhook(admission, webhookConfig, { options: config, metrics, log });
}

/**
 * `aicost webhook`: the admission webhook alone (src/spot-webhook.ts), with /metrics and the probes; no leader
 * election, no controllers, no ledger, no Prometheus.
 */
export const runWebhookOnly: typeof run = async (config, log, kube, build, clock) => {
  const webhook = config.webhook;
  if (!webhook) throw new Error('the webhook command needs --webhook-port (the configuration checks it)');
  const { metrics, client } = metricsAndClient(config, kube, build);
  const role = await startWebhookRole({ client, clock: clock ?? systemClock, log, metrics, options: config, webhook });
  const servers = await startHttpServers({
    bindAddress: config.bindAddress,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    registry: metrics.registry,
    healthy: () => ({ ready: true, detail: 'running' }),
    ready: () => role.ready(),
  });
  log.info({ metricsPort: servers.metricsPort, healthPort: servers.healthPort }, 'serving metrics and probes');
  return async () => {
    await role.stop();
    await Promise.all(servers.servers.map((s) => new Promise((r) => s.close(r))));
  };
};

/**
 * --cluster-id, else the kube-system namespace's uid: stable for the cluster's life, and read once at start.
 * It is a UUID, which is a valid cluster id; anything else is refused rather than written into the ledger.
 */
async function clusterIdOf(config: Config, client: KubeClient): Promise<string> {
  if (config.clusterId !== undefined) return config.clusterId;
  const namespace = await client.get<{ metadata?: { uid?: string } }>('/api/v1/namespaces/kube-system');
  const uid = namespace.metadata?.uid ?? '';
  if (!isClusterId(uid))
    throw new Error(`the kube-system namespace's uid ${JSON.stringify(uid)} is not a cluster id: set --cluster-id`);
  return uid;
}

/** Prints to stdout on success, else to stderr, and sets the exit code. */
function print({ text, exitCode }: { text: string; exitCode: 0 | 2 }): void {
  if (exitCode === 0) console.log(text);
  else console.error(text);
  process.exitCode = exitCode;
}

async function main(argv: readonly string[]): Promise<void> {
  const invocation = route(argv);
  if (invocation.kind === 'print') {
    print(invocation);
    return;
  }
  // From dist/ when built (where the build stamped the commit), from src/ in a checkout.
  const build = () => loadBuildInfo(import.meta.dirname, process.version);
  switch (invocation.command) {
    case 'webhook-cert':
      webhookCert(invocation.args);
      return;
    case 'version':
      print(versionOutput(invocation.args, build()));
      return;
    case 'run':
      await runCommand(invocation.args, build(), 'operator');
      return;
    case 'webhook':
      await runCommand(invocation.args, build(), 'webhook');
      return;
    case 'report': {
      const [first, ...rest] = invocation.args;
      await reportingCommand(() => (first === 'runs' ? runsCommand(rest, io()) : reportCommand(invocation.args, io())));
      return;
    }
    case 'export':
      await reportingCommand(() => exportCommand(invocation.args, io()));
      return;
  }
}

/** What the report commands get from the composition root: the time, the ledger's location, the streams. */
function io(): CommandIo {
  return {
    nowMs: Date.now(),
    ledger: (flag) => resolveLedger(flag),
    s3: (location) => ledgerS3(location),
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  };
}

/** Runs a report command; a failure is one line on stderr (with its causes) and exit code 1, not a stack. */
async function reportingCommand(command: () => Promise<ExitCode>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    const causes: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) causes.push(e.message);
    console.error(`aicost: ${causes.join(': ') || String(error)}`);
    process.exitCode = 1;
  }
}

async function runCommand(rest: readonly string[], build: BuildInfo, role: Role): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(rest, hostname(), role);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const log = pino({ level: config.logLevel, base: { identity: config.leaderElection.identity } });
  log.info({ version: build.version, commit: build.commit, node: build.nodeVersion }, 'starting');
  let kube: KubeConnection;
  try {
    kube = loadDefaultConnection(kubeEnvironment());
  } catch (error) {
    log.fatal(
      { err: errorSummary(error) },
      'cannot load the Kubernetes connection (KUBECONFIG or the in-cluster service account)',
    );
    process.exit(1);
  }
  let stop: () => Promise<void>;
  try {
    stop = await (role === 'webhook' ? runWebhookOnly : run)(config, log, kube, build);
  } catch (error) {
    log.fatal({ err: errorSummary(error) }, 'start-up failed');
    process.exit(1);
  }
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    stop()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: errorSummary(error) }, 'unclean shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Writes a self-signed certificate for a webhook run outside a cluster (see `aicost webhook-cert --help`). */
function webhookCert(args: readonly string[]): void {
  const parsed = parseWebhookCertArgs(args);
  if ('error' in parsed) {
    console.error(parsed.error);
    process.exitCode = 2;
    return;
  }
  const { dir, hosts } = parsed;
  const pair = generateSelfSigned(hosts, new Date());
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.crt'), pair.cert);
  writeFileSync(join(dir, 'tls.key'), pair.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), pair.cert);
  console.log(`wrote tls.crt, tls.key and ca.crt for ${hosts.join(', ')} to ${dir}`);
}

if (import.meta.main) {
  await main(process.argv.slice(2));
}
