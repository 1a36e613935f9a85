/**
 * Prices of persistent volumes per GiB-month, by StorageClass (issue #18). A claim is priced from its class:
 *   1. the pricing file's `storageClasses` entry of the class name (custom, exact);
 *   2. the built-in catalog, by the class's provisioner and its `type` (AWS, GCP) or `skuName` / `storageaccounttype`
 *      (Azure) parameter, in USD, converted with `exchangeRateFromUSD` in another currency;
 *   3. otherwise the pricing file's `defaultStoragePricePerGiBMonth`, else DEFAULT_STORAGE_PRICE: flagged as an
 *      estimate, never zero, so an unknown class is still visible in every report.
 *
 * Units. The clouds quote "GB-month". EBS and Persistent Disk volumes are provisioned in GiB (EBS: "1 GiB - 16 TiB";
 * GCE disk sizes are whole GiB) and their per-"GB" rates are applied to those sizes, so the catalog reads them as
 * per GiB. Azure prices fixed tiers (P30 and E30 are 1,024 GiB); its entries are the tier's monthly price divided
 * by the tier's GiB, an approximation of a bill that rounds a disk up to its tier. A month is 730 hours
 * (8,760 / 12), the month every other monthly figure of the project uses, so a price per GiB-month is that price
 * per GiB over 2,628,000 seconds.
 *
 * Each entry names its public source and the date it was read; those marked approximate come from a source that
 * rounds ("~$0.10") or from a tier price divided out. The table in docs/pricing.md is checked against this one by
 * storage-prices.test.ts.
 */
import { divRoundHalfUp, NANOS_PER_UNIT, parseMoney, type Nanos } from '../cost/money.ts';
import type { CustomPricing } from './custom-pricing.ts';

export interface StorageCatalogEntry {
  /** The CSI driver or in-tree provisioner named by StorageClass.provisioner. */
  readonly provisioners: readonly string[];
  /** The class's type parameter (`type`, or Azure's `skuName` / `storageaccounttype`), as the cloud spells it. */
  readonly type: string;
  /** Decimal string, USD per GiB-month. */
  readonly pricePerGiBMonth: string;
  readonly region: string;
  readonly source: string;
  /** Date the source was read, YYYY-MM-DD. */
  readonly read: string;
  /** True when the source gives the price only roughly, or the price is a tier price divided out. */
  readonly approximate: boolean;
}

export const STORAGE_CATALOG_CURRENCY = 'USD';
/** The newest `read` date below: reported with prices made from the catalog. */
export const STORAGE_CATALOG_DATE = '2026-12-02';
/**
 * The price of a class nothing prices, USD per GiB-month: gp2's and pd-balanced's rate, the middle of the catalog's
 * SSD classes, so an unknown class is neither free nor the dearest disk. Always flagged as an estimate.
 */
export const DEFAULT_STORAGE_PRICE = '0.10';

export const EBS = ['ebs.csi.aws.com', 'kubernetes.io/aws-ebs'] as const;
export const GCE_PD = ['pd.csi.storage.gke.io', 'kubernetes.io/gce-pd'] as const;
export const AZURE_DISK = ['disk.csi.azure.com', 'kubernetes.io/azure-disk'] as const;

const AWS_EBS =
  'https://menuvis1-blip.github.io/autonomous-researcher/aws/architecture/storage/2026/02/24/amazon-ebs.html (EBS volume types, price per GB-month; us-east-1 list prices)';
const GCP_PD =
  'https://c3x.dev/blog/gcp-persistent-disk-types-cost/ ("pd-standard ~$0.04, pd-balanced ~$0.10, pd-ssd ~$0.17" per provisioned GB-month)';
const AZURE_DISKS =
  'https://lucidity.cloud/feeds/blog/standard-ssd-vs-premium-ssd-azure-pricing (E30 $76.80/month, P30 $135.17/month; both 1,024 GiB tiers)';

const aws = (type: string, price: string): StorageCatalogEntry => ({
  provisioners: EBS,
  type,
  pricePerGiBMonth: price,
  region: 'us-east-1',
  source: AWS_EBS,
  read: '2026-12-02',
  approximate: false,
});
const gcp = (type: string, price: string): StorageCatalogEntry => ({
  provisioners: GCE_PD,
  type,
  pricePerGiBMonth: price,
  region: 'us-central1',
  source: GCP_PD,
  read: '2026-12-02',
  approximate: true,
});
const azure = (type: string, price: string): StorageCatalogEntry => ({
  provisioners: AZURE_DISK,
  type,
  pricePerGiBMonth: price,
  region: 'eastus',
  source: AZURE_DISKS,
  read: '2026-12-02',
  approximate: true,
});

export const STORAGE_CATALOG: readonly StorageCatalogEntry[] = Object.freeze([
  aws('gp3', '0.08'),
  aws('gp2', '0.10'),
  aws('io1', '0.125'),
  aws('io2', '0.125'),
  aws('st1', '0.045'),
  aws('sc1', '0.015'),
  gcp('pd-standard', '0.04'),
  gcp('pd-balanced', '0.10'),
  gcp('pd-ssd', '0.17'),
  // 135.17 / 1,024 and 76.80 / 1,024, to the nano. No public figure for Standard HDD (Standard_LRS) was found: it
  // takes the default price, flagged, until the pricing file prices it.
  azure('Premium_LRS', '0.132001953'),
  azure('StandardSSD_LRS', '0.075'),
]);

/**
 * The type a provisioner leaves unset: EBS's CSI driver defaults to gp3 (the in-tree plugin to gp2), GCE PD to
 * pd-standard, Azure Disk to StandardSSD_LRS.
 */
const DEFAULT_TYPE: Readonly<Record<string, string>> = {
  'ebs.csi.aws.com': 'gp3',
  'kubernetes.io/aws-ebs': 'gp2',
  'pd.csi.storage.gke.io': 'pd-standard',
  'kubernetes.io/gce-pd': 'pd-standard',
  'disk.csi.azure.com': 'StandardSSD_LRS',
  'kubernetes.io/azure-disk': 'StandardSSD_LRS',
};

/** What a StorageClass says about its price: only these fields are read. */
export interface StorageClassFacts {
  readonly name: string;
  readonly provisioner: string;
  readonly parameters: Readonly<Record<string, string>>;
}

export type StoragePriceSource = 'custom' | 'catalog' | 'default';

export interface StoragePrice {
  readonly currency: string;
  readonly nanosPerGiBMonth: Nanos;
  readonly source: StoragePriceSource;
  /** True for a default price and for an approximate catalog entry. */
  readonly estimated: boolean;
  readonly detail: string;
}

/** The class's type parameter, as the cloud spells it (Azure's keys are case-insensitive). */
export function storageTypeOf(sc: StorageClassFacts): string | undefined {
  const byLowerKey = new Map(Object.entries(sc.parameters).map(([k, v]) => [k.toLowerCase(), v]));
  return (
    byLowerKey.get('type') ??
    byLowerKey.get('skuname') ??
    byLowerKey.get('storageaccounttype') ??
    DEFAULT_TYPE[sc.provisioner]
  );
}

export function catalogEntryOf(sc: StorageClassFacts): StorageCatalogEntry | undefined {
  const type = storageTypeOf(sc);
  if (type === undefined) return undefined;
  const azure = (AZURE_DISK as readonly string[]).includes(sc.provisioner);
  return STORAGE_CATALOG.find(
    (e) =>
      e.provisioners.includes(sc.provisioner) &&
      (azure ? e.type.toLowerCase() === type.toLowerCase() : e.type === type),
  );
}

/**
 * The price of a claim of class `className` (its StorageClass `sc`, undefined when the class is not in the cache
 * or the claim names none). Never zero unless the pricing file says so for the class.
 */
export function priceStorageClass(
  custom: CustomPricing,
  className: string,
  sc: StorageClassFacts | undefined,
): StoragePrice {
  const currency = custom.currency;
  // Own keys only: a class named `constructor` must not find the object's prototype.
  const configured = Object.hasOwn(custom.storageClasses, className) ? custom.storageClasses[className] : undefined;
  if (configured !== undefined)
    return {
      currency,
      nanosPerGiBMonth: parseMoney(configured),
      source: 'custom',
      estimated: false,
      detail: `pricing file, StorageClass ${className}`,
    };
  const rate = currency === STORAGE_CATALOG_CURRENCY ? NANOS_PER_UNIT : optionalRate(custom.exchangeRateFromUSD);
  const entry = sc ? catalogEntryOf(sc) : undefined;
  if (entry && rate !== undefined) {
    const approximate = entry.approximate ? ', approximate' : '';
    return {
      currency,
      nanosPerGiBMonth: divRoundHalfUp(parseMoney(entry.pricePerGiBMonth) * rate, NANOS_PER_UNIT),
      source: 'catalog',
      estimated: entry.approximate,
      detail: `catalog ${entry.type} (${entry.region}${approximate}, read ${entry.read})`,
    };
  }
  const why = sc
    ? entry
      ? `the catalog is in USD and the currency is ${currency} without exchangeRateFromUSD`
      : `no catalog price for provisioner ${sc.provisioner} type ${storageTypeOf(sc) ?? '(none)'}`
    : className === ''
      ? 'the claim names no StorageClass'
      : `StorageClass ${className} not found`;
  if (custom.defaultStoragePricePerGiBMonth !== undefined)
    return {
      currency,
      nanosPerGiBMonth: parseMoney(custom.defaultStoragePricePerGiBMonth),
      source: 'default',
      estimated: true,
      detail: `pricing file default (${why})`,
    };
  // In another currency with no rate the built-in default is taken as that currency's: a stand-in, flagged.
  const nanos = parseMoney(DEFAULT_STORAGE_PRICE);
  return {
    currency,
    nanosPerGiBMonth: rate === undefined ? nanos : divRoundHalfUp(nanos * rate, NANOS_PER_UNIT),
    source: 'default',
    estimated: true,
    detail: `default ${DEFAULT_STORAGE_PRICE} per GiB-month (${why})`,
  };
}

function optionalRate(text: string | undefined): Nanos | undefined {
  return text === undefined ? undefined : parseMoney(text);
}
