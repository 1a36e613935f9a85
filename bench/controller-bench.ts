/**
 * npm run bench:controller: the operator on the local cluster with many kwok GPU nodes and pods.
 * Measures cold start to the first completed cycle, cycle duration, CPU per cycle, RSS, API requests
 * per cycle and annotation writes per cycle once nothing changes. Targets (issue "The controller"):
 * RSS under 200 MB, cycle under 500 ms, zero writes when nothing changed.
 *   BENCH_NODES (default 1000), BENCH_PODS (default 10000), BENCH_CYCLES (default 6),
 *   BENCH_PROFILE (a file for a CPU profile of the steady cycles), BENCH_NODE_OPTIONS (the operator's Node flags),
 *   BENCH_JSON (a file for the figures as JSON, which bench/sweep.ts reads)
 * Each node has 8 GPUs; the first 8 pods per node hold one GPU each, the rest are CPU pods on the same nodes
 * (as on a real GPU node, where loaders and gateways run beside the GPU work).
 * Pods are created already bound to their node (spec.nodeName), which skips the scheduler: the scheduler
 * is not what is measured here. Everything the bench creates is deleted at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeClient, type KubeClient } from '../src/controller/kube-client.ts';
import { isNotFound } from '../src/controller/errors.ts';
import { metricValue, OperatorProcess } from '../test/e2e/support/operator.ts';
import type { SweepPoint } from './sweep-chart.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 6);
/** BENCH_PROFILE=file.cpuprofile: a CPU profile of the steady cycles only (open it in Chrome DevTools). */
const PROFILE = process.env.BENCH_PROFILE;
const INTERVAL_S = 10;
const ROOT = resolve(import.meta.dirname, '..');
// A fresh namespace per run: the previous run's may still be terminating.
const NS = `aicost-bench-${Date.now().toString(36)}`;

const up = execFileSync('bash', [resolve(ROOT, 'test/cluster/up.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const kubeconfig = /KUBECONFIG=(.*)/.exec(up)?.[1] ?? '';
const prometheusUrl = /PROMETHEUS_URL=(.*)/.exec(up)?.[1] ?? '';
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const client = createKubeClient(kc, { requestTimeoutMs: 120_000 });

/** Profiles the operator through its inspector (started with --inspect=127.0.0.1:0; the URL is in its log). */
async function startProfiler(log: string): Promise<{ stop(): Promise<unknown> }> {
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(log)?.[0];
  if (!url) throw new Error('the operator printed no inspector address');
  const socket = new WebSocket(url);
  await new Promise((r, j) => {
    socket.onopen = r;
    socket.onerror = j;
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (m) => {
    const message = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  const send = (method: string) =>
    new Promise<unknown>((r) => {
      pending.set(++id, r);
      socket.send(JSON.stringify({ id, method }));
    });
  await send('Profiler.enable');
  await send('Profiler.start');
  return {
    async stop() {
      const result = (await send('Profiler.stop')) as { profile: unknown };
      socket.close();
      return result.profile;
    },
  };
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

async function createFleet(c: KubeClient): Promise<void> {
  const t0 = Date.now();
  const names = Array.from({ length: NODES }, (_, i) => `bench-gpu-${i}`);
  await pool(names, 16, async (name) => {
    const resources = { cpu: '96', memory: '1152Gi', pods: '110', 'nvidia.com/gpu': '8' };
    try {
      await c.create('/api/v1/nodes', {
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
          labels: {
            'node.kubernetes.io/instance-type': 'p4d.24xlarge',
            'topology.kubernetes.io/region': 'us-east-1',
            'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
            'nvidia.com/gpu.count': '8',
            type: 'kwok',
            'aicost.dev/bench': 'true',
          },
        },
        spec: { taints: [{ key: 'aicost.dev/bench', value: 'true', effect: 'NoSchedule' }] },
      });
      await c.patch(
        `/api/v1/nodes/${name}/status`,
        { status: { capacity: resources, allocatable: resources } },
        'merge',
      );
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('409'))) throw error;
    }
  });
  // A namespace left by an earlier run may still be terminating: wait for it to go, then create it.
  for (;;) {
    try {
      const ns = await c.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${NS}`);
      if (ns.status?.phase === 'Active') break;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await c.create('/api/v1/namespaces', { metadata: { name: NS } });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (;;) {
    const ok = await c.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const pods = Array.from({ length: PODS }, (_, i) => i);
  await pool(pods, 24, async (i) => {
    try {
      await c.create(`/api/v1/namespaces/${NS}/pods`, {
        metadata: {
          name: `bench-${i}`,
          labels: { team: `team-${i % 20}`, experiment: `exp-${i % 200}` },
          annotations: { 'dcgm-sim.aicost.dev/utilization': String(i % 100) },
        },
        spec: {
          nodeName: `bench-gpu-${i % NODES}`,
          tolerations: [{ key: 'aicost.dev/bench', operator: 'Exists' }],
          containers: [
            {
              name: 'main',
              image: 'bench',
              // GPU pods fill the nodes' 8 GPUs; the rest are CPU pods beside them (data loaders, gateways).
              resources: { limits: i < NODES * 8 ? { 'nvidia.com/gpu': '1' } : { cpu: '2', memory: '8Gi' } },
            },
          ],
        },
      });
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('409'))) throw error;
    }
  });
  console.log(`created ${NODES} nodes and ${PODS} pods in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * Force-deletes a namespace's pods: kwok would otherwise finish 10,000 graceful deletions one by one. The
 * API server may time out a collection delete this large part way, so it is asked again while pods remain.
 */
async function forceDeletePods(c: KubeClient, namespace: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await c.delete(`/api/v1/namespaces/${namespace}/pods?gracePeriodSeconds=0`).catch(() => undefined);
    const left = await c.list(`/api/v1/namespaces/${namespace}/pods`, { limit: 1 });
    if (left.items.length === 0) return;
  }
}

async function cleanup(c: KubeClient): Promise<void> {
  await forceDeletePods(c, NS);
  try {
    await c.delete(`/api/v1/namespaces/${NS}`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const nodes = await c.list<{ metadata: { name: string } }>('/api/v1/nodes', {
    labelSelector: 'aicost.dev/bench=true',
  });
  await pool(nodes.items, 16, (n) => c.delete(`/api/v1/nodes/${n.metadata.name}`).catch(() => undefined));
}

/** A previous run's namespace still being deleted keeps the API server busy: figures would be noise. */
async function waitForEarlierRuns(c: KubeClient): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const namespaces = await c.list<{ metadata: { name: string } }>('/api/v1/namespaces');
    const left = [];
    for (const n of namespaces.items.filter((n) => n.metadata.name.startsWith('aicost-bench-'))) {
      // An emptied namespace that lingers in Terminating costs nothing; pods still being deleted do.
      const pods = await c.list(`/api/v1/namespaces/${n.metadata.name}/pods`, { limit: 1 });
      if (pods.items.length > 0) left.push(n);
    }
    if (left.length === 0 || Date.now() - t0 > 10 * 60_000) return;
    if (Date.now() - t0 < 1000) console.log(`waiting for ${left.map((n) => n.metadata.name).join(', ')} to be deleted`);
    for (const n of left) await forceDeletePods(c, n.metadata.name);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

await waitForEarlierRuns(client);
await createFleet(client);
const logDir = resolve(process.env.HOME ?? '/tmp', '.cache/aicost/cluster-logs');
mkdirSync(logDir, { recursive: true });
// The built operator, as the image runs it: from source, Node also loads its TypeScript stripper (about
// 27 MB of resident memory) that a deployment never has.
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const started = Date.now();
const op = OperatorProcess.start({
  entry: 'built',
  kubeconfig,
  logDir,
  name: 'bench',
  // The heap limits a 256 MiB container would give: V8 sizes its heap from the cgroup limit, and without
  // one (as here) it lets garbage pile up to gigabytes before collecting, which says nothing of the need.
  nodeOptions: [
    ...(process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=160 --max-semi-space-size=4').split(' '),
    ...(PROFILE ? ['--inspect=127.0.0.1:0'] : []),
  ].filter(Boolean),
  args: [
    '--prometheus-url',
    prometheusUrl,
    '--interval',
    `${INTERVAL_S}s`,
    '--annotate-interval',
    '1h',
    '--write-qps',
    '300',
    '--write-burst',
    '600',
    '--namespace',
    NS,
    '--leader-elect',
    'false',
  ],
});
/** The operator's peak resident memory so far (Linux: VmHWM), in MB. */
const peakRssMb = () => {
  try {
    const status = readFileSync(`/proc/${op.pid ?? 0}/status`, 'utf8');
    return (Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024).toFixed(0);
  } catch {
    return 'n/a';
  }
};
const cycles = () => op.logs().filter((l) => l.msg === 'accounting cycle done');
try {
  while (cycles().length === 0) await new Promise((r) => setTimeout(r, 200));
  const coldStartMs = Date.now() - started;
  const rssNow = async () =>
    ((metricValue(await op.metrics(), 'aicost_process_resident_memory_bytes') ?? 0) / 2 ** 20).toFixed(0);
  const rssFirstCycle = await rssNow();
  // Steady state: kwok has started every pod (it takes a while after the creates return), two cycles have
  // seen the whole fleet measured, and the first pass of annotation writes is done.
  const gpuPods = Math.min(PODS, NODES * 8);
  const whole = (l: Record<string, unknown>) => Number(l.pods) >= PODS && Number(l.measured) >= gpuPods;
  for (;;) {
    const m = await op.metrics();
    const depth = metricValue(m, 'workqueue_depth', { name: 'annotations' }) ?? 0;
    if (depth === 0 && cycles().slice(-2).filter(whole).length === 2) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rssWritten = await rssNow();
  const profiler = PROFILE ? await startProfiler(readFileSync(op.logFile, 'utf8')) : undefined;
  const before = await op.metrics();
  const startCycles = cycles().length;
  while (cycles().length < startCycles + CYCLES) await new Promise((r) => setTimeout(r, 500));
  const after = await op.metrics();
  if (profiler && PROFILE) {
    writeFileSync(PROFILE, JSON.stringify(await profiler.stop()));
    console.log(`CPU profile of the steady cycles: ${PROFILE}`);
  }
  const n = cycles().length - startCycles;
  const delta = (name: string, labels: Record<string, string> = {}) =>
    (metricValue(after, name, labels) ?? 0) - (metricValue(before, name, labels) ?? 0);
  const apiRequests = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].reduce(
    (s, verb) => s + delta('aicost_kube_api_requests_total', { verb }),
    0,
  );
  const durations = cycles()
    .slice(startCycles)
    .map((l) => Number(l.durationMs));
  const phases = ['facts', 'draft', 'measure', 'plan', 'annotate'].map((phase) => {
    const ms = cycles()
      .slice(startCycles)
      .map((l) => Number((l.phasesMs as Record<string, number> | undefined)?.[phase]))
      .sort((a, b) => a - b);
    return `${phase} ${ms[Math.floor(ms.length / 2)] ?? NaN}`;
  });
  const rssMb = (metricValue(after, 'aicost_process_resident_memory_bytes') ?? 0) / 2 ** 20;
  console.log(
    `controller bench: ${NODES} GPU nodes, ${PODS} pods (${Math.min(PODS, NODES * 8)} holding a GPU), interval ${INTERVAL_S}s, ${n} steady cycles`,
  );
  console.log(`cold start to first completed cycle: ${(coldStartMs / 1000).toFixed(1)} s`);
  console.log(
    `cycle duration (plan + Prometheus + queueing writes): each ${durations.join(' ')} ms; median (upper) ${[...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)] ?? NaN} ms, max ${Math.max(...durations)} ms`,
  );
  console.log(`cycle phases, median ms: ${phases.join(', ')}`);
  const mb = (name: string) => ((metricValue(after, name) ?? 0) / 2 ** 20).toFixed(0);
  console.log(
    `memory: heap total ${mb('aicost_nodejs_heap_size_total_bytes')} MB, external ${mb('aicost_nodejs_external_memory_bytes')} MB`,
  );
  console.log(`CPU per cycle: ${((delta('aicost_process_cpu_seconds_total') / n) * 1000).toFixed(0)} ms`);
  console.log(
    `RSS: ${rssMb.toFixed(0)} MB; heap used ${((metricValue(after, 'aicost_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20).toFixed(0)} MB (node flags: ${process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=160 --max-semi-space-size=4'})`,
  );
  console.log(
    `RSS by phase: after the first cycle ${rssFirstCycle} MB, after the first pass of writes ${rssWritten} MB, peak ${peakRssMb()} MB`,
  );
  console.log(
    `API requests per cycle: ${(apiRequests / n).toFixed(1)} (annotation patches ${(delta('aicost_annotation_writes_total', { kind: 'Pod', result: 'success' }) / n).toFixed(1)})`,
  );
  console.log(
    `Prometheus queries per cycle: ${((delta('aicost_prometheus_query_duration_seconds_count', { signal: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' }) + delta('aicost_prometheus_query_duration_seconds_count', { signal: 'DCGM_FI_DEV_GPU_UTIL' })) / n).toFixed(1)}`,
  );
  if (process.env.BENCH_JSON) {
    const sorted = [...durations].sort((a, b) => a - b);
    const point: SweepPoint = {
      nodes: NODES,
      pods: PODS,
      rssSteadyMb: Math.round(rssMb),
      rssPeakMb: Number(peakRssMb()),
      cycleMedianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
      cycleMaxMs: sorted.at(-1) ?? NaN,
      cpuPerCycleMs: Math.round((delta('aicost_process_cpu_seconds_total') / n) * 1000),
      coldStartS: Math.round(coldStartMs / 100) / 10,
    };
    writeFileSync(process.env.BENCH_JSON, JSON.stringify(point));
  }
} finally {
  await op.stop('SIGTERM');
  if (process.env.BENCH_KEEP !== '1') await cleanup(client);
}
