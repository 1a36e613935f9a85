/**
 * The accounting plan of one cycle: a pure function from the cluster's facts, the measured utilization and
 * the ledgers accrued so far to the new ledgers of every pod, workload and namespace. The executor
 * (accounting.ts) persists them as annotations.
 *
 * 1. The cycle's main segment [cycleStart, now) is attributed once by the cost engine for every pod on every
 *    GPU node; its node results feed the metrics (allocated + idle = node cost).
 * 2. Each object resumes from its own ledger's accounted-until. Normally that is cycleStart, and its delta
 *    is the sum of its pods' main-segment costs. After a restart or a leader change it can be another time;
 *    then each of its pods is attributed alone over [accounted-until, now). A pod's share of a node does not
 *    depend on the other pods (GPUs, CPU and memory are never over-committed by the scheduler), so both
 *    ways give the same money, and nothing is counted twice or skipped.
 * 3. An object with no ledger starts from its pods' start: a pod from its own start, a workload from its
 *    earliest pod's, a namespace from the start of the month (UTC).
 * 4. Utilization is measured for the main segment only: catch-up spans add no idle GPU-hours.
 */
import { attributeInterval } from '../cost/engine.ts';
import { mulDivRoundHalfUp, safeMulDiv, type Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import { type IntervalCost, type NodeFacts, type PodCost, type PodFacts } from '../cost/types.ts';
import type { Display, Ledger } from './annotations.ts';

export interface AccountingInput {
  /** Epoch seconds, whole. */
  readonly now: number;
  readonly cycleStart: number;
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
  /** Spot saving added this cycle (on-demand price minus cost of time on spot nodes). */
  readonly spotSavingsDelta: Nanos;
}

export interface AccountingPlan {
  readonly main: IntervalCost;
  /** By pod uid; only pods that hold GPUs. */
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
  idleGpuSeconds: number;
  measured: boolean;
}

export function monthStartOf(epochSeconds: number): number {
  const d = new Date(epochSeconds * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
}

export function planAccounting(input: AccountingInput): AccountingPlan {
  const { now, cycleStart } = input;
  const nodesByName = new Map(input.nodes.map((n) => [n.name, n]));
  const main = attributeInterval({ start: cycleStart, end: now }, input.nodes, input.pods);
  // What the plan derives per pod, in one map by uid (a fleet has 10,000 pods a cycle): its cost in the main
  // segment, that cost as a span, and its current hourly rate. The last two are filled on first use.
  const rows = new Map<string, PodRow>();
  for (const pc of main.pods) rows.set(pc.pod.uid, { main: pc, span: undefined, rate: undefined });
  const rowOf = (pod: PodFacts): PodRow => {
    let row = rows.get(pod.uid);
    if (!row) rows.set(pod.uid, (row = { main: undefined, span: undefined, rate: undefined }));
    return row;
  };

  // Cost of one pod since `from`, memoized: the main segment when from = cycleStart (the usual case), else
  // the pod alone.
  const since = new Map<string, Span>();
  const spanOf = (pod: PodFacts, from: number): Span => {
    const row = rowOf(pod);
    if (from === cycleStart) {
      row.span ??= toSpan(row.main, true, nodesByName.get(pod.nodeName)?.capacityType === 'spot');
      return row.span;
    }
    const memo = `${pod.uid}@${from}`;
    const cached = since.get(memo);
    if (cached) return cached;
    const node = nodesByName.get(pod.nodeName);
    const start = Math.min(from, now);
    const alone = node
      ? attributeInterval({ start, end: now }, [node], [{ ...pod, utilization: undefined }]).pods[0]
      : undefined;
    const span = toSpan(alone, false, node?.capacityType === 'spot');
    // The main segment's measurement still counts where it falls inside this span.
    if (from <= cycleStart) addMeasured(span, row.main);
    since.set(memo, span);
    return span;
  };

  // A pod's current hourly rate, computed once: it shows on the pod, its workload and its namespace.
  const rateOf = (pod: PodFacts): Nanos => {
    const row = rowOf(pod);
    if (row.rate === undefined) {
      const node = nodesByName.get(pod.nodeName);
      row.rate = node?.perHour && (pod.until === undefined || pod.until > now) ? hourlyShare(pod, node) : 0n;
    }
    return row.rate;
  };

  const podsByWorkload = new Map<string, PodFacts[]>();
  const podsByNamespace = new Map<string, PodFacts[]>();
  for (const pod of input.pods) {
    if (pod.workload.kind === 'Job' || pod.workload.kind === 'Deployment' || pod.workload.kind === 'StatefulSet') {
      push(podsByWorkload, workloadKey(pod.workload), pod);
    }
    push(podsByNamespace, pod.namespace, pod);
  }

  const update = (
    pods: readonly PodFacts[],
    ledger: Ledger | undefined,
    defaultStart: number,
    reset = false,
  ): TargetUpdate | undefined => {
    const base: Ledger | undefined = reset ? undefined : ledger;
    const from = base?.accountedUntil ?? defaultStart;
    if (from > now) return undefined;
    let cost = 0n;
    let saving = 0n;
    let spot = false;
    let gpuSeconds = 0;
    let idle = 0;
    let measured = false;
    for (const pod of pods) {
      const span = spanOf(pod, from);
      cost += span.cost;
      saving += span.saving;
      spot ||= span.spot;
      gpuSeconds += span.gpuSeconds;
      idle += span.idleGpuSeconds;
      measured ||= span.measured;
    }
    const idleBefore = base?.idleGpuSeconds;
    // Once an object has run on spot it keeps its savings annotation, even across a month reset.
    const savingsShown = spot || base?.spotSavings !== undefined || (reset && ledger?.spotSavings !== undefined);
    return {
      ledger: {
        cost: (base?.cost ?? 0n) + cost,
        gpuSeconds: (base?.gpuSeconds ?? 0) + gpuSeconds,
        idleGpuSeconds: measured || idleBefore !== undefined ? (idleBefore ?? 0) + idle : undefined,
        accountedUntil: now,
        currency: input.currency,
        spotSavings: savingsShown ? (base?.spotSavings ?? 0n) + saving : undefined,
      },
      display: displayOf(pods, rowOf, rateOf),
      delta: cost,
      gpuSecondsDelta: gpuSeconds,
      idleGpuSecondsDelta: idle,
      spotSavingsDelta: saving,
    };
  };

  const plan: AccountingPlan = { main, pods: new Map(), workloads: new Map(), namespaces: new Map() };
  for (const pod of input.pods) {
    if (pod.gpuUnits <= 0) continue;
    const u = update([pod], input.ledgers.pods.get(pod.uid), pod.from);
    if (u) plan.pods.set(pod.uid, u);
  }
  for (const [key, pods] of podsByWorkload) {
    const u = update(pods, input.ledgers.workloads.get(key), earliest(pods));
    if (u) plan.workloads.set(key, u);
  }
  const monthStart = monthStartOf(now);
  for (const [namespace, pods] of podsByNamespace) {
    const ledger = input.ledgers.namespaces.get(namespace);
    const newMonth = ledger !== undefined && ledger.accountedUntil < monthStart;
    const u = update(pods, ledger, Math.max(monthStart, earliest(pods)), newMonth);
    if (u) plan.namespaces.set(namespace, u);
  }
  return plan;
}

function toSpan(pc: PodCost | undefined, useMeasurement: boolean, onSpot: boolean): Span {
  if (!pc) return { cost: 0n, saving: 0n, spot: false, gpuSeconds: 0, idleGpuSeconds: 0, measured: false };
  const idle = useMeasurement && pc.gpuSeconds > 0 ? pc.idleGpuSeconds : undefined;
  const cost = pc.cost?.total ?? 0n;
  const spot = onSpot && pc.cost !== undefined;
  const saving = spot && pc.onDemandCost !== undefined && pc.onDemandCost > cost ? pc.onDemandCost - cost : 0n;
  return {
    cost,
    saving,
    spot,
    gpuSeconds: pc.gpuSeconds,
    idleGpuSeconds: idle ?? 0,
    measured: idle !== undefined,
  };
}

function addMeasured(span: Span, main: PodCost | undefined): void {
  if (main?.idleGpuSeconds !== undefined && main.gpuSeconds > 0) {
    span.idleGpuSeconds += main.idleGpuSeconds;
    span.measured = true;
  }
}

/** Current hourly rate of the pods still running, and the GPU-weighted utilization of the measured ones. */
function displayOf(
  pods: readonly PodFacts[],
  rowOf: (pod: PodFacts) => PodRow,
  rateOf: (pod: PodFacts) => Nanos,
): Display {
  let costPerHour = 0n;
  let weighted = 0;
  let weight = 0;
  for (const pod of pods) {
    costPerHour += rateOf(pod);
    const pc = rowOf(pod).main;
    const u = pod.utilization;
    if (u !== undefined && pc && pc.gpuSeconds > 0) {
      weighted += u.mean * pc.gpuSeconds;
      weight += pc.gpuSeconds;
    }
  }
  return { costPerHour, utilization: weight > 0 ? weighted / weight : undefined };
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
  const q = amount <= MAX_SAFE_NANOS ? safeMulDiv(Number(amount), numerator, denominator) : undefined;
  return q ?? mulDivRoundHalfUp(amount, numerator, denominator);
}

const MiB = 2 ** 20;
const MAX_SAFE_NANOS = BigInt(Number.MAX_SAFE_INTEGER);

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
