/**
 * The row fields of a ledger target (everything but its window and figures), from the cycle's facts and the
 * cache: the workload's identity and outcome, its roll-up labels, and the node and price it ran on.
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord } from '../controller/projections.ts';
import type { NodeFacts, PodFacts } from '../cost/types.ts';
import type { RowDescriptor } from '../ledger/accrual.ts';
import { rollupColumns, type WorkloadKind } from '../ledger/row.ts';
import { LABEL } from '../pricing/capacity-type.ts';
import type { NodePrice } from '../pricing/provider.ts';
import { idleOwnerColumns } from './idle-owner.ts';
import { isGpuNode, workloadRecordOf } from './node-facts.ts';

/** An accounted node as the cycle priced it. */
export interface PricedNode {
  readonly record: NodeRecord;
  readonly price: NodePrice;
  readonly facts: NodeFacts;
}

/** The node pool label of each platform, first match wins. */
const NODE_POOL_LABELS = [
  'karpenter.sh/nodepool',
  'eks.amazonaws.com/nodegroup',
  'cloud.google.com/gke-nodepool',
  'kubernetes.azure.com/agentpool',
];

type NodeColumns = Pick<
  RowDescriptor,
  'nodePool' | 'instanceType' | 'region' | 'zone' | 'capacityType' | 'gpuModel' | 'pricingSource' | 'estimate'
>;

const NO_NODE: NodeColumns = {
  nodePool: '',
  instanceType: '',
  region: '',
  zone: '',
  capacityType: '',
  gpuModel: '',
  pricingSource: '',
  estimate: false,
};

/** A node's columns: where its labels say it is, and where its price came from ("catalog:<date>", "unpriced"). */
export function nodeColumns(node: PricedNode | undefined, catalogDate: string): NodeColumns {
  if (!node) return NO_NODE;
  const labels = node.record.labels;
  const { price } = node;
  return {
    nodePool: NODE_POOL_LABELS.map((k) => labels[k]).find((v) => v !== undefined) ?? '',
    instanceType: labels[LABEL.instanceType] ?? labels[LABEL.instanceTypeBeta] ?? '',
    region: labels[LABEL.region] ?? '',
    zone: labels[LABEL.zone] ?? '',
    capacityType: node.facts.capacityType,
    gpuModel: labels[LABEL.gpuProduct] ?? labels[LABEL.gkeAccelerator] ?? '',
    pricingSource: !price.priced ? 'unpriced' : price.source === 'catalog' ? `catalog:${catalogDate}` : price.source,
    estimate: price.priced && price.estimated,
  };
}

export interface DescribeContext {
  readonly cache: ClusterCache;
  readonly nodes: ReadonlyMap<string, PricedNode>;
  readonly catalogDate: string;
  readonly currency: string;
  readonly cycleStartSeconds: number;
  /** --idle-owner-label: the node label whose value owns its idle row; undefined: off. */
  readonly idleOwnerLabel?: string | undefined;
}

/**
 * A workload's (or a bare pod's) row fields from its pods this cycle. Labels: the first pod's over the
 * workload's over the namespace's; the node is the first pod's. A workload gone from the cache keeps the uid
 * and outcome of its last row (`previous`); one never seen falls back to its kind and name, and a Job's
 * outcome to running. When the namespace or the workload is gone from the cache (a namespace deleted with its
 * workloads goes between two cycles, before the cycle that sees its pods go), the last row's labels stand in
 * for what it gave: the window's row stays the team's, for reports and budgets alike. The namespace's own
 * labels are kept apart as well (a budget's namespaceSelector reads them, so that a pod's labels cannot move
 * its spend out of its namespace's budget), the last row's standing in for a namespace gone.
 */
export function describeWorkload(
  ctx: DescribeContext,
  kind: Exclude<WorkloadKind, 'Node'>,
  namespace: string,
  name: string,
  pods: readonly PodFacts[],
  previous: RowDescriptor | undefined,
): RowDescriptor {
  const first = pods[0];
  const record = kind === 'Pod' ? undefined : workloadRecordOf(ctx.cache, kind, `${namespace}/${name}`);
  const namespaceLabels = ctx.cache.namespaces.store.get(namespace)?.labels;
  const gone = !namespaceLabels || (kind !== 'Pod' && !record);
  // The last row's labels, pod's over workload's over namespace's, under those still in the cache.
  const workloadLabels = gone ? { ...previous?.labels, ...record?.labels } : record?.labels;
  const podLabels = first?.labels ?? {};
  const uid = kind === 'Pod' ? (first?.uid ?? '') : record?.uid;
  return {
    namespace,
    workloadKind: kind,
    workloadName: name,
    workloadUid: uid || previous?.workloadUid || `${kind}/${namespace}/${name}`,
    ...rollupColumns(podLabels, workloadLabels, namespaceLabels),
    labels: { ...namespaceLabels, ...workloadLabels, ...podLabels },
    // The projection's own object: it is replaced, never changed, so rows can share it.
    namespaceLabels: namespaceLabels ?? previous?.namespaceLabels,
    ...nodeColumns(first ? ctx.nodes.get(first.nodeName) : undefined, ctx.catalogDate),
    podCount: pods.filter((p) => p.until === undefined || p.until > ctx.cycleStartSeconds).length,
    jobOutcome: kind === 'Job' ? (record?.outcome ?? (previous?.jobOutcome || 'running')) : '',
    currency: ctx.currency,
    // The window's GPU-hours decide a workload's row (computeOf, where the row is made): `cpu` until they do.
    compute: 'cpu',
  };
}

/**
 * A node's idle row fields; with --idle-owner-label, owned by the node's label value when it has a valid one
 * (idle-owner.ts). The owner is the label's at the cycle: a window's row is its last cycle's owner.
 */
export function describeNode(ctx: DescribeContext, node: PricedNode, pods: number): RowDescriptor {
  return {
    namespace: '',
    workloadKind: 'Node',
    workloadName: node.record.name,
    workloadUid: node.record.uid || node.record.name,
    ...idleOwnerColumns(ctx.idleOwnerLabel, node.record.labels),
    namespaceLabels: {},
    ...nodeColumns(node, ctx.catalogDate),
    podCount: pods,
    jobOutcome: '',
    currency: ctx.currency,
    compute: isGpuNode(node.record) ? 'gpu' : 'cpu',
  };
}

/**
 * describeWorkload, with each target's last description kept while everything it was made from is the same
 * object (cache projections and the accountant's pod facts are replaced, never changed in place): a fleet's
 * 10,000 targets would otherwise build 10,000 label maps a cycle for the same rows.
 */
export class WorkloadDescriptions {
  private last = new Map<string, Described>();
  private next = new Map<string, Described>();

  describe(
    ctx: DescribeContext,
    id: string,
    target: { kind: Exclude<WorkloadKind, 'Node'>; namespace: string; name: string },
    pods: readonly PodFacts[],
    previous: RowDescriptor | undefined,
  ): RowDescriptor {
    const { kind, namespace, name } = target;
    const first = pods[0];
    const node = first ? ctx.nodes.get(first.nodeName) : undefined;
    const inputs: readonly unknown[] = [
      kind === 'Pod' ? undefined : workloadRecordOf(ctx.cache, kind, `${namespace}/${name}`),
      ctx.cache.namespaces.store.get(namespace),
      first,
      // The node's projection and price, not the PricedNode around them: that one is made anew every cycle.
      node?.record,
      node?.price,
      ctx.catalogDate,
      ctx.currency,
      pods.filter((p) => p.until === undefined || p.until > ctx.cycleStartSeconds).length,
      previous?.workloadUid,
      previous?.jobOutcome,
    ];
    const kept = this.last.get(id);
    const same = kept?.inputs.length === inputs.length && kept.inputs.every((v, i) => v === inputs[i]);
    const described = same ? kept : { inputs, row: describeWorkload(ctx, kind, namespace, name, pods, previous) };
    this.next.set(id, described);
    return described.row;
  }

  /** Keeps only the descriptions used this cycle. */
  endCycle(): void {
    this.last = this.next;
    this.next = new Map();
  }
}

interface Described {
  readonly inputs: readonly unknown[];
  readonly row: RowDescriptor;
}
