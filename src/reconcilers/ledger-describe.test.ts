/** A workload's row description is made once while what it is made from stays the same objects. */
import { describe, expect, it } from 'vitest';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { NodeRecord } from '../controller/projections.ts';
import type { PodFacts } from '../cost/types.ts';
import type { NodePrice } from '../pricing/provider.ts';
import {
  describeNode,
  describeWorkload,
  WorkloadDescriptions,
  type DescribeContext,
  type PricedNode,
} from './ledger-describe.ts';

const cache = {
  jobs: { store: new Map() },
  deployments: { store: new Map() },
  statefulSets: { store: new Map() },
  namespaces: { store: new Map([['ml', { labels: { team: 'research' } }]]) },
} as unknown as ClusterCache;
const record = {
  name: 'gpu-1',
  uid: 'node-uid',
  labels: {},
  gpuResources: { 'nvidia.com/gpu': 8 },
} as unknown as NodeRecord;
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

describe('describeWorkload', () => {
  const previous = describeWorkload(
    {
      ...context(),
      cache: {
        ...cache,
        jobs: { store: new Map([['ml/train', { uid: 'job-uid', labels: { team: 'vision' }, outcome: 'running' }]]) },
      } as unknown as ClusterCache,
    },
    'Job',
    'ml',
    'train',
    [{ ...pod, labels: { app: 'train' } }],
    undefined,
  );

  it('gives the pod’s labels over the workload’s over the namespace’s, and the namespace’s own apart', () => {
    expect(previous).toMatchObject({ team: 'vision', labels: { team: 'vision', app: 'train' } });
    expect(previous.namespaceLabels).toEqual({ team: 'research' });
  });

  it('keeps the namespace’s own labels whatever its pods say, and none on a node’s row', () => {
    const relabelled = describeWorkload(
      context(),
      'Pod',
      'ml',
      'p',
      [{ ...pod, labels: { team: 'other' } }],
      undefined,
    );
    expect(relabelled).toMatchObject({
      team: 'other',
      labels: { team: 'other' },
      namespaceLabels: { team: 'research' },
    });
    const node = { record, price, facts: { capacityType: 'on-demand' } as PricedNode['facts'] };
    expect(describeNode(context(), node, 0).namespaceLabels).toEqual({});
  });

  it.each([
    ['a node with GPUs', { 'nvidia.com/gpu': 8 }, 'gpu'],
    ['a MIG node', { 'nvidia.com/mig-1g.5gb': 7 }, 'gpu'],
    ['a GPU node whose quantity cannot be read (0 units, still a GPU node)', { 'nvidia.com/gpu': 0 }, 'gpu'],
    ['a CPU-only node', {}, 'cpu'],
  ])('a Node row of %s is %s work', (_, gpuResources, compute) => {
    const node = { record: { ...record, gpuResources }, price, facts: {} as PricedNode['facts'] };
    expect(describeNode(context(), node, 0).compute).toBe(compute);
  });

  it('a workload row is cpu until its window’s GPU-hours say otherwise (computeOf, where the row is made)', () => {
    expect(describeWorkload(context(), 'Pod', 'ml', 'p', [pod], undefined).compute).toBe('cpu');
  });

  it.each([
    ['the Job is gone from the cache, and its pods', cache, { team: 'vision', app: 'train' }],
    [
      'the namespace is gone with them',
      { ...cache, namespaces: { store: new Map() } } as unknown as ClusterCache,
      { team: 'vision', app: 'train' },
    ],
  ])('keeps the last row’s labels when %s', (_name, gone, labels) => {
    const row = describeWorkload({ ...context(), cache: gone }, 'Job', 'ml', 'train', [], previous);
    expect(row).toMatchObject({ team: 'vision', workloadUid: 'job-uid', labels });
    expect(row.namespaceLabels).toEqual({ team: 'research' });
  });

  it('keeps a bare pod’s namespace labels once the namespace is gone', () => {
    const first = describeWorkload(context(), 'Pod', 'ml', 'p', [pod], undefined);
    const empty = { ...cache, namespaces: { store: new Map() } } as unknown as ClusterCache;
    expect(describeWorkload({ ...context(), cache: empty }, 'Pod', 'ml', 'p', [pod], first)).toMatchObject({
      team: 'research',
      labels: { team: 'research' },
    });
    expect(describeWorkload({ ...context(), cache: empty }, 'Pod', 'ml', 'p', [pod], first).namespaceLabels).toEqual({
      team: 'research',
    });
    const unknown = describeWorkload({ ...context(), cache: empty }, 'Pod', 'ml', 'p', [pod], undefined);
    expect(unknown.team).toBe('');
    // Never seen: unknown, not "no labels" (a budget then matches the merged labels, as for rows of before).
    expect(unknown.namespaceLabels).toBeUndefined();
    const fromOldRow = describeWorkload({ ...context(), cache: empty }, 'Pod', 'ml', 'p', [pod], {
      ...first,
      namespaceLabels: undefined,
    });
    expect(fromOldRow).toMatchObject({ labels: { team: 'research' }, namespaceLabels: undefined });
  });
});

describe('describeNode with --idle-owner-label', () => {
  const node = (labels: Record<string, string>): PricedNode => ({
    record: { ...record, labels },
    price,
    facts: { capacityType: 'on-demand' } as PricedNode['facts'],
  });
  const unowned = { team: '', project: '', experiment: '', model: '', labels: {}, idleOwner: '' };
  it.each<[string, string | undefined, Record<string, string>, Record<string, unknown>]>([
    ['off: a labelled node stays the cluster’s', undefined, { team: 'ml' }, unowned],
    ['a node without the label', 'team', { pool: 'a100' }, unowned],
    [
      'team=ml: the team column',
      'team',
      { team: 'ml' },
      { ...unowned, team: 'ml', labels: { team: 'ml' }, idleOwner: 'ml' },
    ],
    [
      'project=llm: the project column',
      'project',
      { project: 'llm', team: 'ml' },
      { ...unowned, project: 'llm', labels: { project: 'llm' }, idleOwner: 'llm' },
    ],
    [
      'a key with no column of its own: the labels only',
      'example.com/owner',
      { 'example.com/owner': 'ml' },
      { ...unowned, labels: { 'example.com/owner': 'ml' }, idleOwner: 'ml' },
    ],
    ['an empty value', 'team', { team: '' }, unowned],
    ['a value no label can hold', 'team', { team: 'ml team' }, unowned],
    ['a value of 64 characters', 'team', { team: 'a'.repeat(64) }, unowned],
  ])('%s', (_name, key, labels, expected) => {
    const row = describeNode({ ...context(), idleOwnerLabel: key }, node(labels), 0);
    expect(row).toMatchObject({ workloadKind: 'Node', workloadName: 'gpu-1', namespace: '', namespaceLabels: {} });
    expect({
      team: row.team,
      project: row.project,
      experiment: row.experiment,
      model: row.model,
      labels: row.labels,
      idleOwner: row.idleOwner,
    }).toEqual(expected);
  });
});
