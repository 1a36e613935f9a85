/** The policy controller's spot watch against an in-memory API: overdue checkpoints, reclaims, forgone savings. */
import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from '../controller/clock.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, podCreateReview, startOperator, startSpotAdmission } from '../testing/harness.ts';
import { customPricingSchema } from '../pricing/custom-pricing.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const NODES = '/api/v1/nodes';

function seed(
  api: FakeKube,
  node: { name: string; capacity: 'spot' | 'on-demand' },
  podAnnotations: Record<string, string>,
) {
  api.put(NODES, {
    metadata: {
      name: node.name,
      labels: {
        'node.kubernetes.io/instance-type': 'g5.xlarge',
        'topology.kubernetes.io/region': 'us-east-1',
        'karpenter.sh/capacity-type': node.capacity,
      },
    },
    status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
  });
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: 'train', namespace: 'ml', uid: 'job-uid', labels: { workload: 'training' } },
    spec: { template: { metadata: { annotations: podAnnotations } } },
  });
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: {
      name: 'train-x',
      namespace: 'ml',
      uid: 'pod-uid',
      annotations: podAnnotations,
      ownerReferences: [{ kind: 'Job', name: 'train', controller: true }],
    },
    spec: { nodeName: node.name, containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0 - 60 * 60_000).toISOString() },
  });
  api.put(POLICIES, {
    metadata: { name: 'training-spot', generation: 1 },
    spec: { selector: { matchLabels: { workload: 'training' } }, rules: { spot: { placement: 'Preferred' } } },
  });
}

/** The seeded policy's spot rule in Enforce: the only mode in which the webhook marks the pods it changes. */
function enforceSpot(api: FakeKube) {
  api.put(POLICIES, {
    metadata: { name: 'training-spot', generation: 2 },
    spec: {
      selector: { matchLabels: { workload: 'training' } },
      rules: { spot: { placement: 'Preferred', mode: 'Enforce' } },
    },
  });
}

async function cycles(api: FakeKube, n: number, between?: (i: number) => void, start = T0) {
  const clock = new FakeClock(start);
  // g5 spot at 70 % off on demand, so there is a saving to forgo.
  const pricing = customPricingSchema.parse({ spot: { discounts: [{ instanceFamily: 'g5', percent: '70' }] } });
  const op = await startOperator(api, clock, new FakePrometheus(), ['team'], 'Audit', pricing);
  for (let i = 0; i < n; i++) {
    between?.(i);
    await clock.advance(59_000);
    await op.cycle();
  }
  return op;
}

type Ev = {
  reason: string;
  type: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name: string };
};
const events = (api: FakeKube) => api.objectsUnder('/api/v1/namespaces/ml/events/') as unknown as Ev[];
const status = (api: FakeKube) =>
  api.object(`${POLICIES}/training-spot`)?.status as
    | {
        actionCount?: number;
        lastActions?: { action: string; reason: string; mode: string; estimatedSavingPerHour?: string }[];
        estimatedSavingsPerHour?: string;
        mode?: string;
      }
    | undefined;
const CKPT = { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' };

describe('spot watch', () => {
  it('reports an overdue checkpoint once per episode, with an Event on the Job and a status entry', async () => {
    const api = new FakeKube();
    seed(api, { name: 'spot-1', capacity: 'spot' }, { ...CKPT, 'aicost.dev/last-checkpoint': '2026-11-23T08:30:00Z' });
    const op = await cycles(api, 3);
    const stale = events(api).filter((e) => e.reason === 'CheckpointStale');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Job', name: 'train' } });
    expect(stale[0]?.message).toBe(
      'last checkpoint at 2026-11-23T08:30:00Z is older than twice the declared interval of 10m, on spot node spot-1',
    );
    expect(status(api)?.lastActions?.map((a) => a.action)).toEqual(['CheckpointStale']);
    expect(status(api)?.mode).toBe('Audit');
    await op.stop();
  });

  it('a fresh checkpoint raises nothing', async () => {
    const api = new FakeKube();
    seed(api, { name: 'spot-1', capacity: 'spot' }, { ...CKPT, 'aicost.dev/last-checkpoint': '2026-11-23T08:58:00Z' });
    const op = await cycles(api, 2);
    expect(events(api).map((e) => e.reason)).not.toContain('CheckpointStale');
    await op.stop();
  });

  it('a reclaim taint on the spot node: an Event with the work at risk since the last checkpoint', async () => {
    const api = new FakeKube();
    seed(api, { name: 'spot-1', capacity: 'spot' }, { ...CKPT, 'aicost.dev/last-checkpoint': '2026-11-23T08:55:00Z' });
    const op = await cycles(api, 3, (i) => {
      if (i !== 1) return;
      const node = structuredClone(api.object(`${NODES}/spot-1`));
      api.put(NODES, { ...node, spec: { taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] } } as never);
    });
    const hit = events(api).filter((e) => e.reason === 'SpotInterruption');
    expect(hit).toHaveLength(1);
    // Second cycle ends at 09:01:58: 6 min 58 s since the 08:55 checkpoint on one GPU.
    expect(hit[0]?.message).toMatch(
      /^spot node spot-1 is being reclaimed \(karpenter\.sh\/disrupted\): pod train-x risks 0\.12 GPU-hours \(\d+\.\d\d USD\) of work since its last checkpoint at 2026-11-23T08:55:00Z$/,
    );
    expect(status(api)?.lastActions?.map((a) => a.action)).toContain('SpotInterrupted');
    await op.stop();
  });

  it('a checkpointing Job on on-demand under a Preferred rule: the saving it forgoes, in the status', async () => {
    const api = new FakeKube();
    seed(api, { name: 'od-1', capacity: 'on-demand' }, CKPT);
    const op = await cycles(api, 3);
    // Once per episode, not per cycle: the Job's share of a g5.xlarge, 0.8124 $/h, at 70 % off.
    expect(events(api).filter((e) => e.reason === 'ForgoneSpotSaving')).toEqual([
      expect.objectContaining({
        type: 'Normal',
        involvedObject: expect.objectContaining({ kind: 'Job', name: 'train' }) as unknown,
        message: 'runs on on-demand node od-1 though it checkpoints: spot would save about 0.57 USD/h',
      }),
    ]);
    const s = status(api);
    expect(s?.lastActions?.map((a) => a.action)).toEqual(['ForgoneSpotSaving']);
    expect(s?.lastActions?.[0]?.reason).toMatch(
      /^runs on on-demand node od-1 though it checkpoints: spot would save about \d+\.\d\d USD\/h$/,
    );
    expect(Number(s?.estimatedSavingsPerHour)).toBeGreaterThan(0);
    expect(s?.estimatedSavingsPerHour).toBe(s?.lastActions?.[0]?.estimatedSavingPerHour);
    await op.stop();
  });

  it.each([
    ['Preferred', 'SpotPlacement', 'the spot webhook gave its pods a preferred spot placement (pod train-x)'],
    ['Avoided', 'SpotAvoided', 'the spot webhook kept its pods off spot (pod train-x)'],
  ])(
    'counts the webhook placement %s of a Job once, from its pods, across a restart',
    async (placement, action, reason) => {
      const api = new FakeKube();
      const marks = { 'aicost.dev/spot-placement': placement, 'aicost.dev/spot-policy': 'training-spot' };
      seed(
        api,
        { name: 'spot-1', capacity: 'spot' },
        { ...CKPT, ...marks, 'aicost.dev/last-checkpoint': '2026-11-23T09:00:00Z' },
      );
      enforceSpot(api);
      const first = await cycles(api, 2);
      await first.stop();
      const second = await cycles(api, 2, undefined, T0 + 5 * 60_000);
      await second.stop();
      expect(status(api)?.actionCount).toBe(1);
      expect(status(api)?.lastActions).toEqual([
        {
          workload: 'Job/ml/train',
          rule: 'spot',
          action,
          mode: 'Enforce',
          time: '2026-11-23T09:00:59Z',
          reason,
          estimatedSavingPerHour: '0.0000',
        },
      ]);
      expect(api.object('/apis/batch/v1/namespaces/ml/jobs/train')?.metadata.annotations).toMatchObject({
        'aicost.dev/spot-recorded': `${placement} by training-spot`,
      });
    },
  );

  it("counts the webhook's denials of a Job's pods from its SpotDenied Event: once, across a restart, and as its count grows", async () => {
    const api = new FakeKube();
    seed(api, { name: 'od-1', capacity: 'on-demand' }, {});
    // The webhook runs on every replica; its recorder aggregates repeats into the Event's count.
    const webhook = await startSpotAdmission(api, new FakeClock(T0), { defaultMode: 'Enforce' });
    const deny = async () => {
      const r = webhook.admission.review(
        podCreateReview({
          metadata: {
            generateName: 'train-',
            ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'job-uid', controller: true }],
          },
          spec: { nodeSelector: { 'karpenter.sh/capacity-type': 'spot' }, containers: [{ name: 'main' }] },
        }),
      );
      expect(r.response.allowed).toBe(false);
      await flushPromises();
    };
    const denied = () =>
      events(api).filter((e) => e.reason === 'SpotDenied') as (Ev & {
        metadata: { name: string; annotations?: Record<string, string> };
      })[];

    await deny();
    expect(denied().map((e) => [e.count, e.metadata.annotations])).toEqual([
      [1, { 'aicost.dev/spot-policy': 'training-spot' }],
    ]);
    const first = await cycles(api, 2);
    await first.stop();
    expect(status(api)?.actionCount).toBe(1);
    expect(status(api)?.lastActions).toEqual([
      {
        workload: 'Job/ml/train',
        rule: 'spot',
        action: 'SpotDenied',
        mode: 'Enforce',
        time: '2026-11-23T09:00:59Z',
        reason: `the spot webhook denied a pod that selected spot nodes (Event ml/${denied()[0]?.metadata.name ?? ''})`,
        estimatedSavingPerHour: '0.0000',
      },
    ]);
    expect(denied()[0]?.metadata.annotations?.['aicost.dev/counted']).toBe('1');

    // A new leader on the same API: nothing to count again.
    const second = await cycles(api, 2, undefined, T0 + 5 * 60_000);
    expect(status(api)?.actionCount).toBe(1);

    // Two more denials raise the same Event's count to 3: two more actions, in one entry.
    await deny();
    await deny();
    expect(denied().map((e) => e.count)).toEqual([3]);
    await second.cycle();
    await second.cycle();
    await second.stop();
    expect(status(api)?.actionCount).toBe(3);
    expect(status(api)?.lastActions?.map((a) => [a.action, a.reason.replace(/Event .*/, '')])).toEqual([
      ['SpotDenied', 'the spot webhook denied 2 pods that selected spot nodes ('],
      ['SpotDenied', 'the spot webhook denied a pod that selected spot nodes ('],
    ]);
    expect(denied()[0]?.metadata.annotations).toEqual({
      'aicost.dev/spot-policy': 'training-spot',
      'aicost.dev/counted': '3',
    });
    webhook.stop();
  });

  it.each([
    ['whose policy no longer exists', 'SpotDenied', 'aicost-operator', 'gone'],
    ['of another reason', 'SpotAudit', 'aicost-operator', 'training-spot'],
    ['of another component', 'SpotDenied', 'someone-else', 'training-spot'],
  ])('ignores an Event %s', async (_name, reason, reportingComponent, policy) => {
    const api = new FakeKube();
    seed(api, { name: 'od-1', capacity: 'on-demand' }, {});
    api.put('/api/v1/namespaces/ml/events', {
      metadata: { name: 'train.1', namespace: 'ml', annotations: { 'aicost.dev/spot-policy': policy } },
      involvedObject: { kind: 'Job', namespace: 'ml', name: 'train' },
      reason,
      reportingComponent,
      count: 2,
    });
    const op = await cycles(api, 2);
    await op.stop();
    expect(status(api)?.actionCount ?? 0).toBe(0);
    expect(api.object('/api/v1/namespaces/ml/events/train.1')?.metadata.annotations).toEqual({
      'aicost.dev/spot-policy': policy,
    });
  });

  it('no forgone saving for a Job that does not checkpoint', async () => {
    const api = new FakeKube();
    seed(api, { name: 'od-1', capacity: 'on-demand' }, {});
    const op = await cycles(api, 2);
    expect(status(api)?.lastActions ?? []).toEqual([]);
    expect(status(api)?.estimatedSavingsPerHour).toBe('0.0000');
    await op.stop();
  });

  it.each([
    ['a policy that does not govern the workload', 'someone-else', true],
    ['the governing policy, in Audit (the webhook marks nothing then)', 'training-spot', false],
  ])('marks a tenant wrote naming %s are not counted', async (_name, policy, enforce) => {
    const api = new FakeKube();
    const marks = { 'aicost.dev/spot-placement': 'Preferred', 'aicost.dev/spot-policy': policy };
    seed(api, { name: 'spot-1', capacity: 'spot' }, { ...CKPT, ...marks });
    if (enforce) enforceSpot(api);
    api.put(POLICIES, {
      metadata: { name: 'someone-else', generation: 1 },
      spec: {
        selector: { matchLabels: { nothing: 'here' } },
        rules: { spot: { placement: 'Required', mode: 'Enforce' } },
      },
    });
    const op = await cycles(api, 2);
    await op.stop();
    const placements = ['training-spot', 'someone-else'].flatMap((n) =>
      (
        (api.object(`${POLICIES}/${n}`)?.status as { lastActions?: { action: string }[] } | undefined)?.lastActions ??
        []
      )
        .map((a) => a.action)
        .filter((a) => a === 'SpotPlacement' || a === 'SpotAvoided'),
    );
    expect(placements).toEqual([]);
  });
});
