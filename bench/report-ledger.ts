/**
 * A month of a large cluster's ledger for `npm run bench:report`: NODES GPU nodes (p4d.24xlarge, 8 GPUs each)
 * and PODS workloads, one row per workload per hourly window (every workload a single pod: the most rows a
 * cluster of that many pods can write) plus one idle row per node. Deterministic, so a ledger generated once is
 * reused by later runs (a marker file records what was generated).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSink } from '../src/ledger/local-sink.ts';
import type { LedgerRow, WorkloadKind } from '../src/ledger/row.ts';
import { LedgerStore } from '../src/ledger/store.ts';

export interface LedgerShape {
  readonly nodes: number;
  readonly pods: number;
  readonly fromMs: number;
  readonly windows: number;
  readonly clusterId: string;
}

/**
 * The month the report bench reads: BENCH_NODES, BENCH_PODS, BENCH_WINDOWS change it; BENCH_DIR (default
 * <tmp>/aicost-report-bench) is where it is generated once and reused.
 */
export function benchLedger(env: NodeJS.ProcessEnv = process.env): { shape: LedgerShape; dir: string } {
  const shape: LedgerShape = {
    nodes: Number(env.BENCH_NODES ?? 1000),
    pods: Number(env.BENCH_PODS ?? 20_000),
    windows: Number(env.BENCH_WINDOWS ?? 720),
    fromMs: Date.UTC(2026, 10, 1),
    clusterId: 'bench',
  };
  return { shape, dir: env.BENCH_DIR ?? join(tmpdir(), 'aicost-report-bench') };
}

const HOUR_MS = 3_600_000;
const TEAMS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const KINDS: readonly WorkloadKind[] = ['Job', 'Deployment', 'StatefulSet', 'Pod'];
/** 1.76070525 $ per GPU-hour: a p4d.24xlarge's GPU part (docs/cost-model.md). */
const GPU_HOUR_NANOS = 1_760_705_250n;

/** The rows of one window; the same workloads every window, so sums are easy to check by hand. */
export function windowRows(shape: LedgerShape, windowStartMs: number): LedgerRow[] {
  const rows: LedgerRow[] = [];
  const gpuPods = Math.min(shape.pods, shape.nodes * 7); // one GPU of eight per node stays idle
  for (let i = 0; i < shape.pods; i++) {
    const gpu = i < gpuPods;
    const team = TEAMS[i % TEAMS.length] ?? 'alpha';
    const kind = KINDS[i % KINDS.length] ?? 'Pod';
    const labels = { team, project: `p-${i % 37}`, experiment: `exp-${i % 101}`, model: `m-${i % 13}`, app: `w-${i}` };
    const cost = gpu ? GPU_HOUR_NANOS + 123_456_789n : 38_720_000n + BigInt(i % 1000);
    rows.push({
      clusterId: shape.clusterId,
      windowStartMs,
      windowEndMs: windowStartMs + HOUR_MS,
      namespace: `ns-${i % 200}`,
      workloadKind: kind,
      workloadName: `w-${i}`,
      workloadUid: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
      team: i % 50 === 49 ? '' : team,
      project: labels.project,
      experiment: labels.experiment,
      model: labels.model,
      labels: i % 50 === 49 ? { ...labels, team: '' } : labels,
      namespaceLabels: { 'kubernetes.io/metadata.name': `ns-${i % 200}` },
      nodePool: 'gpu-a100',
      instanceType: 'p4d.24xlarge',
      region: 'us-east-1',
      zone: `us-east-1${'abc'[i % 3] ?? 'a'}`,
      capacityType: i % 5 === 0 ? 'spot' : 'on-demand',
      gpuModel: 'NVIDIA-A100-SXM4-40GB',
      podCount: 1,
      gpuHours: gpu ? 1_000_000_000n : 0n,
      idleGpuHours: gpu ? BigInt((i % 10) * 100_000_000) : 0n,
      utilization: gpu ? (i % 100) / 100 : null,
      cost,
      idleGpuCost: gpu ? (GPU_HOUR_NANOS * BigInt(i % 10)) / 10n : 0n,
      onDemandEquivalent: cost,
      spotSavings: 0n,
      currency: 'USD',
      pricingSource: 'catalog:aws',
      estimate: false,
      jobOutcome: kind === 'Job' ? (i % 7 === 0 ? 'failed' : 'succeeded') : '',
      imported: false,
      compute: gpu ? 'gpu' : 'cpu',
    });
  }
  for (let n = 0; n < shape.nodes; n++) {
    rows.push({
      clusterId: shape.clusterId,
      windowStartMs,
      windowEndMs: windowStartMs + HOUR_MS,
      namespace: '',
      workloadKind: 'Node',
      workloadName: `node-${n}`,
      workloadUid: `node-${n}`,
      team: '',
      project: '',
      experiment: '',
      model: '',
      labels: {},
      namespaceLabels: {},
      nodePool: 'gpu-a100',
      instanceType: 'p4d.24xlarge',
      region: 'us-east-1',
      zone: 'us-east-1a',
      capacityType: 'on-demand',
      gpuModel: 'NVIDIA-A100-SXM4-40GB',
      podCount: 0,
      gpuHours: 0n,
      idleGpuHours: 1_000_000_000n,
      utilization: null,
      cost: GPU_HOUR_NANOS + BigInt(n),
      idleGpuCost: GPU_HOUR_NANOS,
      onDemandEquivalent: GPU_HOUR_NANOS + BigInt(n),
      spotSavings: 0n,
      currency: 'USD',
      pricingSource: 'catalog:aws',
      estimate: false,
      jobOutcome: '',
      imported: false,
      compute: 'gpu',
    });
  }
  return rows;
}

/** Writes the ledger into `dir` unless a previous run wrote the same shape there. Returns the seconds spent. */
export async function ensureLedger(
  dir: string,
  shape: LedgerShape,
  log = console.log,
  rowsOf: (shape: LedgerShape, windowStartMs: number) => LedgerRow[] = windowRows,
): Promise<number> {
  const marker = join(dir, '.generated.json');
  const wanted = JSON.stringify(shape);
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === wanted) return 0;
  const started = performance.now();
  const store = new LedgerStore(await LocalSink.open(dir));
  for (let w = 0; w < shape.windows; w++) {
    const startMs = shape.fromMs + w * HOUR_MS;
    await store.writeWindow(shape.clusterId, startMs, rowsOf(shape, startMs));
    if (w % 24 === 23) log(`  generated ${w + 1}/${shape.windows} windows`);
  }
  await writeFile(marker, wanted);
  return (performance.now() - started) / 1000;
}
