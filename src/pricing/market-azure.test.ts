import { afterEach, describe, expect, it } from 'vitest';
import { fixture, priceRows, recordedServer, type RecordedServer } from '../testing/recorded-http.ts';
import { azureFilter, azureRetailPricesClient } from './market-azure.ts';

const PATH = '/api/retail/prices';
let server: RecordedServer | undefined;
afterEach(() => server?.close());
const rows = priceRows;

const client = (base: string) =>
  azureRetailPricesClient({
    region: 'eastus',
    instanceTypes: ['Standard_NC24ads_A100_v4', 'Standard_ND96asr_v4'],
    endpoint: `${base}${PATH}`,
  });

describe('Azure Retail Prices client', () => {
  it('follows NextPageLink and keeps Linux pay-as-you-go and the newest Spot meter, exactly', async () => {
    server = await recordedServer((req, n, base) => ({
      body: fixture(n === 1 ? 'azure-retail-prices-page-1.json' : 'azure-retail-prices-page-2.json', `${base}${PATH}`),
    }));
    const prices = await client(server.base).fetchPrices(AbortSignal.timeout(5000));
    expect(rows(prices)).toEqual([
      ['Standard_NC24ads_A100_v4', 'eastus', 'on-demand', '3.673000000'],
      ['Standard_NC24ads_A100_v4', 'eastus', 'spot', '0.734600000'],
      ['Standard_ND96asr_v4', 'eastus', 'on-demand', '27.197000000'],
      ['Standard_ND96asr_v4', 'eastus', 'spot', '5.439400000'],
    ]);
    expect(server.requests).toHaveLength(2);
    const first = server.requests[0];
    expect(first?.url.pathname).toBe(PATH);
    expect(first?.url.searchParams.get('$filter')).toBe(
      "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and armRegionName eq 'eastus' and " +
        "(armSkuName eq 'Standard_NC24ads_A100_v4' or armSkuName eq 'Standard_ND96asr_v4')",
    );
    expect(server.requests[1]?.url.searchParams.get('$skip')).toBe('1000');
  });

  it('quotes OData strings', () => {
    expect(azureFilter("x'y", ['a'])).toContain("armRegionName eq 'x''y'");
  });

  it.each([
    [
      'a malformed item',
      () => ({ body: fixture('azure-retail-prices-malformed.json') }),
      /page 1: not a Retail Prices answer[\s\S]*retailPrice/,
    ],
    ['a body that is not JSON', () => ({ body: '<html>maintenance</html>' }), /page 1: the answer is not JSON/],
    ['an HTTP error', () => ({ status: 503, body: '{"error":"busy"}' }), /page 1: HTTP 503/],
  ] as const)('rejects %s with a clear error', async (_name, reply, message) => {
    server = await recordedServer(reply);
    await expect(client(server.base).fetchPrices(AbortSignal.timeout(5000))).rejects.toThrow(message);
  });

  it('does not follow a NextPageLink to another host', async () => {
    server = await recordedServer(() => ({
      body: fixture('azure-retail-prices-page-1.json', 'https://elsewhere.example/api/retail/prices'),
    }));
    await expect(client(server.base).fetchPrices(AbortSignal.timeout(5000))).rejects.toThrow(
      /NextPageLink leaves http:\/\/127\.0\.0\.1/,
    );
  });
});
