import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../cost/money.ts';
import { parseCustomPricing } from './custom-pricing.ts';
import { createPricingProvider, type NodePriceInput } from './provider.ts';
import { DEFAULT_SPOT_DISCOUNTS, defaultSpotDiscount, SPOT_DISCOUNTS_DATE } from './spot-discounts.ts';

const spotNode = (instanceType: string, labels: Record<string, string>, gpuCount: number): NodePriceInput => ({
  name: 'n',
  labels: { 'node.kubernetes.io/instance-type': instanceType, ...labels },
  gpuCount,
  vcpu: 4,
  memoryGiB: 16,
});
const KARPENTER_SPOT = { 'karpenter.sh/capacity-type': 'spot', 'topology.kubernetes.io/region': 'us-east-1' };
const GKE_SPOT = { 'cloud.google.com/gke-spot': 'true', 'topology.kubernetes.io/region': 'us-central1' };
const AKS_SPOT = { 'kubernetes.azure.com/scalesetpriority': 'spot', 'topology.kubernetes.io/region': 'eastus' };

describe('default spot discounts', () => {
  it.each([
    // instance type, labels, GPUs, on-demand, default discount, spot price
    ['g5.xlarge', KARPENTER_SPOT, 1, '1.006000000', '49', '0.513060000'],
    ['g6.xlarge', KARPENTER_SPOT, 1, '0.804800000', '51', '0.394352000'],
    ['p4d.24xlarge', KARPENTER_SPOT, 8, '21.957642000', '50', '10.978821000'],
    ['g4dn.xlarge', KARPENTER_SPOT, 1, '0.526000000', '50', '0.263000000'],
    ['a2-highgpu-8g', GKE_SPOT, 8, '29.387080000', '61', '11.460961200'],
    ['g2-standard-4', GKE_SPOT, 1, '0.760000000', '60', '0.304000000'],
    ['Standard_NC24ads_A100_v4', AKS_SPOT, 1, '3.673000000', '60', '1.469200000'],
    ['Standard_ND96asr_v4', AKS_SPOT, 8, '27.197000000', '60', '10.878800000'],
  ] as const)(
    '%s: on-demand %s less the default discount, flagged as an estimate',
    (type, labels, gpus, od, pct, spot) => {
      const price = createPricingProvider().priceNode(spotNode(type, labels, gpus));
      if (!price.priced) throw new Error(price.reason);
      expect(formatMoney(price.onDemandPerHour, 9)).toBe(od);
      expect(formatMoney(price.perHour.total, 9)).toBe(spot);
      expect(price.estimated).toBe(true);
      expect(price.detail).toContain(`default spot discount ${pct}%`);
      expect(price.perHour.gpu + price.perHour.cpu + price.perHour.memory).toBe(price.perHour.total);
    },
  );

  it.each([
    ['a configured discount', 'spot: { discounts: [{ provider: aws, percent: "70" }] }', '0.301800000', false],
    [
      'an explicit spot price',
      'spot: { prices: [{ instanceType: g5.xlarge, pricePerHour: "0.41" }] }',
      '0.410000000',
      false,
    ],
    ['a node price', 'nodes: { n: "0.9" }', '0.900000000', false],
  ])('the pricing file wins: %s', (_name, yaml, total, estimated) => {
    const price = createPricingProvider(parseCustomPricing(yaml)).priceNode(spotNode('g5.xlarge', KARPENTER_SPOT, 1));
    if (!price.priced) throw new Error(price.reason);
    expect(formatMoney(price.perHour.total, 9)).toBe(total);
    expect(price.estimated).toBe(estimated);
  });

  it('leaves on-demand and reserved nodes alone', () => {
    const od = createPricingProvider().priceNode(
      spotNode('g5.xlarge', { 'karpenter.sh/capacity-type': 'on-demand' }, 1),
    );
    const reserved = createPricingProvider().priceNode(
      spotNode('g5.xlarge', { 'karpenter.sh/capacity-type': 'reserved' }, 1),
    );
    expect(od.priced && formatMoney(od.perHour.total, 9)).toBe('1.006000000');
    expect(reserved.priced && formatMoney(reserved.perHour.total, 9)).toBe('1.006000000');
  });

  it.each([
    ['aws', 'p5', '50'],
    ['aws', 'g5', '49'],
    ['gcp', 'a3', '40'],
    ['gcp', 'n1', '60'],
    ['azure', 'ND', '60'],
  ] as const)('%s %s: family entry, else the cloud default', (provider, family, percent) => {
    expect(defaultSpotDiscount(DEFAULT_SPOT_DISCOUNTS, provider, family)?.percent).toBe(percent);
  });

  it('has no default for an unknown cloud', () => {
    expect(defaultSpotDiscount(DEFAULT_SPOT_DISCOUNTS, undefined, 'g5')).toBeUndefined();
  });

  it('every entry is a dated, cited decimal, and the table date is the newest', () => {
    for (const d of DEFAULT_SPOT_DISCOUNTS) {
      expect(d.percent).toMatch(/^\d{1,2}(\.\d+)?$/);
      expect(d.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(d.source).toMatch(/^https:\/\//);
      expect(d.read <= SPOT_DISCOUNTS_DATE).toBe(true);
    }
    expect(DEFAULT_SPOT_DISCOUNTS.some((d) => d.read === SPOT_DISCOUNTS_DATE)).toBe(true);
  });

  it('docs/pricing.md lists every default discount with its date', () => {
    const doc = readFileSync(new URL('../../docs/pricing.md', import.meta.url), 'utf8');
    const section = doc.split('## Default spot discounts')[1]?.split('\n## ')[0] ?? '';
    const rows = section
      .split('\n')
      .filter((l) => /^\| (aws|gcp|azure) \|/.test(l))
      .map((l) =>
        l
          .split('|')
          .map((c) => c.trim())
          .slice(1, 5),
      );
    expect(rows).toEqual(
      DEFAULT_SPOT_DISCOUNTS.map((d) => [d.provider, d.instanceFamily ?? '(any)', `${d.percent} %`, d.read]),
    );
  });
});
