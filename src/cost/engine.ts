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
 *
 * A bad object costs only itself: a node whose facts the engine cannot account exactly (a problem found before,
 * sizes whose products with the span leave the exact integers, an unexpected error) is skipped with the reason,
 * its pods with it; a pod whose own facts are bad is skipped alone. Every other node is accounted as if the bad
 * object were not there.
 */
import { apportion, costForSeconds, divRoundHalfUp, mulDivRoundHalfUp, type Nanos } from './money.ts';
import { nodeProblem, overflow, podProblem, problemOf } from './facts-check.ts';
import {
  GPU_UNITS_PER_GPU,
  type FactsProblem,
  type Interval,
  type IntervalCost,
  type NodeCost,
  type NodeFacts,
  type PodCost,
  type PodFacts,
  type ResourceSplit,
  type Unattributed,
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
  const out: Out = { pods: [], nodes: [], unattributed: [] };
  for (const node of nodes) {
    const onNode = podsByNode.get(node.name) ?? [];
    podsByNode.delete(node.name);
    attributeNodeAlone(interval, node, onNode, out);
  }
  for (const [nodeName, list] of podsByNode) {
    for (const pod of list) {
      if (overlap(interval, pod.from, pod.until) > 0) {
        out.unattributed.push({ pod, reason: `node ${nodeName || '(none)'} is not known to the cost engine` });
      }
    }
  }
  return { interval, pods: out.pods, nodes: out.nodes, unattributed: out.unattributed };
}

interface Out {
  readonly pods: PodCost[];
  readonly nodes: NodeCost[];
  readonly unattributed: Unattributed[];
}

/** One node, isolated: when it cannot be accounted, it is skipped with its pods and nothing else changes. */
function attributeNodeAlone(interval: Interval, node: NodeFacts, pods: readonly PodFacts[], out: Out): void {
  const problem = node.problem ?? nodeProblem(node, interval);
  if (problem) {
    skipNode(interval, node, pods, problem, out);
    return;
  }
  const marks = [out.pods.length, out.nodes.length, out.unattributed.length] as const;
  try {
    attributeNode(interval, node, pods, out);
  } catch (error) {
    // Whatever the node pushed before it failed goes: it is skipped whole, never half accounted.
    out.pods.length = marks[0];
    out.nodes.length = marks[1];
    out.unattributed.length = marks[2];
    skipNode(interval, node, pods, problemOf(error), out);
  }
}

function skipNode(
  interval: Interval,
  node: NodeFacts,
  pods: readonly PodFacts[],
  problem: FactsProblem,
  out: Out,
): void {
  const reason = `node ${node.name} is skipped: ${problem.message}`;
  for (const pod of pods) {
    if (overlap(interval, pod.from, pod.until) > 0)
      out.unattributed.push({ pod, reason, skipped: { by: 'node', problem } });
  }
  out.nodes.push({
    node,
    seconds: 0,
    cost: undefined,
    allocated: 0n,
    idle: undefined,
    idleGpuSeconds: 0,
    skipped: problem,
  });
}

function attributeNode(interval: Interval, node: NodeFacts, pods: readonly PodFacts[], out: Out): void {
  const { pods: podOut, nodes: nodeOut } = out;
  const window = nodeWindow(interval, node);
  const nodeSeconds = window.end - window.start;
  const { held, heldSeconds } = podsHeldIn(window, pods, out.unattributed);

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

/** The seconds of the interval the node existed in, as an interval. */
export function nodeWindow(interval: Interval, node: NodeFacts): Interval {
  const nodeFrom = Math.max(interval.start, node.from ?? interval.start);
  const nodeUntil = Math.min(interval.end, node.until ?? interval.end);
  return { start: nodeFrom, end: Math.max(nodeFrom, nodeUntil) };
}

/**
 * The pods that held the node in its window, with the seconds each held it; a pod whose own facts the engine
 * cannot weigh goes to `skipped` instead, and the others share the node as they would without it.
 */
function podsHeldIn(
  window: Interval,
  pods: readonly PodFacts[],
  skipped: Unattributed[],
): { held: PodFacts[]; heldSeconds: number[] } {
  // Parallel arrays rather than an object per pod: this loop runs for every pod of a 20,000-pod cluster.
  const held: PodFacts[] = [];
  const heldSeconds: number[] = [];
  for (const pod of pods) {
    const seconds = overlap(window, pod.from, pod.until);
    if (!(seconds > 0)) continue;
    const problem = pod.problem ?? podProblem(pod, seconds);
    if (problem) {
      skipped.push({ pod, reason: `pod skipped: ${problem.message}`, skipped: { by: 'pod', problem } });
      continue;
    }
    held.push(pod);
    heldSeconds.push(seconds);
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
  // Each product is checked (facts-check.ts); their sum is checked here, where it is made.
  if (!Number.isSafeInteger(used))
    throw overflow(`its pods' ${resource} requests × seconds add up beyond exact integers`);
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
