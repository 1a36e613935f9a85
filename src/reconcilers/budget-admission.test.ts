/**
 * DenyNewGPUPods at admission, on the in-memory API as src/main.ts wires the webhook: the budgets' status as
 * the leader writes it, the owners and namespaces from the caches, the answer, the Events and the counts.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from '../controller/clock.ts';
import { exceededBudgetPolicy } from '../testing/budget-policies.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, podCreateReview, startOperator, startSpotAdmission } from '../testing/harness.ts';

const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const NOW = Date.UTC(2026, 10, 21, 12);
const CHECKPOINTED = { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' };
const GPU = { containers: [{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1' } } }] };

interface Options {
  readonly mode?: 'Audit' | 'Enforce';
  readonly override?: string;
}

async function setup(o: Options = {}) {
  const api = new FakeKube();
  const clock = new FakeClock(NOW);
  api.put('/api/v1/namespaces', {
    metadata: {
      name: 'ml',
      labels: { team: 'research' },
      ...(o.override === undefined ? {} : { annotations: { 'aicost.dev/budget-override': o.override } }),
    },
  });
  api.put('/api/v1/nodes', {
    metadata: { name: 'g5-1', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
    status: { allocatable: { 'nvidia.com/gpu': '1', cpu: '4', memory: '16Gi' } },
  });
  // Created before the budget was exceeded (20 November, 08:00): its pods are replacements.
  api.put('/apis/apps/v1/namespaces/ml/deployments', {
    metadata: { name: 'serve', namespace: 'ml', uid: 'dep-uid', creationTimestamp: '2026-11-10T00:00:00Z' },
    spec: { template: { metadata: {} } },
  });
  api.put('/apis/apps/v1/namespaces/ml/replicasets', {
    metadata: {
      name: 'serve-abc',
      namespace: 'ml',
      uid: 'rs-uid',
      ownerReferences: [{ kind: 'Deployment', name: 'serve', uid: 'dep-uid', controller: true }],
    },
  });
  // Created after: new.
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: {
      name: 'train',
      namespace: 'ml',
      uid: 'job-uid',
      labels: { workload: 'training' },
      creationTimestamp: '2026-11-21T11:00:00Z',
    },
    spec: { template: { metadata: {} } },
  });
  api.put(
    POLICIES,
    exceededBudgetPolicy({
      name: 'team-research',
      mode: o.mode ?? 'Enforce',
      scope: { namespaceSelector: { matchLabels: { team: 'research' } } },
      amount: '5000',
      spent: '5012.345678',
      percent: 100,
      contact: '#ml-platform on Slack',
    }),
  );
  api.put(POLICIES, {
    metadata: { name: 'training-spot', generation: 1 },
    spec: { selector: { matchLabels: { workload: 'training' } }, rules: { spot: { placement: 'Preferred' } } },
  });
  const s = await startSpotAdmission(api, clock, { defaultMode: 'Enforce' });
  const events = async () => {
    await flushPromises();
    return (
      (
        api.objectsUnder('/api/v1/namespaces/ml/events') as unknown as {
          metadata: { annotations?: Record<string, string> };
          involvedObject: { kind: string; name: string };
          reason: string;
          count: number;
          message: string;
        }[]
      )
        .map((e) => ({
          about: `${e.involvedObject.kind}/${e.involvedObject.name}`,
          reason: e.reason,
          count: e.count,
          policy: e.metadata.annotations?.['aicost.dev/budget-policy'],
        }))
        // Event names end in a random suffix: the order of the store is not theirs.
        .sort((a, b) => (a.reason + a.about < b.reason + b.about ? -1 : 1))
    );
  };
  const counts = async () =>
    (await s.metrics.budgetAdmissions.get()).values.map((v) => [v.labels.policy, v.labels.verdict, v.value]);
  return { api, clock, ...s, events, counts };
}

const owned = (kind: string, name: string, uid: string, spec: Record<string, unknown> = GPU) => ({
  metadata: {
    generateName: `${name}-`,
    namespace: 'ml',
    labels: { workload: 'training' },
    annotations: CHECKPOINTED,
    ownerReferences: [{ apiVersion: 'v1', kind, name, uid, controller: true }],
  },
  spec,
});
const jobPod = (spec?: Record<string, unknown>) => owned('Job', 'train', 'job-uid', spec);
const servePod = () => owned('ReplicaSet', 'serve-abc', 'rs-uid');

/** The price before launch: the GPU part of a g5.xlarge (1.006 less 4 vCPU and 16 GiB at the default rates). */
const PRICE = 'aicost: about 0.81 USD/h on g5.xlarge (on-demand); budget team-research at 100 % of 5000.00 USD';

const REFUSAL =
  'aicost budget team-research is exceeded: 5012.35 USD spent of 5000.00 USD in the period ending ' +
  '2026-12-01T00:00:00Z, so new GPU pods in its scope are refused. Ask #ml-platform on Slack; urgent work can ' +
  'go through with the annotation aicost.dev/budget-override=<reason> on namespace ml.';

describe('DenyNewGPUPods at admission', () => {
  it('refuses the GPU pod of a Job created since the excess, over the spot patch, with one Event counting repeats', async () => {
    const s = await setup();
    const first = s.admission.review(podCreateReview(jobPod()));
    expect(first.response).toEqual({
      uid: 'req-1',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: REFUSAL },
    });
    // The recorder counts a repeat on the Event it created (the API answered meanwhile, as between two pods).
    await flushPromises();
    s.admission.review(podCreateReview(jobPod()));
    expect(await s.events()).toEqual([
      { about: 'Job/train', reason: 'BudgetDenied', count: 2, policy: 'team-research' },
    ]);
    expect(await s.counts()).toEqual([['team-research', 'denied', 2]]);
    // The spot rule did not run: the pod is not created.
    expect((await s.metrics.webhookAdmissions.get()).values).toEqual([]);
    s.stop();
  });

  it('admits the replacement pod of a Deployment that ran before the excess, with its spot patch and price', async () => {
    const s = await setup();
    const byReplicaSetController = {
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
    };
    const r = s.admission.review(podCreateReview(servePod(), byReplicaSetController));
    expect(r.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(r.response.warnings).toEqual([PRICE]);
    expect(await s.events()).toEqual([
      { about: 'Deployment/serve', reason: 'SpotPlacement', count: 1, policy: undefined },
    ]);
    expect(await s.counts()).toEqual([['team-research', 'replacement', 1]]);
    s.stop();
  });

  it("refuses the same pod, its owner's uid right, when a tenant creates it rather than the ReplicaSet's controller", async () => {
    const s = await setup();
    const r = s.admission.review(
      podCreateReview(servePod(), { userInfo: { username: 'system:serviceaccount:ml:default' } }),
    );
    expect(r.response.allowed).toBe(false);
    expect(await s.counts()).toEqual([['team-research', 'denied', 1]]);
    s.stop();
  });

  it("refuses a pod that names the old Deployment's ReplicaSet with a forged uid, with the Event on the namespace", async () => {
    const s = await setup();
    const r = s.admission.review(podCreateReview(owned('ReplicaSet', 'serve-abc', 'forged-uid')));
    expect(r.response.allowed).toBe(false);
    expect(await s.events()).toEqual([
      { about: 'Namespace/ml', reason: 'BudgetDenied', count: 1, policy: 'team-research' },
    ]);
    s.stop();
  });

  it("lets a new pod through on the namespace's override, with a warning and a BudgetOverridden Event", async () => {
    const s = await setup({ override: 'incident 4711' });
    const r = s.admission.review(podCreateReview(jobPod()));
    expect(r.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(r.response.warnings).toEqual([
      PRICE,
      'aicost budget team-research: the budget of 5000.00 USD is exceeded until 2026-12-01T00:00:00Z; a new GPU pod ' +
        'of Job ml/train went through on namespace ml\'s aicost.dev/budget-override: "incident 4711"',
    ]);
    expect((await s.events()).map((e) => e.reason)).toEqual(['BudgetOverridden', 'SpotPlacement']);
    expect(await s.counts()).toEqual([['team-research', 'overridden', 1]]);
    s.stop();
  });

  it("admits in Audit unchanged by the budget, with the price and the budget's warning", async () => {
    const s = await setup({ mode: 'Audit' });
    const spotSelecting = jobPod({ ...GPU, nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } });
    const r = s.admission.review(
      podCreateReview({ ...spotSelecting, metadata: { ...spotSelecting.metadata, annotations: {} } }),
    );
    expect(r.response.allowed).toBe(false); // the spot rule (Enforce) denies a spot pod without a checkpoint
    await flushPromises();
    const audited = s.admission.review(podCreateReview(jobPod()));
    expect(audited.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(audited.response.warnings).toEqual([
      PRICE,
      'aicost budget team-research is exceeded (5012.35 USD spent of 5000.00 USD) until 2026-12-01T00:00:00Z: ' +
        'admitted in Audit; Enforce would refuse this new GPU pod',
    ]);
    expect((await s.events()).map((e) => [e.reason, e.count])).toEqual([
      ['BudgetWouldDeny', 2],
      ['SpotDenied', 1],
      ['SpotPlacement', 1],
    ]);
    expect(await s.counts()).toEqual([['team-research', 'would_deny', 2]]);
    s.stop();
  });

  it('records no Event on a dry run, and still refuses', async () => {
    const s = await setup();
    const r = s.admission.review(podCreateReview(jobPod(), { dryRun: true }));
    expect(r.response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(await s.events()).toEqual([]);
    s.stop();
  });

  it('never touches a pod without GPUs, nor a GPU pod once the period of the excess has ended', async () => {
    const s = await setup();
    const cpuOnly = s.admission.review(podCreateReview(jobPod({ containers: [{ name: 'main' }] })));
    expect(cpuOnly.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    await s.clock.advance(Date.UTC(2026, 11, 1) - NOW);
    expect(s.admission.review(podCreateReview(jobPod())).response.allowed).toBe(true);
    expect(await s.counts()).toEqual([]);
    s.stop();
  });

  it.each([
    ['Enforce', 'the budget refused 2 new GPU pods'],
    ['Audit', 'the budget would have refused 2 new GPU pods'],
  ] as const)("is counted by the leader in the policy's status from the Events, in %s", async (mode, says) => {
    const s = await setup({ mode });
    s.admission.review(podCreateReview(jobPod()));
    await flushPromises();
    s.admission.review(podCreateReview(jobPod()));
    await flushPromises();
    const clock = new FakeClock(NOW);
    const op = await startOperator(s.api, clock, new FakePrometheus());
    for (let i = 0; i < 2; i++) {
      await clock.advance(59_000);
      await op.cycle();
    }
    await op.stop();
    const status = s.api.object(`${POLICIES}/team-research`)?.status as {
      actionCount?: number;
      lastActions?: { workload: string; rule: string; action: string; mode: string; reason: string }[];
    };
    expect(status.actionCount).toBe(2);
    expect(
      status.lastActions?.map((a) => [a.workload, a.rule, a.action, a.mode, a.reason.replace(/ \(Event .*/, '')]),
    ).toEqual([['Job/ml/train', 'budget', 'DenyNewGPUPods', mode, says]]);
    const actions = (await op.metrics.policyActions.get()).values.map((v) => [v.labels, v.value]);
    expect(actions).toEqual([[{ policy: 'team-research', rule: 'budget', action: 'DenyNewGPUPods', mode }, 2]]);
    s.stop();
  });
});
