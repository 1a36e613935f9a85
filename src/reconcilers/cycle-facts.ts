/**
 * One accounting cycle's facts from the cache: the accounted nodes (every node, GPU and CPU-only, unless
 * --account-nodes narrows them), priced, and the pods on them (with the pods
 * deleted since the last cycle), each with its cache key. Facts are reused from cycle to cycle while the
 * projections they were made from are the same objects: most of a fleet's pods are, and rebuilding 10,000 facts
 * a cycle was a large share of the cycle's garbage. Both caches are WeakMaps: entries go with their projection.
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord, PodRecord } from '../controller/projections.ts';
import type { NodeFacts, PodFacts } from '../cost/types.ts';
import type { NodePrice, PricingProvider } from '../pricing/provider.ts';
import type { Mutable } from './accounting-plan.ts';
import type { PricedNode } from './ledger-describe.ts';
import { nodeFacts, podFacts, priceOf } from './node-facts.ts';
import type { LabelSelector } from '../crds/aicost-policy.ts';
import { matchesSelector } from '../policy/selector.ts';
import type { PodOwners } from './pod-owners.ts';

/** Pod facts kept by the gatherer, which take each cycle's utilization once it is measured. */
export type MutablePodFacts = Mutable<PodFacts>;

/** One cycle's facts: the accounted nodes priced, by name too, and the pods on them with their cache keys. */
export interface CycleFacts {
  readonly pricing: PricingProvider;
  readonly nodes: NodeFacts[];
  readonly unpriced: { name: string; reason: string }[];
  readonly priced: Map<string, PricedNode>;
  readonly pods: MutablePodFacts[];
  readonly keys: string[];
  readonly live: boolean[];
}

export class FactsGatherer {
  private readonly cache: ClusterCache;
  /** Facts by cached pod projection (see factsOf). */
  private readonly facts = new WeakMap<PodRecord, { node: NodeRecord; owners: number; facts: MutablePodFacts }>();
  /** Node prices and facts by cached node projection (see pricedNode). */
  private readonly nodeFacts = new WeakMap<
    NodeRecord,
    { pricing: PricingProvider; price: NodePrice; facts: NodeFacts }
  >();
  /**
   * Counts changes of the owners' identities (an owner added, deleted, or its uid or Deployment link
   * changed): a pod's workload is resolved through them by uid (workloadOf). Other changes, such as the
   * annotations the operator writes each cycle, leave every pod's workload as it was.
   */
  private ownerChanges = 0;
  /** Each pod's verified owner (pod-owners.ts): a pod's workload is resolved through it. */
  private readonly owners: PodOwners;
  /** --account-nodes; undefined: every node. */
  private readonly accountNodes: LabelSelector | undefined;
  /** Whether --account-nodes selects a node, by cached node projection: matched once, not every cycle. */
  private readonly selected = new WeakMap<NodeRecord, boolean>();

  constructor(cache: ClusterCache, owners: PodOwners, accountNodes?: LabelSelector) {
    this.cache = cache;
    this.owners = owners;
    this.accountNodes = accountNodes;
    // A ReplicaSet's projection is all identity (its uid and its Deployment's name and uid).
    cache.replicaSets.onChange(() => this.ownerChanges++);
    for (const owners of [cache.jobs, cache.deployments, cache.statefulSets])
      owners.onChange((_key, current, previous) => {
        if (current?.uid !== previous?.uid) this.ownerChanges++;
      });
  }

  /**
   * The accounted nodes, priced, and the pods on them and the `tombstones` (pods deleted since), with their keys.
   * A pod on a node left out (by --account-nodes) is left out with it: nothing of that node is accounted.
   */
  gather(pricing: PricingProvider, tombstones: Iterable<PodRecord>): CycleFacts {
    const { cache } = this;
    const facts: CycleFacts = { pricing, nodes: [], unpriced: [], priced: new Map(), pods: [], keys: [], live: [] };
    for (const node of cache.nodes.store.values()) {
      if (!this.isSelected(node)) continue;
      const priced = this.pricedNode(node, pricing);
      // A node the engine will skip is reported as skipped (skipped-objects.ts), not also as unpriced.
      if (!priced.price.priced && !priced.facts.problem)
        facts.unpriced.push({ name: node.name, reason: priced.price.reason });
      facts.nodes.push(priced.facts);
      facts.priced.set(node.name, { record: node, price: priced.price, facts: priced.facts });
    }
    // Pods with their cache keys ("namespace/name"), built once: measuring, seeding and annotating all join
    // on the key, and a fleet has 10,000 pods a cycle.
    const add = (key: string, record: PodRecord, isLive: boolean) => {
      const node = facts.priced.get(record.nodeName)?.record;
      const pod = node ? this.factsOf(record, node) : undefined;
      if (!pod) return;
      facts.pods.push(pod);
      facts.keys.push(key);
      facts.live.push(isLive);
    };
    for (const [key, record] of cache.pods.store) add(key, record, true);
    for (const t of tombstones) {
      const key = `${t.namespace}/${t.name}`;
      if (!cache.pods.store.has(key)) add(key, t, false);
    }
    return facts;
  }

  private isSelected(node: NodeRecord): boolean {
    if (this.accountNodes === undefined) return true;
    let selected = this.selected.get(node);
    if (selected === undefined) this.selected.set(node, (selected = isAccounted(node, this.accountNodes)));
    return selected;
  }

  /**
   * A node's price and facts, reused while its projection and the pricing (a new object on reload) are. A
   * node whose pricing throws is the engine's to skip, with the reason: it must not stop the others' cycle.
   */
  private pricedNode(node: NodeRecord, pricing: PricingProvider): { price: NodePrice; facts: NodeFacts } {
    const cached = this.nodeFacts.get(node);
    if (cached?.pricing === pricing) return cached;
    let price: NodePrice;
    let failure: string | undefined;
    try {
      price = priceOf(node, pricing);
    } catch (error) {
      failure = `pricing failed on it: ${error instanceof Error ? error.message : String(error)}`;
      price = { priced: false, capacityType: 'on-demand', instanceType: undefined, reason: failure };
    }
    const made = nodeFacts(node, price);
    const facts = failure === undefined ? made : { ...made, problem: { reason: 'error' as const, message: failure } };
    const entry = { pricing, price, facts };
    this.nodeFacts.set(node, entry);
    return entry;
  }

  /**
   * A pod's facts, reused from the last cycle while its projection, its node's and (for an owned pod) the
   * owners' identities are unchanged. The utilization is cleared: this cycle's measurement sets it.
   */
  private factsOf(record: PodRecord, node: NodeRecord): MutablePodFacts | undefined {
    const cached = this.facts.get(record);
    if (cached?.node === node && (record.owner === undefined || cached.owners === this.ownerChanges)) {
      cached.facts.utilization = undefined;
      return cached.facts;
    }
    // podFacts builds a new object: this cycle may set its utilization.
    const facts = podFacts(record, node, this.owners.workloadOf(record, this.cache)) as MutablePodFacts | undefined;
    if (facts) this.facts.set(record, { node, owners: this.ownerChanges, facts });
    return facts;
  }
}

/** Whether the accountant accounts a node: every node without --account-nodes, else those it selects. */
export function isAccounted(node: NodeRecord, accountNodes: LabelSelector | undefined): boolean {
  return accountNodes === undefined || matchesSelector(accountNodes, node.labels);
}
