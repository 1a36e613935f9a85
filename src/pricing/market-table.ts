/**
 * Prices read from the clouds' own price sources (src/pricing/market-*.ts): on-demand and spot prices per
 * instance type and region (and zone, for AWS spot), in USD, stamped with the time they were read. Exact
 * decimals: the answers' price text is converted to nano-units without passing through a binary float.
 */
import type { Nanos } from '../cost/money.ts';
import type { CloudProvider } from './capacity-type.ts';

export type MarketCapacity = 'on-demand' | 'spot';

export interface MarketPrice {
  readonly provider: CloudProvider;
  readonly instanceType: string;
  readonly region: string;
  /** AWS spot prices are per availability zone; undefined for a region-wide price. */
  readonly zone?: string | undefined;
  readonly capacity: MarketCapacity;
  readonly usdPerHour: Nanos;
}

export interface MarketQuote {
  readonly usdPerHour: Nanos;
  /** Which client read it and when, for the price's detail. */
  readonly source: string;
  /** False when the node's zone had no price of its own and the region's highest stood in for it. */
  readonly exact: boolean;
}

/** One client's last good answer. */
export interface MarketSnapshot {
  readonly client: string;
  /** ISO time of the read. */
  readonly readAt: string;
  readonly prices: readonly MarketPrice[];
}

export interface MarketPrices {
  /** Changes whenever a refresh replaced a snapshot: pricing rebuilds its tables on a new version only. */
  readonly version: number;
  quote(
    instanceType: string,
    region: string | undefined,
    zone: string | undefined,
    capacity: MarketCapacity,
  ): MarketQuote | undefined;
}

export const NO_MARKET_PRICES: MarketPrices = { version: 0, quote: () => undefined };

export class MarketAnswerError extends Error {
  override readonly name = 'MarketAnswerError';
}

const DECIMAL = /^(\d{1,15})(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?$/;

/**
 * A non-negative decimal (as the clouds write prices: "1.0060000000", "0.176346", "5E-05") in nano-units,
 * rounded half up past the ninth decimal. Throws MarketAnswerError on anything else.
 */
export function parseUsd(text: string, what: string): Nanos {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new MarketAnswerError(`${what}: "${text}" is not a decimal price`);
  const [, whole = '0', fraction = '', exponentText = '0'] = match;
  const digits = BigInt(whole + fraction);
  // value = digits × 10^(exponent − fraction length); nanos = value × 10^9.
  const shift = Number(exponentText) - fraction.length + 9;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return (digits * 2n + divisor) / (divisor * 2n);
}

/** Quotes from the snapshots, newest snapshot per client; a later client's price does not hide an earlier's. */
export function marketPrices(snapshots: readonly MarketSnapshot[], version: number): MarketPrices {
  const byKey = new Map<string, { price: MarketPrice; source: string }[]>();
  for (const snapshot of snapshots) {
    const source = `${snapshot.client} read ${snapshot.readAt}`;
    for (const price of snapshot.prices) {
      const key = `${price.capacity} ${price.instanceType} ${price.region}`;
      const list = byKey.get(key) ?? [];
      list.push({ price, source });
      byKey.set(key, list);
    }
  }
  return {
    version,
    quote(instanceType, region, zone, capacity) {
      if (region === undefined) return undefined;
      const list = byKey.get(`${capacity} ${instanceType} ${region}`);
      if (!list || list.length === 0) return undefined;
      const inZone = zone === undefined ? undefined : list.find((e) => e.price.zone === zone);
      if (inZone) return { usdPerHour: inZone.price.usdPerHour, source: inZone.source, exact: true };
      const regionWide = list.find((e) => e.price.zone === undefined);
      if (regionWide) return { usdPerHour: regionWide.price.usdPerHour, source: regionWide.source, exact: true };
      // Another zone's spot price: the highest of the region, so a saving is never overstated.
      let highest = list[0];
      for (const e of list) if (highest === undefined || e.price.usdPerHour > highest.price.usdPerHour) highest = e;
      return highest && { usdPerHour: highest.price.usdPerHour, source: highest.source, exact: false };
    },
  };
}
