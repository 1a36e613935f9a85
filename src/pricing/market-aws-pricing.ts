/**
 * AWS Price List Query API, GetProducts (JSON 1.1 protocol, signed with SigV4 for the service "pricing" in
 * us-east-1, where the API is served): the on-demand Linux price of the given instance types in one region.
 * Filters narrow the answer to shared-tenancy Linux without pre-installed software, the capacity status "Used"
 * (the price of a running instance); pages follow NextToken. Each PriceList entry is itself a JSON document,
 * whose OnDemand term carries the hourly price as a decimal string in USD.
 */
import { z } from 'zod';
import { sha256Hex, signV4 } from '../ledger/sigv4.ts';
import type { AwsSpotClientOptions } from './market-aws-spot.ts';
import { fetchText, HttpAnswerError, parseJsonKeepingNumbers } from './market-http.ts';
import type { MarketClient } from './market-refresher.ts';
import { MarketAnswerError, parseUsd, type MarketPrice } from './market-table.ts';

export const AWS_PRICING_URL = 'https://api.pricing.us-east-1.amazonaws.com/';
const PRICING_REGION = 'us-east-1';
const MAX_PAGES = 50;

/** The same as the spot client's: a region, the instance types, the credentials and the signing clock. */
export type AwsPricingClientOptions = AwsSpotClientOptions;

const answer = z.object({
  FormatVersion: z.literal('aws_v1'),
  PriceList: z.array(z.string()),
  NextToken: z.string().nullish(),
});

const dimension = z.object({ unit: z.string(), pricePerUnit: z.record(z.string(), z.string()) });
const product = z.object({
  product: z.object({
    attributes: z.object({ instanceType: z.string(), regionCode: z.string(), operatingSystem: z.string() }),
  }),
  terms: z.object({
    OnDemand: z.record(z.string(), z.object({ priceDimensions: z.record(z.string(), dimension) })),
  }),
});

export function pricingFilters(region: string, instanceTypes: readonly string[]) {
  const match = (Field: string, Value: string) => ({ Type: 'TERM_MATCH', Field, Value });
  return [
    match('regionCode', region),
    match('operatingSystem', 'Linux'),
    match('tenancy', 'Shared'),
    match('preInstalledSw', 'NA'),
    match('capacitystatus', 'Used'),
    match('licenseModel', 'No License required'),
    { Type: 'ANY_OF', Field: 'instanceType', Value: instanceTypes.join(',') },
  ];
}

export function awsPriceListClient(options: AwsPricingClientOptions): MarketClient {
  const endpoint = new URL(options.endpoint ?? AWS_PRICING_URL);
  const name = `aws-price-list ${options.region}`;
  return {
    name,
    async fetchPrices(signal) {
      const prices = new Map<string, MarketPrice>();
      let token: string | undefined;
      for (let n = 1; n === 1 || token !== undefined; n++) {
        if (n > MAX_PAGES) throw new MarketAnswerError(`${name}: more than ${MAX_PAGES} pages`);
        const what = `${name} page ${n}`;
        const body = JSON.stringify({
          ServiceCode: 'AmazonEC2',
          FormatVersion: 'aws_v1',
          Filters: pricingFilters(options.region, options.instanceTypes),
          MaxResults: 100,
          ...(token !== undefined ? { NextToken: token } : {}),
        });
        const headers = {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSPriceListService.GetProducts',
        };
        const signed = signV4({
          method: 'POST',
          host: endpoint.host,
          path: endpoint.pathname,
          query: [],
          headers,
          payloadHash: sha256Hex(body),
          region: PRICING_REGION,
          service: 'pricing',
          credentials: options.credentials,
          now: options.now(),
        });
        let text: string;
        try {
          text = await fetchText(endpoint, { method: 'POST', headers: { ...headers, ...signed }, body, signal }, what);
        } catch (error) {
          if (!(error instanceof HttpAnswerError)) throw error;
          // JSON 1.1 errors: {"__type": "...#ThrottlingException", "message": "..."}
          const parsed = z
            .object({ __type: z.string(), message: z.string().optional() })
            .safeParse(safeJson(error.body));
          if (!parsed.success) throw error;
          throw new Error(`${what}: HTTP ${error.status}, ${parsed.data.__type}: ${parsed.data.message ?? ''}`, {
            cause: error,
          });
        }
        const page = answer.safeParse(parseJsonKeepingNumbers(text, what));
        if (!page.success) {
          throw new MarketAnswerError(`${what}: not a GetProducts answer: ${z.prettifyError(page.error)}`);
        }
        page.data.PriceList.forEach((entry, i) => {
          const price = onDemandPrice(entry, `${what} entry ${i + 1}`);
          prices.set(`${price.instanceType} ${price.region}`, price);
        });
        token = page.data.NextToken ?? undefined;
      }
      return [...prices.values()];
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The one hourly USD price of a product's OnDemand term; anything else is a malformed answer. */
export function onDemandPrice(entry: string, what: string): MarketPrice {
  const parsed = product.safeParse(parseJsonKeepingNumbers(entry, what));
  if (!parsed.success)
    throw new MarketAnswerError(`${what}: not a price list product: ${z.prettifyError(parsed.error)}`);
  const { attributes } = parsed.data.product;
  const hourly = Object.values(parsed.data.terms.OnDemand)
    .flatMap((term) => Object.values(term.priceDimensions))
    .filter((d) => d.unit === 'Hrs' && d.pricePerUnit.USD !== undefined);
  const usd = hourly[0]?.pricePerUnit.USD;
  if (hourly.length !== 1 || usd === undefined) {
    throw new MarketAnswerError(
      `${what}: ${attributes.instanceType} has ${hourly.length} hourly USD prices in its OnDemand term, expected one`,
    );
  }
  return {
    provider: 'aws',
    instanceType: attributes.instanceType,
    region: attributes.regionCode,
    capacity: 'on-demand',
    usdPerHour: parseUsd(usd, `${what} ${attributes.instanceType}`),
  };
}
