/**
 * Prices a node-hour from the node's labels. Precedence, first match wins (docs/pricing.md):
 *   1. explicit node price: the node annotation aicost.dev/price-per-hour, or `nodes:` in the pricing file;
 *   2. the pricing file's `instanceTypes` (region-specific entry before a region-less one);
 *   3. a refreshed market price of the instance type in the node's region (off unless enabled);
 *   4. the built-in on-demand catalog (same region exact, another region as a flagged estimate);
 *   5. per-GPU-model price × GPU count, plus vCPU and memory at the resource rates;
 *   6. CPU-only nodes: vCPU and memory at the resource rates (flagged as an estimate).
 * Steps 2-6 give an on-demand price; spot and reserved nodes then take an explicit price for their
 * capacity type or the most specific discount from the pricing file; failing those, a spot node takes the
 * refreshed market spot price, else the default spot discount of its cloud and family (an estimate). A GPU
 * node that none of these price is "unpriced", with the reason, and is never costed at zero.
 */
import { MAX_PRICE_PER_HOUR } from '../cost/limits.ts';
import { divRoundHalfUp, formatMoney, NANOS_PER_UNIT, parseMoney, type Nanos } from '../cost/money.ts';
import {
  capacityTypeOf,
  LABEL,
  providerOf,
  type CapacityType,
  type CloudProvider,
  type Labels,
} from './capacity-type.ts';
import { DEFAULT_CUSTOM_PRICING, type CustomPricing } from './custom-pricing.ts';
import { CATALOG_CURRENCY, CATALOG_DATE, ON_DEMAND_CATALOG, type CatalogEntry } from './on-demand-catalog.ts';
import { NO_MARKET_PRICES, type MarketPrices } from './market-table.ts';
import { DEFAULT_SPOT_DISCOUNTS, type DefaultSpotDiscount } from './spot-discounts.ts';
import { applyCapacityType, type BasePrice, type NodePlace } from './capacity-price.ts';
import { priceStorageClass, type StorageClassFacts, type StoragePrice } from './storage-prices.ts';

export const PRICE_ANNOTATION = 'aicost.dev/price-per-hour';

export interface NodePriceInput {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations?: Labels;
  /** Physical GPUs on the node (not time-slicing replicas). */
  readonly gpuCount: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
}

export type PriceSource = 'node' | 'custom-instance-type' | 'market' | 'catalog' | 'gpu-model' | 'resource-rates';

export interface PricedNode {
  readonly priced: true;
  readonly currency: string;
  /** Hourly price, split so that gpu + cpu + memory = total exactly. */
  readonly perHour: { readonly total: Nanos; readonly gpu: Nanos; readonly cpu: Nanos; readonly memory: Nanos };
  /** The on-demand price of the same node, for savings figures (equal to total on on-demand nodes). */
  readonly onDemandPerHour: Nanos;
  readonly capacityType: CapacityType;
  readonly provider: CloudProvider | undefined;
  readonly instanceType: string | undefined;
  readonly source: PriceSource;
  /** True when the price is a stand-in (another region, a default rate, no spot discount configured). */
  readonly estimated: boolean;
  readonly detail: string;
}

export interface UnpricedNode {
  readonly priced: false;
  readonly capacityType: CapacityType;
  readonly instanceType: string | undefined;
  readonly reason: string;
}

export type NodePrice = PricedNode | UnpricedNode;

export interface PricingProvider {
  readonly currency: string;
  priceNode(node: NodePriceInput): NodePrice;
  /**
   * A claim's price per GiB-month by its StorageClass (storage-prices.ts); optional so that a fake provider need
   * not price storage (the accountant then takes the built-in catalog).
   */
  readonly priceStorage?: ((className: string, sc: StorageClassFacts | undefined) => StoragePrice) | undefined;
  /** Date the built-in catalog's prices were read, reported with every catalog price. */
  readonly catalogDate: string;
}

/** The pricing file and the catalog, parsed once into lookups and rates. */
interface PriceTables {
  readonly custom: CustomPricing;
  readonly currency: string;
  /** Nanos of the currency per USD, undefined when the catalog cannot be used (no exchange rate). */
  readonly catalogRate: Nanos | undefined;
  readonly byInstanceType: ReadonlyMap<string, CatalogEntry>;
  readonly nodePrices: ReadonlyMap<string, Nanos>;
  readonly gpuModelPrices: ReadonlyMap<string, Nanos>;
  readonly vcpuRate: Nanos;
  readonly gibRate: Nanos;
  readonly defaultSpot: readonly DefaultSpotDiscount[];
  /** Prices refreshed from the clouds (src/pricing/market-refresher.ts), in USD. */
  readonly market: MarketPrices;
}

export function createPricingProvider(
  custom: CustomPricing = DEFAULT_CUSTOM_PRICING,
  catalog: readonly CatalogEntry[] = ON_DEMAND_CATALOG,
  catalogDate = CATALOG_DATE,
  defaultSpot: readonly DefaultSpotDiscount[] = DEFAULT_SPOT_DISCOUNTS,
  market: MarketPrices = NO_MARKET_PRICES,
): PricingProvider {
  const tables = priceTables(custom, catalog, defaultSpot, market);
  return {
    currency: tables.currency,
    catalogDate,
    priceNode: (node) => priceNode(tables, node),
    priceStorage: (className, sc) => priceStorageClass(custom, className, sc),
  };
}

function priceTables(
  custom: CustomPricing,
  catalog: readonly CatalogEntry[],
  defaultSpot: readonly DefaultSpotDiscount[],
  market: MarketPrices,
): PriceTables {
  const currency = custom.currency;
  const byInstanceType = new Map<string, CatalogEntry>();
  for (const entry of catalog) byInstanceType.set(entry.instanceType, entry);
  return {
    custom,
    currency,
    // The catalog is in USD: in another currency it can be used only with an exchange rate.
    catalogRate:
      currency === CATALOG_CURRENCY
        ? NANOS_PER_UNIT
        : custom.exchangeRateFromUSD !== undefined
          ? parseMoney(custom.exchangeRateFromUSD)
          : undefined,
    byInstanceType,
    nodePrices: new Map(Object.entries(custom.nodes).map(([name, price]) => [name, parseMoney(price)])),
    gpuModelPrices: new Map(Object.entries(custom.gpuModels).map(([model, price]) => [model, parseMoney(price)])),
    vcpuRate: parseMoney(custom.resources.pricePerVcpuHour),
    gibRate: parseMoney(custom.resources.pricePerGiBHour),
    defaultSpot,
    market,
  };
}

function priceNode(tables: PriceTables, node: NodePriceInput): NodePrice {
  const instanceType = node.labels[LABEL.instanceType] ?? node.labels[LABEL.instanceTypeBeta];
  const place: NodePlace = {
    instanceType,
    region: node.labels[LABEL.region],
    zone: node.labels[LABEL.zone],
    capacityType: capacityTypeOf(node.labels),
    provider: providerOf(node.labels, instanceType),
  };
  const chosen = chooseBasePrice(tables, node, place);
  if (typeof chosen === 'string') {
    return { priced: false, capacityType: place.capacityType, instanceType, reason: chosen };
  }
  const { base, onDemand } = chosen;
  // A price this high is a mistake (a misplaced decimal point, a price per month): the node stays unpriced with
  // the reason rather than filling the ledger with rows it cannot store.
  const highest = base.total > onDemand ? base.total : onDemand;
  if (highest > MAX_PRICE_PER_HOUR) {
    const reason = `price ${formatMoney(highest, 2)} ${tables.currency} per hour (${base.detail}) is above the limit of ${formatMoney(MAX_PRICE_PER_HOUR, 0)} per node-hour`;
    return { priced: false, capacityType: place.capacityType, instanceType, reason };
  }
  // A discount (spot, reserved, a lower explicit price) applies to every part of the node: value its vCPU
  // and memory at the resource rates scaled by the same ratio, or a deep discount would leave the GPUs free.
  const rates = resourceValue(tables, node);
  const total = base.total;
  const scaled =
    onDemand > 0n && total < onDemand
      ? { cpu: divRoundHalfUp(rates.cpu * total, onDemand), memory: divRoundHalfUp(rates.memory * total, onDemand) }
      : rates;
  const perHour = splitPrice(total, node, scaled);
  return {
    priced: true,
    currency: tables.currency,
    perHour,
    onDemandPerHour: onDemand,
    capacityType: place.capacityType,
    provider: place.provider,
    instanceType,
    source: base.source,
    estimated: base.estimated,
    detail: base.detail,
  };
}

/**
 * The node's price before it is split (an explicit price, else the on-demand price adjusted for its capacity
 * type) and its on-demand price; or why it has none.
 */
function chooseBasePrice(
  tables: PriceTables,
  node: NodePriceInput,
  place: NodePlace,
): { base: BasePrice; onDemand: Nanos } | string {
  const { capacityType } = place;
  const explicitText = node.annotations?.[PRICE_ANNOTATION];
  const explicit = explicitText !== undefined ? safeParseMoney(explicitText) : tables.nodePrices.get(node.name);
  if (explicitText !== undefined && explicit === undefined) {
    return `annotation ${PRICE_ANNOTATION}="${explicitText}" is not a decimal amount`;
  }
  if (explicit !== undefined) {
    const od = onDemandBase(tables, node, place);
    return {
      base: {
        total: explicit,
        source: 'node',
        estimated: false,
        detail: explicitText !== undefined ? `node annotation ${PRICE_ANNOTATION}` : 'pricing file nodes entry',
      },
      onDemand: typeof od === 'string' ? explicit : od.total,
    };
  }
  const base = onDemandBase(tables, node, place);
  if (typeof base === 'string') return base;
  if (capacityType === 'on-demand') return { base, onDemand: base.total };
  const rules = capacityType === 'spot' ? tables.custom.spot : tables.custom.reserved;
  const fallbacks =
    capacityType === 'spot'
      ? { market: marketPrice(tables, place, 'spot'), defaults: tables.defaultSpot }
      : { market: undefined, defaults: [] };
  return { base: applyCapacityType(base, rules, fallbacks, capacityType, place), onDemand: base.total };
}

function fromCatalogCurrency(tables: PriceTables, usd: Nanos): Nanos | undefined {
  return tables.catalogRate === undefined ? undefined : divRoundHalfUp(usd * tables.catalogRate, NANOS_PER_UNIT);
}

function resourceValue(tables: PriceTables, node: NodePriceInput): { cpu: Nanos; memory: Nanos } {
  // Resource sizes are whole vCPUs and GiB rounded to the milli so the rate products stay integral.
  const cpu = divRoundHalfUp(tables.vcpuRate * BigInt(Math.round(node.vcpu * 1000)), 1000n);
  const memory = divRoundHalfUp(tables.gibRate * BigInt(Math.round(node.memoryGiB * 1000)), 1000n);
  return { cpu, memory };
}

/** A refreshed price of the node's instance type in its region, converted from USD; undefined without one. */
function marketPrice(tables: PriceTables, place: NodePlace, capacity: 'on-demand' | 'spot'): BasePrice | undefined {
  if (place.instanceType === undefined) return undefined;
  const quote = tables.market.quote(place.instanceType, place.region, place.zone, capacity);
  const total = quote && fromCatalogCurrency(tables, quote.usdPerHour);
  if (!quote || total === undefined) return undefined;
  return {
    total,
    source: 'market',
    // Another zone's spot price stands in for the node's zone: close, but not the node's price.
    estimated: !quote.exact,
    detail: `market ${capacity} ${place.instanceType} ${place.region ?? ''}${quote.exact ? '' : ' (another zone, highest)'} (${quote.source})`,
  };
}

function onDemandBase(tables: PriceTables, node: NodePriceInput, place: NodePlace): BasePrice | string {
  const { instanceType, region } = place;
  if (instanceType !== undefined) {
    const custom = customInstanceTypePrice(tables.custom, instanceType, region);
    if (custom) return custom;
    const market = marketPrice(tables, place, 'on-demand');
    if (market) return market;
    const entry = tables.byInstanceType.get(instanceType);
    if (entry) {
      const price = fromCatalogCurrency(tables, parseMoney(entry.pricePerHour));
      if (price === undefined) {
        return `the built-in catalog is in USD and the currency is ${tables.currency}: set exchangeRateFromUSD or price ${instanceType} in the pricing file`;
      }
      const sameRegion = region === undefined || region === entry.region;
      return {
        total: price,
        source: 'catalog',
        estimated: !sameRegion,
        detail: sameRegion
          ? `catalog ${entry.instanceType} ${entry.region} (${entry.source})`
          : `catalog ${entry.instanceType} priced from ${entry.region}, no price for region ${region} (${entry.source})`,
      };
    }
  }
  const gpuModel = node.labels[LABEL.gpuProduct]?.replace(/-SHARED$/, '');
  if (node.gpuCount > 0) {
    const perGpu = gpuModel === undefined ? undefined : tables.gpuModelPrices.get(gpuModel);
    if (perGpu === undefined) {
      return `no price for instance type ${instanceType ?? '(none)'}${gpuModel ? ` nor for GPU model ${gpuModel}` : ' and no GPU model label'}: add it to the pricing file`;
    }
    const rest = resourceValue(tables, node);
    return {
      total: perGpu * BigInt(node.gpuCount) + rest.cpu + rest.memory,
      source: 'gpu-model',
      estimated: false,
      detail: `${node.gpuCount} × ${gpuModel ?? ''} from the pricing file, plus vCPU and memory at resource rates`,
    };
  }
  const rest = resourceValue(tables, node);
  if (rest.cpu + rest.memory === 0n) return 'CPU-only node with no CPU or memory capacity to price';
  return {
    total: rest.cpu + rest.memory,
    source: 'resource-rates',
    estimated: true,
    detail: `${node.vcpu} vCPU and ${node.memoryGiB} GiB at resource rates`,
  };
}

function customInstanceTypePrice(
  custom: CustomPricing,
  instanceType: string,
  region: string | undefined,
): BasePrice | undefined {
  const candidates = custom.instanceTypes.filter((e) => e.instanceType === instanceType);
  const exact = candidates.find((e) => e.region !== undefined && e.region === region);
  const any = candidates.find((e) => e.region === undefined);
  const chosen = exact ?? any;
  if (!chosen) return undefined;
  return {
    total: parseMoney(chosen.pricePerHour),
    source: 'custom-instance-type',
    estimated: false,
    detail: `pricing file instanceTypes ${instanceType}${chosen.region ? ` ${chosen.region}` : ''}`,
  };
}

/**
 * The GPU part of a node's price is what remains after its vCPU and memory are valued at the resource
 * rates (capped at the node price); CPU-only nodes have no GPU part. The CPU/memory part is then split
 * between CPU and memory in proportion to their values, so the three parts always add up exactly.
 */
export function splitPrice(
  total: Nanos,
  node: Pick<NodePriceInput, 'gpuCount'>,
  value: { cpu: Nanos; memory: Nanos },
): PricedNode['perHour'] {
  const nonGpuValue = value.cpu + value.memory;
  const nonGpu = node.gpuCount > 0 ? (nonGpuValue < total ? nonGpuValue : total) : total;
  const gpu = total - nonGpu;
  // In bigint, whatever the sizes: the largest remainder of two parties is the CPU share rounded half up.
  const cpu = nonGpuValue === 0n ? nonGpu : divRoundHalfUp(nonGpu * value.cpu, nonGpuValue);
  return { total, gpu, cpu, memory: nonGpu - cpu };
}

function safeParseMoney(text: string): Nanos | undefined {
  try {
    const value = parseMoney(text);
    return value < 0n ? undefined : value;
  } catch {
    return undefined;
  }
}
