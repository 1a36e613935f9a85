import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../cost/money.ts';
import { marketPrices, NO_MARKET_PRICES } from './market-table.ts';
import { createPricingSource } from './pricing-source.ts';

const node = {
  name: 'n',
  labels: { 'node.kubernetes.io/instance-type': 'x9.big' },
  gpuCount: 0,
  vcpu: 10,
  memoryGiB: 0,
};
const log = pino({ level: 'silent' });

describe('pricing source', () => {
  it('reloads a changed file and keeps the last good prices when the new file is broken', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aicost-')), 'pricing.yaml');
    writeFileSync(path, 'resources: { pricePerVcpuHour: "0.1", pricePerGiBHour: "0" }\n');
    const source = await createPricingSource(path, undefined, log);
    const price = () => {
      const p = source.current().priceNode(node);
      return p.priced ? formatMoney(p.perHour.total, 2) : p.reason;
    };
    expect(price()).toBe('1.00');
    writeFileSync(path, 'resources: { pricePerVcpuHour: "0.2", pricePerGiBHour: "0" }\n');
    expect(await source.refresh()).toBeUndefined();
    expect(price()).toBe('2.00');
    writeFileSync(path, 'resources: { pricePerVcpuHour: 0.3 }\n');
    expect((await source.refresh())?.message).toMatch(/pricePerVcpuHour/);
    expect(price()).toBe('2.00');
  });

  it('fails at start-up on a broken file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aicost-')), 'pricing.yaml');
    writeFileSync(path, 'currency: XYZ\n');
    await expect(createPricingSource(path, undefined, log)).rejects.toThrow(/unknown ISO 4217 currency code/);
  });
});

describe('pricing source with market prices', () => {
  it('rebuilds the provider when the market prices change, and only then', async () => {
    const g5 = {
      name: 'n',
      labels: {
        'node.kubernetes.io/instance-type': 'g5.xlarge',
        'topology.kubernetes.io/region': 'us-east-1',
        'karpenter.sh/capacity-type': 'spot',
      },
      gpuCount: 1,
      vcpu: 4,
      memoryGiB: 16,
    };
    let market = NO_MARKET_PRICES;
    const source = await createPricingSource(undefined, undefined, log, () => market);
    const first = source.current();
    expect(source.current()).toBe(first);
    const spot = (p: ReturnType<typeof first.priceNode>) => (p.priced ? formatMoney(p.perHour.total, 4) : p.reason);
    expect(spot(first.priceNode(g5))).toBe('0.5131'); // the default discount
    market = marketPrices(
      [
        {
          client: 'aws-spot-price-history us-east-1',
          readAt: '2026-12-02T01:00:00.000Z',
          prices: [
            {
              provider: 'aws',
              instanceType: 'g5.xlarge',
              region: 'us-east-1',
              capacity: 'spot',
              usdPerHour: 398_100_000n,
            },
          ],
        },
      ],
      1,
    );
    expect(source.current()).not.toBe(first);
    expect(spot(source.current().priceNode(g5))).toBe('0.3981');
  });
});
