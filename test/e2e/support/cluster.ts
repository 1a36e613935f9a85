/** Helpers for e2e tests: the cluster's client, fresh namespaces, polling, PromQL. */
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { createKubeClient, isNotFound, type KubeClient } from '../../../src/controller/kube-client.ts';

export function cluster(): { kubeconfig: string; prometheusUrl: string; logDir: string; client: KubeClient } {
  const kubeconfig = inject('kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kubeconfig,
    prometheusUrl: inject('prometheusUrl'),
    logDir: inject('logDir'),
    client: createKubeClient(kc, { userAgent: 'aicost-e2e' }),
  };
}

/** Creates a uniquely named namespace; returns its name and a function that deletes it. */
export async function createTestNamespace(
  client: KubeClient,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 63);
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  // Pods need the namespace's default ServiceAccount, which the controller-manager creates.
  await waitFor(
    () =>
      client.get(`/api/v1/namespaces/${name}/serviceaccounts/default`).then(
        () => true,
        () => false,
      ),
    { description: `ServiceAccount ${name}/default`, timeoutMs: 30_000 },
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

/** Polls `fn` until it returns a truthy value; fails with the description and the last value seen. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  options: { description: string; timeoutMs?: number; intervalMs?: number },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.description}; last value: ${last instanceof Error ? last.message : (JSON.stringify(last) as string | undefined)?.slice(0, 500)}. Logs: ${inject('logDir')}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function promQuery(prometheusUrl: string, query: string): Promise<PromSample[]> {
  const url = new URL(`${prometheusUrl}/api/v1/query`);
  url.searchParams.set('query', query);
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; data: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`PromQL ${query} failed`);
  return body.data.result;
}

export interface PodLike {
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; uid: string };
  spec: { nodeName?: string };
  status: { phase?: string; startTime?: string };
}

export async function podsOf(client: KubeClient, namespace: string, selector: string): Promise<PodLike[]> {
  return (await client.list<PodLike>(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selector })).items;
}

export async function runningPod(
  client: KubeClient,
  namespace: string,
  selector: string,
  timeoutMs = 60_000,
): Promise<PodLike> {
  return waitFor(
    async () =>
      (await podsOf(client, namespace, selector)).find((p) => p.status.phase === 'Running' && p.status.startTime),
    {
      description: `a Running pod with ${selector} in ${namespace}`,
      timeoutMs,
    },
  );
}
