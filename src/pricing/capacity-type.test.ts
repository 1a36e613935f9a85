import { describe, expect, it } from 'vitest';
import { capacityTypeOf, instanceFamilyOf, providerOf } from './capacity-type.ts';

describe('capacityTypeOf', () => {
  it.each([
    ['EKS managed spot', { 'eks.amazonaws.com/capacityType': 'SPOT' }, 'spot'],
    ['EKS managed on-demand', { 'eks.amazonaws.com/capacityType': 'ON_DEMAND' }, 'on-demand'],
    ['EKS capacity block', { 'eks.amazonaws.com/capacityType': 'CAPACITY_BLOCK' }, 'reserved'],
    ['self-managed AWS spot', { lifecycle: 'EC2Spot' }, 'spot'],
    ['Karpenter spot', { 'karpenter.sh/capacity-type': 'spot' }, 'spot'],
    ['Karpenter on-demand', { 'karpenter.sh/capacity-type': 'on-demand' }, 'on-demand'],
    ['Karpenter reserved', { 'karpenter.sh/capacity-type': 'reserved' }, 'reserved'],
    ['GKE spot', { 'cloud.google.com/gke-spot': 'true' }, 'spot'],
    ['GKE preemptible', { 'cloud.google.com/gke-preemptible': 'true' }, 'spot'],
    ['GKE standard', { 'cloud.google.com/gke-nodepool': 'gpu' }, 'on-demand'],
    ['AKS spot', { 'kubernetes.azure.com/scalesetpriority': 'spot' }, 'spot'],
    ['AKS regular', { 'kubernetes.azure.com/scalesetpriority': 'regular' }, 'on-demand'],
    ['no label', {}, 'on-demand'],
  ] as const)('%s', (_name, labels, expected) => {
    expect(capacityTypeOf(labels)).toBe(expected);
  });
});

describe('providerOf and instanceFamilyOf', () => {
  it.each([
    [{}, 'p4d.24xlarge', 'aws', 'p4d'],
    [{}, 'g6e.12xlarge', 'aws', 'g6e'],
    [{}, 'a2-highgpu-8g', 'gcp', 'a2'],
    [{ 'cloud.google.com/gke-spot': 'true' }, 'g2-standard-4', 'gcp', 'g2'],
    [{}, 'Standard_NC24ads_A100_v4', 'azure', 'NC'],
    [{ 'kubernetes.azure.com/scalesetpriority': 'spot' }, 'Standard_ND96asr_v4', 'azure', 'ND'],
  ] as const)('%j %s is %s, family %s', (labels, instanceType, provider, family) => {
    expect(providerOf(labels, instanceType)).toBe(provider);
    expect(instanceFamilyOf(instanceType)).toBe(family);
  });

  it('says nothing when nothing tells', () => {
    expect(providerOf({}, undefined)).toBeUndefined();
    expect(providerOf({}, 'custom box')).toBeUndefined();
  });
});
