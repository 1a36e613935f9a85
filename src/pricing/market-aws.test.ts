import { afterEach, describe, expect, it } from 'vitest';
import { fixture, priceRows, recordedServer, type RecordedServer } from '../testing/recorded-http.ts';
import { awsPriceListClient, onDemandPrice } from './market-aws-pricing.ts';
import { awsSpotPriceClient } from './market-aws-spot.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = () => new Date('2026-12-02T01:00:00.000Z');
let server: RecordedServer | undefined;
afterEach(() => server?.close());
const rows = priceRows;
const signal = () => AbortSignal.timeout(5000);

describe('AWS spot price history client', () => {
  const client = (base: string) =>
    awsSpotPriceClient({
      region: 'us-east-1',
      instanceTypes: ['g5.xlarge', 'p4d.24xlarge'],
      credentials,
      now,
      endpoint: `${base}/`,
    });

  it('pages by nextToken, keeps the newest Linux price per zone, and signs every request', async () => {
    server = await recordedServer((_req, n) => ({
      type: 'text/xml',
      body: fixture(n === 1 ? 'aws-spot-price-history-page-1.xml' : 'aws-spot-price-history-page-2.xml'),
    }));
    const prices = await client(server.base).fetchPrices(signal());
    expect(rows(prices)).toEqual([
      ['g5.xlarge', 'us-east-1a', 'spot', '0.412700000'],
      ['g5.xlarge', 'us-east-1b', 'spot', '0.398100000'], // page 2's older price for the zone loses
      ['p4d.24xlarge', 'us-east-1a', 'spot', '8.783000000'],
    ]);
    const [first, second] = server.requests;
    expect(Object.fromEntries(first?.url.searchParams ?? [])).toEqual({
      Action: 'DescribeSpotPriceHistory',
      Version: '2016-11-15',
      StartTime: '2026-12-02T01:00:00.000Z',
      'ProductDescription.1': 'Linux/UNIX',
      MaxResults: '1000',
      'InstanceType.1': 'g5.xlarge',
      'InstanceType.2': 'p4d.24xlarge',
    });
    expect(second?.url.searchParams.get('NextToken')).toBe('eyJ2IjoiMiIsImMiOiJwYWdlLTIifQ==');
    for (const request of server.requests) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261202\/us-east-1\/ec2\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    }
  });

  it.each([
    [
      'a malformed price',
      { type: 'text/xml', body: fixture('aws-spot-price-history-malformed.xml') },
      /page 1 g5\.xlarge: "cheap" is not a decimal price/,
    ],
    [
      'an answer of another action',
      { type: 'text/xml', body: '<DescribeInstancesResponse/>' },
      /page 1: not a DescribeSpotPriceHistory answer/,
    ],
    [
      'an EC2 error',
      { status: 403, type: 'text/xml', body: fixture('aws-ec2-error.xml') },
      /page 1: HTTP 403, UnauthorizedOperation: You are not authorized/,
    ],
  ] as const)('rejects %s with a clear error', async (_name, reply, message) => {
    server = await recordedServer(() => reply);
    await expect(client(server.base).fetchPrices(signal())).rejects.toThrow(message);
  });
});

describe('AWS Price List Query client', () => {
  const client = (base: string) =>
    awsPriceListClient({
      region: 'us-east-1',
      instanceTypes: ['g5.xlarge', 'p4d.24xlarge'],
      credentials,
      now,
      endpoint: `${base}/`,
    });

  it('pages by NextToken with its filters and reads each OnDemand hourly price exactly', async () => {
    server = await recordedServer((_req, n) => ({
      body: fixture(n === 1 ? 'aws-price-list-page-1.json' : 'aws-price-list-page-2.json'),
    }));
    const prices = await client(server.base).fetchPrices(signal());
    expect(rows(prices)).toEqual([
      ['g5.xlarge', 'us-east-1', 'on-demand', '1.006000000'],
      ['p4d.24xlarge', 'us-east-1', 'on-demand', '21.957642000'],
    ]);
    const [first, second] = server.requests;
    expect(first?.method).toBe('POST');
    expect(first?.headers['x-amz-target']).toBe('AWSPriceListService.GetProducts');
    expect(first?.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/20261202\/us-east-1\/pricing\/aws4_request/);
    const body = JSON.parse(first?.body ?? '{}') as { ServiceCode: string; Filters: unknown[]; NextToken?: string };
    expect(body.ServiceCode).toBe('AmazonEC2');
    expect(body.Filters).toContainEqual({ Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' });
    expect(body.Filters).toContainEqual({ Type: 'ANY_OF', Field: 'instanceType', Value: 'g5.xlarge,p4d.24xlarge' });
    expect(body.NextToken).toBeUndefined();
    expect((JSON.parse(second?.body ?? '{}') as { NextToken?: string }).NextToken).toBe('page-2-token');
  });

  it.each([
    [
      'two hourly prices in one term',
      { body: fixture('aws-price-list-malformed.json') },
      /entry 1: g5\.xlarge has 2 hourly USD prices/,
    ],
    [
      'an answer without PriceList',
      { body: '{"FormatVersion":"aws_v1"}' },
      /page 1: not a GetProducts answer[\s\S]*PriceList/,
    ],
    [
      'a throttling error',
      { status: 400, body: fixture('aws-price-list-error.json') },
      /page 1: HTTP 400, com\.amazon\.coral\.availability#ThrottlingException: Rate exceeded/,
    ],
  ] as const)('rejects %s with a clear error', async (_name, reply, message) => {
    server = await recordedServer(() => reply);
    await expect(client(server.base).fetchPrices(signal())).rejects.toThrow(message);
  });

  it('rejects a product entry that is not JSON', () => {
    expect(() => onDemandPrice('{', 'entry 1')).toThrow(/entry 1: the answer is not JSON/);
  });
});
