/**
 * A ledger file as the writer wrote it before the namespace_labels column: the column list of then, frozen
 * here rather than derived from parquet.ts, so that the tests read a file of the old shape whatever the
 * writer does now. Each column keeps the type the writer gives it (read from a file it writes).
 */
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodeRows, FORMAT_KEY, FORMAT_VERSION } from '../ledger/parquet.ts';
import type { LedgerRow } from '../ledger/row.ts';

const PREVIOUS_COLUMNS: readonly (readonly [name: string, field: keyof LedgerRow])[] = [
  ['cluster_id', 'clusterId'],
  ['window_start', 'windowStartMs'],
  ['window_end', 'windowEndMs'],
  ['namespace', 'namespace'],
  ['workload_kind', 'workloadKind'],
  ['workload_name', 'workloadName'],
  ['workload_uid', 'workloadUid'],
  ['team', 'team'],
  ['project', 'project'],
  ['experiment', 'experiment'],
  ['model', 'model'],
  ['labels', 'labels'],
  ['node_pool', 'nodePool'],
  ['instance_type', 'instanceType'],
  ['region', 'region'],
  ['zone', 'zone'],
  ['capacity_type', 'capacityType'],
  ['gpu_model', 'gpuModel'],
  ['pod_count', 'podCount'],
  ['gpu_hours', 'gpuHours'],
  ['idle_gpu_hours', 'idleGpuHours'],
  ['utilization', 'utilization'],
  ['cost', 'cost'],
  ['idle_gpu_cost', 'idleGpuCost'],
  ['on_demand_equivalent', 'onDemandEquivalent'],
  ['spot_savings', 'spotSavings'],
  ['currency', 'currency'],
  ['pricing_source', 'pricingSource'],
  ['estimate', 'estimate'],
  ['job_outcome', 'jobOutcome'],
  ['imported', 'imported'],
];

function value(field: keyof LedgerRow, row: LedgerRow): unknown {
  if (field === 'windowStartMs' || field === 'windowEndMs') return BigInt(row[field]);
  if (field === 'labels')
    return JSON.stringify(Object.fromEntries(Object.entries(row.labels).sort(([a], [b]) => (a < b ? -1 : 1))));
  return row[field];
}

/** The rows (their namespace labels left out) in a file without the namespace_labels column. */
export function encodeRowsBeforeNamespaceLabels(
  rows: readonly LedgerRow[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const now = parquetMetadata(new Uint8Array(encodeRows([])).buffer).schema;
  const element = (name: string) => {
    const found = now.find((e) => e.name === name);
    if (!found) throw new Error(`the writer has no column ${name} any more`);
    return found;
  };
  const buffer = parquetWriteBuffer({
    schema: [{ name: 'root', num_children: PREVIOUS_COLUMNS.length }, ...PREVIOUS_COLUMNS.map(([n]) => element(n))],
    columnData: PREVIOUS_COLUMNS.map(([name, field]) => ({ name, data: rows.map((row) => value(field, row)) })),
    kvMetadata: [
      ...Object.entries(metadata).map(([key, value]) => ({ key, value })),
      { key: FORMAT_KEY, value: FORMAT_VERSION },
    ],
  });
  return new Uint8Array(buffer);
}
