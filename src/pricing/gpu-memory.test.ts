import { describe, expect, it } from 'vitest';
import { gpuMemoryMiB } from './gpu-memory.ts';
import { ON_DEMAND_CATALOG } from './on-demand-catalog.ts';

describe('gpuMemoryMiB', () => {
  it('knows the memory of every GPU model the catalog prices', () => {
    const missing = [...new Set(ON_DEMAND_CATALOG.map((e) => e.gpuModel))].filter((m) => gpuMemoryMiB(m) === undefined);
    expect(missing).toEqual([]);
  });

  it.each([
    ['NVIDIA-A100-SXM4-40GB', 40_960],
    ['NVIDIA-A100-SXM4-80GB', 81_920],
    ['NVIDIA-A100-PCIE-80GB', 81_920],
    ['NVIDIA-H100-80GB-HBM3', 81_920],
    ['NVIDIA-H200', 144_384],
    ['NVIDIA-L4', 24_576],
    ['NVIDIA-A10G', 24_576],
    ['NVIDIA-L40S', 49_152],
    ['Tesla-T4', 16_384],
    ['Tesla-T4-SHARED', 16_384],
    ['Tesla-V100-SXM2-16GB', 16_384],
    ['Tesla-V100-SXM2-32GB', 32_768],
  ])('%s has %i MiB per GPU', (model, mib) => {
    expect(gpuMemoryMiB(model)).toBe(mib);
  });

  it('has no figure for a model it does not know, nor for an inherited property name', () => {
    expect(gpuMemoryMiB('NVIDIA-B200')).toBeUndefined();
    expect(gpuMemoryMiB('constructor')).toBeUndefined();
  });
});
