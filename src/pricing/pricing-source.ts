/**
 * Holds the current pricing provider and refreshes it from the pricing file (a mounted ConfigMap changes
 * in place). Like Karpenter's pricing provider, a refresh that fails keeps the last good table and reports
 * the error; only the very first load may fail the start-up. Prices refreshed from the clouds, when enabled,
 * come from `market` (src/pricing/market-refresher.ts): the provider is rebuilt when their version changes.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DEFAULT_CUSTOM_PRICING, parseCustomPricing, type CustomPricing } from './custom-pricing.ts';
import { NO_MARKET_PRICES, type MarketPrices } from './market-table.ts';
import { createPricingProvider, type PricingProvider } from './provider.ts';

export interface PricingSource {
  current(): PricingProvider;
  /** Re-reads the file if it changed; returns the error of a failed refresh, if any. */
  refresh(): Promise<Error | undefined>;
}

export async function createPricingSource(
  path: string | undefined,
  currencyOverride: string | undefined,
  log: Logger,
  market: () => MarketPrices = () => NO_MARKET_PRICES,
): Promise<PricingSource> {
  const build = (custom: CustomPricing) =>
    createPricingProvider(
      currencyOverride ? { ...custom, currency: currencyOverride } : custom,
      undefined,
      undefined,
      undefined,
      market(),
    );
  // Pricing runs for every node every cycle: the provider is rebuilt only when the file or the market changed.
  let built = { custom: DEFAULT_CUSTOM_PRICING, version: market().version, provider: build(DEFAULT_CUSTOM_PRICING) };
  const provider = (custom: CustomPricing) => {
    const version = market().version;
    if (built.custom !== custom || built.version !== version) built = { custom, version, provider: build(custom) };
    return built.provider;
  };
  if (path === undefined) {
    return { current: () => provider(DEFAULT_CUSTOM_PRICING), refresh: () => Promise.resolve(undefined) };
  }
  // The file is small: its text is the change detector.
  const load = (text: string) => ({ text, custom: parseCustomPricing(text, path) });
  // A broken file at start-up is a configuration error: fail fast.
  let state = load(await readFile(path, 'utf8'));
  log.info({ path, currency: provider(state.custom).currency }, 'loaded the pricing file');
  return {
    current: () => provider(state.custom),
    async refresh() {
      try {
        const text = await readFile(path, 'utf8');
        if (text !== state.text) {
          state = load(text);
          log.info({ path }, 'reloaded the pricing file');
        }
        return undefined;
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        log.error({ err: error.message, path }, 'pricing file refresh failed; keeping the last good prices');
        return error;
      }
    },
  };
}
