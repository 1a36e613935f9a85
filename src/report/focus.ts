/**
 * Ledger rows as FinOps FOCUS 1.3 Cost and Usage rows (docs/focus.md has the mapping and the reasons for each
 * choice the spec leaves open). Pure: one ledger row gives one FOCUS row; focus-writer.ts writes them.
 *
 * The ledger is a data generator-calculated split cost allocation (FOCUS 1.3 attribute
 * DataGeneratorCalculatedSplitCostAllocationHandling): the origin charge is a cluster's node capacity of one
 * SKU (instance type, capacity type, pricing source) in one window; the allocated charges are the workloads'
 * shares (AllocatedResourceId set) and the unallocated portion is the nodes' idle rows (AllocatedResourceId
 * null, AllocatedMethodId set). Every dimension column therefore holds the origin charge's value, and what
 * tells the workloads apart is in the Allocated* columns, Tags and the x_ columns.
 */
import type { LedgerRow } from '../ledger/row.ts';
import { workloadName } from './aggregate.ts';

export const FOCUS_VERSION = '1.3';
/** The allocation method: shares of node cost by requests × seconds held (docs/cost-model.md, section 2). */
export const ALLOCATED_METHOD_ID = 'aicost-requests-share-v1';
/** The prefix of the tags this exporter defines (FOCUS: data generator-defined tag keys carry a documented prefix). */
export const TAG_PREFIX = 'aicost.dev/';
export const GPU_HOURS_UNIT = 'GPU-Hours';

export type FocusKind = 'string' | 'decimal' | 'datetime' | 'json' | 'int32' | 'double' | 'boolean';
export type FocusValue = string | bigint | number | boolean | null;

export interface FocusColumn {
  readonly name: string;
  readonly kind: FocusKind;
  /** False where the spec (or our mapping) never leaves it null: a REQUIRED Parquet column. */
  readonly nullable: boolean;
  readonly value: (row: LedgerRow, options: FocusOptions) => FocusValue;
}

export interface FocusOptions {
  /** ServiceProviderName, InvoiceIssuerName and the deprecated ProviderName and PublisherName. */
  readonly provider: string;
  /** HostProviderName: who hosts the nodes (a cloud, or the organization's own data center). */
  readonly hostProvider: string;
}

const MONTH = (ms: number, add: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
};

/** Sorted keys, so the same labels always give the same text. */
function jsonObject(entries: readonly (readonly [string, string])[]): string {
  return JSON.stringify(Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

const isIdle = (row: LedgerRow) => row.workloadKind === 'Node';
const sku = (row: LedgerRow) => row.instanceType || 'unknown';
const capacity = (row: LedgerRow) => row.capacityType || 'unknown';

/** The workload's labels: what FinOps tools group by. Null for idle rows (a node's capacity has no workload). */
function tags(row: LedgerRow): string | null {
  const entries = Object.entries(row.labels);
  return isIdle(row) || entries.length === 0 ? null : jsonObject(entries);
}

/**
 * Tags this exporter defines for the allocated resource, prefixed `aicost.dev/`: where it runs and the roll-up
 * values resolved from pod, workload and namespace labels. None already in Tags (FOCUS 1.3 AllocatedTags).
 */
function allocatedTags(row: LedgerRow): string | null {
  if (isIdle(row)) return null;
  const own: [string, string][] = [
    [`${TAG_PREFIX}namespace`, row.namespace],
    [`${TAG_PREFIX}workload-kind`, row.workloadKind],
    [`${TAG_PREFIX}workload-name`, row.workloadName],
  ];
  for (const key of ['team', 'project', 'experiment', 'model'] as const)
    if (row[key] !== '') own.push([`${TAG_PREFIX}${key}`, row[key]]);
  return jsonObject(own.filter(([key]) => !Object.hasOwn(row.labels, key)));
}

const str = (name: string, value: FocusColumn['value'], nullable = false): FocusColumn => ({
  name,
  kind: 'string',
  nullable,
  value,
});
const dec = (name: string, value: FocusColumn['value']): FocusColumn => ({
  name,
  kind: 'decimal',
  nullable: false,
  value,
});

/** The columns in order: FOCUS columns alphabetically, then the custom x_ columns. */
export const FOCUS_COLUMNS: readonly FocusColumn[] = [
  str('AllocatedMethodId', () => ALLOCATED_METHOD_ID),
  str('AllocatedResourceId', (r) => (isIdle(r) ? null : r.workloadUid), true),
  str('AllocatedResourceName', (r) => (isIdle(r) ? null : workloadName(r)), true),
  { name: 'AllocatedTags', kind: 'json', nullable: true, value: allocatedTags },
  dec('BilledCost', (r) => r.cost),
  str('BillingAccountId', (r) => r.clusterId),
  str('BillingAccountName', (r) => r.clusterId),
  str('BillingCurrency', (r) => r.currency),
  { name: 'BillingPeriodEnd', kind: 'datetime', nullable: false, value: (r) => MONTH(r.windowStartMs, 1) },
  { name: 'BillingPeriodStart', kind: 'datetime', nullable: false, value: (r) => MONTH(r.windowStartMs, 0) },
  str('ChargeCategory', () => 'Usage'),
  str('ChargeClass', () => null, true),
  str(
    'ChargeDescription',
    (r) => `Kubernetes node capacity, ${sku(r)} (${capacity(r)}), in cluster ${r.clusterId}, split by requests`,
  ),
  str('ChargeFrequency', () => 'Usage-Based'),
  { name: 'ChargePeriodEnd', kind: 'datetime', nullable: false, value: (r) => r.windowEndMs },
  { name: 'ChargePeriodStart', kind: 'datetime', nullable: false, value: (r) => r.windowStartMs },
  dec('ConsumedQuantity', (r) => r.gpuHours),
  str('ConsumedUnit', () => GPU_HOURS_UNIT),
  dec('ContractedCost', (r) => r.onDemandEquivalent),
  dec('EffectiveCost', (r) => r.cost),
  str('HostProviderName', (_, o) => o.hostProvider),
  // Internal chargeback: no invoice carries these rows (FOCUS: null when not associated with an invoice).
  str('InvoiceId', () => null, true),
  str('InvoiceIssuerName', (_, o) => o.provider),
  dec('ListCost', (r) => r.onDemandEquivalent),
  str('PricingCategory', (r) => (r.capacityType === 'spot' ? 'Dynamic' : 'Standard')),
  dec('PricingQuantity', (r) => r.gpuHours),
  str('PricingUnit', () => GPU_HOURS_UNIT),
  str('ProviderName', (_, o) => o.provider),
  str('PublisherName', (_, o) => o.provider),
  str('ResourceId', (r) => r.clusterId),
  str('ResourceName', (r) => r.clusterId),
  str('ResourceType', () => 'Kubernetes Cluster'),
  str('ServiceCategory', () => 'Compute'),
  str('ServiceName', () => 'Kubernetes'),
  str('ServiceProviderName', (_, o) => o.provider),
  str('ServiceSubcategory', () => 'Containers'),
  str('SkuId', sku),
  str('SkuPriceId', (r) => `${r.pricingSource || 'unknown'}:${sku(r)}:${capacity(r)}`),
  { name: 'Tags', kind: 'json', nullable: true, value: tags },
  str('x_ClusterId', (r) => r.clusterId),
  str('x_Namespace', (r) => r.namespace),
  str('x_WorkloadKind', (r) => r.workloadKind),
  str('x_WorkloadName', (r) => r.workloadName),
  str('x_WorkloadUid', (r) => r.workloadUid),
  str('x_Team', (r) => r.team),
  str('x_Project', (r) => r.project),
  str('x_Experiment', (r) => r.experiment),
  str('x_Model', (r) => r.model),
  str('x_NodePool', (r) => r.nodePool),
  str('x_InstanceType', (r) => r.instanceType),
  str('x_Region', (r) => r.region),
  str('x_Zone', (r) => r.zone),
  str('x_CapacityType', (r) => r.capacityType),
  str('x_GpuModel', (r) => r.gpuModel),
  { name: 'x_PodCount', kind: 'int32', nullable: false, value: (r) => r.podCount },
  dec('x_IdleGpuHours', (r) => r.idleGpuHours),
  { name: 'x_Utilization', kind: 'double', nullable: true, value: (r) => r.utilization },
  dec('x_IdleGpuCost', (r) => r.idleGpuCost),
  dec('x_SpotSavings', (r) => r.spotSavings),
  str('x_PricingSource', (r) => r.pricingSource),
  { name: 'x_Estimate', kind: 'boolean', nullable: false, value: (r) => r.estimate },
  str('x_JobOutcome', (r) => r.jobOutcome),
  { name: 'x_Imported', kind: 'boolean', nullable: false, value: (r) => r.imported },
  // GPU or CPU work (row.ts, computeOf): FOCUS has no column for it.
  str('x_Compute', (r) => r.compute),
  // Issue #18: storage is apart from the node capacity split the FOCUS cost columns carry (docs/focus.md).
  dec('x_StorageCost', (r) => r.storageCost ?? 0n),
];

/** The FOCUS columns the 1.3 spec makes mandatory in a Cost and Usage dataset (docs/focus.md). */
export const MANDATORY_COLUMNS = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ContractedCost',
  'EffectiveCost',
  'HostProviderName',
  'InvoiceIssuerName',
  'ListCost',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ServiceProviderName',
] as const;

/** One FOCUS row as column name to value. */
export function focusRow(row: LedgerRow, options: FocusOptions): Record<string, FocusValue> {
  return Object.fromEntries(FOCUS_COLUMNS.map((c) => [c.name, c.value(row, options)]));
}
