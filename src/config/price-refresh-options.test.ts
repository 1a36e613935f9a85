import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';

const aws = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('price refresh options', () => {
  it('is off by default', () => {
    expect(parseConfig([], {}, 'h').priceRefresh).toBeUndefined();
  });

  it('reads sources, regions and interval once, with the AWS credentials when an AWS source is on', () => {
    const c = parseConfig(
      ['--price-refresh', 'azure-retail,aws-spot', '--price-refresh-regions', 'eastus, us-east-1'],
      { ...aws, AICOST_PRICE_REFRESH_INTERVAL: '30m' },
      'h',
    );
    expect(c.priceRefresh).toEqual({
      sources: ['azure-retail', 'aws-spot'],
      regions: ['eastus', 'us-east-1'],
      intervalMs: 1_800_000,
      awsCredentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: undefined },
    });
    expect(Object.isFrozen(c.priceRefresh)).toBe(true);
  });

  it('needs no credentials for Azure alone', () => {
    const c = parseConfig(['--price-refresh', 'azure-retail', '--price-refresh-regions', 'eastus'], {}, 'h');
    expect(c.priceRefresh?.awsCredentials).toBeUndefined();
  });

  it.each([
    [
      ['--price-refresh', 'gcp'],
      {},
      '--price-refresh: "gcp" is not a price source (azure-retail, aws-spot, aws-price-list)',
    ],
    [['--price-refresh', 'azure-retail'], {}, '--price-refresh-regions: --price-refresh needs the regions to refresh'],
    [
      ['--price-refresh', 'aws-spot', '--price-refresh-regions', 'us-east-1'],
      {},
      '--price-refresh: price refresh from AWS needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set',
    ],
    [['--price-refresh-interval', '1m'], {}, '--price-refresh-interval: "1m" is below the minimum of 5m'],
    [['--price-refresh-regions', 'East US'], {}, '"East US" is not a region name'],
  ] as const)('%j is refused with a clear error', (argv, env, message) => {
    expect(() => parseConfig([...argv], env, 'h')).toThrow(message);
  });
});
