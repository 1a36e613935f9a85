/**
 * A price before launch: the admission warning a new GPU pod gets with what it is expected to cost per hour on
 * the nodes it can land on (node-fit.ts), what it can cost at most when a deadline bounds its run, and where
 * the budgets in its scope stand. Pure functions of the pod, the priced nodes and the budgets' status.
 *
 * The pod's share of a node is what the cost engine will bill it there (docs/cost-model.md): the node's GPU
 * part times the GPU units it requests over the node's, plus its CPU and memory parts times its CPU and
 * memory requests over the node's allocatable. Capacity nobody requests is the node's idle cost, which no
 * workload and no budget pays, so the whole node's price would overstate what the pod adds to its budget.
 */
import { formatDuration } from '../config/duration.ts';
import { gpuUnitsOf } from '../cost/gpu-units.ts';
import { costForSeconds, mulDivRoundHalfUp, type Nanos } from '../cost/money.ts';
import type { ResourceSplit } from '../cost/types.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { CapacityType } from '../pricing/capacity-type.ts';
import { money, safeMoney } from './admission.ts';
import type { AdmittedPod } from './admitted-pod.ts';
import { fitsNode, type FitNode } from './node-fit.ts';

/** A GPU node as the price before launch reads it: what fitsNode checks, and its priced parts. */
export interface PricedGpuNode extends FitNode {
  readonly instanceType: string | undefined;
  readonly capacityType: CapacityType;
  /** GPU capacity in GPU units (gpuUnitsOf its allocatable, with its time-slicing replicas). */
  readonly gpuUnits: number;
  /** Time-slicing replicas (replicasOf its labels): what one nvidia.com/gpu of a pod is there. */
  readonly replicas: number;
  /** Undefined when the node could not be priced. */
  readonly perHour: ResourceSplit | undefined;
  /** Equal for nodes that give a pod the same share: the share is computed once per review for each. */
  readonly shareKey: string;
}

export interface LaunchOffer {
  readonly perHour: Nanos;
  readonly instanceType: string | undefined;
  readonly capacityType: CapacityType;
  readonly node: string;
}

export interface LaunchRange {
  /** Nodes the pod fits on, priced or not. */
  readonly fits: number;
  readonly cheapest: LaunchOffer | undefined;
  readonly dearest: LaunchOffer | undefined;
  /** The pod's node selection is over its limits (AdmittedPod.tooComplex): not matched, not priced. */
  readonly tooComplex?: true;
}

/** The pod's hourly share of a priced node (see the top of this file). */
export function podShareOfNode(pod: AdmittedPod, node: PricedGpuNode, perHour: ResourceSplit): Nanos {
  const units = Math.min(gpuUnitsOf(pod.gpuRequests, node.replicas), node.gpuUnits);
  const gpu = node.gpuUnits > 0 ? mulDivRoundHalfUp(perHour.gpu, units, node.gpuUnits) : 0n;
  const cpu = node.cpuMillis > 0 ? mulDivRoundHalfUp(perHour.cpu, pod.cpuMillis, node.cpuMillis) : 0n;
  const memory = node.memoryBytes > 0 ? mulDivRoundHalfUp(perHour.memory, pod.memoryBytes, node.memoryBytes) : 0n;
  return gpu + cpu + memory;
}

const label = (o: LaunchOffer) => o.instanceType ?? `node ${o.node}`;

/** Orders offers by price, then by what they are called, then by node, so that the answer is the same each time. */
function compare(a: LaunchOffer, b: LaunchOffer): number {
  if (a.perHour !== b.perHour) return a.perHour < b.perHour ? -1 : 1;
  const [la, lb] = [label(a), label(b)];
  if (la !== lb) return la < lb ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** The cheapest and the dearest offer among the nodes the pod fits on. */
export function launchRange(pod: AdmittedPod, nodes: Iterable<PricedGpuNode>): LaunchRange {
  if (pod.tooComplex) return { fits: 0, cheapest: undefined, dearest: undefined, tooComplex: true };
  let fits = 0;
  let cheapest: LaunchOffer | undefined;
  let dearest: LaunchOffer | undefined;
  const shares = new Map<string, Nanos>();
  for (const node of nodes) {
    if (!fitsNode(pod, node)) continue;
    fits++;
    if (!node.perHour) continue;
    let perHour = shares.get(node.shareKey);
    if (perHour === undefined) shares.set(node.shareKey, (perHour = podShareOfNode(pod, node, node.perHour)));
    const offer = { perHour, instanceType: node.instanceType, capacityType: node.capacityType, node: node.name };
    if (!cheapest || compare(offer, cheapest) < 0) cheapest = offer;
    if (!dearest || compare(offer, dearest) > 0) dearest = offer;
  }
  return { fits, cheapest, dearest };
}

/** A budget in the pod's scope as the warning shows it: its percent, when its status covers the period now. */
export interface BudgetStanding {
  readonly policy: string;
  readonly amount: Nanos;
  readonly currency: string;
  readonly percent: number | undefined;
}

/**
 * A budget's standing: its amount, and its percent when its status covers the period now and the spec in
 * force (an edited amount shows without a percent until the next policy pass counts it).
 */
export function budgetStanding(policy: PolicyRecord, nowMs: number, currency: string): BudgetStanding {
  const status = policy.status;
  const budget = status?.budget;
  const current =
    budget !== undefined && status?.observedGeneration === policy.generation && Date.parse(budget.periodEnd) > nowMs;
  return {
    policy: policy.name,
    amount: safeMoney(policy.spec?.rules.budget?.amount ?? '') ?? 0n,
    currency: status?.currency ?? currency,
    percent: current ? budget.percent : undefined,
  };
}

/** What bounds a pod's run: its own activeDeadlineSeconds and its Job's, whichever ends first. */
export function runDeadline(pod: number | undefined, job: number | undefined): number | undefined {
  const bounds = [pod, job].filter((s): s is number => s !== undefined && Number.isSafeInteger(s) && s > 0);
  return bounds.length === 0 ? undefined : Math.min(...bounds);
}

export interface LaunchWarningInput {
  readonly range: LaunchRange;
  readonly currency: string;
  /** The shortest deadline bounding the pod's run (its own, its Job's), in seconds. */
  readonly deadlineSeconds: number | undefined;
  readonly budgets: readonly BudgetStanding[];
}

/** Budgets named in full; the API server may cut a warning of more than 256 characters. */
const MAX_BUDGETS_SHOWN = 3;

export function launchWarning(input: LaunchWarningInput): string {
  const parts = [`aicost: ${priceText(input)}`];
  const shown = input.budgets.slice(0, MAX_BUDGETS_SHOWN);
  for (const b of shown) {
    const amount = money(b.amount, b.currency);
    parts.push(
      b.percent === undefined ? `budget ${b.policy} of ${amount}` : `budget ${b.policy} at ${b.percent} % of ${amount}`,
    );
  }
  const more = input.budgets.length - shown.length;
  if (more > 0) parts.push(`${more} more budget${more === 1 ? '' : 's'}`);
  return parts.join('; ');
}

function priceText({ range, currency, deadlineSeconds }: LaunchWarningInput): string {
  const { cheapest, dearest, fits } = range;
  if (range.tooComplex) return 'no price: its node selection is too long to match here';
  if (fits === 0) return 'no node it fits on now';
  if (!cheapest || !dearest) return `no price for the ${fits === 1 ? 'node' : `${fits} nodes`} it fits on`;
  const [low, high] = [money(cheapest.perHour, ''), money(dearest.perHour, '')];
  const perHour = `${low === high ? low : `${low}-${high}`}${currency ? ` ${currency}` : ''}/h`;
  const where =
    label(cheapest) === label(dearest) && cheapest.capacityType === dearest.capacityType
      ? `${label(cheapest)} (${cheapest.capacityType})`
      : cheapest.capacityType === dearest.capacityType
        ? `${label(cheapest)}..${label(dearest)} (${cheapest.capacityType})`
        : `${label(cheapest)} (${cheapest.capacityType})..${label(dearest)} (${dearest.capacityType})`;
  const text = `about ${perHour} on ${where}`;
  if (deadlineSeconds === undefined) return text;
  const most = money(costForSeconds(dearest.perHour, deadlineSeconds), currency);
  return `${text}, at most ${most} over its ${formatDuration(deadlineSeconds * 1000)} deadline`;
}
