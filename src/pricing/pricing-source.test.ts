import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../cost/money.ts';
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
