/**
 * Azure Retail Prices API (https://learn.microsoft.com/en-us/rest/api/cost-management/retail-prices/azure-retail-prices):
 * public, no credentials. One OData filter asks for the Linux pay-as-you-go and Spot meters of the given VM sizes
 * in one region; answers come in pages of up to 1,000 items, each naming the next in NextPageLink until it is
 * null. Windows and Low Priority meters are left out; a size's Spot meter has a skuName ending in " Spot".
 */
import { z } from 'zod';
import { fetchText, parseJsonKeepingNumbers } from './market-http.ts';
import type { MarketClient } from './market-refresher.ts';
import { MarketAnswerError, parseUsd, type MarketPrice } from './market-table.ts';

export const AZURE_RETAIL_PRICES_URL = 'https://prices.azure.com/api/retail/prices';
/** A runaway NextPageLink chain stops here: a region's GPU sizes take a few pages. */
const MAX_PAGES = 50;

const item = z.object({
  currencyCode: z.string(),
  retailPrice: z.string(),
  armRegionName: z.string(),
  armSkuName: z.string(),
  skuName: z.string(),
  productName: z.string(),
  serviceName: z.string(),
  unitOfMeasure: z.string(),
  type: z.string(),
  effectiveStartDate: z.string(),
});
const page = z.object({
  Items: z.array(item),
  NextPageLink: z.string().nullable(),
  Count: z.string().optional(),
});

export interface AzureClientOptions {
  readonly region: string;
  /** ARM SKU names, e.g. Standard_NC24ads_A100_v4. */
  readonly instanceTypes: readonly string[];
  /** The API's URL; tests point it at a local server. */
  readonly endpoint?: string;
}

const quoteOData = (text: string) => `'${text.replaceAll("'", "''")}'`;

export function azureFilter(region: string, instanceTypes: readonly string[]): string {
  const skus = instanceTypes.map((t) => `armSkuName eq ${quoteOData(t)}`).join(' or ');
  return `serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and armRegionName eq ${quoteOData(region)} and (${skus})`;
}

export function azureRetailPricesClient(options: AzureClientOptions): MarketClient {
  const endpoint = new URL(options.endpoint ?? AZURE_RETAIL_PRICES_URL);
  const name = `azure-retail-prices ${options.region}`;
  return {
    name,
    async fetchPrices(signal) {
      let url: URL | undefined = new URL(endpoint);
      url.searchParams.set('$filter', azureFilter(options.region, options.instanceTypes));
      const newest = new Map<string, { price: MarketPrice; since: string }>();
      for (let n = 1; url !== undefined; n++) {
        if (n > MAX_PAGES) throw new MarketAnswerError(`${name}: more than ${MAX_PAGES} pages`);
        const what = `${name} page ${n}`;
        const parsed = page.safeParse(parseJsonKeepingNumbers(await fetchText(url, { signal }, what), what));
        if (!parsed.success) {
          throw new MarketAnswerError(`${what}: not a Retail Prices answer: ${z.prettifyError(parsed.error)}`);
        }
        for (const entry of parsed.data.Items) {
          const price = toPrice(entry, what);
          if (!price) continue;
          const key = `${price.capacity} ${price.instanceType}`;
          const seen = newest.get(key);
          // A meter can list its former price too: the latest effective one is the price now.
          if (!seen || entry.effectiveStartDate > seen.since)
            newest.set(key, { price, since: entry.effectiveStartDate });
        }
        url = nextPage(parsed.data.NextPageLink, endpoint, what);
      }
      return [...newest.values()].map((e) => e.price);
    },
  };
}

function toPrice(entry: z.infer<typeof item>, what: string): MarketPrice | undefined {
  if (entry.productName.includes('Windows') || entry.skuName.endsWith('Low Priority')) return undefined;
  if (entry.unitOfMeasure !== '1 Hour' || entry.type !== 'Consumption') return undefined;
  if (entry.currencyCode !== 'USD') {
    throw new MarketAnswerError(`${what}: price of ${entry.armSkuName} in ${entry.currencyCode}, expected USD`);
  }
  return {
    provider: 'azure',
    instanceType: entry.armSkuName,
    region: entry.armRegionName,
    capacity: entry.skuName.endsWith(' Spot') ? 'spot' : 'on-demand',
    usdPerHour: parseUsd(entry.retailPrice, `${what} ${entry.armSkuName}`),
  };
}

/** The next page, only on the API's own origin: a link elsewhere is not followed with the operator's network. */
function nextPage(link: string | null, endpoint: URL, what: string): URL | undefined {
  if (link === null || link === '') return undefined;
  const next = new URL(link, endpoint);
  if (next.host !== endpoint.host || next.protocol !== endpoint.protocol) {
    throw new MarketAnswerError(`${what}: NextPageLink leaves ${endpoint.origin}: ${next.origin}`);
  }
  return next;
}
