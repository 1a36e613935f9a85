/**
 * What a budget's DenyNewGPUPods counts as asking for an accelerator (issue #19). Accounting prices
 * `nvidia.com/gpu` and MIG profiles only (gpu-units.ts), but a refusal that looks at those alone is passed by
 * any other name for the same hardware: the device plugin's renamed time-slicing resource
 * (`nvidia.com/gpu.shared`), HAMi's virtual GPUs, another vendor's GPUs, or a Dynamic Resource Allocation claim.
 * A budget that acts must not be that easy to step around, so the rule here is wider and errs on the side of
 * counting: an unknown resource of a GPU vendor's domain counts, and so does any DRA claim (the webhook cannot
 * resolve a claim template's device class in time, and a claim under an exceeded budget waits for a person).
 */
import { isGpuResource } from '../cost/gpu-units.ts';

/**
 * Extended resources of the common accelerator device plugins: NVIDIA (whole, MIG, renamed time-slicing, HAMi
 * gpumem/gpucores), AMD, Intel GPUs and Gaudi, AWS Neuron, Google TPU; and any resource whose name holds "gpu".
 */
const ACCELERATOR_RESOURCES: readonly RegExp[] = [
  /^nvidia\.com\//,
  /^amd\.com\//,
  /^gpu\.intel\.com\//,
  /^habana\.ai\//,
  /^aws\.amazon\.com\/neuron/,
  /^google\.com\/tpu$/,
  /\/.*gpu/i,
];

export function isAcceleratorResource(name: string): boolean {
  return isGpuResource(name) || ACCELERATOR_RESOURCES.some((r) => r.test(name));
}
