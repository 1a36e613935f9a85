import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../controller/clock.ts';
import { formatMoney, parseMoney } from '../cost/money.ts';
import { createMarketRefresher, type MarketClient } from './market-refresher.ts';
import { marketPrices, parseUsd, type MarketPrice } from './market-table.ts';
import { parseCustomPricing } from './custom-pricing.ts';
import { createPricingProvider, type NodePriceInput } from './provider.ts';

const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-12-02T01:00:00Z');

/** A clock whose timers run only when the test advances it. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = T0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t !== handle);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

const price = (instanceType: string, usd: string, capacity: 'on-demand' | 'spot', zone?: string): MarketPrice => ({
  provider: 'aws',
  instanceType,
  region: 'us-east-1',
  zone,
  capacity,
  usdPerHour: parseMoney(usd),
});

/** A client that answers from a script: a price list, or an error to throw. */
function scripted(name: string, answers: (readonly MarketPrice[] | Error)[]): MarketClient & { calls: number } {
  const client = {
    name,
    calls: 0,
    fetchPrices() {
      const answer = answers[Math.min(client.calls, answers.length - 1)];
      client.calls += 1;
      return answer instanceof Error || answer === undefined
        ? Promise.reject(answer ?? new Error('no answer'))
        : Promise.resolve(answer);
    },
  };
  return client;
}

const g5Spot: NodePriceInput = {
  name: 'n',
  labels: {
    'node.kubernetes.io/instance-type': 'g5.xlarge',
    'topology.kubernetes.io/region': 'us-east-1',
    'topology.kubernetes.io/zone': 'us-east-1b',
    'karpenter.sh/capacity-type': 'spot',
  },
  gpuCount: 1,
  vcpu: 4,
  memoryGiB: 16,
};
const quoteOf = (r: { current(): ReturnType<typeof marketPrices> }, capacity: 'on-demand' | 'spot') => {
  const q = r.current().quote('g5.xlarge', 'us-east-1', 'us-east-1b', capacity);
  return q && formatMoney(q.usdPerHour, 9);
};

describe('market refresher', () => {
  it('keeps the last good table when a refresh fails, and reports the failure', async () => {
    const spot = scripted('spot', [
      [price('g5.xlarge', '0.40', 'spot', 'us-east-1b')],
      new Error('connection refused'),
    ]);
    const refresher = createMarketRefresher({
      clients: [spot],
      intervalMs: 3_600_000,
      timeoutMs: 1000,
      clock: fakeClock(),
      log,
    });
    expect(await refresher.refresh()).toEqual([]);
    const version = refresher.current().version;
    expect(quoteOf(refresher, 'spot')).toBe('0.400000000');
    const failures = await refresher.refresh();
    expect(failures.map((e) => e.message)).toEqual(['price refresh from spot failed; keeping the last good prices']);
    expect((failures[0]?.cause as Error).message).toBe('connection refused');
    expect(quoteOf(refresher, 'spot')).toBe('0.400000000');
    expect(refresher.current().version).toBe(version);
  });

  it('treats an empty answer as a failure rather than erasing the prices', async () => {
    const spot = scripted('spot', [[price('g5.xlarge', '0.40', 'spot', 'us-east-1b')], []]);
    const refresher = createMarketRefresher({
      clients: [spot],
      intervalMs: 1000,
      timeoutMs: 1000,
      clock: fakeClock(),
      log,
    });
    await refresher.refresh();
    const [failure] = await refresher.refresh();
    expect((failure?.cause as Error).message).toBe('the answer held no prices');
    expect(quoteOf(refresher, 'spot')).toBe('0.400000000');
  });

  it('replaces one client while another keeps its last good answer', async () => {
    const od = scripted('od', [[price('g5.xlarge', '1.006', 'on-demand')], new Error('throttled')]);
    const spot = scripted('spot', [
      [price('g5.xlarge', '0.40', 'spot', 'us-east-1b')],
      [price('g5.xlarge', '0.35', 'spot', 'us-east-1b')],
    ]);
    const refresher = createMarketRefresher({
      clients: [od, spot],
      intervalMs: 1000,
      timeoutMs: 1000,
      clock: fakeClock(),
      log,
    });
    await refresher.refresh();
    expect(await refresher.refresh()).toHaveLength(1);
    expect(quoteOf(refresher, 'on-demand')).toBe('1.006000000');
    expect(quoteOf(refresher, 'spot')).toBe('0.350000000');
  });

  it('refreshes at start and then every interval until stopped', async () => {
    const clock = fakeClock();
    const spot = scripted('spot', [[price('g5.xlarge', '0.40', 'spot', 'us-east-1b')]]);
    const refresher = createMarketRefresher({ clients: [spot], intervalMs: 60_000, timeoutMs: 1000, clock, log });
    refresher.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(spot.calls).toBe(1);
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(spot.calls).toBe(2);
    refresher.stop();
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(spot.calls).toBe(2);
  });
});

describe('market prices in the pricing provider', () => {
  const market = marketPrices(
    [
      {
        client: 'aws-spot-price-history us-east-1',
        readAt: '2026-12-02T01:00:00.000Z',
        prices: [
          price('g5.xlarge', '0.3981', 'spot', 'us-east-1b'),
          price('g5.xlarge', '0.4127', 'spot', 'us-east-1a'),
          price('g5.xlarge', '1.010', 'on-demand'),
        ],
      },
    ],
    1,
  );
  const provider = (yaml?: string) =>
    createPricingProvider(
      yaml === undefined ? undefined : parseCustomPricing(yaml),
      undefined,
      undefined,
      undefined,
      market,
    );

  it.each([
    ['the spot price of the node zone, not an estimate', g5Spot, '0.398100000', false, 'market'],
    [
      'the highest spot price of the region for another zone, an estimate',
      { ...g5Spot, labels: { ...g5Spot.labels, 'topology.kubernetes.io/zone': 'us-east-1f' } },
      '0.412700000',
      true,
      'market',
    ],
    [
      'the market on-demand price for an on-demand node',
      { ...g5Spot, labels: { ...g5Spot.labels, 'karpenter.sh/capacity-type': 'on-demand' } },
      '1.010000000',
      false,
      'market',
    ],
  ] as const)('%s', (_name, node, total, estimated, source) => {
    const p = provider().priceNode(node);
    if (!p.priced) throw new Error(p.reason);
    expect(formatMoney(p.perHour.total, 9)).toBe(total);
    expect(p.estimated).toBe(estimated);
    expect(p.source).toBe(source);
  });

  it.each([
    ['a configured spot discount', 'spot: { discounts: [{ provider: aws, percent: "70" }] }', '0.303000000'],
    ['an explicit spot price', 'spot: { prices: [{ instanceType: g5.xlarge, pricePerHour: "0.41" }] }', '0.410000000'],
    [
      'a custom instance type price (then the market spot price)',
      'instanceTypes: [{ instanceType: g5.xlarge, pricePerHour: "0.9" }]',
      '0.398100000',
    ],
  ])('the pricing file wins: %s', (_name, yaml, total) => {
    const p = provider(yaml).priceNode(g5Spot);
    if (!p.priced) throw new Error(p.reason);
    expect(formatMoney(p.perHour.total, 9)).toBe(total);
  });
});

describe('parseUsd', () => {
  it.each([
    ['1.0060000000', '1.006000000'],
    ['0.176346', '0.176346000'],
    ['5E-05', '0.000050000'],
    ['1.5e2', '150.000000000'],
    ['0.0000000015', '0.000000002'],
    ['21.957642', '21.957642000'],
  ])('%s', (text, nanos) => {
    expect(formatMoney(parseUsd(text, 'x'), 9)).toBe(nanos);
  });

  it.each(['-1', 'NaN', '', '1,5', '0x10'])('rejects %j', (text) => {
    expect(() => parseUsd(text, 'price of g5.xlarge')).toThrow(/price of g5\.xlarge: ".*" is not a decimal price/);
  });
});
