/**
 * A spot or reserved node's price from its on-demand price: the pricing file's explicit price for the capacity
 * type, else its most specific discount; for spot, failing those, a refreshed market price, else the default
 * discount of the node's cloud and family (src/pricing/spot-discounts.ts). Split from provider.ts, which calls it.
 */
import { parseMoney, percentOf, type Nanos } from '../cost/money.ts';
import { instanceFamilyOf, type CapacityType, type CloudProvider } from './capacity-type.ts';
import type { CapacityPricing } from './custom-pricing.ts';
import type { PriceSource } from './provider.ts';
import { defaultSpotDiscount, type DefaultSpotDiscount } from './spot-discounts.ts';

export interface BasePrice {
  total: Nanos;
  source: PriceSource;
  estimated: boolean;
  detail: string;
}

/** Where a node is and how it is bought, from its labels. */
export interface NodePlace {
  readonly instanceType: string | undefined;
  readonly region: string | undefined;
  readonly zone: string | undefined;
  readonly capacityType: CapacityType;
  readonly provider: CloudProvider | undefined;
}

export function applyCapacityType(
  base: BasePrice,
  rules: CapacityPricing,
  fallbacks: { market: BasePrice | undefined; defaults: readonly DefaultSpotDiscount[] },
  kind: 'spot' | 'reserved',
  { provider, instanceType, region }: NodePlace,
): BasePrice {
  if (instanceType !== undefined) {
    const explicit =
      rules.prices.find((p) => p.instanceType === instanceType && p.region !== undefined && p.region === region) ??
      rules.prices.find((p) => p.instanceType === instanceType && p.region === undefined);
    if (explicit) {
      return {
        total: parseMoney(explicit.pricePerHour),
        source: base.source,
        estimated: false,
        detail: `${kind} price for ${instanceType} from the pricing file`,
      };
    }
  }
  const family = instanceType === undefined ? undefined : instanceFamilyOf(instanceType);
  const discount = mostSpecificDiscount(rules.discounts, provider, family, instanceType, region);
  if (!discount) {
    // The market's own spot price, refreshed, beats a default discount read from a page months ago.
    if (fallbacks.market) return fallbacks.market;
    const fallback = defaultSpotDiscount(fallbacks.defaults, provider, family);
    if (fallback) {
      // A published, dated discount beats the on-demand price, which would make spot savings read zero; it is
      // still a stand-in for a price that moves, hence the estimate flag.
      return {
        ...base,
        total: base.total - percentOf(base.total, fallback.percent),
        estimated: true,
        detail: `${base.detail}; default ${kind} discount ${fallback.percent}% for ${provider ?? ''}${fallback.instanceFamily ? ` ${fallback.instanceFamily}` : ''} (estimate, read ${fallback.read})`,
      };
    }
    // Without a configured or default discount the on-demand price is the honest upper bound.
    return {
      ...base,
      estimated: true,
      detail: `${base.detail}; no ${kind} discount configured, on-demand price used`,
    };
  }
  const total = base.total - percentOf(base.total, discount.percent);
  return { ...base, total, detail: `${base.detail}; ${kind} discount ${discount.percent}%` };
}

function mostSpecificDiscount(
  discounts: CapacityPricing['discounts'],
  provider: CloudProvider | undefined,
  family: string | undefined,
  instanceType: string | undefined,
  region: string | undefined,
): CapacityPricing['discounts'][number] | undefined {
  let best: CapacityPricing['discounts'][number] | undefined;
  let bestScore = -1;
  for (const d of discounts) {
    if (d.provider !== undefined && d.provider !== provider) continue;
    if (d.instanceFamily !== undefined && d.instanceFamily !== family) continue;
    if (d.instanceType !== undefined && d.instanceType !== instanceType) continue;
    if (d.region !== undefined && d.region !== region) continue;
    // Instance type beats family beats provider; region refines any of them.
    const score =
      (d.instanceType !== undefined ? 8 : 0) +
      (d.instanceFamily !== undefined ? 4 : 0) +
      (d.provider !== undefined ? 2 : 0) +
      (d.region !== undefined ? 1 : 0);
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}
