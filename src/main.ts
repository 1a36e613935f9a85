#!/usr/bin/env node
/**
 * The composition root: the one place that reads the environment, parses the configuration, and builds
 * every component from explicit dependencies (clock, clients, cache, pricing, metrics, logger).
 */
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { loadBuildInfo, type BuildInfo } from './build-info.ts';
import { parseWebhookCertArgs, route, versionOutput } from './cli.ts';
import { ConfigError, kubeEnvironment, loadConfig, type Config } from './config/config.ts';
import { collectionPath } from './controller/api-paths.ts';
import { systemClock, type Clock } from './controller/clock.ts';
import { createClusterCache, createOwnEventReflector } from './controller/cluster-cache.ts';
import { startHttpServers } from './controller/http-server.ts';
import { createKubeClient } from './controller/kube-client.ts';
import { loadDefaultConnection, type KubeConnection } from './controller/kube-connection.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { createMetrics } from './controller/metrics.ts';
import { readiness } from './controller/readiness.ts';
import { errorSummary } from './controller/errors.ts';
import { Reflector } from './controller/reflector.ts';
import { createEventRecorder } from './controller/events.ts';
import { followPolicySelectors } from './controller/pod-label-keys.ts';
import { projectPolicy, type PolicyRecord } from './crds/policy-record.ts';
import { PolicyController } from './reconcilers/policy-controller.ts';
import { Manager } from './controller/manager.ts';
import { WorkQueue } from './controller/workqueue.ts';
import { createPrometheusClient } from './measure/prometheus-client.ts';
import { createPricingSource } from './pricing/pricing-source.ts';
import { Accountant } from './reconcilers/accounting.ts';
import { AnnotationWriter } from './reconcilers/annotation-writer.ts';
import { SpotAdmission } from './reconcilers/spot-admission.ts';
import { SPOT_DENIED } from './policy/spot-denials.ts';
import { startWebhookServer, type WebhookServer } from './controller/webhook-server.ts';
import { generateSelfSigned } from './webhook/self-signed.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The singleton keys of the accounting and policy controllers: each passes over the whole cluster. */
const ACCOUNTING_KEY = 'cycle';
const POLICY_KEY = 'all';
const SCHEDULE_REQUEUE_CAP_MS = 3_600_000;

export async function run(
  config: Config,
  log: Logger,
  kube: KubeConnection,
  build: BuildInfo,
  clock: Clock = systemClock,
): Promise<() => Promise<void>> {
  const metrics = createMetrics(config.labelKeys, config.metricsCardinalityLimit, build);
  const client = createKubeClient(kube, {
    userAgent: `aicost-operator/${config.leaderElection.identity}`,
    onRequest: (verb) => metrics.apiRequests.inc({ verb }),
  });
  const pricing = await createPricingSource(config.pricingFile, config.currency, log);
  const prometheus = createPrometheusClient(config.prometheusUrl, config.prometheusTimeoutMs);
  const cache = createClusterCache(client, clock, log, metrics, { labelKeys: config.labelKeys });
  const queueMetrics = {
    adds: (name: string) => metrics.queueAdds.inc({ name }),
    depth: (name: string, depth: number) => metrics.queueDepth.set({ name }, depth),
    retries: (name: string) => metrics.queueRetries.inc({ name }),
  };
  // Policies have their own reflector: accounting must not wait for the CRD to be installed.
  const policies = new Reflector<PolicyRecord>(
    { name: 'aicostpolicies', path: collectionPath('AICostPolicy'), project: projectPolicy },
    client,
    clock,
    log,
    {
      onError: (name) => metrics.watchRestarts.inc({ resource: name }),
      onRelist: (name) => metrics.synced.set({ resource: name }, 1),
    },
  );
  // A policy selecting bare pods by a label must find it in the pod cache, which keeps only the labels it reads.
  followPolicySelectors(policies, cache.podLabelKeys, cache.pods, log);
  const events = createEventRecorder(client, clock, log);
  // Leader only (started when leading): the webhook's denials, to count in the policies' status.
  const spotDenials = createOwnEventReflector(client, clock, log, metrics, SPOT_DENIED);
  const writeQueue = new WorkQueue('annotations', clock, undefined, queueMetrics);
  const writer = new AnnotationWriter({
    client,
    clock,
    log,
    metrics,
    queue: writeQueue,
    annotateIntervalMs: config.annotateIntervalMs,
    writeQps: config.writeQps,
    writeBurst: config.writeBurst,
  });
  const accountant = new Accountant({
    cache,
    pricing,
    prometheus,
    writer,
    events,
    clock,
    log: log.child({ controller: 'accounting' }),
    metrics,
    options: {
      intervalMs: config.intervalMs,
      idleThreshold: config.idleThreshold,
      minCoverage: config.minCoverage,
      scrapeIntervalMs: config.scrapeIntervalMs,
      labelKeys: config.labelKeys,
    },
  });

  const policyController = new PolicyController({
    cache,
    policies,
    spotDenials,
    accountant,
    client,
    prometheus,
    events,
    clock,
    log: log.child({ controller: 'policy' }),
    protectedNamespaces: new Set(['kube-system', config.namespace]),
    defaultMode: config.defaultMode,
    pricing,
    metrics,
    onAction: (policy, rule, action, mode) => metrics.policyActions.inc({ policy, rule, action, mode }),
  });

  // Every loop is a controller on the manager's keyed queues; workers run only while this replica leads.
  const manager = new Manager(clock, log, {
    queueMetrics,
    onResult: (controller, outcome, ms) => {
      metrics.reconcileTotal.inc({ controller, result: outcome });
      metrics.reconcileTime.observe({ controller }, ms / 1000);
      if (outcome === 'error' || outcome === 'terminal') metrics.reconcileErrors.inc({ controller });
    },
  });
  const notSynced = { requeueAfterMs: 1000 };
  manager.register({
    name: 'accounting',
    initialKeys: [ACCOUNTING_KEY],
    reconcile: async () => {
      if (!cache.hasSynced()) {
        log.info('waiting for the caches to sync before accounting');
        return notSynced;
      }
      await pricing.refresh();
      try {
        await accountant.runCycle();
      } catch (error) {
        // Not the queue's backoff from 5 ms: accrual resumes from each ledger's accounted-until, so the next
        // cycle at the interval covers this one's time, and a long outage does not push it out by minutes.
        metrics.reconcileErrors.inc({ controller: 'accounting' });
        log.error({ err: errorSummary(error) }, 'accounting cycle failed; the next cycle covers its interval');
        return { requeueAfterMs: config.intervalMs };
      }
      // Policies decide on the measurement just made.
      manager.enqueue('policy', POLICY_KEY);
      return { requeueAfterMs: config.intervalMs };
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
      // Capped: a timer longer than 2^31 ms fires at once, and accounting enqueues a pass every interval anyway.
      if (nextScheduleAtMs === undefined) return undefined;
      return { requeueAfterMs: Math.min(nextScheduleAtMs - clock.now(), SCHEDULE_REQUEUE_CAP_MS) };
    },
  });
  manager.register({ name: 'annotations', queue: writeQueue, workers: 4, reconcile: (key) => writer.reconcile(key) });

  let stopping = false;
  // A function, not an inline check: the flag changes while startLeading awaits.
  const isStopping = () => stopping;
  const startLeading = async () => {
    if (stopping) return;
    metrics.leader.set(1);
    // Start from everything a previous leader wrote: relist before the first decision.
    await Promise.all([...cache.all, policies].map((r) => r.resync()));
    // A lost lease ends the process, so this starts once; a failed first list is retried by the reflector.
    await spotDenials.start();
    // A stop that came during the relists has released the Lease already: no worker may start after it.
    if (isStopping()) return;
    accountant.reset();
    policyController.reset();
    writer.reset();
    manager.start();
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
  let webhook: WebhookServer | undefined;
  if (config.webhook) {
    const admission = new SpotAdmission({
      cache,
      policies,
      events,
      metrics,
      log: log.child({ controller: 'spot-webhook' }),
      protectedNamespaces: new Set(['kube-system', config.namespace]),
      defaultMode: config.defaultMode,
      conventions: config.spotConventions,
    });
    webhook = await startWebhookServer({
      bindAddress: config.bindAddress,
      port: config.webhook.port,
      certDir: config.webhook.certDir,
      log,
      handle: (_path, body) => admission.review(body),
      onLatency: (seconds) => metrics.webhookLatency.observe(seconds),
    });
  }

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
    await elector?.stop();
    metrics.leader.set(0);
    cache.stop();
    policies.stop();
    spotDenials.stop();
    await webhook?.close();
    await Promise.all(servers.servers.map((s) => new Promise((r) => s.close(r))));
  };
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
      await runCommand(invocation.args, build());
      return;
  }
}

async function runCommand(rest: readonly string[], build: BuildInfo): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(rest, hostname());
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
    stop = await run(config, log, kube, build);
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
