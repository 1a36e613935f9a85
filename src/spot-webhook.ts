/**
 * The admission webhook (budgets, spot rules, the price before launch), as both roles serve it. `aicost run`
 * serves it beside the controllers, on the operator's caches and pricing (src/main.ts). `aicost webhook` serves
 * it alone, for a Deployment of its own (the chart's webhook.separateDeployment): startWebhookRole builds only
 * what a review reads (namespaces, nodes, the owners a pod can name, the policies, the pricing file), so it
 * lists no pods, takes no Lease and starts no controller, no ledger and no Prometheus client. src/main.ts calls
 * it on the real API server; its test on the in-memory one.
 */
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { WebhookConfig } from './config/webhook-options.ts';
import type { Clock } from './controller/clock.ts';
import { createAdmissionCache, createPolicyReflector } from './controller/cluster-cache.ts';
import { createEventRecorder } from './controller/events.ts';
import type { KubeClient } from './controller/kube-client.ts';
import type { Metrics } from './controller/metrics.ts';
import type { PricingSource } from './pricing/pricing-source.ts';
import { readiness, unsyncedCaches } from './controller/readiness.ts';
import { startWebhookServer, type WebhookServer } from './controller/webhook-server.ts';
import { SpotAdmission, type SpotAdmissionDeps } from './reconcilers/spot-admission.ts';

/** The configuration a webhook reads, whichever role serves it. */
export type SpotWebhookOptions = Pick<Config, 'bindAddress' | 'defaultMode' | 'spotConventions' | 'namespace'>;

/** Serves `admission`'s reviews over TLS, with the latency and refusals in the metrics. */
export function serveSpotWebhook(
  admission: SpotAdmission,
  webhook: WebhookConfig,
  deps: { readonly options: SpotWebhookOptions; readonly metrics: Metrics; readonly log: Logger },
): Promise<WebhookServer> {
  return startWebhookServer({
    bindAddress: deps.options.bindAddress,
    port: webhook.port,
    certDir: webhook.certDir,
    log: deps.log,
    limits: webhook.limits,
    handle: (_path, body) => admission.review(body),
    onLatency: (seconds) => deps.metrics.webhookLatency.observe(seconds),
    onRefused: (reason) => deps.metrics.webhookRefused.inc({ reason }),
  });
}

/** The handler on the given caches and policies, with the configuration's mode and conventions. */
export function spotAdmission(
  deps: Pick<SpotAdmissionDeps, 'cache' | 'policies' | 'events' | 'metrics' | 'log' | 'clock' | 'pricing'>,
  options: SpotWebhookOptions,
): SpotAdmission {
  return new SpotAdmission({
    ...deps,
    log: deps.log.child({ controller: 'spot-webhook' }),
    protectedNamespaces: new Set(['kube-system', options.namespace]),
    defaultMode: options.defaultMode,
    conventions: options.spotConventions,
  });
}

export interface WebhookRoleDeps {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The pricing file, as `aicost run` loads it: the price before launch reads it. */
  readonly pricing: PricingSource;
  readonly options: SpotWebhookOptions;
  readonly webhook: WebhookConfig;
}

export interface WebhookRole {
  readonly server: WebhookServer;
  /** /readyz: ready once every cache a review reads has synced. */
  ready(): { ready: boolean; detail: string };
  stop(): Promise<void>;
}

/** `aicost webhook`: the caches a review reads, the policies, the pricing, and the server; nothing else. */
export async function startWebhookRole(deps: WebhookRoleDeps): Promise<WebhookRole> {
  const { client, clock, log, metrics, pricing } = deps;
  const cache = createAdmissionCache(client, clock, log, metrics);
  const policies = createPolicyReflector(client, clock, log, metrics);
  const events = createEventRecorder(client, clock, log);
  const admission = spotAdmission({ cache, policies, events, metrics, log, clock, pricing }, deps.options);
  const server = await serveSpotWebhook(admission, deps.webhook, deps);
  await policies.start();
  await cache.start();
  log.info('caches started: serving admission only');
  return {
    server,
    ready: () =>
      readiness({
        unsynced: unsyncedCaches([...cache.all, policies]),
        electionProblem: undefined,
        role: 'webhook',
        gpuMetrics: undefined,
      }),
    async stop() {
      cache.stop();
      policies.stop();
      await server.close();
    },
  };
}
