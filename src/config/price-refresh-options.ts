/**
 * The options of the market price refresh (src/pricing/market-refresher.ts): off by default, since the operator
 * must not call out to the clouds unless asked. Which sources, for which regions, how often; AWS sources sign
 * with the AWS_* credentials, read here once like the ledger's.
 */
import { z } from 'zod';
import { awsCredentialsFromEnv } from '../ledger/s3-settings.ts';
import type { Credentials } from '../ledger/sigv4.ts';
import { duration, quote } from './option-schemas.ts';

export const PRICE_SOURCES = ['azure-retail', 'aws-spot', 'aws-price-list'] as const;
export type PriceSourceName = (typeof PRICE_SOURCES)[number];

const REGION = /^[a-z][a-z0-9-]{1,40}$/;

/** Comma-separated words, each checked; '' is the empty list. */
const list = <T extends string>(check: (word: string) => word is T, what: string) =>
  z.string().transform((value, ctx) => {
    const words = value
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean);
    for (const bad of words.filter((w) => !check(w)))
      ctx.addIssue({ code: 'custom', message: `${quote(bad)} ${what}` });
    return words as T[];
  });

const isSource = (w: string): w is PriceSourceName => (PRICE_SOURCES as readonly string[]).includes(w);
const isRegion = (w: string): w is string => REGION.test(w);

export const PRICE_REFRESH_OPTIONS = {
  'price-refresh': {
    help: `refresh prices from the clouds: a comma-separated list of ${PRICE_SOURCES.join(', ')} (empty: off, the default)`,
    env: 'AICOST_PRICE_REFRESH',
    default: '',
    schema: list(isSource, `is not a price source (${PRICE_SOURCES.join(', ')})`),
  },
  'price-refresh-regions': {
    help: 'regions whose prices are refreshed, comma-separated, e.g. us-east-1,eastus (each source asks for the regions of its cloud)',
    env: 'AICOST_PRICE_REFRESH_REGIONS',
    default: '',
    schema: list(isRegion, 'is not a region name such as us-east-1 or eastus'),
  },
  'price-refresh-interval': {
    help: 'time between two price refreshes, 5m to 24h',
    env: 'AICOST_PRICE_REFRESH_INTERVAL',
    default: '1h',
    schema: duration(300_000, 86_400_000),
  },
} as const;

export interface PriceRefreshConfig {
  readonly sources: readonly PriceSourceName[];
  readonly regions: readonly string[];
  readonly intervalMs: number;
  /** Set when an AWS source is on. */
  readonly awsCredentials: Credentials | undefined;
}

interface Parsed {
  readonly 'price-refresh': PriceSourceName[];
  readonly 'price-refresh-regions': string[];
  readonly 'price-refresh-interval': number;
}

/** The problems between the options, each naming the option to change. */
export function priceRefreshChecks(
  p: Parsed,
  origin: Readonly<Record<keyof Parsed, string>>,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  if (p['price-refresh'].length === 0) return [];
  const problems: string[] = [];
  if (p['price-refresh-regions'].length === 0)
    problems.push(`${origin['price-refresh-regions']}: ${origin['price-refresh']} needs the regions to refresh`);
  if (p['price-refresh'].some((s) => s.startsWith('aws-'))) {
    try {
      awsCredentialsFromEnv(env, 'price refresh from AWS');
    } catch (error) {
      problems.push(`${origin['price-refresh']}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Undefined when the refresh is off; call after priceRefreshChecks found nothing. */
export function priceRefreshConfig(
  p: Parsed,
  env: Readonly<Record<string, string | undefined>>,
): PriceRefreshConfig | undefined {
  const sources = p['price-refresh'];
  if (sources.length === 0) return undefined;
  return Object.freeze({
    sources: Object.freeze([...new Set(sources)]),
    regions: Object.freeze([...new Set(p['price-refresh-regions'])]),
    intervalMs: p['price-refresh-interval'],
    awsCredentials: sources.some((s) => s.startsWith('aws-'))
      ? Object.freeze(awsCredentialsFromEnv(env, 'price refresh from AWS'))
      : undefined,
  });
}
