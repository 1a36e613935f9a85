/**
 * What the engine checks before it weighs a node or a pod (engine.ts): whole non-negative numbers, a price whose
 * parts add up, and products of sizes and seconds that stay exact integers. A failed check skips that object
 * alone, with the reason; the checks run once per node and pod an interval, on Numbers only.
 */
import type { Interval, FactsProblem, NodeFacts, PodFacts } from './types.ts';

const MiB = 2 ** 20;

/** An amount the engine would have had to hold beyond exact integers: the node is skipped as `overflow`. */
export class OverflowError extends RangeError {
  override readonly name = 'OverflowError';
}

export function overflow(message: string): OverflowError {
  return new OverflowError(message);
}

/** The problem an error thrown while accounting a node stands for. */
export function problemOf(error: unknown): FactsProblem {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof OverflowError) return { reason: 'overflow', message };
  return { reason: 'error', message: `the cost engine failed on it: ${message}` };
}

function whole(value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value >= 0);
}

/** Sizes × seconds, as the engine weighs them (memory in MiB): the first that is not exact, if any. */
function inexactProduct(
  sizes: { gpuUnits: number; cpuMillis: number; memoryBytes: number },
  seconds: number,
): string | undefined {
  if (!Number.isSafeInteger(sizes.gpuUnits * seconds)) return 'gpuUnits';
  if (!Number.isSafeInteger(sizes.cpuMillis * seconds)) return 'cpuMillis';
  if (!Number.isSafeInteger(Math.round(sizes.memoryBytes / MiB) * seconds)) return 'memory';
  return undefined;
}

/** Why the engine cannot account this node over the interval; undefined when it can. */
export function nodeProblem(node: NodeFacts, interval: Interval): FactsProblem | undefined {
  const { gpuUnits, cpuMillis, memoryBytes, from, until, perHour, onDemandPerHour } = node;
  if (![gpuUnits, cpuMillis, memoryBytes, from, until].every(whole))
    return { reason: 'invalid', message: 'its capacity or lifetime is not in whole non-negative numbers' };
  if (perHour) {
    const { total, gpu, cpu, memory } = perHour;
    if (gpu < 0n || cpu < 0n || memory < 0n || gpu + cpu + memory !== total || (onDemandPerHour ?? 0n) < 0n)
      return { reason: 'invalid', message: 'its price parts are negative or do not add up to its price' };
  }
  const nodeFrom = Math.max(interval.start, from ?? interval.start);
  const nodeUntil = Math.min(interval.end, until ?? interval.end);
  const seconds = Math.max(0, nodeUntil - nodeFrom);
  const inexact = inexactProduct(node, seconds);
  if (inexact !== undefined)
    return { reason: 'overflow', message: `its ${inexact} capacity × ${seconds} s is beyond exact integers` };
  return undefined;
}

/** Why the engine cannot weigh this pod's `seconds` on its node; undefined when it can. */
export function podProblem(pod: PodFacts, seconds: number): FactsProblem | undefined {
  const { gpuUnits, cpuMillis, memoryBytes, from, until } = pod;
  if (![gpuUnits, cpuMillis, memoryBytes, from, until].every(whole))
    return { reason: 'invalid', message: 'its requests or lifetime are not in whole non-negative numbers' };
  const inexact = inexactProduct(pod, seconds);
  if (inexact !== undefined)
    return { reason: 'overflow', message: `its ${inexact} request × ${seconds} s is beyond exact integers` };
  return undefined;
}
