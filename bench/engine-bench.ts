/**
 * npm run bench:engine: attribution of one 60 s interval for 10,000 nodes and 100,000 pods.
 * Prints the time of attributeInterval (median of several runs after warm-up) and the process's peak RSS.
 * Targets (issue "Foundation, pricing catalog and the cost engine"): under 150 ms and under 250 MB.
 */
import { attributeInterval } from '../src/cost/engine.ts';
import { byLabels, byNamespace, byWorkload, clusterTotals } from '../src/cost/rollup.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts, type PodFacts } from '../src/cost/types.ts';
import { createPricingProvider } from '../src/pricing/provider.ts';
import { ON_DEMAND_CATALOG } from '../src/pricing/on-demand-catalog.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const PODS = Number(process.env.BENCH_PODS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const GiB = 2 ** 30;

const pricing = createPricingProvider();
const types = ON_DEMAND_CATALOG.filter((e) => e.provider === 'aws');
const nodes: NodeFacts[] = [];
for (let i = 0; i < NODES; i++) {
  const t = types[i % types.length] ?? types[0];
  if (!t) throw new Error('empty catalog');
  const labels = { 'node.kubernetes.io/instance-type': t.instanceType, 'topology.kubernetes.io/region': 'us-east-1' };
  const price = pricing.priceNode({
    name: `node-${i}`,
    labels,
    gpuCount: t.gpuCount,
    vcpu: t.vcpu,
    memoryGiB: t.memoryGiB,
  });
  nodes.push({
    name: `node-${i}`,
    perHour: price.priced ? price.perHour : undefined,
    capacityType: price.capacityType,
    gpuUnits: t.gpuCount * GPU_UNITS_PER_GPU,
    cpuMillis: t.vcpu * 1000,
    memoryBytes: t.memoryGiB * GiB,
    labels,
  });
}
const teams = ['research', 'serving', 'platform', 'vision', 'speech'];
const pods: PodFacts[] = [];
for (let i = 0; i < PODS; i++) {
  const n = nodes[i % NODES];
  if (!n) throw new Error('no node');
  const gpus = Math.max(1, Math.floor(n.gpuUnits / GPU_UNITS_PER_GPU / 10));
  pods.push({
    uid: `uid-${i}`,
    namespace: `ns-${i % 200}`,
    name: `pod-${i}`,
    nodeName: n.name,
    gpuUnits: gpus * GPU_UNITS_PER_GPU,
    cpuMillis: 1000,
    memoryBytes: 4 * GiB,
    from: i % 7 === 0 ? 30 : 0,
    labels: { team: teams[i % teams.length] ?? 'x', experiment: `exp-${i % 50}` },
    workload: { kind: i % 3 === 0 ? 'Job' : 'Deployment', namespace: `ns-${i % 200}`, name: `w-${i % 5000}` },
    utilization: i % 4 === 0 ? undefined : { mean: (i % 100) / 100, idleRatio: (i % 10) / 10 },
  });
}

// Memory first, while the high-water mark still reflects one attribution: facts + one interval's result.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapFactsMb = process.memoryUsage().heapUsed / 2 ** 20;
const first = attributeInterval({ start: 0, end: 60 }, nodes, pods);
const rssOneMb = process.resourceUsage().maxRSS / 1024;
gc?.();
const heapResultMb = process.memoryUsage().heapUsed / 2 ** 20 - heapFactsMb;
if (first.pods.length !== PODS) throw new Error(`expected ${PODS} pod costs, got ${first.pods.length}`);

const times: number[] = [];
const rollupTimes: number[] = [];
for (let r = 0; r < RUNS + 2; r++) {
  const t0 = performance.now();
  const result = attributeInterval({ start: 0, end: 60 }, nodes, pods);
  const t1 = performance.now();
  byWorkload(result.pods);
  byNamespace(result.pods);
  byLabels(result.pods, ['team', 'experiment']);
  const totals = clusterTotals(result);
  const t2 = performance.now();
  if (totals.allocated + totals.idle !== totals.nodeCost) throw new Error('conservation broken');
  if (r >= 2) {
    times.push(t1 - t0);
    rollupTimes.push(t2 - t1);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(`engine bench: ${NODES} nodes, ${PODS} pods, one 60 s interval, ${RUNS} runs after 2 warm-up runs`);
console.log(`attributeInterval median: ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)} ms)`);
console.log(`roll-ups (workload, namespace, 2 labels, totals) median: ${median(rollupTimes).toFixed(1)} ms`);
console.log(`heap: input facts ${heapFactsMb.toFixed(0)} MB, one interval's result ${heapResultMb.toFixed(0)} MB`);
console.log(
  `peak RSS after one attribution: ${rssOneMb.toFixed(0)} MB; after all runs and roll-ups: ${peakRssMb.toFixed(0)} MB`,
);
console.log(`node ${process.version} ${process.arch}`);
