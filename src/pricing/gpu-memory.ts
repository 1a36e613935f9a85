/**
 * Memory per GPU of the models the catalog (on-demand-catalog.ts) names, for right-sizing (issue #17): a
 * workload fits a GPU when what it uses (dcgm-exporter's DCGM_FI_DEV_FB_USED, in MiB) fits that GPU's memory.
 *
 * Nominal sizes from NVIDIA's data sheets, as GB × 1024 MiB: H100 SXM 80 GB HBM3 and H200 141 GB HBM3e (H100/H200
 * product pages, nvidia.com/en-us/data-center/h100 and /h200), A100 40 GB HBM2 and 80 GB HBM2e (A100 data sheet,
 * nvidia.com/en-us/data-center/a100), L4 24 GB GDDR6 (L4 data sheet), L40S 48 GB GDDR6 (L40S data sheet), T4 16 GB
 * GDDR6 (T4 data sheet), V100 16 or 32 GB HBM2 (V100 data sheet); A10G 24 GB, from AWS's G5 instance page
 * (aws.amazon.com/ec2/instance-types/g5: "24 GB of memory per GPU"), since the A10G is made for AWS only.
 * The driver reports a little less than the nominal size (a T4 shows about 15,360 MiB): the right-sizing
 * headroom (src/recommend/right-size.ts) covers that difference.
 */
const GIB = 1024;

/** MiB per GPU by the model name as the catalog writes it (GPU feature discovery's nvidia.com/gpu.product). */
const GPU_MEMORY_MIB: Readonly<Record<string, number>> = Object.freeze({
  'NVIDIA-H100-80GB-HBM3': 80 * GIB,
  'NVIDIA-H200': 141 * GIB,
  'NVIDIA-A100-SXM4-40GB': 40 * GIB,
  'NVIDIA-A100-SXM4-80GB': 80 * GIB,
  'NVIDIA-A100-PCIE-40GB': 40 * GIB,
  'NVIDIA-A100-PCIE-80GB': 80 * GIB,
  'NVIDIA-A10G': 24 * GIB,
  'NVIDIA-L4': 24 * GIB,
  'NVIDIA-L40S': 48 * GIB,
  'Tesla-T4': 16 * GIB,
  'Tesla-V100-SXM2-16GB': 16 * GIB,
  'Tesla-V100-SXM2-32GB': 32 * GIB,
});

/**
 * The memory of one GPU of `gpuModel` in MiB, or undefined for a model not in the table. A `-SHARED` suffix
 * (time-slicing, as GPU feature discovery writes it) names the same GPU.
 */
export function gpuMemoryMiB(gpuModel: string): number | undefined {
  const model = gpuModel.replace(/-SHARED$/, '');
  return Object.hasOwn(GPU_MEMORY_MIB, model) ? GPU_MEMORY_MIB[model] : undefined;
}
