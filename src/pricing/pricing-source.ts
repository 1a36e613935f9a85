/**
 * Holds the current pricing provider and refreshes it from the pricing file (a mounted ConfigMap changes
 * in place). Like Karpenter's pricing provider, a refresh that fails keeps the last good table and reports
 * the error; only the very first load may fail the start-up.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DEFAULT_CUSTOM_PRICING, parseCustomPricing, type CustomPricing } from './custom-pricing.ts';
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
): Promise<PricingSource> {
  const build = (custom: CustomPricing) =>
    createPricingProvider(currencyOverride ? { ...custom, currency: currencyOverride } : custom);
  if (path === undefined) {
    const fixed = build(DEFAULT_CUSTOM_PRICING);
    return { current: () => fixed, refresh: () => Promise.resolve(undefined) };
  }
  // The file is small: its text is the change detector.
  const load = (text: string) => ({ text, provider: build(parseCustomPricing(text, path)) });
  // A broken file at start-up is a configuration error: fail fast.
  let state = load(await readFile(path, 'utf8'));
  log.info({ path, currency: state.provider.currency }, 'loaded the pricing file');
  return {
    current: () => state.provider,
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
