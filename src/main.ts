#!/usr/bin/env node
/**
 * The composition root: the one place that reads the environment, parses the configuration, and builds
 * every component from explicit dependencies (clock, clients, cache, pricing, metrics, logger).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadBuildInfo, type BuildInfo } from './build-info.ts';
import { buildOperator, type Operator } from './operator.ts';
import { leadership } from './leadership.ts';
import { parseWebhookCertArgs, route, versionOutput } from './cli.ts';
import { programName } from './program-name.ts';
import { ConfigError, loadConfig, type Config, type Role } from './config/config.ts';
import { kubeEnvironment } from './config/kube-environment.ts';
import { ledgerS3, resolveLedger } from './config/ledger-location.ts';
import { recommendCommand } from './recommend/command.ts';
import { exportCommand, reportCommand, runsCommand, type CommandIo, type ExitCode } from './report/commands.ts';
import { systemClock, type Clock } from './controller/clock.ts';
import { startHttpServers, type HttpServers, type SecureMetricsOptions } from './controller/http-server.ts';
import { createKubeClient, type KubeClient } from './controller/kube-client.ts';
import { displayUrl } from './controller/display-url.ts';
import { createLogger } from './controller/logger.ts';
import { isClusterId } from './ledger/layout.ts';
import { openSink } from './ledger/open-sink.ts';
import { LedgerStore } from './ledger/store.ts';
import { loadDefaultConnection, type KubeConnection } from './controller/kube-connection.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { createMetrics, type Metrics } from './controller/metrics.ts';
import { gpuMetricsState, readiness, unsyncedCaches } from './controller/readiness.ts';
import { createMetricsAuthorizer } from './controller/metrics-auth.ts';
import { errorSummary } from './controller/errors.ts';
import { createPrometheusClient, type PrometheusClient } from './measure/prometheus-client.ts';
import { createPricingSource, type PricingSource } from './pricing/pricing-source.ts';
import { marketRefresherFor } from './pricing/market-clients.ts';
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
  // Off unless --price-refresh names sources: the operator calls out to the clouds only when asked.
  const market = config.priceRefresh && marketRefresherFor(config.priceRefresh, clock, log);
  const pricing = await createPricingSource(config.pricingFile, config.currency, log, market?.current);
  market?.start();
  const prometheus = prometheusClient(config.prometheus, log);
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
  const { cache, policies, denials, writeQueue, manager } = operator;

  let stopping = false;
  // A replica that loses its lease exits (src/leadership.ts says why); its Deployment restarts it as a standby.
  const lead = leadership({
    operator,
    metrics,
    log,
    // A function, not the flag: it changes while startLeading awaits.
    stopping: () => stopping,
    exit: (code) => process.exit(code),
  });
  const elector = config.leaderElection.enabled
    ? new LeaderElector(config.leaderElection, client, clock, log, lead)
    : undefined;

  const servers = await serveMetricsAndProbes(config, { client, clock, log, metrics, operator, elector });

  // Every replica serves the webhook, leader or not: a review only reads the caches.
  const webhook = config.webhook
    ? await startSpotWebhook(config, config.webhook, operator, { metrics, log, clock, pricing })
    : undefined;

  // Policies first: their selectors say which pod labels the pods' first list keeps.
  await policies.start();
  await cache.start();
  log.info('caches started');
  if (elector) elector.start();
  else await lead.startLeading();

  return async () => {
    stopping = true;
    market?.stop();
    writeQueue.shutdown();
    await manager.stop();
    await operator.ledger.flush();
    await elector?.stop();
    metrics.leader.set(0);
    cache.stop();
    policies.stop();
    for (const d of denials) d.events.stop();
    await webhook?.close();
    await servers.close();
  };
}

/** /metrics (secure or plain), /healthz and /readyz (what the caches, the election and the last cycle say). */
async function serveMetricsAndProbes(
  config: Config,
  deps: {
    client: KubeClient;
    clock: Clock;
    log: Logger;
    metrics: Metrics;
    operator: Operator;
    elector: LeaderElector | undefined;
  },
): Promise<HttpServers> {
  const { cache, policies, accountant } = deps.operator;
  const { elector, log } = deps;
  const servers = await startHttpServers({
    bindAddress: config.bindAddress,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    registry: deps.metrics.registry,
    secure: config.metricsSecure && secureMetrics(config.metricsSecure.certDir, deps.client, deps.clock, log),
    healthy: () => ({ ready: true, detail: 'running' }),
    ready: () =>
      readiness({
        unsynced: unsyncedCaches([...cache.all, ...(config.webhook ? [policies] : [])]),
        electionProblem: elector?.problem,
        role: !config.leaderElection.enabled || elector?.isLeader ? 'leader' : 'standby',
        gpuMetrics: gpuMetricsState(accountant.report?.measurement),
      }),
  });
  const metricsSecure = config.metricsSecure !== undefined;
  log.info(
    { metricsPort: servers.metricsPort, healthPort: servers.healthPort, metricsSecure },
    'serving metrics and probes',
  );
  return servers;
}

/**
 * /metrics behind the API server's TokenReview and SubjectAccessReview, over TLS: the certificate from certDir,
 * else a self-signed one made now (Prometheus then skips verification, as with controller-runtime's default).
 */
function secureMetrics(
  certDir: string | undefined,
  client: KubeClient,
  clock: Clock,
  log: Logger,
): SecureMetricsOptions {
  return {
    certDir,
    selfSigned: () => {
      const pair = generateSelfSigned(
        ['localhost', '127.0.0.1'],
        new Date(clock.now()),
        365,
        ['serverAuth'],
        'aicost-operator metrics',
      );
      return { cert: Buffer.from(pair.cert), key: Buffer.from(pair.key) };
    },
    authorize: createMetricsAuthorizer({ client, clock, log }),
    log: log.child({ component: 'metrics' }),
  };
}

/** The Prometheus client, and a line saying where it goes and how it authenticates (never with what). */
function prometheusClient(settings: Config['prometheus'], log: Logger): PrometheusClient {
  const tls = Object.entries(settings.tls).flatMap(([name, file]) => (file ? [name] : []));
  log.info(
    { url: displayUrl(settings.url), auth: settings.auth.kind, tls, headers: settings.headers.map(([name]) => name) },
    'prometheus',
  );
  return createPrometheusClient(settings);
}

/** The spot admission webhook on the operator's caches. */
function startSpotWebhook(
  config: Config,
  webhookConfig: NonNullable<Config['webhook']>,
  operator: Operator,
  { metrics, log, clock, pricing }: { metrics: Metrics; log: Logger; clock: Clock; pricing: PricingSource },
): Promise<WebhookServer> {
  const { cache, policies, events } = operator;
  const admission = spotAdmission({ cache, policies, events, metrics, log, clock, pricing }, config);
  return serveSpotWebhook(admission, webhookConfig, { options: config, metrics, log });
}

/**
 * `aicost webhook`: the admission webhook alone (src/spot-webhook.ts), with /metrics and the probes; no leader
 * election, no controllers, no ledger, no Prometheus. It loads the pricing file as `aicost run` does, for the
 * price before launch: a small file, read again by the reviews once a minute at most.
 */
export const runWebhookOnly: typeof run = async (config, log, kube, build, clock) => {
  const webhook = config.webhook;
  if (!webhook) throw new Error('the webhook command needs --webhook-port (the configuration checks it)');
  const { metrics, client } = metricsAndClient(config, kube, build);
  const now = clock ?? systemClock;
  const pricing = await createPricingSource(config.pricingFile, config.currency, log);
  const role = await startWebhookRole({ client, clock: now, log, metrics, pricing, options: config, webhook });
  const servers = await startHttpServers({
    bindAddress: config.bindAddress,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    registry: metrics.registry,
    secure: config.metricsSecure && secureMetrics(config.metricsSecure.certDir, client, now, log),
    healthy: () => ({ ready: true, detail: 'running' }),
    ready: () => role.ready(),
  });
  log.info({ metricsPort: servers.metricsPort, healthPort: servers.healthPort }, 'serving metrics and probes');
  return async () => {
    await role.stop();
    await servers.close();
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

async function main(argv: readonly string[], program: string): Promise<void> {
  const invocation = route(argv, program);
  if (invocation.kind === 'print') {
    print(invocation);
    return;
  }
  // From dist/ when built (where the build stamped the commit), from src/ in a checkout.
  const build = () => loadBuildInfo(import.meta.dirname, process.version);
  switch (invocation.command) {
    case 'webhook-cert':
      webhookCert(invocation.args, program);
      return;
    case 'version':
      print(versionOutput(invocation.args, build(), program));
      return;
    case 'run':
      await runCommand(invocation.args, build(), 'operator');
      return;
    case 'webhook':
      await runCommand(invocation.args, build(), 'webhook');
      return;
    case 'report': {
      const [first, ...rest] = invocation.args;
      await reportingCommand(program, () =>
        first === 'runs' ? runsCommand(rest, io(program)) : reportCommand(invocation.args, io(program)),
      );
      return;
    }
    case 'export':
      await reportingCommand(program, () => exportCommand(invocation.args, io(program)));
      return;
    case 'recommend':
      await reportingCommand(program, () => recommendCommand(invocation.args, io(program)));
      return;
  }
}

/** What the report commands get from the composition root: the time, the ledger's location, the streams. */
function io(program: string): CommandIo {
  return {
    nowMs: Date.now(),
    program,
    ledger: (flag) => resolveLedger(flag),
    s3: (location) => ledgerS3(location),
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  };
}

/** Runs a report command; a failure is one line on stderr (with its causes) and exit code 1, not a stack. */
async function reportingCommand(program: string, command: () => Promise<ExitCode>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    const causes: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) causes.push(e.message);
    console.error(`${program}: ${causes.join(': ') || String(error)}`);
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
  const log = createLogger({ level: config.logLevel, identity: config.leaderElection.identity });
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
function webhookCert(args: readonly string[], program: string): void {
  const parsed = parseWebhookCertArgs(args, program);
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
  // kubectl runs the plugin as kubectl-aicost (a link to this file): the name is the script's, not the target's.
  await main(process.argv.slice(2), programName(process.argv[1]));
}
