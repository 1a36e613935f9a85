/**
 * The cost engine: a pure function from the facts of one interval to exact money per pod and per node.
 * See docs/cost-model.md for the model and worked examples.
 *
 * 1. Each node's cost for the seconds it existed in the interval is computed per resource part
 *    (GPU, CPU, memory) from its split hourly price.
 * 2. Each part is shared among the node's pods in proportion to request × seconds held; the capacity
 *    nobody requested is the node's idle bucket. Shares are apportioned in integers (largest remainder),
 *    so allocations + idle = node cost exactly, and nothing is negative.
 * 3. Measured utilization turns each pod's GPU-seconds into used and idle GPU-seconds, and prices the
 *    idle ones. Unknown utilization leaves those figures unknown.
 */
import { apportion, costForSeconds, divRoundHalfUp, mulDivRoundHalfUp, type Nanos } from './money.ts';
import {
  GPU_UNITS_PER_GPU,
  type Interval,
  type IntervalCost,
  type NodeCost,
  type NodeFacts,
  type PodCost,
  type PodFacts,
  type ResourceSplit,
} from './types.ts';

const MiB = 2 ** 20;
const MAX_SAFE_NANOS = BigInt(Number.MAX_SAFE_INTEGER);
/** Resolution of a measured ratio when it multiplies money: one millionth. */
const RATIO_SCALE = 1_000_000;

export function attributeInterval(
  interval: Interval,
  nodes: readonly NodeFacts[],
  pods: readonly PodFacts[],
): IntervalCost {
  if (!(Number.isInteger(interval.start) && Number.isInteger(interval.end)) || interval.end < interval.start) {
    throw new RangeError(`invalid interval [${interval.start}, ${interval.end})`);
  }
  const podsByNode = new Map<string, PodFacts[]>();
  for (const pod of pods) {
    let list = podsByNode.get(pod.nodeName);
    if (!list) podsByNode.set(pod.nodeName, (list = []));
    list.push(pod);
  }
  const podCosts: PodCost[] = [];
  const nodeCosts: NodeCost[] = [];
  for (const node of nodes) {
    const onNode = podsByNode.get(node.name) ?? [];
    podsByNode.delete(node.name);
    attributeNode(interval, node, onNode, podCosts, nodeCosts);
  }
  const unattributed: IntervalCost['unattributed'][number][] = [];
  for (const [nodeName, list] of podsByNode) {
    for (const pod of list) {
      if (overlap(interval, pod.from, pod.until) > 0) {
        unattributed.push({ pod, reason: `node ${nodeName || '(none)'} is not known to the cost engine` });
      }
    }
  }
  return { interval, pods: podCosts, nodes: nodeCosts, unattributed };
}

function attributeNode(
  interval: Interval,
  node: NodeFacts,
  pods: readonly PodFacts[],
  podOut: PodCost[],
  nodeOut: NodeCost[],
): void {
  const nodeFrom = Math.max(interval.start, node.from ?? interval.start);
  const nodeUntil = Math.min(interval.end, node.until ?? interval.end);
  const nodeSeconds = Math.max(0, nodeUntil - nodeFrom);
  const window: Interval = { start: nodeFrom, end: Math.max(nodeFrom, nodeUntil) };

  const { held, heldSeconds } = podsHeldIn(window, pods);

  const price = node.perHour;
  const gpuWeights = weights(held, heldSeconds, 'gpuUnits', node.gpuUnits, nodeSeconds);
  const idleGpuSeconds = (gpuWeights.at(-1) ?? 0) / GPU_UNITS_PER_GPU;

  if (price === undefined) {
    attributeUnpricedPods(node, held, heldSeconds, podOut);
    nodeOut.push({ node, seconds: nodeSeconds, cost: undefined, allocated: 0n, idle: undefined, idleGpuSeconds });
    return;
  }

  const [gpuPool, cpuPool, memoryPool] = nodeCostByPart(price, nodeSeconds);
  const gpuParts = apportion(gpuPool, gpuWeights);
  const cpuParts = apportion(cpuPool, weights(held, heldSeconds, 'cpuMillis', node.cpuMillis, nodeSeconds));
  // Memory shares in MiB: byte-seconds of a large node overflow safe integers, and a MiB changes no cent.
  const memoryParts = apportion(
    memoryPool,
    weights(held, heldSeconds, 'memoryMiB', node.memoryBytes / MiB, nodeSeconds),
  );
  const onDemandPerHour = node.onDemandPerHour ?? price.total;
  const onDemandScaled = onDemandPerHour !== price.total && price.total !== 0n;

  let allocated = 0n;
  for (let i = 0; i < held.length; i++) {
    const pod = held[i] as PodFacts;
    const seconds = heldSeconds[i] as number;
    const gpu = gpuParts[i] ?? 0n;
    const cpu = cpuParts[i] ?? 0n;
    const memory = memoryParts[i] ?? 0n;
    const total = gpu + cpu + memory;
    allocated += total;
    podOut.push({
      pod,
      seconds,
      gpuSeconds: (pod.gpuUnits * seconds) / GPU_UNITS_PER_GPU,
      cost: { total, gpu, cpu, memory },
      onDemandCost: onDemandScaled ? divRoundHalfUp(total * onDemandPerHour, price.total) : total,
      idleGpuSeconds: idleSecondsOf(pod, seconds),
      idleGpuCost: idleCostOf(pod, gpu),
    });
  }
  const idle: ResourceSplit = {
    gpu: gpuParts.at(-1) ?? 0n,
    cpu: cpuParts.at(-1) ?? 0n,
    memory: memoryParts.at(-1) ?? 0n,
    total: (gpuParts.at(-1) ?? 0n) + (cpuParts.at(-1) ?? 0n) + (memoryParts.at(-1) ?? 0n),
  };
  const cost: ResourceSplit = { gpu: gpuPool, cpu: cpuPool, memory: memoryPool, total: gpuPool + cpuPool + memoryPool };
  nodeOut.push({ node, seconds: nodeSeconds, cost, allocated, idle, idleGpuSeconds });
}

/** The pods that held the node in its window, with the seconds each held it. */
function podsHeldIn(window: Interval, pods: readonly PodFacts[]): { held: PodFacts[]; heldSeconds: number[] } {
  // Parallel arrays rather than an object per pod: this loop runs for every pod of a 20,000-pod cluster.
  const held: PodFacts[] = [];
  const heldSeconds: number[] = [];
  for (const pod of pods) {
    const seconds = overlap(window, pod.from, pod.until);
    if (seconds > 0) {
      held.push(pod);
      heldSeconds.push(seconds);
    }
  }
  return { held, heldSeconds };
}

/** The pods of an unpriced node: their GPU time, and no cost. */
function attributeUnpricedPods(
  node: NodeFacts,
  held: readonly PodFacts[],
  heldSeconds: readonly number[],
  podOut: PodCost[],
): void {
  for (let i = 0; i < held.length; i++) {
    const pod = held[i] as PodFacts;
    const seconds = heldSeconds[i] as number;
    podOut.push({
      pod,
      seconds,
      gpuSeconds: (pod.gpuUnits * seconds) / GPU_UNITS_PER_GPU,
      cost: undefined,
      unpricedReason: node.unpricedReason ?? `node ${node.name} is unpriced`,
      onDemandCost: undefined,
      idleGpuSeconds: idleSecondsOf(pod, seconds),
      idleGpuCost: undefined,
    });
  }
}

/** The node's cost for its seconds in the interval, by part: [gpu, cpu, memory]. */
function nodeCostByPart(price: ResourceSplit, nodeSeconds: number): [Nanos, Nanos, Nanos] {
  // The node's cost is rounded once, then split into its parts by their prices (which never exceed the total):
  // rounding each part apart would move the node's total by up to 1.5 nano an interval instead of 0.5. A price
  // past 2^53 nanos an hour (9 million a node-hour) cannot weigh apportion(), so its parts are rounded apart.
  const [gpu = 0n, cpu = 0n, memory = 0n] =
    price.total <= MAX_SAFE_NANOS
      ? apportion(costForSeconds(price.total, nodeSeconds), [
          Number(price.gpu),
          Number(price.cpu),
          Number(price.memory),
        ])
      : [price.gpu, price.cpu, price.memory].map((part) => costForSeconds(part, nodeSeconds));
  return [gpu, cpu, memory];
}

/**
 * Weights for apportion(): request × seconds for each pod, then the idle remainder of capacity × seconds
 * last. Over-committed capacity (requests above it) leaves no idle and shares in proportion to requests.
 */
function weights(
  held: readonly PodFacts[],
  heldSeconds: readonly number[],
  resource: 'gpuUnits' | 'cpuMillis' | 'memoryMiB',
  capacity: number,
  nodeSeconds: number,
): number[] {
  const out = new Array<number>(held.length + 1);
  let used = 0;
  for (let i = 0; i < held.length; i++) {
    const pod = held[i] as PodFacts;
    const request = resource === 'memoryMiB' ? pod.memoryBytes / MiB : pod[resource];
    const w = Math.max(0, Math.round(request)) * (heldSeconds[i] as number);
    out[i] = w;
    used += w;
  }
  const available = Math.max(0, Math.round(capacity)) * nodeSeconds;
  out[held.length] = available > used ? available - used : 0;
  return out;
}

function overlap(window: Interval, from: number, until: number | undefined): number {
  const a = Math.max(window.start, from);
  const b = Math.min(window.end, until ?? window.end);
  return b > a ? b - a : 0;
}

/**
 * The cost of a pod's idle GPU-seconds from the utilization its facts carry (undefined while unknown). Exported,
 * with idleSecondsOf, for a cost attributed before the utilization was known (the accounting plan's draft).
 */
export function idleCostOf(pod: PodFacts, gpu: Nanos): Nanos | undefined {
  const ratio = pod.utilization?.idleRatio;
  return ratio === undefined ? undefined : timesRatio(gpu, ratio);
}

/** GPU-seconds under the idle threshold from the utilization the pod's facts carry (undefined while unknown). */
export function idleSecondsOf(pod: PodFacts, seconds: number): number | undefined {
  const ratio = pod.utilization?.idleRatio;
  return ratio === undefined ? undefined : ((pod.gpuUnits * seconds) / GPU_UNITS_PER_GPU) * clampRatio(ratio);
}

function clampRatio(ratio: number): number {
  return Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0;
}

/** amount × ratio, with the ratio taken at a resolution of one millionth. */
export function timesRatio(amount: Nanos, ratio: number): Nanos {
  return mulDivRoundHalfUp(amount, Math.round(clampRatio(ratio) * RATIO_SCALE), RATIO_SCALE);
}
