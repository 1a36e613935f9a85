import { describe, expect, it } from 'vitest';
import { cloudOfRegion, marketClients } from './market-clients.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const now = () => new Date('2026-12-02T00:00:00Z');

describe('market clients', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['us-gov-west-1', 'aws'],
    ['eastus', 'azure'],
    ['westeurope', 'azure'],
    ['us-central1', undefined],
  ] as const)('%s is a region of %s', (region, cloud) => {
    expect(cloudOfRegion(region)).toBe(cloud);
  });

  it('builds each source for each region of its cloud', () => {
    const clients = marketClients(
      {
        sources: ['azure-retail', 'aws-spot', 'aws-price-list'],
        regions: ['us-east-1', 'eastus', 'us-central1'],
        intervalMs: 3_600_000,
        awsCredentials: credentials,
      },
      now,
    );
    expect(clients.map((c) => c.name)).toEqual([
      'aws-spot-price-history us-east-1',
      'aws-price-list us-east-1',
      'azure-retail-prices eastus',
    ]);
  });
});
