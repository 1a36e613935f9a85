/** Cost-engine facts for table tests, with figures that read directly. */
import { parseMoney } from '../cost/money.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts } from '../cost/types.ts';

/**
 * An on-demand GPU node at 10 $/h: a GPU part of 8 $/h for 8 GPUs (1 $ per GPU-hour), a CPU part of 1 $/h for
 * 64 cores and a memory part of 1 $/h for 512 GiB.
 */
export function tenDollarNode(name: string): NodeFacts {
  return {
    name,
    perHour: { total: parseMoney('10'), gpu: parseMoney('8'), cpu: parseMoney('1'), memory: parseMoney('1') },
    capacityType: 'on-demand',
    gpuUnits: 8 * GPU_UNITS_PER_GPU,
    cpuMillis: 64_000,
    memoryBytes: 512 * 2 ** 30,
    labels: {},
  };
}
