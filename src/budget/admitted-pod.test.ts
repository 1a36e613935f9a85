import { describe, expect, it } from 'vitest';
import { isAcceleratorResource } from './accelerators.ts';
import { readAdmittedPod } from './admitted-pod.ts';

describe('what DenyNewGPUPods counts as an accelerator', () => {
  it.each([
    ['nvidia.com/gpu', true],
    ['nvidia.com/mig-1g.5gb', true],
    // The device plugin's time-slicing with renameByDefault, and HAMi's virtual GPUs.
    ['nvidia.com/gpu.shared', true],
    ['nvidia.com/gpumem', true],
    ['nvidia.com/gpucores', true],
    ['amd.com/gpu', true],
    ['gpu.intel.com/i915', true],
    ['gpu.intel.com/xe', true],
    ['habana.ai/gaudi', true],
    ['aws.amazon.com/neuron', true],
    ['aws.amazon.com/neuroncore', true],
    ['google.com/tpu', true],
    ['example.com/vgpu', true],
    ['cpu', false],
    ['memory', false],
    ['ephemeral-storage', false],
    ['hugepages-2Mi', false],
    ['example.com/fpga', false],
    ['smarter-devices/fuse', false],
  ])('%s: %s', (name, expected) => expect(isAcceleratorResource(name)).toBe(expected));

  const pod = (spec: object) => readAdmittedPod({ spec });
  it.each([
    ['nvidia.com/gpu limit', { containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] }, true],
    ['renamed time-slicing', { containers: [{ resources: { limits: { 'nvidia.com/gpu.shared': 1 } } }] }, true],
    ['AMD in an init container', { initContainers: [{ resources: { requests: { 'amd.com/gpu': '2' } } }] }, true],
    ['zero of one', { containers: [{ resources: { limits: { 'amd.com/gpu': '0' } } }] }, false],
    [
      'a quantity that does not parse still asks',
      { containers: [{ resources: { limits: { 'amd.com/gpu': 'x' } } }] },
      true,
    ],
    [
      'a DRA claim',
      { containers: [{}], resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'one-gpu' }] },
      true,
    ],
    ['an empty claim list', { containers: [{}], resourceClaims: [] }, false],
    ['CPU only', { containers: [{ resources: { requests: { cpu: '2', memory: '1Gi' } } }] }, false],
    ['claims of the wrong type are read as none', { containers: [{}], resourceClaims: 'gpu' }, false],
  ])('%s', (_name, spec, expected) => expect(pod(spec).gpu).toBe(expected));

  it('prices only what accounting prices: an AMD GPU is refused by a budget but has no GPU price', () => {
    const admitted = pod({ containers: [{ resources: { limits: { 'amd.com/gpu': '1', 'nvidia.com/gpu': '2' } } }] });
    expect(admitted.gpu).toBe(true);
    expect(admitted.gpuRequests).toEqual({ 'nvidia.com/gpu': 2 });
  });
});
