/**
 * A DCGM exporter simulator for the local cluster (test tooling, not part of the operator): it polls the
 * cluster's nodes and pods and serves /metrics in dcgm-exporter's format for every GPU of every fake GPU
 * node, with pod labels on GPUs assigned to running pods. Annotations on a pod:
 *   dcgm-sim.aicost.dev/utilization: "73" or "90 for 10m, then 0"   (percent; default 0)
 *   dcgm-sim.aicost.dev/absent: "true"                             (no series for its GPUs)
 * Flags: --port N, --label-style plain|exported, --hostname-label Hostname|hostname, --kubeconfig PATH.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeClient } from '../../src/controller/kube-client.ts';
import {
  assignGpus,
  modelNameOf,
  parsePattern,
  renderMetrics,
  utilizationAt,
  type GpuClaim,
  type GpuSample,
} from './dcgm-model.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9400' },
    'label-style': { type: 'string', default: process.env.DCGM_SIM_LABEL_STYLE ?? 'plain' },
    'hostname-label': { type: 'string', default: process.env.DCGM_SIM_HOSTNAME_LABEL ?? 'Hostname' },
    kubeconfig: { type: 'string' },
  },
});
const labelStyle = values['label-style'] === 'exported' ? 'exported' : 'plain';
const hostnameLabel = values['hostname-label'] === 'hostname' ? 'hostname' : 'Hostname';

const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const client = createKubeClient(kc, { userAgent: 'dcgm-sim' });

interface Node {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  status?: { allocatable?: Record<string, string> };
}
interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec: {
    nodeName?: string;
    containers: { name: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
  };
  status?: { phase?: string; startTime?: string };
}

let assignments = new Map<string, Map<string, number[]>>(); // node -> pod uid -> indexes
let body = '';
const warned = new Set<string>();

async function refresh(): Promise<void> {
  const [nodes, pods] = await Promise.all([
    client.list<Node>('/api/v1/nodes'),
    client.list<Pod>('/api/v1/pods', { fieldSelector: 'status.phase=Running' }),
  ]);
  const now = Date.now();
  const samples: GpuSample[] = [];
  const next = new Map<string, Map<string, number[]>>();
  for (const node of nodes.items) {
    if (node.metadata.annotations?.['kwok.x-k8s.io/node'] !== 'fake') continue;
    const replicas = Number(node.metadata.labels?.['nvidia.com/gpu.replicas'] ?? '1') || 1;
    const units = Number(node.status?.allocatable?.['nvidia.com/gpu'] ?? '0');
    const gpus = Number(node.metadata.labels?.['nvidia.com/gpu.count'] ?? String(units / replicas));
    if (!(gpus > 0)) continue;
    const onNode = pods.items
      .filter((p) => p.spec.nodeName === node.metadata.name)
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          a.metadata.name.localeCompare(b.metadata.name),
      );
    const claims: GpuClaim[] = [];
    const byUid = new Map<string, Pod>();
    for (const pod of onNode) {
      for (const c of pod.spec.containers) {
        const count = Number(
          c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'] ?? '0',
        );
        if (count > 0) {
          // Time-sliced units share physical GPUs: a pod sees ceil(units / replicas) devices.
          claims.push({
            uid: `${pod.metadata.uid}/${c.name}`,
            namespace: pod.metadata.namespace,
            pod: pod.metadata.name,
            container: c.name,
            count: Math.ceil(count / replicas),
          });
          byUid.set(`${pod.metadata.uid}/${c.name}`, pod);
        }
      }
    }
    const assigned =
      replicas > 1
        ? new Map(claims.map((c, i) => [c.uid, [i % gpus]]))
        : assignGpus(gpus, claims, assignments.get(node.metadata.name) ?? new Map());
    next.set(node.metadata.name, assigned);
    const owners = new Map<number, { claim: GpuClaim; pod: Pod }>();
    for (const claim of claims) {
      const pod = byUid.get(claim.uid);
      for (const i of assigned.get(claim.uid) ?? []) if (pod && !owners.has(i)) owners.set(i, { claim, pod });
    }
    const modelName = modelNameOf(node.metadata.labels?.['nvidia.com/gpu.product'] ?? 'NVIDIA GPU');
    const memoryMiB = Number(node.metadata.labels?.['nvidia.com/gpu.memory'] ?? '16384');
    for (let i = 0; i < gpus; i++) {
      const owner = owners.get(i);
      if (owner?.pod.metadata.annotations?.['dcgm-sim.aicost.dev/absent'] === 'true') continue;
      let percent = 0;
      if (owner) {
        const text = owner.pod.metadata.annotations?.['dcgm-sim.aicost.dev/utilization'] ?? '0';
        try {
          const started = Date.parse(owner.pod.status?.startTime ?? '') || now;
          percent = utilizationAt(parsePattern(text), (now - started) / 1000);
        } catch (error) {
          const key = `${owner.pod.metadata.uid}:${text}`;
          if (!warned.has(key)) {
            warned.add(key);
            console.error(
              `dcgm-sim: pod ${owner.pod.metadata.namespace}/${owner.pod.metadata.name}: ${(error as Error).message}; reporting 0`,
            );
          }
        }
      }
      samples.push({
        node: node.metadata.name,
        index: i,
        modelName,
        percent,
        memoryMiB,
        owner: owner
          ? { namespace: owner.claim.namespace, pod: owner.claim.pod, container: owner.claim.container }
          : undefined,
      });
    }
  }
  assignments = next;
  body = renderMetrics(samples, { labelStyle, hostnameLabel });
}

const server = createServer((req, res) => {
  if (req.url?.startsWith('/metrics')) {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(Number(values.port), '127.0.0.1', () =>
  console.error(`dcgm-sim serving http://127.0.0.1:${values.port}/metrics (labels: ${labelStyle}, ${hostnameLabel})`),
);

const loop = async () => {
  try {
    await refresh();
  } catch (error) {
    console.error(`dcgm-sim: refresh failed: ${(error as Error).message}`);
  }
  setTimeout(() => void loop(), 1000);
};
void loop();
