/**
 * Helpers for e2e tests: the cluster's kubeconfig and client, fresh namespaces, polling, PromQL. The
 * cluster's coordinates come from test/e2e/global-setup.ts through vitest's inject().
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { createKubeClient, type KubeClient } from '../../../src/controller/kube-client.ts';
import { isNotFound } from '../../../src/controller/errors.ts';

/** Where the cluster's component logs (and the operator logs tests write) are: worth a look when a test fails. */
export const logHint = (): string => `component logs: ${inject('logDir')}`;

export function loadKubeConfig(path: string = inject('kubeconfig')): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (error) {
    throw new Error(`cannot load the e2e cluster's kubeconfig ${path}`, { cause: error });
  }
  return kc;
}

export interface Cluster {
  readonly kubeconfig: string;
  /** Empty when the tests run against an existing cluster without PROMETHEUS_URL. */
  readonly prometheusUrl: string;
  readonly logDir: string;
  readonly kc: KubeConfig;
  readonly client: KubeClient;
}

let shared: Cluster | undefined;

export function cluster(): Cluster {
  if (!shared) {
    const kubeconfig = inject('kubeconfig');
    const kc = loadKubeConfig(kubeconfig);
    shared = {
      kubeconfig,
      prometheusUrl: inject('prometheusUrl'),
      logDir: inject('logDir'),
      kc,
      client: createKubeClient(kc, { userAgent: 'aicost-e2e' }),
    };
  }
  return shared;
}

export interface TestNamespace {
  readonly name: string;
  /** Deletes the namespace (and so everything in it) without waiting; call it from afterAll or afterEach. */
  remove(): Promise<void>;
}

/**
 * Creates a uniquely named namespace (`<prefix>-<random>`) and waits for its default ServiceAccount, which
 * pods need. Either `createTestNamespace('smoke')` or, with an explicit client, `createTestNamespace(client,
 * 'smoke', labels)`.
 */
export async function createTestNamespace(
  prefix: string,
  options?: { labels?: Record<string, string> },
): Promise<TestNamespace>;
export async function createTestNamespace(
  client: KubeClient,
  prefix: string,
  labels?: Record<string, string>,
): Promise<TestNamespace>;
export async function createTestNamespace(
  first: string | KubeClient,
  second?: string | { labels?: Record<string, string> },
  third: Record<string, string> = {},
): Promise<TestNamespace> {
  const client = typeof first === 'string' ? cluster().client : first;
  const prefix = typeof first === 'string' ? first : typeof second === 'string' ? second : 'e2e';
  const labels = typeof first === 'string' && typeof second === 'object' ? (second.labels ?? {}) : third;
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const name = `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50)}-${suffix}`;
  try {
    await client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'aicost.dev/e2e': 'true', ...labels } },
    });
  } catch (error) {
    throw new Error(`cannot create the test namespace ${name}; ${logHint()}`, { cause: error });
  }
  await waitFor(
    () =>
      client.get(`/api/v1/namespaces/${name}/serviceaccounts/default`).then(
        () => true,
        () => false,
      ),
    { description: `the default ServiceAccount of ${name} (made by kube-controller-manager)`, timeoutMs: 30_000 },
  );
  return {
    name,
    remove: async () => {
      try {
        await client.delete(`/api/v1/namespaces/${name}`);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}

export interface WaitOptions {
  readonly description: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Polls `fn` until it returns a truthy value, which it returns. On timeout it throws with the description,
 * the last value (or error) seen, and where the logs are.
 */
export async function waitFor<T>(fn: () => Promise<T> | T, options: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen =
        last instanceof Error
          ? `error: ${last.message}`
          : (last === undefined ? 'undefined' : JSON.stringify(last)).slice(0, 800);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.description}; last seen: ${seen}; ${logHint()}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * Runs an instant PromQL query: `promQuery(promql)` against the e2e cluster's Prometheus, or
 * `promQuery(prometheusUrl, promql)`. Throws when no Prometheus is known or the query fails.
 */
export async function promQuery(first: string, second?: string): Promise<PromSample[]> {
  const base = second === undefined ? inject('prometheusUrl') : first;
  const query = second ?? first;
  if (!base) throw new Error('no Prometheus for this e2e run: set PROMETHEUS_URL with AICOST_E2E_EXISTING_CLUSTER=1');
  const url = new URL(`${base.replace(/\/+$/, '')}/api/v1/query`);
  url.searchParams.set('query', query);
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: PromSample[] } };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new Error(`PromQL ${query} against ${base} failed`, { cause: error });
  }
  if (body.status !== 'success' || body.data?.resultType !== 'vector')
    throw new Error(`PromQL ${query} failed: ${body.error ?? JSON.stringify(body).slice(0, 300)}`);
  return body.data.result ?? [];
}

export interface PodLike {
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; uid: string };
  spec: { nodeName?: string };
  status: { phase?: string; startTime?: string };
}

export async function podsOf(client: KubeClient, namespace: string, selector: string): Promise<PodLike[]> {
  return (await client.list<PodLike>(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selector })).items;
}

/** The first pod matching `selector` that is Running (and has started), once there is one. */
export async function runningPod(
  client: KubeClient,
  namespace: string,
  selector: string,
  timeoutMs = 60_000,
): Promise<PodLike> {
  return waitFor(
    async () =>
      (await podsOf(client, namespace, selector)).find((p) => p.status.phase === 'Running' && p.status.startTime),
    { description: `a Running pod with ${selector} in ${namespace}`, timeoutMs },
  );
}

/** kubectl against the given cluster; throws with kubectl's message when it fails. */
export function kubectlFor(kubeconfig: string): (args: string[], input?: string) => string {
  return (args, input) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
}

/** Applies the project's CRDs (deploy/crds) and waits until the API server serves AICostPolicy. */
export function installPolicyCrd(kubectl: ReturnType<typeof kubectlFor>): void {
  kubectl(['apply', '--server-side', '-f', resolve(import.meta.dirname, '../../../deploy/crds')]);
  kubectl(['wait', '--for=condition=Established', 'crd/aicostpolicies.aicost.dev', '--timeout=30s']);
}
