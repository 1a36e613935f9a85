/**
 * The price clients the configuration asks for: each source for each configured region of its cloud, asking
 * for the instance types of the built-in catalog (the GPU types the operator knows), so a refresh reads a few
 * pages rather than a cloud's whole price list.
 */
import type { Logger } from 'pino';
import type { PriceRefreshConfig } from '../config/price-refresh-options.ts';
import type { Clock } from '../controller/clock.ts';
import type { CloudProvider } from './capacity-type.ts';
import { awsPriceListClient } from './market-aws-pricing.ts';
import { awsSpotPriceClient } from './market-aws-spot.ts';
import { azureRetailPricesClient } from './market-azure.ts';
import { createMarketRefresher, type MarketClient, type MarketRefresher } from './market-refresher.ts';
import { ON_DEMAND_CATALOG, type CatalogEntry } from './on-demand-catalog.ts';

/** AWS regions read like us-east-1 or us-gov-west-1; Azure's like eastus or westeurope, without dashes. */
export const cloudOfRegion = (region: string): CloudProvider | undefined =>
  /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/.test(region) ? 'aws' : /^[a-z]+\d*$/.test(region) ? 'azure' : undefined;

export function marketClients(
  config: PriceRefreshConfig,
  now: () => Date,
  catalog: readonly CatalogEntry[] = ON_DEMAND_CATALOG,
): MarketClient[] {
  const typesOf = (provider: CloudProvider) =>
    catalog.filter((e) => e.provider === provider).map((e) => e.instanceType);
  const clients: MarketClient[] = [];
  for (const region of config.regions) {
    const cloud = cloudOfRegion(region);
    for (const source of config.sources) {
      if (source === 'azure-retail' && cloud === 'azure') {
        clients.push(azureRetailPricesClient({ region, instanceTypes: typesOf('azure') }));
      }
      const credentials = config.awsCredentials;
      if (cloud !== 'aws' || credentials === undefined) continue;
      const options = { region, instanceTypes: typesOf('aws'), credentials, now };
      if (source === 'aws-spot') clients.push(awsSpotPriceClient(options));
      if (source === 'aws-price-list') clients.push(awsPriceListClient(options));
    }
  }
  return clients;
}

/** Deadline of one client's refresh, its pages included: generous, as a refresh runs apart from accounting. */
const REFRESH_TIMEOUT_MS = 120_000;

/** The refresher of the composition root, over the clients the configuration names. */
export function marketRefresherFor(config: PriceRefreshConfig, clock: Clock, log: Logger): MarketRefresher {
  return createMarketRefresher({
    clients: marketClients(config, () => new Date(clock.now())),
    intervalMs: config.intervalMs,
    timeoutMs: REFRESH_TIMEOUT_MS,
    clock,
    log,
  });
}
