/**
 * The price before launch on the in-memory API, through the webhook's handler: the nodes as the cache
 * projects them, the pricing as the operator holds it, and what a review costs in node prices.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from '../controller/clock.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { createPricingProvider, type PricingProvider } from '../pricing/provider.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { podCreateReview, startSpotAdmission } from '../testing/harness.ts';

const NODES = '/api/v1/nodes';
const T0 = Date.UTC(2026, 10, 23);

/** A pricing source that counts the nodes it prices and the refreshes it is asked for. */
class CountingPricing implements PricingSource {
  priced: string[] = [];
  refreshes = 0;
  private provider: PricingProvider;
  constructor() {
    this.provider = this.make();
  }
  current(): PricingProvider {
    return this.provider;
  }
  refresh(): Promise<Error | undefined> {
    this.refreshes++;
    return Promise.resolve(undefined);
  }
  /** A new table, as a reloaded pricing file gives. */
  reload(): void {
    this.provider = this.make();
  }
  private make(): PricingProvider {
    const base = createPricingProvider();
    return {
      ...base,
      priceNode: (node) => {
        this.priced.push(node.name);
        return base.priceNode(node);
      },
    };
  }
}

/** GPUs, vCPUs and GiB of memory of the instance types of the catalog these nodes are. */
const SIZES: Record<string, readonly [string, string, string]> = {
  'p4d.24xlarge': ['8', '96', '1152Gi'],
  'p5.48xlarge': ['8', '192', '2048Gi'],
  'g5.xlarge': ['1', '4', '16Gi'],
};
const gpuNode = (name: string, instanceType: string, extra: Record<string, unknown> = {}) => {
  const [gpus = '', cpu = '', memory = ''] = SIZES[instanceType] ?? [];
  return {
    metadata: { name, labels: { 'node.kubernetes.io/instance-type': instanceType, pool: 'train' } },
    status: { allocatable: { 'nvidia.com/gpu': gpus, cpu, memory } },
    ...extra,
  };
};

async function setup() {
  const api = new FakeKube();
  const clock = new FakeClock(T0);
  const pricing = new CountingPricing();
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put(NODES, gpuNode('p4d-1', 'p4d.24xlarge'));
  api.put(NODES, gpuNode('p4d-2', 'p4d.24xlarge'));
  api.put(NODES, {
    ...gpuNode('g5-1', 'g5.xlarge'),
    spec: { taints: [{ key: 'nvidia.com/gpu', value: 'a10g', effect: 'NoSchedule' }] },
  });
  api.put(NODES, { metadata: { name: 'cpu-1', labels: { 'node.kubernetes.io/instance-type': 'm5.large' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: 'train', namespace: 'ml', uid: 'job-uid' },
    spec: { activeDeadlineSeconds: 7200, template: { metadata: {} } },
  });
  const s = await startSpotAdmission(api, clock, { pricing });
  const warnings = (spec: Record<string, unknown> = {}, owner = false) =>
    s.admission.review(
      podCreateReview({
        metadata: {
          generateName: 'train-',
          ...(owner ? { ownerReferences: [{ kind: 'Job', name: 'train', uid: 'job-uid', controller: true }] } : {}),
        },
        spec: { containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } }], ...spec },
      }),
    ).response.warnings;
  return { api, clock, pricing, warnings, ...s };
}

const TOLERATE = { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'a10g', effect: 'NoSchedule' }] };

describe('the price before launch', () => {
  it('names the nodes a GPU pod can land on, by their labels and taints as the cache holds them', async () => {
    const s = await setup();
    expect(s.warnings()).toEqual(['aicost: about 1.76 USD/h on p4d.24xlarge (on-demand)']);
    expect(s.warnings(TOLERATE)).toEqual(['aicost: about 0.81-1.76 USD/h on g5.xlarge..p4d.24xlarge (on-demand)']);
    // A label outside the prefixes the pricing reads: kept on GPU nodes.
    expect(s.warnings({ nodeSelector: { pool: 'train' }, ...TOLERATE })).toHaveLength(1);
    expect(s.warnings({ nodeSelector: { pool: 'serve' } })).toEqual(['aicost: no node it fits on now']);
    expect(s.warnings({ containers: [{ name: 'c' }] })).toBeUndefined();
    // Accelerators a budget counts but accounting does not price: no price rather than a CPU share of any node.
    expect(s.warnings({ containers: [{ name: 'c', resources: { limits: { 'amd.com/gpu': '1' } } }] })).toBeUndefined();
    expect(
      s.warnings({ containers: [{ name: 'c' }], resourceClaims: [{ name: 'g', resourceClaimName: 'a' }] }),
    ).toBeUndefined();
    s.stop();
  });

  it("bounds a Job's pod by the Job's deadline", async () => {
    const s = await setup();
    expect(s.warnings({}, true)).toEqual([
      'aicost: about 1.76 USD/h on p4d.24xlarge (on-demand), at most 3.52 USD over its 2h deadline',
    ]);
    expect(s.warnings({ activeDeadlineSeconds: 1800 }, true)).toEqual([
      'aicost: about 1.76 USD/h on p4d.24xlarge (on-demand), at most 0.88 USD over its 30m deadline',
    ]);
    s.stop();
  });

  it('prices each GPU node once, again when it changes, and all of them when the pricing table is new', async () => {
    const s = await setup();
    s.warnings();
    s.warnings();
    expect(s.pricing.priced.sort()).toEqual(['g5-1', 'p4d-1', 'p4d-2']);
    s.pricing.priced = [];
    s.api.put(NODES, gpuNode('p4d-2', 'p4d.24xlarge', { spec: { unschedulable: true } }));
    s.api.remove(NODES, 'p4d-1');
    s.api.put(NODES, gpuNode('p5-1', 'p5.48xlarge'));
    await flushPromises();
    expect(s.warnings()).toEqual(['aicost: about 1.76-5.05 USD/h on p4d.24xlarge..p5.48xlarge (on-demand)']);
    expect(s.pricing.priced.sort()).toEqual(['p4d-2', 'p5-1']);
    s.pricing.priced = [];
    s.pricing.reload();
    s.warnings();
    expect(s.pricing.priced.sort()).toEqual(['g5-1', 'p4d-2', 'p5-1']);
    s.stop();
  });

  it('asks the pricing for a refresh once a minute at most', async () => {
    const s = await setup();
    s.warnings();
    s.warnings();
    expect(s.pricing.refreshes).toBe(1);
    await s.clock.advance(59_999);
    s.warnings();
    expect(s.pricing.refreshes).toBe(1);
    await s.clock.advance(1);
    s.warnings();
    expect(s.pricing.refreshes).toBe(2);
    s.stop();
  });
});
