/**
 * npm run bench:cycle: the accounting cycle alone, in one process, against the in-memory API and a fake
 * Prometheus: no cluster and no network, so it isolates the operator's own work from what the controller
 * bench measures on the local cluster (where Prometheus and the API server share the CPUs).
 * 1,000 p4d.24xlarge nodes, each with 8 one-GPU pods (a quarter of them in Jobs) and 2 CPU pods; a 10 s interval;
 * annotation writes are offered but none is sent (--annotate-interval 1h), as in the controller bench's steady
 * window. Prints the median runCycle time after warm-up, the heap after a full GC, and with BENCH_ALLOC=1 the
 * bytes allocated per cycle (V8's sampling heap profiler, counting objects collected since).
 *   BENCH_NODES (default 1000), BENCH_CYCLES (default 15), BENCH_SNAP=file.heapsnapshot (a heap snapshot at the end). Run it with the image's heap flags (package.json).
 */
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import { FakeClock } from '../src/controller/clock.ts';
import { createClusterCache } from '../src/controller/cluster-cache.ts';
import { createMetrics } from '../src/controller/metrics.ts';
import { WorkQueue } from '../src/controller/workqueue.ts';
import { createPricingProvider } from '../src/pricing/provider.ts';
import { Accountant } from '../src/reconcilers/accounting.ts';
import { AnnotationWriter } from '../src/reconcilers/annotation-writer.ts';
import { AccountingLedger } from '../src/reconcilers/accounting-ledger.ts';
import { LedgerStore } from '../src/ledger/store.ts';
import { MemorySink } from '../src/testing/memory-sink.ts';
import { FakeKube } from '../src/testing/fake-kube.ts';
import { FakePrometheus } from '../src/testing/harness.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 15);
const WARM_UP = 5;
const ALLOC = process.env.BENCH_ALLOC === '1';
const T0 = Date.UTC(2026, 10, 10, 12, 0, 0);
const labelKeys = ['team', 'project'];

const api = new FakeKube();
const prometheus = new FakePrometheus();
api.put('/api/v1/namespaces', { metadata: { name: 'ml' } });
for (let n = 0; n < NODES; n++) {
  api.put('/api/v1/nodes', {
    metadata: {
      name: `gpu-${n}`,
      labels: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge', 'topology.kubernetes.io/region': 'us-east-1' },
      creationTimestamp: new Date(T0 - 3_600_000).toISOString(),
    },
    status: { allocatable: { cpu: '96', memory: '1152Gi', 'nvidia.com/gpu': '8' } },
  });
  if (n % 4 === 0)
    api.put('/apis/batch/v1/namespaces/ml/jobs', {
      metadata: { name: `train-${n}`, namespace: 'ml', uid: `job-${n}` },
    });
  for (let p = 0; p < 10; p++) {
    const gpu = p < 8;
    const name = `pod-${n}-${p}`;
    api.put('/api/v1/namespaces/ml/pods', {
      metadata: {
        name,
        namespace: 'ml',
        uid: `uid-${n}-${p}`,
        labels: { team: `team-${p % 3}`, project: `project-${n % 7}` },
        ...(gpu && n % 4 === 0 ? { ownerReferences: [{ kind: 'Job', name: `train-${n}`, controller: true }] } : {}),
      },
      spec: {
        nodeName: `gpu-${n}`,
        containers: [
          { resources: { requests: { cpu: '4', memory: '16Gi' }, limits: gpu ? { 'nvidia.com/gpu': '1' } : {} } },
        ],
      },
      status: { phase: 'Running', startTime: new Date(T0).toISOString() },
    });
    if (gpu) prometheus.utilization.set(`ml/${name}`, (p % 5) / 5);
  }
}

const log = pino({ level: 'silent' });
const clock = new FakeClock(T0 + 60_000);
const metrics = createMetrics(labelKeys, 100);
const cache = createClusterCache(api, clock, log, metrics, { labelKeys });
await cache.start();
const writer = new AnnotationWriter({
  client: api,
  clock,
  log,
  metrics,
  queue: new WorkQueue('annotations', clock),
  annotateIntervalMs: 3_600_000,
  writeQps: 100,
  writeBurst: 100,
});
const pricing = createPricingProvider();
// The ledger in memory: its rows are computed every cycle and written off the cycle's path, as in a run.
const ledger = new AccountingLedger({
  store: new LedgerStore(new MemorySink()),
  clusterId: 'bench',
  windowSeconds: 3600,
  // The default --ledger-flush-interval: the open window's piece every 60 s, every sixth cycle here.
  flushSeconds: 60,
  cache,
  clock,
  log,
  metrics,
});
const accountant = new Accountant({
  cache,
  pricing: { current: () => pricing, refresh: () => Promise.resolve(undefined) },
  prometheus,
  writer,
  ledger,
  events: { record: () => Promise.resolve() },
  clock,
  log,
  metrics,
  options: {
    intervalMs: 10_000,
    idleThreshold: 0.05,
    minCoverage: 0.6,
    scrapeIntervalMs: 5_000,
    labelKeys,
    dcgmSelector: '',
    // The default: the inference queries are asked every cycle (the fake answers none).
    inferenceWindowMs: 3_600_000,
    inferenceSelector: '',
  },
});

const session = new Session();
session.connect();
const durations: number[] = [];
let report;
for (let i = 0; i < WARM_UP + CYCLES; i++) {
  // The writer's timers are never due within the run, so the clock is moved without firing them.
  Object.assign(clock, { current: T0 + 60_000 + i * 10_000 });
  if (ALLOC && i === WARM_UP)
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
  const started = performance.now();
  report = await accountant.runCycle();
  if (i >= WARM_UP) durations.push(performance.now() - started);
}
let allocated: number | undefined;
if (ALLOC) {
  interface Node {
    selfSize: number;
    children: Node[];
  }
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
  const sum = (n: Node): number => n.selfSize + n.children.reduce((s, c) => s + sum(c), 0);
  allocated = sum(profile.head) / CYCLES;
}
(globalThis as { gc?: () => void }).gc?.();
const sorted = [...durations].sort((a, b) => a - b);
console.log(
  `accounting cycle bench: ${NODES} nodes, ${report?.pods ?? 0} pods (${report?.measurement.measuredPods ?? 0} measured), ${CYCLES} cycles after ${WARM_UP} warm-up`,
);
console.log(
  `runCycle: median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(0)} ms, min ${(sorted[0] ?? NaN).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
);
console.log(`heap after a full GC: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);
if (allocated !== undefined) console.log(`allocated per cycle: ${(allocated / 2 ** 20).toFixed(1)} MB`);
if (process.env.BENCH_SNAP) writeHeapSnapshot(process.env.BENCH_SNAP);
cache.stop();
process.exit(0);
