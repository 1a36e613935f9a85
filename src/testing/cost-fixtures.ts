/** Cost-engine facts for table tests, with figures that read directly. */
import { parseMoney } from '../cost/money.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts, type PodFacts } from '../cost/types.ts';
import type { Display, Ledger } from '../cost/ledger.ts';

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

/** A ledger with every field set, accounted until 2026-11-23T10:00:00Z, in EUR. */
export const SAMPLE_LEDGER: Ledger = {
  cost: parseMoney('12.3456789'),
  gpuSeconds: 7200,
  idleGpuSeconds: 1800,
  idleGpuCost: parseMoney('0.7500004'),
  accountedUntil: Date.UTC(2026, 10, 23, 10, 0, 0) / 1000,
  currency: 'EUR',
};

export const SAMPLE_DISPLAY: Display = { costPerHour: parseMoney('4.5'), utilization: 0.42 };

/** A bare pod of namespace ml on `nodeName`, holding nothing from time 0 unless `over` says otherwise. */
export function podFacts(name: string, nodeName: string, over: Partial<PodFacts> = {}): PodFacts {
  return {
    uid: `uid-${name}`,
    namespace: 'ml',
    name,
    nodeName,
    gpuUnits: 0,
    cpuMillis: 0,
    memoryBytes: 0,
    from: 0,
    labels: {},
    workload: { kind: 'Pod', namespace: 'ml', name },
    ...over,
  };
}
