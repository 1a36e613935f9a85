/** A workload's row description is made once while what it is made from stays the same objects. */
import { describe, expect, it } from 'vitest';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord } from '../controller/projections.ts';
import type { PodFacts } from '../cost/types.ts';
import type { NodePrice } from '../pricing/provider.ts';
import { WorkloadDescriptions, type DescribeContext, type PricedNode } from './ledger-describe.ts';

const cache = {
  jobs: { store: new Map() },
  deployments: { store: new Map() },
  statefulSets: { store: new Map() },
  namespaces: { store: new Map([['ml', { labels: { team: 'research' } }]]) },
} as unknown as ClusterCache;
const record = { name: 'gpu-1', uid: 'node-uid', labels: {} } as unknown as NodeRecord;
const price = { priced: false } as unknown as NodePrice;
const pod = {
  uid: 'p',
  namespace: 'ml',
  name: 'p',
  nodeName: 'gpu-1',
  labels: {},
  until: undefined,
} as unknown as PodFacts;
/** Each cycle wraps the same node projection and price in a new PricedNode, as the accountant does. */
const context = (nodeRecord = record): DescribeContext => ({
  cache,
  nodes: new Map<string, PricedNode>([['gpu-1', { record: nodeRecord, price, facts: {} as PricedNode['facts'] }]]),
  catalogDate: '2026-11-01',
  currency: 'USD',
  cycleStartSeconds: 0,
});

describe('WorkloadDescriptions', () => {
  it('keeps the description across cycles while its inputs are the same objects, and remakes it when one changes', () => {
    const descriptions = new WorkloadDescriptions();
    const target = { kind: 'Pod' as const, namespace: 'ml', name: 'p' };
    const first = descriptions.describe(context(), 'Pod/p', target, [pod], undefined);
    descriptions.endCycle();
    expect(descriptions.describe(context(), 'Pod/p', target, [pod], undefined)).toBe(first);
    descriptions.endCycle();
    const moved = descriptions.describe(context({ ...record }), 'Pod/p', target, [pod], undefined);
    expect(moved).not.toBe(first);
    expect(moved).toEqual(first);
    expect(first).toMatchObject({ team: 'research', workloadKind: 'Pod', workloadUid: 'p' });
  });
});
