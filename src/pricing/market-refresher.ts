/**
 * Refreshes market prices from the price clients on an interval. As Karpenter's pricing provider does, each
 * client's last good answer is kept when a refresh of it fails (the cloud is unreachable, the answer is
 * malformed or empty), and the failure is logged and returned; a client that never answered contributes
 * nothing, so pricing falls back to the pricing file, the catalog and the default spot discounts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import {
  marketPrices,
  NO_MARKET_PRICES,
  type MarketPrice,
  type MarketPrices,
  type MarketSnapshot,
} from './market-table.ts';

export interface MarketClient {
  /** Names the client in logs and price details, e.g. "azure-retail-prices eastus". */
  readonly name: string;
  fetchPrices(signal: AbortSignal): Promise<readonly MarketPrice[]>;
}

export interface MarketRefresher {
  /** A property, not a method: the composition root hands it to pricing as a getter. */
  readonly current: () => MarketPrices;
  /** Refreshes every client once; resolves with the failures (an empty list when all succeeded). */
  refresh(): Promise<Error[]>;
  /** Refreshes now and then every interval until stop(). */
  start(): void;
  stop(): void;
}

export interface MarketRefresherOptions {
  readonly clients: readonly MarketClient[];
  readonly intervalMs: number;
  /** Deadline of one client's refresh, all its pages included. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export function createMarketRefresher(options: MarketRefresherOptions): MarketRefresher {
  const { clients, intervalMs, timeoutMs, clock, log } = options;
  const snapshots = new Map<string, MarketSnapshot>();
  let prices: MarketPrices = NO_MARKET_PRICES;
  let version = 0;
  let timer: unknown;
  let stopped = true;
  const stopping = new AbortController();

  async function refreshOne(client: MarketClient): Promise<Error | undefined> {
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const fetched = await client.fetchPrices(signal);
      // An empty answer would erase every price the last one gave: a filter gone wrong, not a market.
      if (fetched.length === 0) throw new Error('the answer held no prices');
      snapshots.set(client.name, { client: client.name, readAt: new Date(clock.now()).toISOString(), prices: fetched });
      log.info({ client: client.name, prices: fetched.length }, 'refreshed market prices');
      return undefined;
    } catch (cause) {
      const error = new Error(`price refresh from ${client.name} failed; keeping the last good prices`, { cause });
      log.error({ client: client.name, err: (cause as Error).message }, error.message);
      return error;
    }
  }

  async function refresh(): Promise<Error[]> {
    const results = await Promise.all(clients.map(refreshOne));
    const failures = results.filter((e): e is Error => e !== undefined);
    if (failures.length < clients.length) {
      version += 1;
      prices = marketPrices([...snapshots.values()], version);
    }
    return failures;
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      void refresh().finally(schedule);
    }, intervalMs);
  }

  return {
    current: () => prices,
    refresh,
    start() {
      if (!stopped) return;
      stopped = false;
      void refresh().finally(schedule);
    },
    stop() {
      stopped = true;
      stopping.abort();
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
