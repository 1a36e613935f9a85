/**
 * The admission webhook's price before launch (budget/launch-price.ts): the warning every new GPU pod gets
 * with its expected hourly cost on the nodes it can land on and where the budgets in its scope stand. It never
 * refuses anything.
 *
 * A review must stay within milliseconds with a thousand nodes: pricing a node reads the pricing tables, so
 * the GPU nodes are kept here priced, each repriced when it changes (nodes change all the time, one at a time:
 * a full rebuild per change would be a thousand prices every few hundred milliseconds) and all of them, lazily,
 * when the pricing table is a new one (a reloaded pricing file). A review then only filters them and computes
 * the pod's share once per kind of node. Nothing refreshes the pricing file for a webhook that is not the
 * leader (the leader's accounting does), so a review asks for a refresh, off its path, once a minute at most.
 */
import { budgetsInScope } from '../budget/admission.ts';
import type { AdmittedPod } from '../budget/admitted-pod.ts';
import { budgetStanding, launchRange, launchWarning, runDeadline, type PricedGpuNode } from '../budget/launch-price.ts';
import { replicasOf } from '../cost/gpu-units.ts';
import type { Clock } from '../controller/clock.ts';
import type { NodeRecord } from '../controller/projections.ts';
import type { Reflector } from '../controller/reflector.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { WorkloadView } from '../policy/match.ts';
import type { PricingProvider } from '../pricing/provider.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { AdmissionOwner } from './admission-owner.ts';
import { isGpuNode, nodeFacts, priceOf } from './node-facts.ts';

const PRICING_REFRESH_MS = 60_000;

export interface LaunchPriceDeps {
  readonly nodes: Pick<Reflector<NodeRecord>, 'store' | 'onChange'>;
  readonly policies: Pick<Reflector<PolicyRecord>, 'store'>;
  readonly pricing: PricingSource;
  readonly clock: Clock;
  readonly protectedNamespaces: ReadonlySet<string>;
}

interface Entry {
  readonly node: NodeRecord;
  /** Priced with `by`; undefined until a review needs it. */
  priced: PricedGpuNode | undefined;
  by: PricingProvider | undefined;
}

export class LaunchPriceWarning {
  private readonly deps: LaunchPriceDeps;
  private readonly gpuNodes = new Map<string, Entry>();
  private refreshedAtMs = -Infinity;

  constructor(deps: LaunchPriceDeps) {
    this.deps = deps;
    for (const [key, node] of deps.nodes.store) this.follow(key, node);
    deps.nodes.onChange((key, node) => this.follow(key, node));
  }

  /**
   * The warning for a pod that requests GPUs the pricing knows (gpuRequests); undefined for any other, including
   * one a budget counts as asking for an accelerator that accounting does not price (accelerators.ts): it would
   * fit every node, and its price would be a CPU and memory share only.
   */
  warning(pod: AdmittedPod, owner: AdmissionOwner | undefined, view: WorkloadView): string | undefined {
    if (Object.keys(pod.gpuRequests).length === 0) return undefined;
    const nowMs = this.deps.clock.now();
    if (nowMs - this.refreshedAtMs >= PRICING_REFRESH_MS) {
      this.refreshedAtMs = nowMs;
      // A failed refresh keeps the last good table and logs it (pricing-source.ts).
      void this.deps.pricing.refresh();
    }
    const provider = this.deps.pricing.current();
    const budgets = budgetsInScope(this.deps.policies.store.values(), view, this.deps.protectedNamespaces);
    const job = owner?.record?.kind === 'Job' ? owner.record.activeDeadlineSeconds : undefined;
    return launchWarning({
      range: launchRange(pod, this.priced(provider)),
      currency: provider.currency,
      deadlineSeconds: runDeadline(pod.activeDeadlineSeconds, job),
      budgets: budgets.map((p) => budgetStanding(p, nowMs, provider.currency)),
    });
  }

  private follow(key: string, node: NodeRecord | undefined): void {
    if (node && isGpuNode(node)) this.gpuNodes.set(key, { node, priced: undefined, by: undefined });
    else this.gpuNodes.delete(key);
  }

  private *priced(provider: PricingProvider): Iterable<PricedGpuNode> {
    for (const entry of this.gpuNodes.values()) {
      if (entry.by !== provider || !entry.priced) {
        entry.priced = pricedGpuNode(entry.node, provider);
        entry.by = provider;
      }
      yield entry.priced;
    }
  }
}

/** A GPU node as the price before launch reads it; unpriced when the accountant could not account it either. */
export function pricedGpuNode(node: NodeRecord, provider: PricingProvider): PricedGpuNode {
  const price = priceOf(node, provider);
  const facts = nodeFacts(node, price);
  const perHour = facts.problem ? undefined : facts.perHour;
  const replicas = replicasOf(node.labels);
  return {
    name: node.name,
    labels: node.labels,
    taints: node.taints,
    gpuResources: node.gpuResources,
    cpuMillis: node.cpuMillis,
    memoryBytes: node.memoryBytes,
    instanceType: price.instanceType,
    capacityType: price.capacityType,
    gpuUnits: facts.gpuUnits,
    replicas,
    perHour,
    // Everything the pod's share of the node depends on, besides the pod.
    shareKey: perHour
      ? `${price.instanceType ?? ''}|${price.capacityType}|${perHour.gpu}|${perHour.cpu}|${perHour.memory}|` +
        `${facts.gpuUnits}|${replicas}|${node.cpuMillis}|${node.memoryBytes}`
      : '',
  };
}
