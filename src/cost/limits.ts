/**
 * The largest node and pod the operator accounts, and the highest node price it takes. Far above any real
 * machine (the largest today have 8 to 16 GPUs, under 2,000 vCPUs and 32 TiB of memory, for under 100 $ an
 * hour), they are what keeps the engine's integers exact and the ledger's rows storable:
 * - a share is weighed as request × seconds in exact integer Numbers: at these sizes a span of a year stays
 *   under 2^53 for each resource;
 * - a ledger row holds at most 999,999,999.999999999 (DECIMAL(18,9)): a node at the highest price for the
 *   longest window (a day) is 240,000,000, so a node's row, and a workload's on a few such nodes, fit.
 * A node or pod beyond them is skipped with the reason (a price beyond it leaves the node unpriced): one
 * object's nonsense never stops the accounting of the others.
 */
import type { Nanos } from './money.ts';
import { GPU_UNITS_PER_GPU, type FactsProblem } from './types.ts';

export const MAX_GPUS = 256;
export const MAX_CPU_CORES = 65_536;
/** 64 TiB. */
export const MAX_MEMORY_BYTES = 2 ** 46;
/** Ten million units of the currency per node-hour. */
export const MAX_PRICE_PER_HOUR: Nanos = 10_000_000n * 1_000_000_000n;

/** Resources in the engine's units: GPU units (GPU_UNITS_PER_GPU a GPU), CPU milli-cores, memory bytes. */
export interface Resources {
  readonly gpuUnits: number;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
}

const LIMITS: readonly [keyof Resources, number, string][] = [
  ['gpuUnits', MAX_GPUS * GPU_UNITS_PER_GPU, `${MAX_GPUS} GPUs`],
  ['cpuMillis', MAX_CPU_CORES * 1000, `${MAX_CPU_CORES} cores`],
  ['memoryBytes', MAX_MEMORY_BYTES, '64 TiB of memory'],
];

/** Why a node's capacity or a pod's requests are beyond what the operator accounts; undefined when within. */
export function sizeProblem(what: 'node' | 'pod', resources: Resources): FactsProblem | undefined {
  for (const [field, max, words] of LIMITS) {
    const value = resources[field];
    if (!Number.isSafeInteger(value) || value < 0)
      return { reason: 'invalid', message: `${what} ${field} ${value} is not a whole non-negative number` };
    if (value > max) {
      const has = what === 'node' ? 'has' : 'requests';
      return { reason: 'size', message: `${what} ${has} more than ${words} (${field} ${value})` };
    }
  }
  return undefined;
}
