/**
 * One row of the durable cost ledger (issue #15): what one workload, or one node's idle capacity, cost in one
 * ledger window. Rows are keyed by cluster, workload uid and window, so a re-written window replaces its rows
 * and never adds to them.
 *
 * Quantities that are summed (money and GPU-hours) are integer nano-units in bigint and are stored as Parquet
 * DECIMAL(18,9), so every reader adds them exactly. Utilization is a measured ratio that is averaged, never
 * summed, so it stays a number.
 */
import type { Nanos } from '../cost/money.ts';
import { UNSET } from '../cost/rollup.ts';
import type { OwnerKind } from '../cost/types.ts';
import { rollupLabelValues } from '../reconcilers/rollup-labels.ts';
import { isClusterId } from './layout.ts';

/**
 * A workload that owns pods, `Node` for the row of a node's capacity that no pod requested, or
 * `PersistentVolumeClaim` for a claim's storage while no running pod mounts it (its "unattached" row, billed to
 * the claim's namespace; issue #18).
 */
export type WorkloadKind = Exclude<OwnerKind, 'Other'> | 'Node' | 'PersistentVolumeClaim';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  'Job',
  'Deployment',
  'StatefulSet',
  'Pod',
  'Node',
  'PersistentVolumeClaim',
];

/** A Job's state at the end of the window; '' for every other kind. */
export type JobOutcome = 'running' | 'succeeded' | 'failed' | '';
const JOB_OUTCOMES: readonly JobOutcome[] = ['running', 'succeeded', 'failed'];

/**
 * GPU-hours in nano-units (1e-9 hour), the same scale as money. An accrued second is 277,777.7… nano-hours,
 * so the writer rounds each row once: at most 1.8 µs per row, far below anything a report shows.
 */
export type NanoHours = bigint;

/**
 * The roll-up labels that get a column of their own. They are keys of the default --label-keys, resolved the
 * same way as the metrics' roll-ups (pod, then workload, then namespace: rollupLabelValues).
 */
export const ROLLUP_COLUMNS = ['team', 'project', 'experiment', 'model'] as const;
export type RollupColumn = (typeof ROLLUP_COLUMNS)[number];

export interface LedgerRow {
  readonly clusterId: string;
  /** The window is [windowStartMs, windowEndMs), epoch milliseconds. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** '' for Node rows. */
  readonly namespace: string;
  readonly workloadKind: WorkloadKind;
  /** The node's name for Node rows. */
  readonly workloadName: string;
  readonly workloadUid: string;
  /** '' where no source carries the label. */
  readonly team: string;
  readonly project: string;
  readonly experiment: string;
  readonly model: string;
  /** Every label of the workload (pod labels over workload labels over namespace labels). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The namespace's own labels, which no pod or workload label can override: what a budget's
   * namespaceSelector is matched against (budget/scope.ts). {} on Node rows. Undefined when unknown: rows
   * read from files written before the column existed, or a namespace gone from the cache before any row of
   * the workload recorded its labels.
   */
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  readonly nodePool: string;
  readonly instanceType: string;
  readonly region: string;
  readonly zone: string;
  readonly capacityType: string;
  readonly gpuModel: string;
  readonly podCount: number;
  readonly gpuHours: NanoHours;
  readonly idleGpuHours: NanoHours;
  /** Mean GPU utilization over the window, ratio 0..1; null when it was not measured (unknown is never zero). */
  readonly utilization: number | null;
  readonly cost: Nanos;
  readonly idleGpuCost: Nanos;
  readonly onDemandEquivalent: Nanos;
  /** On-demand equivalent minus cost: negative when spot cost more than on-demand would have. */
  readonly spotSavings: Nanos;
  /** ISO 4217 code. */
  readonly currency: string;
  readonly pricingSource: string;
  /** True when a price came from an estimate rather than a published or configured price. */
  readonly estimate: boolean;
  readonly jobOutcome: JobOutcome;
  /** True for opening balances imported once from annotations on a first start with an empty ledger. */
  readonly imported: boolean;
  /**
   * What an inference workload served in the window (issue #17; docs/unit-economics.md#in-the-ledger): the
   * models its inference series name, sorted and joined with commas ('' when they name none, as TGI's), and its
   * prompt tokens, generated tokens and successful requests, whole numbers. Undefined when unknown: a workload
   * without inference series, a server that does not count it (Triton counts no tokens), or a file written
   * before the columns existed. Unknown is never 0: a workload that served nothing has 0.
   */
  readonly servedModels?: string | undefined;
  readonly promptTokens?: bigint | undefined;
  readonly generatedTokens?: bigint | undefined;
  readonly requests?: bigint | undefined;
  /**
   * Who owns a Node row's idle capacity (issue #18; reconcilers/idle-owner.ts): the value of the node's
   * --idle-owner-label, '' when the node has none (the idle is the cluster's). Undefined on workload rows and
   * in files written before the column existed, which read as unowned.
   */
  readonly idleOwner?: string | undefined;
  /**
   * GPU or CPU work, so that reports can show them apart (computeOf has the rule): `gpu` for a workload that
   * held a GPU in the window, else `cpu`; a Node row is its node's kind. Files written before the column read
   * by the same rule (computeOf with the node kind `gpu`: those ledgers accounted GPU nodes only).
   */
  readonly compute: Compute;
  /**
   * What the persistent volumes the workload mounted cost in the window (issue #18; docs/cost-model.md#storage),
   * apart from `cost`, which is compute only. On a PersistentVolumeClaim row, the claim's unmounted seconds.
   * Undefined reads as 0 (rows of before, and rows of no storage).
   */
  readonly storageCost?: Nanos | undefined;
}

/** What a row's money paid for: GPU work, CPU work (CPU and memory only), or a claim no pod mounted. */
export type Compute = 'gpu' | 'cpu' | 'storage';
export const COMPUTES: readonly Compute[] = ['gpu', 'cpu', 'storage'];

/**
 * A row's compute. A workload's (or bare pod's) row is `gpu` when the workload held a GPU at any time in the
 * window (its GPU-hours are above 0), whichever nodes its other pods ran on: a training Job's CPU sidecar pod
 * is part of GPU work. Else `cpu` (a preprocessing Job on CPU nodes, or a CPU pod on a GPU node). A Node row
 * (capacity no pod requested) is its node's kind: `gpu` for a node with GPUs, `cpu` for a CPU-only node. A
 * PersistentVolumeClaim row (a claim's seconds no pod mounted) is `storage`: it holds no compute.
 */
export function computeOf(kind: WorkloadKind, gpuHours: NanoHours, nodeCompute: Compute): Compute {
  if (kind === 'Node') return nodeCompute;
  if (kind === 'PersistentVolumeClaim') return 'storage';
  return gpuHours > 0n ? 'gpu' : 'cpu';
}

/** The longest servedModels: the gauges' model label is cut at 128 characters, the ledger keeps a few models. */
export const MAX_SERVED_MODELS = 1024;

type Dict = Readonly<Record<string, string>>;

/** The roll-up columns of a workload, from its pod's, its own and its namespace's labels; '' when missing. */
export function rollupColumns(
  pod: Dict,
  workload: Dict | undefined,
  namespace: Dict | undefined,
): Record<RollupColumn, string> {
  const [team, project, experiment, model] = rollupLabelValues(ROLLUP_COLUMNS, pod, workload, namespace).map((v) =>
    v === UNSET ? '' : v,
  );
  return { team: team ?? '', project: project ?? '', experiment: experiment ?? '', model: model ?? '' };
}

/** DECIMAL(18,9) holds up to 18 digits: 999,999,999.999999999. */
export const MAX_DECIMAL_18 = 10n ** 18n - 1n;
const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2n ** 63n - 1n;
const CURRENCY = /^[A-Z]{3}$/;

/** Everything wrong with a row, as sentences naming the field; empty when the row can be stored. */
export function rowProblems(row: LedgerRow): string[] {
  const problems: string[] = [];
  const fail = (field: string, why: string) => problems.push(`${field} ${why}`);
  if (!isClusterId(row.clusterId)) fail('clusterId', `"${row.clusterId}" is not a cluster id`);
  if (!isEpochMs(row.windowStartMs)) fail('windowStartMs', 'is not a non-negative integer');
  if (!isEpochMs(row.windowEndMs) || row.windowEndMs <= row.windowStartMs)
    fail('windowEndMs', 'is not after windowStartMs');
  if (!WORKLOAD_KINDS.includes(row.workloadKind)) fail('workloadKind', `"${row.workloadKind}" is not a ledger kind`);
  if (row.workloadKind === 'Node' ? row.namespace !== '' : row.namespace === '')
    fail('namespace', row.workloadKind === 'Node' ? 'must be empty on a Node row' : 'is empty');
  if (row.workloadName === '') fail('workloadName', 'is empty');
  if (row.workloadUid === '') fail('workloadUid', 'is empty');
  if (!Number.isInteger(row.podCount) || row.podCount < 0 || row.podCount > INT32_MAX)
    fail('podCount', 'is not a non-negative 32-bit integer');
  for (const field of ['gpuHours', 'idleGpuHours', 'cost', 'idleGpuCost', 'onDemandEquivalent'] as const)
    if (row[field] < 0n || row[field] > MAX_DECIMAL_18) fail(field, 'is outside 0..999999999.999999999');
  if (row.storageCost !== undefined && (row.storageCost < 0n || row.storageCost > MAX_DECIMAL_18))
    fail('storageCost', 'is outside 0..999999999.999999999');
  if (row.spotSavings < -MAX_DECIMAL_18 || row.spotSavings > MAX_DECIMAL_18)
    fail('spotSavings', 'is outside ±999999999.999999999');
  if (row.utilization !== null && !(row.utilization >= 0 && row.utilization <= 1))
    fail('utilization', 'is not a ratio 0..1 or null');
  if (!CURRENCY.test(row.currency)) fail('currency', `"${row.currency}" is not an ISO 4217 code`);
  if (row.workloadKind === 'Job' ? !JOB_OUTCOMES.includes(row.jobOutcome) : row.jobOutcome !== '')
    fail('jobOutcome', `"${row.jobOutcome}" is not an outcome for a ${row.workloadKind}`);
  for (const field of ['labels', 'namespaceLabels'] as const)
    for (const [key, value] of Object.entries(row[field] ?? {}))
      if (typeof value !== 'string') fail(field, `"${key}" has a value that is not a string`);
  for (const field of ['promptTokens', 'generatedTokens', 'requests'] as const) {
    const count = row[field];
    if (count !== undefined && (typeof count !== 'bigint' || count < 0n || count > INT64_MAX))
      fail(field, 'is not a non-negative 64-bit integer or unknown');
  }
  if (row.servedModels !== undefined && row.servedModels.length > MAX_SERVED_MODELS)
    fail('servedModels', `is longer than ${MAX_SERVED_MODELS} characters`);
  if (row.idleOwner !== undefined && row.idleOwner !== '' && row.workloadKind !== 'Node')
    fail('idleOwner', `must be empty on a ${row.workloadKind} row`);
  if (row.idleOwner !== undefined && (typeof row.idleOwner !== 'string' || row.idleOwner.length > 63))
    fail('idleOwner', 'is not a label value');
  if (!COMPUTES.includes(row.compute)) fail('compute', `"${row.compute}" is not gpu, cpu or storage`);
  else if (
    row.workloadKind !== 'Node' &&
    row.gpuHours >= 0n &&
    row.compute !== computeOf(row.workloadKind, row.gpuHours, row.compute)
  )
    fail('compute', `"${row.compute}" disagrees with gpuHours ${row.gpuHours} (gpu exactly when above 0)`);
  if (row.workloadKind === 'Node' && Object.keys(row.namespaceLabels ?? {}).length > 0)
    fail('namespaceLabels', 'must be empty on a Node row');
  return problems;
}

function isEpochMs(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0;
}
