/**
 * The accounting plan of one cycle: a pure function from the cluster's facts, the measured utilization and
 * the ledgers accrued so far to the new ledgers of every pod, workload and namespace. The executor
 * (accounting.ts) persists them as annotations.
 *
 * 1. The cycle's main segment [cycleStart, now) is attributed once by the cost engine for every pod on every
 *    accounted node (GPU and CPU-only); its node results feed the metrics (allocated + idle = node cost).
 * 2. Each object resumes from its own ledger's accounted-until. Normally that is cycleStart, and its delta
 *    is the sum of its pods' main-segment costs. After a restart or a leader change it can be another time;
 *    then each of its pods is attributed alone over [accounted-until, now). A pod's share of a node does not
 *    depend on the other pods (GPUs, CPU and memory are never over-committed by the scheduler), so both
 *    ways give the same money, and nothing is counted twice or skipped.
 * 3. An object with no ledger starts from its pods' start: a pod from its own start, a workload from its
 *    earliest pod's, a namespace from the start of the month (UTC).
 * 4. Utilization is measured for the main segment only: catch-up spans add no idle GPU-hours.
 *
 * It runs in two steps so that the cost part does not wait for Prometheus: draftAccounting plans the money
 * from the facts alone, and finishAccounting adds what utilization decides (idle GPU-seconds and their cost,
 * both accrued in the ledgers, and the displayed utilization) once the measurement has been set on the same pod facts.
 */
import { attributeInterval, idleCostOf, idleSecondsOf } from '../cost/engine.ts';
import { mulDivRoundHalfUp, mulDivToNumber, type Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import { type IntervalCost, type NodeFacts, type PodCost, type PodFacts } from '../cost/types.ts';
import type { Display, Ledger } from '../cost/ledger.ts';

export interface AccountingInput {
  /** Epoch seconds, whole. */
  readonly nowSeconds: number;
  readonly cycleStartSeconds: number;
  readonly currency: string;
  readonly nodes: readonly NodeFacts[];
  readonly pods: readonly PodFacts[];
  readonly ledgers: Ledgers;
}

export interface Ledgers {
  readonly pods: ReadonlyMap<string, Ledger>;
  readonly workloads: ReadonlyMap<string, Ledger>;
  readonly namespaces: ReadonlyMap<string, Ledger>;
}

export interface TargetUpdate {
  readonly ledger: Ledger;
  readonly display: Display;
  /** Cost added this cycle, for metrics. */
  readonly delta: Nanos;
  readonly gpuSecondsDelta: number;
  readonly idleGpuSecondsDelta: number;
  /** Cost of those idle GPU-seconds. */
  readonly idleGpuCostDelta: Nanos;
  /** Spot saving added this cycle (on-demand price minus cost of time on spot nodes). */
  readonly spotSavingsDelta: Nanos;
  /** GPU-seconds of the main segment with a measured utilization, and the same weighted by it. */
  readonly measuredGpuSeconds: number;
  readonly busyGpuSeconds: number;
}

export interface AccountingPlan {
  readonly main: IntervalCost;
  /** By pod uid: pods that hold GPUs, and pods of no workload (bare or of another owner: the ledger's Pod rows). */
  readonly pods: Map<string, TargetUpdate>;
  /** By workload key "Kind/namespace/name"; Jobs, Deployments and StatefulSets. */
  readonly workloads: Map<string, TargetUpdate>;
  readonly namespaces: Map<string, TargetUpdate>;
}

interface PodRow {
  readonly main: PodCost | undefined;
  span: Span | undefined;
  rate: Nanos | undefined;
}

interface Span {
  cost: Nanos;
  /** On-demand price minus cost, for time on spot nodes. */
  saving: Nanos;
  spot: boolean;
  gpuSeconds: number;
}

/** A target's money for the cycle, before utilization is known. */
interface DraftTarget {
  readonly pods: readonly PodFacts[];
  /** Where the cycle's accrual starts for it: its ledger's accounted-until, else its default start. */
  readonly fromSeconds: number;
  readonly idleGpuSecondsBefore: number | undefined;
  readonly idleCostBefore: Nanos | undefined;
  /** Complete but for idleGpuSeconds and idleGpuCost, which finishAccounting sets. */
  readonly ledger: Mutable<Ledger>;
  readonly costPerHour: Nanos;
  readonly delta: Nanos;
  readonly gpuSecondsDelta: number;
  readonly spotSavingsDelta: Nanos;
}

/** A type's fields made writable: for objects a step builds and a later step completes in place. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The money of a cycle, planned from the facts alone (see finishAccounting, which completes it in place). */
export interface DraftPlan {
  readonly cycleStartSeconds: number;
  readonly main: IntervalCost;
  /** Per pod uid, its cost in the main segment. */
  readonly rows: ReadonlyMap<string, { readonly main: PodCost | undefined }>;
  readonly pods: ReadonlyMap<string, DraftTarget>;
  readonly workloads: ReadonlyMap<string, DraftTarget>;
  readonly namespaces: ReadonlyMap<string, DraftTarget>;
}

export function monthStartOf(epochSeconds: number): number {
  const d = new Date(epochSeconds * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
}

/** Both steps at once, for facts that already carry their utilization. */
export function planAccounting(input: AccountingInput): AccountingPlan {
  return finishAccounting(draftAccounting(input));
}

export function draftAccounting(input: AccountingInput): DraftPlan {
  const { nowSeconds, cycleStartSeconds } = input;
  const main = attributeInterval({ start: cycleStartSeconds, end: nowSeconds }, input.nodes, input.pods);
  const costs = new PodCosts(input, main);
  const { podsByWorkload, podsByNamespace } = groupPods(input.pods);
  const plan = {
    cycleStartSeconds,
    main,
    rows: costs.rows,
    pods: new Map<string, DraftTarget>(),
    workloads: new Map<string, DraftTarget>(),
    namespaces: new Map<string, DraftTarget>(),
  };
  for (const pod of input.pods) {
    if (pod.gpuUnits <= 0 && !ofNoWorkload(pod)) continue;
    const d = draftTarget(costs, input.currency, [pod], input.ledgers.pods.get(pod.uid), pod.from);
    if (d) plan.pods.set(pod.uid, d);
  }
  for (const [key, pods] of podsByWorkload) {
    const d = draftTarget(costs, input.currency, pods, input.ledgers.workloads.get(key), earliest(pods));
    if (d) plan.workloads.set(key, d);
  }
  const monthStartSeconds = monthStartOf(nowSeconds);
  for (const [namespace, pods] of podsByNamespace) {
    const ledger = input.ledgers.namespaces.get(namespace);
    const newMonth = ledger !== undefined && ledger.accountedUntil < monthStartSeconds;
    const startSeconds = Math.max(monthStartSeconds, earliest(pods));
    const d = draftTarget(costs, input.currency, pods, ledger, startSeconds, newMonth);
    if (d) plan.namespaces.set(namespace, d);
  }
  return plan;
}

/**
 * What the plan derives per pod, in one map by uid (a fleet has 10,000 pods a cycle): its cost in the main
 * segment, that cost as a span, and its current hourly rate. The last two are filled on first use.
 */
class PodCosts {
  readonly rows = new Map<string, PodRow>();
  readonly nowSeconds: number;
  private readonly cycleStartSeconds: number;
  private readonly nodesByName: ReadonlyMap<string, NodeFacts>;
  /** Spans from another start than the cycle's, by "uid@fromSeconds". */
  private readonly since = new Map<string, Span>();

  constructor(input: AccountingInput, main: IntervalCost) {
    this.nowSeconds = input.nowSeconds;
    this.cycleStartSeconds = input.cycleStartSeconds;
    this.nodesByName = new Map(input.nodes.map((n) => [n.name, n]));
    for (const pc of main.pods) this.rows.set(pc.pod.uid, { main: pc, span: undefined, rate: undefined });
    // A pod the engine skipped (for its facts or its node's) has no cost this cycle, and no rate either.
    for (const u of main.unattributed)
      if (u.skipped) this.rows.set(u.pod.uid, { main: undefined, span: undefined, rate: 0n });
  }

  /**
   * Cost of one pod since `fromSeconds`, memoized: the main segment when fromSeconds = cycleStartSeconds (the
   * usual case), else the pod alone.
   */
  spanOf(pod: PodFacts, fromSeconds: number): Span {
    const row = this.rowOf(pod);
    if (fromSeconds === this.cycleStartSeconds) {
      row.span ??= toSpan(row.main, this.nodesByName.get(pod.nodeName)?.capacityType === 'spot');
      return row.span;
    }
    const memo = `${pod.uid}@${fromSeconds}`;
    const cached = this.since.get(memo);
    if (cached) return cached;
    const node = this.nodesByName.get(pod.nodeName);
    const nowSeconds = this.nowSeconds;
    const startSeconds = Math.min(fromSeconds, nowSeconds);
    const alone = node
      ? attributeInterval({ start: startSeconds, end: nowSeconds }, [node], [{ ...pod, utilization: undefined }])
          .pods[0]
      : undefined;
    const span = toSpan(alone, node?.capacityType === 'spot');
    this.since.set(memo, span);
    return span;
  }

  /** A pod's current hourly rate, computed once: it shows on the pod, its workload and its namespace. */
  rateOf(pod: PodFacts): Nanos {
    const row = this.rowOf(pod);
    if (row.rate === undefined) {
      const node = this.nodesByName.get(pod.nodeName);
      row.rate =
        node?.perHour && (pod.until === undefined || pod.until > this.nowSeconds) ? hourlyShare(pod, node) : 0n;
    }
    return row.rate;
  }

  private rowOf(pod: PodFacts): PodRow {
    let row = this.rows.get(pod.uid);
    if (!row) this.rows.set(pod.uid, (row = { main: undefined, span: undefined, rate: undefined }));
    return row;
  }
}

/** The pods of each workload (Jobs, Deployments and StatefulSets) and of each namespace. */
function groupPods(pods: readonly PodFacts[]): {
  podsByWorkload: Map<string, PodFacts[]>;
  podsByNamespace: Map<string, PodFacts[]>;
} {
  const podsByWorkload = new Map<string, PodFacts[]>();
  const podsByNamespace = new Map<string, PodFacts[]>();
  for (const pod of pods) {
    if (pod.workload.kind === 'Job' || pod.workload.kind === 'Deployment' || pod.workload.kind === 'StatefulSet') {
      push(podsByWorkload, workloadKey(pod.workload), pod);
    }
    push(podsByNamespace, pod.namespace, pod);
  }
  return { podsByWorkload, podsByNamespace };
}

/**
 * One target's money for the cycle, from its ledger (none when `reset`) and its pods' spans; undefined when its
 * accrual starts after now.
 */
function draftTarget(
  costs: PodCosts,
  currency: string,
  pods: readonly PodFacts[],
  ledger: Ledger | undefined,
  defaultStartSeconds: number,
  reset = false,
): DraftTarget | undefined {
  const nowSeconds = costs.nowSeconds;
  const base: Ledger | undefined = reset ? undefined : ledger;
  const fromSeconds = base?.accountedUntil ?? defaultStartSeconds;
  if (fromSeconds > nowSeconds) return undefined;
  let cost = 0n;
  let saving = 0n;
  let spot = false;
  let gpuSeconds = 0;
  let costPerHour = 0n;
  for (const pod of pods) {
    const span = costs.spanOf(pod, fromSeconds);
    cost += span.cost;
    saving += span.saving;
    spot ||= span.spot;
    gpuSeconds += span.gpuSeconds;
    costPerHour += costs.rateOf(pod);
  }
  // Once an object has run on spot it keeps its savings annotation, even across a month reset.
  const savingsShown = spot || base?.spotSavings !== undefined || (reset && ledger?.spotSavings !== undefined);
  return {
    pods,
    fromSeconds,
    idleGpuSecondsBefore: base?.idleGpuSeconds,
    idleCostBefore: base?.idleGpuCost,
    ledger: {
      cost: (base?.cost ?? 0n) + cost,
      gpuSeconds: (base?.gpuSeconds ?? 0) + gpuSeconds,
      idleGpuSeconds: undefined,
      idleGpuCost: undefined,
      accountedUntil: nowSeconds,
      currency,
      spotSavings: savingsShown ? (base?.spotSavings ?? 0n) + saving : undefined,
    },
    costPerHour,
    delta: cost,
    gpuSecondsDelta: gpuSeconds,
    spotSavingsDelta: saving,
  };
}

/**
 * Completes a draft, in place, with the utilization now set on its pod facts: each pod's measured idle
 * GPU-seconds in the main segment (and their cost), added to every object whose accrual covers that segment,
 * and the GPU-weighted utilization each object displays. A draft is finished once.
 */
export function finishAccounting(draft: DraftPlan): AccountingPlan {
  for (const pc of draft.main.pods) {
    if (pc.pod.utilization === undefined) continue;
    const measured = pc as Mutable<PodCost>;
    measured.idleGpuSeconds = idleSecondsOf(pc.pod, pc.seconds);
    measured.idleGpuCost = pc.cost ? idleCostOf(pc.pod, pc.cost.gpu) : undefined;
  }
  const finish = (t: DraftTarget): TargetUpdate => {
    let idle = 0;
    let idleCost = 0n;
    let anyMeasured = false;
    let weighted = 0;
    let weight = 0;
    for (const pod of t.pods) {
      const pc = draft.rows.get(pod.uid)?.main;
      if (!pc || pc.gpuSeconds <= 0 || pod.utilization === undefined) continue;
      weighted += pod.utilization.mean * pc.gpuSeconds;
      weight += pc.gpuSeconds;
      // Only an accrual that covers the main segment takes its measurement (a catch-up span from an older
      // accounted-until does; one starting after the segment does not).
      if (t.fromSeconds <= draft.cycleStartSeconds && pc.idleGpuSeconds !== undefined) {
        idle += pc.idleGpuSeconds;
        // A pod on an unpriced node has measured idle GPU-seconds but no cost: it adds nothing, as to cost.
        // (Only non-zero amounts are added: each bigint sum is an allocation, and most pods are busy.)
        if (pc.idleGpuCost) idleCost += pc.idleGpuCost;
        anyMeasured = true;
      }
    }
    const known = anyMeasured || t.idleGpuSecondsBefore !== undefined;
    t.ledger.idleGpuSeconds = known ? (t.idleGpuSecondsBefore ?? 0) + idle : undefined;
    const idleCostBefore = known ? (t.idleCostBefore ?? 0n) : undefined;
    t.ledger.idleGpuCost = idleCostBefore === undefined || idleCost === 0n ? idleCostBefore : idleCostBefore + idleCost;
    return {
      ledger: t.ledger,
      display: { costPerHour: t.costPerHour, utilization: weight > 0 ? weighted / weight : undefined },
      delta: t.delta,
      gpuSecondsDelta: t.gpuSecondsDelta,
      idleGpuSecondsDelta: idle,
      idleGpuCostDelta: idleCost,
      spotSavingsDelta: t.spotSavingsDelta,
      measuredGpuSeconds: weight,
      busyGpuSeconds: weighted,
    };
  };
  const all = (targets: ReadonlyMap<string, DraftTarget>) => {
    const out = new Map<string, TargetUpdate>();
    for (const [key, t] of targets) out.set(key, finish(t));
    return out;
  };
  return {
    main: draft.main,
    pods: all(draft.pods),
    workloads: all(draft.workloads),
    namespaces: all(draft.namespaces),
  };
}

/** A pod that rolls up to no Job, Deployment or StatefulSet: the ledger keeps it as a Pod of its own. */
export function ofNoWorkload(pod: PodFacts): boolean {
  return pod.workload.kind === 'Pod' || pod.workload.kind === 'Other';
}

function toSpan(pc: PodCost | undefined, onSpot: boolean): Span {
  if (!pc) return { cost: 0n, saving: 0n, spot: false, gpuSeconds: 0 };
  const cost = pc.cost?.total ?? 0n;
  const spot = onSpot && pc.cost !== undefined;
  const saving = spot && pc.onDemandCost !== undefined && pc.onDemandCost > cost ? pc.onDemandCost - cost : 0n;
  return { cost, saving, spot, gpuSeconds: pc.gpuSeconds };
}

/** A pod's share of its node's hourly price: requests over capacity, part by part. */
export function hourlyShare(pod: PodFacts, node: NodeFacts): Nanos {
  const price = node.perHour;
  if (!price) return 0n;
  const gpu = share(price.gpu, pod.gpuUnits, node.gpuUnits);
  const cpu = share(price.cpu, pod.cpuMillis, node.cpuMillis);
  const memory = share(price.memory, pod.memoryBytes / MiB, node.memoryBytes / MiB);
  // Every pod, every cycle: in integer Numbers while the parts fit (hourly prices in nanos do), so that only
  // the sum becomes a bigint.
  if (typeof gpu === 'number' && typeof cpu === 'number' && typeof memory === 'number') {
    const sum = gpu + cpu + memory;
    if (sum <= Number.MAX_SAFE_INTEGER) return BigInt(sum);
  }
  return BigInt(gpu) + BigInt(cpu) + BigInt(memory);
}

/** amount × min(request, capacity) / capacity, rounded half up: a Number where exact, else a bigint. */
function share(amount: Nanos, request: number, capacity: number): number | bigint {
  const denominator = Math.round(capacity);
  if (denominator <= 0) return 0;
  const numerator = Math.round(Math.min(request, capacity));
  return mulDivToNumber(amount, numerator, denominator) ?? mulDivRoundHalfUp(amount, numerator, denominator);
}

const MiB = 2 ** 20;

function earliest(pods: readonly PodFacts[]): number {
  let min = Infinity;
  for (const p of pods) min = Math.min(min, p.from);
  return min;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
}
