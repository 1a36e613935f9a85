import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { projectPolicy, type PolicyRecord } from '../crds/policy-record.ts';
import { matchPolicy } from '../policy/match.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, startOperator } from '../testing/harness.ts';
import { FakeClock } from './clock.ts';
import { PodLabelKeys, selectorKeys } from './pod-label-keys.ts';
import { projectPod } from './projections.ts';

/** A policy as the policy reflector caches it. */
function policy(spec: object): PolicyRecord {
  const record = projectPolicy({ metadata: { name: 'p' }, spec: { rules: {}, ...spec } });
  if (!record) throw new Error('not projected');
  return record;
}

describe('pod label keys', () => {
  it.each([
    ['none', [], []],
    ['matchLabels', [policy({ selector: { matchLabels: { app: 'notebook' } } })], ['app']],
    [
      'matchExpressions, and the exclusions',
      [
        policy({
          selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
          exclude: { selectors: [{ matchLabels: { 'example.com/keep': 'true' } }] },
        }),
      ],
      ['tier', 'example.com/keep'],
    ],
    // Namespace labels are all cached: a namespaceSelector needs no pod label.
    ['not the namespaceSelector', [policy({ namespaceSelector: { matchLabels: { env: 'dev' } } })], []],
    ['not an invalid policy', [policy({ selector: { matchLabels: { app: 'x' } }, bogus: true })], []],
  ])('selectorKeys: %s', (_, policies, expected) => {
    expect([...selectorKeys(policies)]).toEqual(expected);
  });

  it.each([
    ['a new key', [], ['app'], true],
    ['the same keys again', ['app'], ['app', 'app'], false],
    ['a roll-up key', [], ['team'], false],
    ['a key less', ['app', 'tier'], ['app'], false],
  ])('setSelectorKeys reports %s', (_, before, after, added) => {
    const keys = new PodLabelKeys(['team']);
    keys.setSelectorKeys(new Set(before));
    expect(keys.setSelectorKeys(new Set(after))).toBe(added);
  });

  const notebookSpec = policySpecSchema.parse({
    selector: { matchLabels: { app: 'notebook' } },
    rules: { idleGPU: {} },
  });
  const notebookPolicy = policy(notebookSpec);
  const notebook = {
    metadata: {
      name: 'alice',
      namespace: 'research',
      uid: 'pod-uid',
      labels: { app: 'notebook', team: 'research', 'pod-template-hash': 'abc' },
    },
    spec: { nodeName: 'gpu-1' },
  };
  it.each([
    ['the roll-up keys only', [], { team: 'research' }, false],
    ['the roll-up keys and the keys policies name', [notebookPolicy], { team: 'research', app: 'notebook' }, true],
  ])('a bare pod projected with %s', (_, policies, labels, applies) => {
    const keys = new PodLabelKeys(['team']);
    keys.setSelectorKeys(selectorKeys(policies));
    const pod = projectPod(notebook, keys);
    expect(pod?.labels).toEqual(labels);
    const view = { kind: 'Pod', namespace: 'research', name: 'alice', annotations: {}, namespaceLabels: {} };
    const match = matchPolicy({ name: 'p', spec: notebookSpec }, { ...view, labels: pod?.labels ?? {} }, new Set());
    expect(match.applies).toBe(applies);
  });
});

describe('a policy selecting bare pods by a label outside the roll-up keys', () => {
  const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
  const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
  function seed(api: FakeKube) {
    api.put('/api/v1/nodes', {
      metadata: { name: 'gpu-1', annotations: { 'aicost.dev/price-per-hour': '10' } },
      status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8' } },
    });
    api.put('/api/v1/namespaces', { metadata: { name: 'research' } });
    api.put('/api/v1/namespaces/research/pods', {
      metadata: { name: 'alice', namespace: 'research', uid: 'pod-uid', labels: { app: 'notebook' } },
      spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(T0 - 3_600_000).toISOString() },
    });
  }
  const putPolicy = (api: FakeKube) =>
    api.put(POLICIES, {
      metadata: { name: 'notebooks', generation: 1 },
      spec: { selector: { matchLabels: { app: 'notebook' } }, rules: { idleGPU: { idleAfter: '30m' } } },
    });
  const matched = (api: FakeKube) =>
    (api.object(`${POLICIES}/notebooks`)?.status as { matchedWorkloads?: number } | undefined)?.matchedWorkloads;

  it.each([
    ['applied before the operator starts', true],
    ['applied while it runs (the pods are listed again)', false],
  ])('matches it: %s', async (_, before) => {
    const api = new FakeKube();
    seed(api);
    if (before) putPolicy(api);
    const clock = new FakeClock(T0);
    const prometheus = new FakePrometheus();
    prometheus.utilization.set('research/alice', 0);
    const op = await startOperator(api, clock, prometheus);
    if (!before) putPolicy(api);
    for (let i = 0; i < 2; i++) {
      await clock.advance(60_000);
      await op.cycle();
    }
    expect(matched(api)).toBe(1);
    // The pods are listed once more for the new key, not for each change of the policy (its status).
    expect(api.requests.filter((r) => r.verb === 'list' && r.path === '/api/v1/pods')).toHaveLength(before ? 1 : 2);
    await op.stop();
  });
});
