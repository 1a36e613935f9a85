/**
 * What a policy pass reads, gathered from the informer caches, the accountant's last cycle and pricing: the
 * governed workloads, the nodes the spot watch looks at, and the request rates of scaleToZero rules that
 * have a requestsQuery. Everything the pure plan (policy/plan.ts) needs, and no decisions.
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { PodRecord, WorkloadRecord } from '../controller/projections.ts';
import type { Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import type { WindowMeasure } from '../policy/idle.ts';
import type { RuleAssignment } from '../policy/match.ts';
import type { PlanContext, PlanNode, PlanWorkload, SpotPrices, WorkloadKind } from '../policy/plan-types.ts';
import { POLICY_ANNOTATION } from '../policy/plan-words.ts';
import { COST_PER_HOUR_BEFORE } from '../policy/savings.ts';
import { interruptionTaint } from '../policy/spot-watch.ts';
import { capacityTypeOf } from '../pricing/capacity-type.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { CycleReport } from './accounting.ts';
import { physicalGpus, priceOf, workloadOf } from './node-facts.ts';

type Mutable = { -readonly [K in keyof PlanWorkload]: PlanWorkload[K] } & { pods: PodRecord[] };

/** GPU workloads: owners of running pods that hold GPUs, plus those a policy holds off (no pods) and bare pods. */
export function governedWorkloads(cache: ClusterCache, report: CycleReport | undefined): PlanWorkload[] {
  const byKey = new Map<string, Mutable>();
  const add = (kind: WorkloadKind, namespace: string, name: string, record?: WorkloadRecord, pod?: PodRecord) => {
    const key = `${kind}/${namespace}/${name}`;
    let w = byKey.get(key);
    if (!w) {
      w = {
        kind,
        namespace,
        name,
        uid: record?.uid ?? pod?.uid ?? '',
        labels: record?.labels ?? pod?.labels ?? {},
        annotations: { ...record?.templateAnnotations, ...(record?.annotations ?? pod?.annotations) },
        record,
        pods: [],
        costPerHour: 0n,
      };
      byKey.set(key, w);
    }
    if (pod) w.pods.push(pod);
  };
  const stores = { Deployment: cache.deployments, StatefulSet: cache.statefulSets, Job: cache.jobs } as const;
  for (const pod of cache.pods.store.values()) {
    if (Object.keys(pod.gpuRequests).length === 0 || pod.endedAtSeconds !== undefined) continue;
    const ref = workloadOf(pod, cache);
    if (ref.kind === 'Pod') add('Pod', pod.namespace, pod.name, undefined, pod);
    else if (ref.kind === 'Deployment' || ref.kind === 'StatefulSet' || ref.kind === 'Job')
      add(ref.kind, ref.namespace, ref.name, stores[ref.kind].store.get(`${ref.namespace}/${ref.name}`), pod);
  }
  // Held off by a policy, without pods: still governed (wake, realized saving).
  for (const d of cache.deployments.store.values())
    if (d.annotations[POLICY_ANNOTATION.replicasBefore] !== undefined) add('Deployment', d.namespace, d.name, d);
  for (const s of cache.statefulSets.store.values())
    if (s.annotations[POLICY_ANNOTATION.replicasBefore] !== undefined) add('StatefulSet', s.namespace, s.name, s);
  for (const j of cache.jobs.store.values())
    if (j.suspended && j.annotations[COST_PER_HOUR_BEFORE] !== undefined) add('Job', j.namespace, j.name, j);
  const rates = report?.podCostPerHour;
  for (const w of byKey.values()) {
    w.costPerHour =
      report?.workloadCostPerHour.get(workloadKey({ kind: w.kind, namespace: w.namespace, name: w.name })) ??
      w.pods.reduce((sum, p) => sum + (rates?.get(p.uid) ?? 0n), 0n);
  }
  return [...byKey.values()];
}

/** The spot watch's view of each node. */
export function nodeLookup(cache: ClusterCache): (name: string) => PlanNode | undefined {
  return (name) => {
    const node = cache.nodes.store.get(name);
    if (!node) return undefined;
    const spot = capacityTypeOf(node.labels) === 'spot';
    return { name, spot, interruption: spot ? interruptionTaint(node.taints) : undefined };
  };
}

/** Each node priced as it is and as spot, once per node and pass (pricing a node is not free). */
export function spotPriceLookup(cache: ClusterCache, pricing: PricingSource): (name: string) => SpotPrices | undefined {
  const made = new Map<string, SpotPrices | undefined>();
  const current = pricing.current();
  return (name) => {
    if (made.has(name)) return made.get(name);
    const node = cache.nodes.store.get(name);
    let prices: SpotPrices | undefined;
    if (node) {
      const onDemand = priceOf(node, current);
      const asSpot = current.priceNode({
        name: node.name,
        labels: { ...node.labels, 'karpenter.sh/capacity-type': 'spot' },
        gpuCount: physicalGpus(node),
        vcpu: node.cpuMillis / 1000,
        memoryGiB: node.memoryBytes / 2 ** 30,
      });
      if (onDemand.priced && asSpot.priced)
        prices = { onDemandPerHour: onDemand.onDemandPerHour, spotPerHour: asSpot.perHour.total };
    }
    made.set(name, prices);
    return prices;
  };
}

export function podRates(report: CycleReport | undefined): (uid: string) => Nanos {
  const rates = report?.podCostPerHour;
  return (uid) => rates?.get(uid) ?? 0n;
}

/**
 * The governing scaleToZero rule's requestsQuery for a Deployment its idle clock may read this pass (one
 * with pods and a measurement); undefined when there is none to ask.
 */
export function requestsQueryFor(w: PlanWorkload, assignment: RuleAssignment, ctx: PlanContext): string | undefined {
  const query = assignment.winners.scaleToZero?.spec.rules.scaleToZero?.requestsQuery;
  if (!query || w.kind !== 'Deployment' || w.pods.length === 0 || !ctx.measurement) return undefined;
  return query.replaceAll('$namespace', w.namespace).replaceAll('$name', w.name);
}

/** The highest request rate in the last minute; unknown (never idle on it) when the query fails. */
export async function requestRate(
  prometheus: PrometheusClient,
  promql: string,
  nowMs: number,
): Promise<Pick<WindowMeasure, 'requestRate' | 'requestsKnown'>> {
  try {
    const series = await prometheus.queryMatrix(`(${promql})[1m:]`, Math.floor(nowMs / 1000));
    const values = series.flatMap((s) => s.values.map(([, v]) => Number(v)));
    if (values.some((v) => !Number.isFinite(v))) return { requestRate: 0, requestsKnown: false };
    return { requestRate: values.length === 0 ? 0 : Math.max(...values), requestsKnown: true };
  } catch {
    return { requestRate: 0, requestsKnown: false };
  }
}
