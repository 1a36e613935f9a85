import { describe, expect, it } from 'vitest';
import { formatMoney } from '../cost/money.ts';
import { customPricingSchema, parseCustomPricing, PricingFileError } from './custom-pricing.ts';
import { ON_DEMAND_CATALOG } from './on-demand-catalog.ts';
import { createPricingProvider, type NodePrice, type NodePriceInput } from './provider.ts';

const p4d: NodePriceInput = {
  name: 'gpu-a',
  labels: {
    'node.kubernetes.io/instance-type': 'p4d.24xlarge',
    'topology.kubernetes.io/region': 'us-east-1',
    'eks.amazonaws.com/capacityType': 'ON_DEMAND',
    'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
  },
  gpuCount: 8,
  vcpu: 96,
  memoryGiB: 1152,
};
const g5Spot: NodePriceInput = {
  name: 'gpu-b',
  labels: {
    'node.kubernetes.io/instance-type': 'g5.xlarge',
    'topology.kubernetes.io/region': 'us-east-1',
    'karpenter.sh/capacity-type': 'spot',
    'nvidia.com/gpu.product': 'NVIDIA-A10G',
  },
  gpuCount: 1,
  vcpu: 4,
  memoryGiB: 16,
};

function priced(price: NodePrice) {
  if (!price.priced) throw new Error(`expected a price, got: ${price.reason}`);
  return price;
}
const fmt = (n: bigint) => formatMoney(n, 9);

describe('pricing provider', () => {
  it('prices a catalog instance and splits it into GPU, CPU and memory parts that add up', () => {
    const price = priced(createPricingProvider().priceNode(p4d));
    expect(price.source).toBe('catalog');
    expect(price.estimated).toBe(false);
    // 96 vCPU × 0.0316 = 3.0336 and 1152 GiB × 0.0042 = 4.8384; the GPU part is the rest.
    expect(fmt(price.perHour.total)).toBe('21.957642000');
    expect(fmt(price.perHour.cpu)).toBe('3.033600000');
    expect(fmt(price.perHour.memory)).toBe('4.838400000');
    expect(fmt(price.perHour.gpu)).toBe('14.085642000');
    expect(price.perHour.gpu + price.perHour.cpu + price.perHour.memory).toBe(price.perHour.total);
  });

  it('prices spot from the most specific configured discount and keeps the on-demand price', () => {
    const provider = createPricingProvider(
      parseCustomPricing(`
spot:
  discounts:
    - { percent: "50" }
    - { provider: aws, percent: "60" }
    - { provider: aws, instanceFamily: g5, percent: "70" }
    - { instanceType: p4d.24xlarge, percent: "65" }
`),
    );
    const price = priced(provider.priceNode(g5Spot));
    expect(price.capacityType).toBe('spot');
    expect(fmt(price.perHour.total)).toBe('0.301800000'); // 1.006 - 70 %
    expect(fmt(price.onDemandPerHour)).toBe('1.006000000');
    expect(price.estimated).toBe(false);
  });

  describe('an explicit node price on a spot node is final: no spot discount is applied to it', () => {
    const provider = createPricingProvider(
      parseCustomPricing(`
nodes: { gpu-b: "0.9" }
spot: { discounts: [{ percent: "70" }] }
`),
    );
    it.each([
      ['the discount applies to a catalog price', { ...g5Spot, name: 'other' }, 'catalog', '0.301800000'],
      [
        'the node annotation',
        { ...g5Spot, name: 'other', annotations: { 'aicost.dev/price-per-hour': '0.75' } },
        'node',
        '0.750000000',
      ],
      ['the nodes entry in the pricing file', g5Spot, 'node', '0.900000000'],
    ] as const)('%s', (_name, node, source, total) => {
      const price = priced(provider.priceNode(node));
      expect([price.capacityType, price.source, fmt(price.perHour.total)]).toEqual(['spot', source, total]);
      expect(fmt(price.onDemandPerHour)).toBe('1.006000000');
    });
  });

  it('prefers an explicit spot price to a discount', () => {
    const provider = createPricingProvider(
      parseCustomPricing(`
spot:
  discounts: [{ percent: "70" }]
  prices: [{ instanceType: g5.xlarge, pricePerHour: "0.4123" }]
`),
    );
    expect(fmt(priced(provider.priceNode(g5Spot)).perHour.total)).toBe('0.412300000');
  });

  it('uses the default spot discount, flagged as an estimate, when no discount is configured', () => {
    const price = priced(createPricingProvider().priceNode(g5Spot));
    expect(fmt(price.perHour.total)).toBe('0.513060000'); // 1.006 - 49 % (AWS g5 default)
    expect(fmt(price.onDemandPerHour)).toBe('1.006000000');
    expect(price.estimated).toBe(true);
    expect(price.detail).toMatch(/default spot discount 49% for aws g5 \(estimate, read \d{4}-\d{2}-\d{2}\)/);
  });

  it('uses the on-demand price for spot, flagged as an estimate, with no configured nor default discount', () => {
    const provider = createPricingProvider(undefined, undefined, undefined, []);
    const price = priced(provider.priceNode(g5Spot));
    expect(fmt(price.perHour.total)).toBe('1.006000000');
    expect(price.estimated).toBe(true);
    expect(price.detail).toMatch(/no spot discount configured/);
  });

  it('applies reserved prices to reserved capacity', () => {
    const provider = createPricingProvider(
      parseCustomPricing(`reserved: { discounts: [{ instanceType: p4d.24xlarge, percent: "40" }] }`),
    );
    const node = { ...p4d, labels: { ...p4d.labels, 'eks.amazonaws.com/capacityType': 'CAPACITY_BLOCK' } };
    const price = priced(provider.priceNode(node));
    expect(price.capacityType).toBe('reserved');
    expect(fmt(price.perHour.total)).toBe('13.174585200');
  });

  describe('precedence: node > custom instance type > catalog > GPU model', () => {
    const custom = parseCustomPricing(`
nodes: { gpu-a: "30" }
instanceTypes:
  - { instanceType: p4d.24xlarge, pricePerHour: "20" }
  - { instanceType: p4d.24xlarge, region: us-west-2, pricePerHour: "24" }
gpuModels: { NVIDIA-A100-SXM4-40GB: "1.5", NVIDIA-H100-80GB-HBM3: "4" }
`);
    const provider = createPricingProvider(custom);
    it.each([
      [
        'node annotation beats everything',
        { ...p4d, annotations: { 'aicost.dev/price-per-hour': '31.5' } },
        'node',
        '31.500000000',
      ],
      ['nodes entry in the pricing file', p4d, 'node', '30.000000000'],
      ['custom instance type, region-less entry', { ...p4d, name: 'other' }, 'custom-instance-type', '20.000000000'],
      [
        'custom instance type, region entry first',
        { ...p4d, name: 'other', labels: { ...p4d.labels, 'topology.kubernetes.io/region': 'us-west-2' } },
        'custom-instance-type',
        '24.000000000',
      ],
      [
        'catalog',
        { ...p4d, name: 'other', labels: { ...p4d.labels, 'node.kubernetes.io/instance-type': 'p5.48xlarge' } },
        'catalog',
        '55.040000000',
      ],
      [
        'catalog, by the older beta.kubernetes.io/instance-type label',
        {
          ...p4d,
          name: 'other',
          labels: { 'beta.kubernetes.io/instance-type': 'p5.48xlarge', 'topology.kubernetes.io/region': 'us-east-1' },
        },
        'catalog',
        '55.040000000',
      ],
      [
        // 8 × 4 + 96 × 0.0316 + 1152 × 0.0042
        'per-GPU-model fallback with resource rates',
        {
          ...p4d,
          name: 'other',
          labels: { 'node.kubernetes.io/instance-type': 'x9.big', 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
        },
        'gpu-model',
        '39.872000000',
      ],
      [
        'per-GPU-model fallback ignores a -SHARED suffix (time-sliced GPUs)',
        {
          ...p4d,
          name: 'other',
          labels: {
            'node.kubernetes.io/instance-type': 'x9.big',
            'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3-SHARED',
          },
        },
        'gpu-model',
        '39.872000000',
      ],
    ] as const)('%s', (_name, node, source, total) => {
      const price = priced(provider.priceNode(node));
      expect(price.source).toBe(source);
      expect(fmt(price.perHour.total)).toBe(total);
    });
  });

  it('prices another region from the catalog as a flagged estimate', () => {
    const node = { ...p4d, labels: { ...p4d.labels, 'topology.kubernetes.io/region': 'eu-west-1' } };
    const price = priced(createPricingProvider().priceNode(node));
    expect(fmt(price.perHour.total)).toBe('21.957642000');
    expect(price.estimated).toBe(true);
    expect(price.detail).toMatch(/no price for region eu-west-1/);
  });

  it('prices a CPU-only node at resource rates as an estimate', () => {
    const node: NodePriceInput = {
      name: 'cpu',
      labels: { 'node.kubernetes.io/instance-type': 'm6i.2xlarge' },
      gpuCount: 0,
      vcpu: 8,
      memoryGiB: 32,
    };
    const price = priced(createPricingProvider().priceNode(node));
    expect(price.source).toBe('resource-rates');
    expect(price.estimated).toBe(true);
    expect(fmt(price.perHour.total)).toBe('0.387200000');
    expect(price.perHour.gpu).toBe(0n);
  });

  it.each([
    [
      'an unknown GPU instance type without a GPU model price',
      { 'node.kubernetes.io/instance-type': 'x9.big', 'nvidia.com/gpu.product': 'NVIDIA-B200' },
      /no price for instance type x9.big nor for GPU model NVIDIA-B200/,
    ],
    ['a GPU node with no labels at all', {}, /no price for instance type \(none\) and no GPU model label/],
  ])('never prices %s at zero: it is unpriced with the reason', (_name, labels, reason) => {
    const price = createPricingProvider().priceNode({ name: 'x', labels, gpuCount: 4, vcpu: 32, memoryGiB: 256 });
    expect(price.priced).toBe(false);
    if (!price.priced) expect(price.reason).toMatch(reason);
  });

  it('rejects a malformed price annotation rather than ignoring it', () => {
    const price = createPricingProvider().priceNode({ ...p4d, annotations: { 'aicost.dev/price-per-hour': '12,50' } });
    expect(price.priced).toBe(false);
    if (!price.priced) expect(price.reason).toMatch(/not a decimal amount/);
  });

  it.each([
    [
      'an annotation of 10^15 an hour',
      { 'aicost.dev/price-per-hour': '999999999999999' },
      /999999999999999\.00 USD per hour \(node annotation aicost\.dev\/price-per-hour\) is above the limit of 10000000 per node-hour/,
    ],
    ['a price just over the limit', { 'aicost.dev/price-per-hour': '10000000.000000001' }, /above the limit/],
  ])(
    'leaves a node unpriced, with the reason, for %s: a mistake, and no ledger row could hold it',
    (_what, annotations, reason) => {
      const price = createPricingProvider().priceNode({ ...p4d, annotations });
      expect(price.priced).toBe(false);
      if (!price.priced) expect(price.reason).toMatch(reason);
      expect(
        priced(createPricingProvider().priceNode({ ...p4d, annotations: { 'aicost.dev/price-per-hour': '10000000' } }))
          .perHour.total,
      ).toBe(10n ** 16n);
    },
  );

  it('splits the price of a node of any size exactly, in bigint (10^9 vCPUs threw)', () => {
    const price = priced(createPricingProvider().priceNode({ ...p4d, vcpu: 1e9, memoryGiB: 1e12 }));
    const { total, gpu, cpu, memory } = price.perHour;
    expect(gpu + cpu + memory).toBe(total);
    expect(gpu).toBe(0n); // the CPU and memory values exceed the node price: capped at it
    // CPU and memory in proportion to their values: 1e9 × 0.0316 against 1e12 × 0.0042, rounded half up.
    expect(cpu).toBe(
      (total * 31_600_000n * 10n ** 9n * 2n + (31_600_000n * 10n ** 9n + 4_200_000n * 10n ** 12n)) /
        ((31_600_000n * 10n ** 9n + 4_200_000n * 10n ** 12n) * 2n),
    );
  });

  it('converts catalog prices with the configured exchange rate, and refuses without one', () => {
    const eur = createPricingProvider(parseCustomPricing('currency: EUR\nexchangeRateFromUSD: "0.5"'));
    expect(eur.currency).toBe('EUR');
    expect(fmt(priced(eur.priceNode(p4d)).perHour.total)).toBe('10.978821000');
    const noRate = createPricingProvider(parseCustomPricing('currency: EUR')).priceNode(p4d);
    expect(noRate.priced).toBe(false);
    if (!noRate.priced) expect(noRate.reason).toMatch(/exchangeRateFromUSD/);
  });
});

describe('custom pricing file', () => {
  it.each([
    ['currency: usd', /currency must be an ISO 4217 code/],
    ['currency: XYZ', /unknown ISO 4217 currency code[\s\S]*at currency/],
    [
      'instanceTypes: [{ instanceType: p4d.24xlarge, pricePerHour: 21.5 }]',
      /quoted decimal string[\s\S]*at instanceTypes\[0\]\.pricePerHour/,
    ],
    ['spot: { discounts: [{ percent: "120" }] }', /between 0 and 100[\s\S]*at spot\.discounts\[0\]\.percent/],
    ['gpuModels: { A100: "-1" }', /decimal string[\s\S]*at gpuModels\.A100/],
    ['unknownKey: 1', /Unrecognized key: "unknownKey"/],
    ['nodes: [1, 2', /not valid YAML/],
  ])('%s fails with a message naming the field', (text, message) => {
    expect(() => parseCustomPricing(text)).toThrow(PricingFileError);
    expect(() => parseCustomPricing(text)).toThrow(message);
  });

  it('an empty file means the defaults', () => {
    expect(parseCustomPricing('').currency).toBe('USD');
  });
});

describe('catalog', () => {
  it('has one entry per instance type, each with a source and a decimal price', () => {
    const names = ON_DEMAND_CATALOG.map((e) => e.instanceType);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of ON_DEMAND_CATALOG) {
      expect(entry.pricePerHour).toMatch(/^\d+(\.\d+)?$/);
      expect(entry.source).toMatch(/\(\d{4}-\d{2}-\d{2}\)$/);
      expect(entry.gpuCount).toBeGreaterThan(0);
    }
  });

  it('applies a spot discount to every part, so a deep discount does not leave the GPUs free', () => {
    // Standard_NC24ads_A100_v4 (eastus) 3.673 $/h on demand, 75 % off: 0.91825. Its 24 vCPU and 220 GiB at the
    // resource rates are worth 1.6824 $/h on demand, more than the whole spot price: scaled by 25 % they are
    // 0.4206, and the GPU keeps 25 % of its on-demand part (3.673 - 1.6824 = 1.9906): 0.49765.
    const provider = createPricingProvider(
      customPricingSchema.parse({ spot: { discounts: [{ provider: 'azure', percent: '75' }] } }),
    );
    const price = provider.priceNode({
      name: 'aks-spot',
      labels: {
        'node.kubernetes.io/instance-type': 'Standard_NC24ads_A100_v4',
        'topology.kubernetes.io/region': 'eastus',
        'kubernetes.azure.com/scalesetpriority': 'spot',
      },
      gpuCount: 1,
      vcpu: 24,
      memoryGiB: 220,
    });
    if (!price.priced) throw new Error(price.reason);
    expect(formatMoney(price.perHour.total, 6)).toBe('0.918250');
    expect(formatMoney(price.perHour.gpu, 6)).toBe('0.497650');
    expect(formatMoney(price.perHour.cpu + price.perHour.memory, 6)).toBe('0.420600');
    expect(price.perHour.gpu + price.perHour.cpu + price.perHour.memory).toBe(price.perHour.total);
  });
});
