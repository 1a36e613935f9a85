/**
 * The local cluster works as the other e2e tests need it: the real scheduler places GPU pods on kwok GPU
 * nodes, the real controller-manager runs Deployments and Jobs, CRDs apply, and Prometheus serves the
 * DCGM simulator's series for the scheduled pods.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, createTestNamespace, podsOf, promQuery, runningPod, waitFor } from './support/cluster.ts';

const { client, kubeconfig, prometheusUrl } = cluster();
let ns: Awaited<ReturnType<typeof createTestNamespace>>;

beforeAll(async () => {
  ns = await createTestNamespace(client, 'smoke');
});
afterAll(async () => {
  await ns.remove();
});

const gpuContainer = (gpus: number) => ({
  name: 'main',
  image: 'registry.local/model:1',
  resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
});

describe('local GPU cluster', () => {
  it('runs a Deployment that requests a GPU on a GPU node', async () => {
    await client.create(`/apis/apps/v1/namespaces/${ns.name}/deployments`, {
      metadata: { name: 'server' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'server' } },
        // Pinned to the L40S node so the p4d nodes stay free for whole-node Jobs.
        template: {
          metadata: { labels: { app: 'server' } },
          spec: { nodeSelector: { 'node.kubernetes.io/instance-type': 'g6e.12xlarge' }, containers: [gpuContainer(1)] },
        },
      },
    });
    const pod = await runningPod(client, ns.name, 'app=server');
    const node = await client.get<{ status: { allocatable: Record<string, string> } }>(
      `/api/v1/nodes/${pod.spec.nodeName ?? ''}`,
    );
    expect(Number(node.status.allocatable['nvidia.com/gpu'])).toBeGreaterThanOrEqual(1);
  });

  it('places an 8-GPU Job on a p4d.24xlarge, where it keeps running', async () => {
    await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
      metadata: { name: 'train' },
      spec: {
        template: {
          metadata: { labels: { app: 'train' } },
          spec: { restartPolicy: 'Never', containers: [gpuContainer(8)] },
        },
      },
    });
    const pod = await runningPod(client, ns.name, 'app=train');
    const node = await client.get<{ metadata: { labels: Record<string, string> } }>(
      `/api/v1/nodes/${pod.spec.nodeName ?? ''}`,
    );
    expect(node.metadata.labels['node.kubernetes.io/instance-type']).toBe('p4d.24xlarge');
    await new Promise((r) => setTimeout(r, 3000));
    expect((await podsOf(client, ns.name, 'app=train'))[0]?.status.phase).toBe('Running');
  });

  it('accepts a CRD and an object of it through kubectl apply', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.e2e.aicost.dev' },
      spec: {
        group: 'e2e.aicost.dev',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer', maximum: 10 } } } },
              },
            },
          },
        ],
      },
    };
    const kubectl = (args: string[], input?: string) =>
      execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
        input,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    try {
      kubectl(['apply', '-f', '-'], JSON.stringify(crd));
      kubectl(['wait', '--for=condition=Established', 'crd/widgets.e2e.aicost.dev', '--timeout=30s']);
      await waitFor(
        () => {
          try {
            kubectl(
              ['apply', '-n', ns.name, '-f', '-'],
              JSON.stringify({
                apiVersion: 'e2e.aicost.dev/v1',
                kind: 'Widget',
                metadata: { name: 'w' },
                spec: { size: 3 },
              }),
            );
            return true;
          } catch {
            return false;
          }
        },
        { description: 'a Widget to be accepted', timeoutMs: 30_000 },
      );
      expect(kubectl(['get', 'widget', 'w', '-n', ns.name, '-o', 'jsonpath={.spec.size}'])).toBe('3');
      expect(() =>
        kubectl(
          ['apply', '-n', ns.name, '-f', '-'],
          JSON.stringify({
            apiVersion: 'e2e.aicost.dev/v1',
            kind: 'Widget',
            metadata: { name: 'big' },
            spec: { size: 11 },
          }),
        ),
      ).toThrow(/spec.size/);
    } finally {
      kubectl(['delete', 'crd', 'widgets.e2e.aicost.dev', '--ignore-not-found', '--wait=false']);
    }
  });

  it("serves the annotated utilization of a pod's GPUs through Prometheus", async (ctx) => {
    if (!prometheusUrl) ctx.skip(); // an existing cluster without PROMETHEUS_URL
    await client.create(`/api/v1/namespaces/${ns.name}/pods`, {
      metadata: { name: 'busy', labels: { app: 'busy' }, annotations: { 'dcgm-sim.aicost.dev/utilization': '73' } },
      spec: { nodeSelector: { 'node.kubernetes.io/instance-type': 'g6e.12xlarge' }, containers: [gpuContainer(1)] },
    });
    await runningPod(client, ns.name, 'app=busy');
    const util = await waitFor(
      async () => (await promQuery(prometheusUrl, `DCGM_FI_DEV_GPU_UTIL{namespace="${ns.name}",pod="busy"}`))[0],
      {
        description: 'the DCGM_FI_DEV_GPU_UTIL series of the pod',
        timeoutMs: 60_000,
      },
    );
    expect(util.value[1]).toBe('73');
    expect(util.metric).toMatchObject({
      container: 'main',
      device: expect.stringMatching(/^nvidia\d$/) as string,
      modelName: expect.stringMatching(/^NVIDIA /) as string,
    });
    const ratio = await promQuery(prometheusUrl, `DCGM_FI_PROF_GR_ENGINE_ACTIVE{namespace="${ns.name}",pod="busy"}`);
    expect(Number(ratio[0]?.value[1])).toBeCloseTo(0.73, 6);
  });
});
