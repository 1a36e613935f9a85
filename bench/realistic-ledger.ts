/**
 * Ledger rows shaped like the operator's own (src/reconcilers/ledger-describe.ts), to check that the report
 * bench's rows (report-ledger.ts: a few short labels, costs and utilizations repeated from row to row, uids
 * counted up) do not make the ledger look smaller than it is. Here every row differs the way real ones do:
 * random uids, Jobs replaced by new ones every few hours, GPU counts and instance types that vary, partial hours,
 * measured utilization and idle time as they come, and the labels the operator merges (the namespace's, the
 * workload's, then the pod's --label-keys), and the namespace's own apart. Deterministic: the same shape and
 * window give the same rows.
 */
import { createHash } from 'node:crypto';
import type { LedgerRow, WorkloadKind } from '../src/ledger/row.ts';
import type { LedgerShape } from './report-ledger.ts';

const HOUR_MS = 3_600_000;
const NANOS = 1_000_000_000n;
const INSTANCES = [
  { type: 'p4d.24xlarge', gpus: 8, gpuModel: 'NVIDIA-A100-SXM4-40GB', gpuHourNanos: 4_096_000_000n },
  { type: 'p5.48xlarge', gpus: 8, gpuModel: 'NVIDIA-H100-80GB-HBM3', gpuHourNanos: 12_290_000_000n },
  { type: 'g5.12xlarge', gpus: 4, gpuModel: 'NVIDIA-A10G', gpuHourNanos: 1_418_000_000n },
] as const;
const MODELS = ['llama-3-8b', 'llama-3-70b', 'mistral-7b', 'qwen2-72b', 'sdxl', 'whisper-large-v3', 'bert-base'];
const KINDS: readonly WorkloadKind[] = ['Job', 'Job', 'Deployment', 'StatefulSet', 'Pod'];

/** A number in [0, 1) from the words: a hash, so any row can be made without the ones before it. */
function random(...words: (string | number)[]): number {
  return createHash('sha256').update(words.join('/')).digest().readUInt32BE(0) / 2 ** 32;
}

function uuid(...words: (string | number)[]): string {
  const hex = createHash('sha256').update(words.join('/')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const pick = <T>(items: readonly T[], r: number): T => items[Math.floor(r * items.length)] ?? (items[0] as T);
const nanos = (ratio: number): bigint => BigInt(Math.round(ratio * 1e9));

/** Workload i in window w: a Job is replaced by a new one (new name and uid) every 2 to 24 hours. */
function workloadRow(shape: LedgerShape, w: number, i: number, windowStartMs: number): LedgerRow {
  const kind = pick(KINDS, random('kind', i));
  const runHours = 2 + Math.floor(random('run', i) * 23);
  const generation = kind === 'Job' ? Math.floor((w + Math.floor(random('offset', i) * runHours)) / runHours) : 0;
  const id = `${i}/${generation}`;
  const team = `team-${Math.floor(random('team', i) * 40)}`;
  const namespace = `${team}-${pick(['train', 'serve', 'research', 'batch'], random('ns', i))}`;
  const model = pick(MODELS, random('model', id));
  const experiment = kind === 'Job' ? `exp-${Math.floor(random('exp', id) * 5000)}` : '';
  const project = `proj-${Math.floor(random('project', i) * 150)}`;
  const suffix = uuid('name', id).slice(0, 6);
  const name = kind === 'Job' ? `train-${model}-${suffix}` : `${model}-${kind === 'Pod' ? suffix : 'server'}-${i}`;
  const labels: Record<string, string> = {
    'kubernetes.io/metadata.name': namespace,
    team,
    'app.kubernetes.io/name': kind === 'Job' ? 'trainer' : model,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': kind === 'Job' ? 'kueue' : 'Helm',
    ...(kind === 'Job' ? { 'kueue.x-k8s.io/queue-name': `${team}-queue`, experiment } : {}),
    ...(kind !== 'Job' ? { 'helm.sh/chart': `${model}-1.${i % 9}.${i % 4}`, environment: 'prod' } : {}),
    project,
    model,
  };
  const node = Math.floor(random('node', id) * shape.nodes);
  const instance = pick(INSTANCES, random('instance', node));
  const gpus = 1 + Math.floor(random('gpus', id) * instance.gpus);
  // Most workloads run the whole window; a Job's first and last windows, and some pods, run part of it.
  const fraction = random('fraction', id, w) < 0.8 ? 1 : 0.05 + 0.95 * random('part', id, w);
  const utilization = random('util', id, w);
  const idle = utilization < 0.3 ? (0.3 - utilization) / 0.3 : 0;
  const spot = random('spot', node) < 0.3;
  const gpuHours = gpus * fraction;
  const onDemand = nanos((Number(instance.gpuHourNanos) / 1e9) * gpuHours) + nanos(0.0387 * fraction);
  const cost = spot ? (onDemand * 35n) / 100n : onDemand;
  return {
    clusterId: shape.clusterId,
    windowStartMs,
    windowEndMs: windowStartMs + HOUR_MS,
    namespace,
    workloadKind: kind,
    workloadName: name,
    workloadUid: uuid('uid', id),
    team,
    project,
    experiment,
    model,
    labels,
    // The namespace carries the team; the rest are the workload's and the pod's.
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace, team },
    nodePool: `${instance.type.split('.')[0] ?? 'gpu'}-${spot ? 'spot' : 'od'}`,
    instanceType: instance.type,
    region: 'us-east-1',
    zone: `us-east-1${'abcdf'[node % 5] ?? 'a'}`,
    capacityType: spot ? 'spot' : 'on-demand',
    gpuModel: instance.gpuModel,
    podCount: kind === 'Job' || kind === 'Pod' ? 1 : 1 + Math.floor(random('replicas', i) * 4),
    gpuHours: nanos(gpuHours),
    idleGpuHours: nanos(gpuHours * idle),
    utilization,
    cost,
    idleGpuCost: (cost * nanos(idle)) / NANOS,
    onDemandEquivalent: onDemand,
    spotSavings: onDemand - cost,
    currency: 'USD',
    pricingSource: 'catalog:2026-11-01',
    estimate: false,
    jobOutcome:
      kind === 'Job' ? pick(['running', 'running', 'running', 'succeeded', 'failed'], random('outcome', id, w)) : '',
    imported: false,
    compute: 'gpu',
  };
}

function nodeRow(shape: LedgerShape, w: number, n: number, windowStartMs: number): LedgerRow {
  const instance = pick(INSTANCES, random('instance', n));
  const spot = random('spot', n) < 0.3;
  const idleGpus = instance.gpus * random('idle', n, w) * 0.4;
  const onDemand = nanos((Number(instance.gpuHourNanos) / 1e9) * idleGpus);
  const cost = spot ? (onDemand * 35n) / 100n : onDemand;
  return {
    clusterId: shape.clusterId,
    windowStartMs,
    windowEndMs: windowStartMs + HOUR_MS,
    namespace: '',
    workloadKind: 'Node',
    workloadName: `ip-10-${n % 256}-${Math.floor(n / 256)}-${Math.floor(random('ip', n) * 256)}.ec2.internal`,
    workloadUid: uuid('node', n),
    team: '',
    project: '',
    experiment: '',
    model: '',
    labels: {},
    namespaceLabels: {},
    nodePool: `${instance.type.split('.')[0] ?? 'gpu'}-${spot ? 'spot' : 'od'}`,
    instanceType: instance.type,
    region: 'us-east-1',
    zone: `us-east-1${'abcdf'[n % 5] ?? 'a'}`,
    capacityType: spot ? 'spot' : 'on-demand',
    gpuModel: instance.gpuModel,
    podCount: Math.floor(random('pods', n, w) * 9),
    gpuHours: nanos(idleGpus),
    idleGpuHours: nanos(idleGpus),
    utilization: null,
    cost,
    idleGpuCost: cost,
    onDemandEquivalent: onDemand,
    spotSavings: onDemand - cost,
    currency: 'USD',
    pricingSource: 'catalog:2026-11-01',
    estimate: false,
    jobOutcome: '',
    imported: false,
    compute: 'gpu',
  };
}

/** The rows of one window: every workload and every node. */
export function realisticRows(shape: LedgerShape, windowStartMs: number): LedgerRow[] {
  const w = Math.round((windowStartMs - shape.fromMs) / HOUR_MS);
  const rows: LedgerRow[] = [];
  for (let i = 0; i < shape.pods; i++) rows.push(workloadRow(shape, w, i, windowStartMs));
  for (let n = 0; n < shape.nodes; n++) rows.push(nodeRow(shape, w, n, windowStartMs));
  return rows;
}
