/**
 * How much of a GPU a resource request holds, in GPU units (GPU_UNITS_PER_GPU per physical GPU).
 * - `nvidia.com/gpu` on a time-sliced node (label nvidia.com/gpu.replicas = R) is 1/R of a GPU, because the
 *   device plugin advertises R units per physical GPU.
 * - MIG resources `nvidia.com/mig-<g>g.<mem>gb` hold g of the GPU's 7 compute slices; a compute-instance
 *   profile `mig-<c>c.<g>g.<mem>gb` holds c slices.
 */
import { GPU_UNITS_PER_GPU } from './types.ts';

export const GPU_RESOURCE = 'nvidia.com/gpu';
const MIG_RESOURCE = /^nvidia\.com\/mig-(?:(\d+)c\.)?(\d+)g\.\d+gb$/;
const MIG_SLICES_PER_GPU = 7;

export function isGpuResource(name: string): boolean {
  return name === GPU_RESOURCE || MIG_RESOURCE.test(name);
}

/** GPU units held by `count` of resource `name` on a node with the given time-slicing replicas. */
export function gpuUnitsFor(name: string, count: number, replicas = 1): number {
  if (!(count > 0)) return 0;
  if (name === GPU_RESOURCE) {
    const r = Number.isInteger(replicas) && replicas > 0 ? replicas : 1;
    return Math.round((count * GPU_UNITS_PER_GPU) / r);
  }
  const mig = MIG_RESOURCE.exec(name);
  if (!mig) return 0;
  const slices = Number(mig[1] ?? mig[2]);
  return Math.round((count * slices * GPU_UNITS_PER_GPU) / MIG_SLICES_PER_GPU);
}

/** Sum of GPU units over a resource map such as a pod's requests or a node's allocatable. */
export function gpuUnitsOf(resources: Readonly<Record<string, number>>, replicas = 1): number {
  let units = 0;
  for (const [name, count] of Object.entries(resources)) units += gpuUnitsFor(name, count, replicas);
  return units;
}

/** Time-slicing replicas of a node from its GPU feature discovery label (1 when absent or malformed). */
export function replicasOf(labels: Readonly<Record<string, string>>): number {
  const value = Number(labels['nvidia.com/gpu.replicas']);
  return Number.isInteger(value) && value > 0 ? value : 1;
}
