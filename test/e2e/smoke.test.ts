/**
 * The local cluster works as the other e2e tests need it: the real scheduler places GPU pods on kwok GPU
 * nodes by their nvidia.com/gpu capacity, the real controller-manager runs Deployments and Jobs (and Job pods
 * keep running), CRDs apply, and Prometheus serves the DCGM simulator's series for the scheduled pods.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import {
  cluster,
  createTestNamespace,
  logHint,
  podsOf,
  promQuery,
  runningPod,
  waitFor,
  type TestNamespace,
} from './support/cluster.ts';

const { client, kubeconfig, prometheusUrl } = cluster();
let ns: TestNamespace;

beforeAll(async () => {
  ns = await createTestNamespace('smoke');
});
afterAll(async () => {
  await ns.remove();
});

interface NodeLike {
  metadata: { name: string; labels: Record<string, string> };
  status: { allocatable: Record<string, string> };
}
const getNode = (name: string | undefined) => client.get<NodeLike>(`/api/v1/nodes/${name ?? ''}`);

const gpuContainer = (gpus: number, name = 'main') => ({
  name,
  image: 'registry.local/model:1',
  resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
});
// Keeps single-GPU test pods off the p4d nodes, which the 8-GPU Job needs whole.
const notOnP4d = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [{ key: 'node.kubernetes.io/instance-type', operator: 'NotIn', values: ['p4d.24xlarge'] }],
        },
      ],
    },
  },
};

describe('local GPU cluster', () => {
  it('schedules a Deployment that requests a GPU onto a GPU node, where it runs', async () => {
    await client.create(`/apis/apps/v1/namespaces/${ns.name}/deployments`, {
      metadata: { name: 'server' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'server' } },
        template: {
          metadata: { labels: { app: 'server' } },
          // No node selector for GPUs: the CPU nodes are eligible too, unless the scheduler sees GPU capacity.
          spec: { affinity: notOnP4d, containers: [gpuContainer(1)] },
        },
      },
    });
    const pod = await runningPod(client, ns.name, 'app=server');
    const node = await getNode(pod.spec.nodeName);
    expect(node.metadata.labels['nvidia.com/gpu.product'], `node ${node.metadata.name}`).toMatch(/^NVIDIA-/);
    expect(Number(node.status.allocatable['nvidia.com/gpu'])).toBeGreaterThanOrEqual(1);
    expect(pod.status.phase).toBe('Running');
  });

  it('places an 8-GPU Job on a p4d.24xlarge, where it keeps running', async () => {
    await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
      metadata: { name: 'train' },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'train' } },
          spec: { restartPolicy: 'Never', containers: [gpuContainer(8)] },
        },
      },
    });
    const pod = await runningPod(client, ns.name, 'app=train');
    const node = await getNode(pod.spec.nodeName);
    expect(node.metadata.labels['node.kubernetes.io/instance-type']).toBe('p4d.24xlarge');
    // kwok's stock stages would have completed it by now.
    await new Promise((r) => setTimeout(r, 5000));
    const pods = await podsOf(client, ns.name, 'app=train');
    expect(pods.map((p) => [p.metadata.name, p.status.phase])).toEqual([[pod.metadata.name, 'Running']]);
    const job = await client.get<{ status: { active?: number; succeeded?: number } }>(
      `/apis/batch/v1/namespaces/${ns.name}/jobs/train`,
    );
    expect(job.status.succeeded ?? 0).toBe(0);
    expect(job.status.active).toBe(1);
  });

  it('accepts a CRD and objects of it through kubectl apply, and enforces its schema', () => {
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
    const widget = (name: string, size: number) =>
      JSON.stringify({ apiVersion: 'e2e.aicost.dev/v1', kind: 'Widget', metadata: { name }, spec: { size } });
    try {
      kubectl(['apply', '-f', '-'], JSON.stringify(crd));
      kubectl(['wait', '--for=condition=Established', 'crd/widgets.e2e.aicost.dev', '--timeout=60s']);
      // Established comes a moment before kubectl's discovery cache knows the kind: retry briefly.
      let applied = '';
      for (let attempt = 0; !applied; attempt++) {
        try {
          applied = kubectl(['apply', '-n', ns.name, '-f', '-'], widget('small', 3));
        } catch (error) {
          if (attempt >= 20) throw error;
          execFileSync('sleep', ['0.5']);
        }
      }
      expect(kubectl(['get', 'widget', 'small', '-n', ns.name, '-o', 'jsonpath={.spec.size}'])).toBe('3');
      expect(() => kubectl(['apply', '-n', ns.name, '-f', '-'], widget('big', 11))).toThrow(/spec.size/);
    } finally {
      kubectl(['delete', 'crd', 'widgets.e2e.aicost.dev', '--ignore-not-found', '--wait=false']);
    }
  });

  describe('DCGM simulator through Prometheus', () => {
    const needsPrometheus = (ctx: TestContext) =>
      ctx.skip(!prometheusUrl, 'no PROMETHEUS_URL for this existing cluster: nothing to query');

    it("serves the annotated utilization of a pod's GPU", async (ctx) => {
      needsPrometheus(ctx);
      await client.create(`/api/v1/namespaces/${ns.name}/pods`, {
        metadata: { name: 'busy', labels: { app: 'busy' }, annotations: { 'dcgm-sim.aicost.dev/utilization': '73' } },
        spec: { affinity: notOnP4d, containers: [gpuContainer(1, 'worker')] },
      });
      const pod = await runningPod(client, ns.name, 'app=busy');
      const series = await waitFor(
        async () => {
          const result = await promQuery(`DCGM_FI_DEV_GPU_UTIL{namespace="${ns.name}",pod="busy"}`);
          return result.length > 0 ? result : undefined;
        },
        { description: `DCGM_FI_DEV_GPU_UTIL of ${ns.name}/busy in Prometheus`, timeoutMs: 60_000 },
      );
      expect(series, 'one series: the pod asked for one GPU').toHaveLength(1);
      const [util] = series;
      expect(util?.value[1], logHint()).toBe('73');
      expect(util?.metric).toMatchObject({
        container: 'worker',
        Hostname: pod.spec.nodeName,
        device: expect.stringMatching(/^nvidia\d+$/) as unknown,
        UUID: expect.stringMatching(/^GPU-[0-9a-f]{8}-/) as unknown,
        modelName: expect.stringMatching(/^NVIDIA /) as unknown,
      });
      const ratio = await promQuery(`DCGM_FI_PROF_GR_ENGINE_ACTIVE{namespace="${ns.name}",pod="busy"}`);
      expect(ratio).toHaveLength(1);
      expect(Number(ratio[0]?.value[1])).toBeCloseTo(0.73, 6);
    });

    it('leaves out the GPUs of a pod annotated absent', async (ctx) => {
      needsPrometheus(ctx);
      const node = await getNode('g6e-od-1'); // four L40S GPUs
      const gpus = Number(node.metadata.labels['nvidia.com/gpu.count']);
      await client.create(`/api/v1/namespaces/${ns.name}/pods`, {
        metadata: { name: 'hidden', labels: { app: 'hidden' }, annotations: { 'dcgm-sim.aicost.dev/absent': 'true' } },
        spec: { nodeName: 'g6e-od-1', containers: [gpuContainer(2)] },
      });
      await runningPod(client, ns.name, 'app=hidden');
      const count = async () =>
        Number((await promQuery('count(DCGM_FI_DEV_GPU_UTIL{Hostname="g6e-od-1"})'))[0]?.value[1] ?? 0);
      // Two of the node's GPUs go quiet once Prometheus has scraped the simulator after the pod started.
      await waitFor(async () => (await count()) === gpus - 2, {
        description: `${gpus - 2} DCGM series for g6e-od-1, whose other GPUs are hidden`,
        timeoutMs: 60_000,
      });
      expect(await promQuery(`DCGM_FI_DEV_GPU_UTIL{namespace="${ns.name}",pod="hidden"}`)).toEqual([]);
    });
  });
});
