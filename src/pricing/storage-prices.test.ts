import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import { storageCost } from '../cost/storage-plan.ts';
import { DEFAULT_CUSTOM_PRICING, parseCustomPricing, PricingFileError } from './custom-pricing.ts';
import { priceStorageClass, STORAGE_CATALOG, STORAGE_CATALOG_DATE, type StorageClassFacts } from './storage-prices.ts';

const sc = (provisioner: string, parameters: Record<string, string> = {}, name = 'fast'): StorageClassFacts => ({
  name,
  provisioner,
  parameters,
});
const GIB = 2 ** 30;

describe('storage prices', () => {
  it.each([
    // provisioner, parameters, price per GiB-month, estimated
    ['ebs.csi.aws.com', { type: 'gp3' }, '0.080000000', false],
    ['ebs.csi.aws.com', {}, '0.080000000', false], // the CSI driver's default type is gp3
    ['kubernetes.io/aws-ebs', {}, '0.100000000', false], // the in-tree plugin's is gp2
    ['ebs.csi.aws.com', { type: 'io2', iopsPerGB: '50' }, '0.125000000', false],
    ['ebs.csi.aws.com', { type: 'sc1' }, '0.015000000', false],
    ['pd.csi.storage.gke.io', { type: 'pd-balanced' }, '0.100000000', true],
    ['kubernetes.io/gce-pd', { type: 'pd-ssd' }, '0.170000000', true],
    ['pd.csi.storage.gke.io', {}, '0.040000000', true],
    ['disk.csi.azure.com', { skuName: 'Premium_LRS' }, '0.132001953', true],
    ['disk.csi.azure.com', { skuname: 'premium_lrs' }, '0.132001953', true], // Azure's keys and values ignore case
    ['kubernetes.io/azure-disk', { storageaccounttype: 'StandardSSD_LRS' }, '0.075000000', true],
  ] as const)('%s %j: the catalog price', (provisioner, parameters, price, estimated) => {
    const p = priceStorageClass(DEFAULT_CUSTOM_PRICING, 'fast', sc(provisioner, parameters));
    expect(p.source).toBe('catalog');
    expect(formatMoney(p.nanosPerGiBMonth, 9)).toBe(price);
    expect(p.estimated).toBe(estimated);
  });

  it.each([
    ['an unknown provisioner', 'rancher.io/local-path', {}, 'no catalog price for provisioner rancher.io/local-path'],
    ['an unknown type', 'ebs.csi.aws.com', { type: 'gp9' }, 'type gp9'],
    ['Standard HDD, which no source priced', 'disk.csi.azure.com', { skuName: 'Standard_LRS' }, 'Standard_LRS'],
  ])('%s gets the default price, flagged, never zero', (_what, provisioner, parameters, why) => {
    const p = priceStorageClass(DEFAULT_CUSTOM_PRICING, 'x', sc(provisioner, parameters));
    expect(p).toMatchObject({ source: 'default', estimated: true, currency: 'USD' });
    expect(formatMoney(p.nanosPerGiBMonth, 9)).toBe('0.100000000');
    expect(p.detail).toContain(why);
  });

  it('a class missing from the cache, or no class at all, gets the default price too', () => {
    expect(priceStorageClass(DEFAULT_CUSTOM_PRICING, 'gone', undefined).detail).toContain(
      'StorageClass gone not found',
    );
    expect(priceStorageClass(DEFAULT_CUSTOM_PRICING, '', undefined).detail).toContain('names no StorageClass');
  });

  it('the pricing file prices a class by name before the catalog, and sets the default', () => {
    const custom = parseCustomPricing(
      'storageClasses: { fast: "0.2", free: "0" }\ndefaultStoragePricePerGiBMonth: "0.05"',
    );
    expect(priceStorageClass(custom, 'fast', sc('ebs.csi.aws.com', { type: 'gp3' }))).toMatchObject({
      source: 'custom',
      estimated: false,
      nanosPerGiBMonth: parseMoney('0.2'),
    });
    // Zero only when the operator says so for the class.
    expect(priceStorageClass(custom, 'free', undefined).nanosPerGiBMonth).toBe(0n);
    expect(priceStorageClass(custom, 'other', sc('example.com/nfs'))).toMatchObject({
      source: 'default',
      estimated: true,
      nanosPerGiBMonth: parseMoney('0.05'),
    });
  });

  it('refuses a zero or float default in the pricing file', () => {
    expect(() => parseCustomPricing('defaultStoragePricePerGiBMonth: "0"')).toThrow(PricingFileError);
    expect(() => parseCustomPricing('storageClasses: { fast: 0.1 }')).toThrow(/quoted decimal string/);
  });

  it('converts the catalog with exchangeRateFromUSD, and flags the default without one', () => {
    const eur = parseCustomPricing('currency: EUR\nexchangeRateFromUSD: "0.9"');
    expect(formatMoney(priceStorageClass(eur, 'f', sc('ebs.csi.aws.com', { type: 'gp3' })).nanosPerGiBMonth, 9)).toBe(
      '0.072000000',
    );
    const noRate = parseCustomPricing('currency: EUR');
    const p = priceStorageClass(noRate, 'f', sc('ebs.csi.aws.com', { type: 'gp3' }));
    expect(p).toMatchObject({ source: 'default', estimated: true, currency: 'EUR' });
    expect(p.detail).toContain('without exchangeRateFromUSD');
  });

  it.each([
    // price per GiB-month, bytes, seconds, cost
    ['0.08', 100 * GIB, 730 * 3600, '8.000000000'], // a 730-hour month of 100 GiB of gp3
    ['0.08', 100 * GIB, 3600, '0.010958904'], // one hour: 8 / 730 = 0.0109589041…
    ['0.10', 2 * GIB, 60, '0.000004566'], // 0.2 × 60 / 2,628,000 = 0.0000045662…
    ['0.10', 0, 3600, '0.000000000'],
    ['0.10', 512 * 2 ** 20, 730 * 3600, '0.050000000'], // half a GiB
    ['0.10', 1_000_000_000, 730 * 3600, '0.093132257'], // a decimal GB is 0.931 GiB
  ])('%s per GiB-month, %i bytes for %i s: %s exactly', (price, bytes, seconds, cost) => {
    expect(formatMoney(storageCost(parseMoney(price), bytes, seconds), 9)).toBe(cost);
  });

  it('every catalog entry is a dated, cited decimal above zero, and the date is the newest', () => {
    for (const e of STORAGE_CATALOG) {
      expect(e.pricePerGiBMonth).toMatch(/^\d+\.\d{1,9}$/);
      expect(parseMoney(e.pricePerGiBMonth) > 0n).toBe(true);
      expect(e.source).toMatch(/^https:\/\//);
      expect(e.read <= STORAGE_CATALOG_DATE).toBe(true);
    }
    expect(STORAGE_CATALOG.some((e) => e.read === STORAGE_CATALOG_DATE)).toBe(true);
  });

  it('docs/pricing.md lists every catalog entry', () => {
    const doc = readFileSync(new URL('../../docs/pricing.md', import.meta.url), 'utf8');
    const section = doc.split('## Storage prices')[1]?.split('\n## ')[0] ?? '';
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) =>
        l
          .split('|')
          .map((c) => c.trim())
          .slice(1, 5),
      );
    expect(rows).toEqual(
      STORAGE_CATALOG.map((e) => [
        e.provisioners.map((p) => `\`${p}\``).join(', '),
        `\`${e.type}\``,
        e.pricePerGiBMonth,
        e.approximate ? `${e.region}, approximate` : e.region,
      ]),
    );
  });
});
