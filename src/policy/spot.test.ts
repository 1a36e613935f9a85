import { describe, expect, it } from 'vitest';
import {
  addSpotTolerations,
  avoidSpot,
  checkCheckpoint,
  decideSpotAdmission,
  observedConventions,
  preferSpot,
  requireSpot,
  selectsSpot,
  SPOT_CONVENTIONS,
  type Affinity,
  type JsonPatchOp,
  type PodForAdmission,
  type SpotAdmissionInput,
} from './spot.ts';

const CHECKPOINTED = { 'aicost.dev/checkpoint-path': 's3://ckpt/run-1', 'aicost.dev/checkpoint-interval': '15m' };
const preferred = { placement: 'Preferred', requireCheckpoint: true } as const;

function input(pod: PodForAdmission, over: Partial<SpotAdmissionInput> = {}): SpotAdmissionInput {
  return { pod, policy: 'train-spot', rule: preferred, mode: 'Enforce', conventions: SPOT_CONVENTIONS, ...over };
}

/** Applies the decision's "add" operations the way the API server does, to look at the resulting pod. */
function apply(pod: PodForAdmission, patch: readonly JsonPatchOp[]): PodForAdmission {
  const out = structuredClone(pod) as Record<string, unknown>;
  for (const op of patch) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let target = out;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    if (op.op === 'remove') Reflect.deleteProperty(target, parts.at(-1) ?? '');
    else target[parts.at(-1) ?? ''] = op.value;
  }
  return out;
}

describe('spot conventions', () => {
  it('covers every cloud convention with the tolerations of the tainted ones', () => {
    expect(SPOT_CONVENTIONS.map((c) => [c.key, c.value, c.toleration?.effect ?? null])).toEqual([
      ['eks.amazonaws.com/capacityType', 'SPOT', null],
      ['lifecycle', 'EC2Spot', null],
      ['karpenter.sh/capacity-type', 'spot', null],
      ['cloud.google.com/gke-spot', 'true', 'NoSchedule'],
      ['cloud.google.com/gke-preemptible', 'true', 'NoSchedule'],
      ['kubernetes.azure.com/scalesetpriority', 'spot', 'NoSchedule'],
    ]);
  });

  it('observed: only the conventions on the nodes, all when none is seen', () => {
    const nodes = [
      { 'karpenter.sh/capacity-type': 'spot' },
      { 'karpenter.sh/capacity-type': 'on-demand' },
      { 'kubernetes.azure.com/scalesetpriority': 'spot' },
    ];
    expect(observedConventions(nodes).map((c) => c.key)).toEqual([
      'karpenter.sh/capacity-type',
      'kubernetes.azure.com/scalesetpriority',
    ]);
    expect(observedConventions([{ 'eks.amazonaws.com/capacityType': 'ON_DEMAND' }])).toHaveLength(6);
  });
});

describe('checkCheckpoint', () => {
  it.each([
    [{}, preferred, false, 'no checkpoint declaration: add the pod template annotations aicost.dev/checkpoint-path'],
    [
      { 'aicost.dev/checkpoint-interval': '10m' },
      preferred,
      false,
      'add the pod template annotation aicost.dev/checkpoint-path',
    ],
    [
      { 'aicost.dev/checkpoint-path': '/ckpt' },
      preferred,
      false,
      'add the pod template annotation aicost.dev/checkpoint-interval (how often, at most 30m)',
    ],
    [{ ...CHECKPOINTED, 'aicost.dev/checkpoint-interval': 'often' }, preferred, false, '"often" is not a duration'],
    [
      { ...CHECKPOINTED, 'aicost.dev/checkpoint-interval': '31m' },
      preferred,
      false,
      '31m is longer than the 30m this policy allows',
    ],
    [
      { ...CHECKPOINTED, 'aicost.dev/checkpoint-interval': '2h' },
      { ...preferred, maxCheckpointInterval: '1h' },
      false,
      '2h is longer than the 1h',
    ],
    [
      { ...CHECKPOINTED, 'aicost.dev/checkpoint-interval': '1h' },
      { ...preferred, maxCheckpointInterval: '1h' },
      true,
      '',
    ],
    [CHECKPOINTED, preferred, true, ''],
    [{}, { placement: 'Preferred', requireCheckpoint: false } as const, true, ''],
  ])('%j under %j: valid=%s', (annotations, rule, valid, problem) => {
    const check = checkCheckpoint(annotations, rule);
    expect(check.valid).toBe(valid);
    if (!check.valid) expect(check.problem).toContain(problem);
  });
});

describe('selectsSpot', () => {
  it.each([
    [{ nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } }, true],
    [{ nodeSelector: { 'cloud.google.com/gke-spot': 'true' } }, true],
    [{ nodeSelector: { 'karpenter.sh/capacity-type': 'on-demand' } }, false],
    [
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'eks.amazonaws.com/capacityType', operator: 'In', values: ['SPOT'] }] },
              ],
            },
          },
        },
      },
      true,
    ],
    // One term allows on-demand: the pod does not insist on spot.
    [
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'eks.amazonaws.com/capacityType', operator: 'In', values: ['SPOT'] }] },
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              ],
            },
          },
        },
      },
      false,
    ],
    [{}, false],
  ])('%j -> %s', (spec, expected) => {
    expect(selectsSpot({ spec })).toBe(expected);
  });
});

describe('affinity merging keeps what the user set', () => {
  const user: Affinity = {
    podAntiAffinity: { x: 1 },
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-A10G'] }] },
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
        ],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 7, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
      ],
    },
  };
  const two = SPOT_CONVENTIONS.filter(
    (c) => c.key === 'karpenter.sh/capacity-type' || c.key === 'kubernetes.azure.com/scalesetpriority',
  );

  it('required: every user term ANDed with every convention', () => {
    const a = requireSpot(user, two);
    expect(a.podAntiAffinity).toEqual({ x: 1 });
    expect(a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual(
      user.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    expect(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      {
        matchExpressions: [
          { key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-A10G'] },
          { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] },
        ],
      },
      {
        matchExpressions: [
          { key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-A10G'] },
          { key: 'kubernetes.azure.com/scalesetpriority', operator: 'In', values: ['spot'] },
        ],
      },
      {
        matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
        matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }],
      },
      {
        matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
        matchExpressions: [{ key: 'kubernetes.azure.com/scalesetpriority', operator: 'In', values: ['spot'] }],
      },
    ]);
  });

  it('preferred: the user preferences first, then one per convention', () => {
    const a = preferSpot(user, two);
    expect(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual(
      user.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    );
    expect(a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 7, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
      {
        weight: 100,
        preference: { matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }] },
      },
      {
        weight: 100,
        preference: {
          matchExpressions: [{ key: 'kubernetes.azure.com/scalesetpriority', operator: 'In', values: ['spot'] }],
        },
      },
    ]);
  });

  it('avoid: NotIn for every convention added to each user term, or one new term', () => {
    const notIn = SPOT_CONVENTIONS.map((c) => ({ key: c.key, operator: 'NotIn', values: [c.value] }));
    expect(avoidSpot(undefined)).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: notIn }] },
      },
    });
    const terms = avoidSpot(user).nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    expect(terms).toHaveLength(2);
    expect(terms?.[0]?.matchExpressions).toEqual([
      { key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-A10G'] },
      ...notIn,
    ]);
    expect(terms?.[1]?.matchFields).toEqual([{ key: 'metadata.name', operator: 'In', values: ['n1'] }]);
  });

  it('tolerations are appended once, the user ones kept', () => {
    const mine = [
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'kubernetes.azure.com/scalesetpriority', operator: 'Equal', value: 'spot', effect: 'NoSchedule' },
    ];
    expect(addSpotTolerations(mine, SPOT_CONVENTIONS)).toEqual([
      ...mine,
      { key: 'cloud.google.com/gke-spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      { key: 'cloud.google.com/gke-preemptible', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
    ]);
  });
});

describe('decideSpotAdmission', () => {
  const pod = (annotations?: Record<string, string>, spec: PodForAdmission['spec'] = {}): PodForAdmission => ({
    metadata: { generateName: 'train-', ...(annotations ? { annotations } : {}) },
    spec,
  });

  it('Preferred + checkpoint + Enforce: preferred spot affinity, tolerations, marks', () => {
    const d = decideSpotAdmission(input(pod(CHECKPOINTED)));
    expect(d.verdict).toBe('patch');
    if (d.verdict !== 'patch') return;
    const out = apply(pod(CHECKPOINTED), d.patch);
    expect(out.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(6);
    expect(out.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(out.spec?.tolerations?.map((t) => t.key)).toEqual([
      'cloud.google.com/gke-spot',
      'cloud.google.com/gke-preemptible',
      'kubernetes.azure.com/scalesetpriority',
    ]);
    expect(out.metadata?.annotations).toEqual({
      ...CHECKPOINTED,
      'aicost.dev/spot-placement': 'Preferred',
      'aicost.dev/spot-policy': 'train-spot',
    });
    expect(d.event?.reason).toBe('SpotPlacement');
  });

  it('Required + checkpoint: required terms; a pod without annotations gets the annotations object', () => {
    const d = decideSpotAdmission(input(pod(undefined), { rule: { placement: 'Required', requireCheckpoint: false } }));
    if (d.verdict !== 'patch') throw new Error(d.verdict);
    const out = apply(pod(undefined), d.patch);
    expect(
      out.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toHaveLength(6);
    expect(out.metadata?.annotations).toEqual({
      'aicost.dev/spot-placement': 'Required',
      'aicost.dev/spot-policy': 'train-spot',
    });
  });

  it('annotation keys with a slash are escaped in the patch path', () => {
    const d = decideSpotAdmission(input(pod(CHECKPOINTED)));
    if (d.verdict !== 'patch') throw new Error(d.verdict);
    expect(d.patch.map((op) => op.path)).toContain('/metadata/annotations/aicost.dev~1spot-placement');
  });

  it('no checkpoint + Enforce: kept off spot with a warning', () => {
    const d = decideSpotAdmission(input(pod({ team: 'x' })));
    if (d.verdict !== 'patch') throw new Error(d.verdict);
    const out = apply(pod({ team: 'x' }), d.patch);
    expect(
      out.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.every(
        (r) => r.operator === 'NotIn',
      ),
    ).toBe(true);
    expect(out.spec?.tolerations).toBeUndefined();
    expect(out.metadata?.annotations?.['aicost.dev/spot-placement']).toBe('Avoided');
    expect(d.warnings[0]).toContain('kept off spot nodes');
  });

  it('interval above the maximum + explicit spot selector + Enforce: denied, saying what to change', () => {
    const d = decideSpotAdmission(
      input(
        pod(
          { ...CHECKPOINTED, 'aicost.dev/checkpoint-interval': '2h' },
          { nodeSelector: { 'eks.amazonaws.com/capacityType': 'SPOT' } },
        ),
      ),
    );
    expect(d.verdict).toBe('deny');
    if (d.verdict !== 'deny') return;
    expect(d.message).toBe(
      'aicost policy train-spot allows spot nodes only for pods that checkpoint: aicost.dev/checkpoint-interval 2h is longer than the 30m this policy allows on spot; or remove the spot node selector or affinity',
    );
    expect(d.event.type).toBe('Warning');
  });

  it.each([
    ['checkpointed', CHECKPOINTED, {}, 'PreferSpot', 'Normal'],
    ['no checkpoint', {}, {}, 'AvoidSpot', 'Warning'],
    [
      'no checkpoint, selects spot',
      {},
      { nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } },
      'DenySpot',
      'Warning',
    ],
  ])(
    'Audit, %s: admitted unchanged with a warning and an Event (%s)',
    (_name, annotations, spec, action, eventType) => {
      const d = decideSpotAdmission(input(pod(annotations, spec), { mode: 'Audit' }));
      if (d.verdict !== 'allow') throw new Error(d.verdict);
      expect(d.action).toBe(action);
      expect(d.warnings).toHaveLength(1);
      expect(d.event?.type).toBe(eventType);
      expect(d.event?.reason).toBe('SpotAudit');
    },
  );

  it('Forbidden: kept off spot even with a checkpoint; denied when it selects spot', () => {
    const rule = { placement: 'Forbidden', requireCheckpoint: true } as const;
    const d = decideSpotAdmission(input(pod(CHECKPOINTED), { rule }));
    expect(d.verdict === 'patch' && d.action).toBe('AvoidSpot');
    const denied = decideSpotAdmission(input(pod(CHECKPOINTED, { nodeSelector: { lifecycle: 'EC2Spot' } }), { rule }));
    expect(denied.verdict === 'deny' && denied.message).toContain('policy train-spot forbids spot capacity');
  });

  it("a placement the pod's creator set is not trusted: decided afresh, and the creator's marks replaced", () => {
    // The webhook runs once per CREATE: a pre-set placement would have let the pod skip a Forbidden or
    // Required rule (#19).
    const preset = { 'aicost.dev/spot-placement': 'Preferred', 'aicost.dev/spot-policy': 'other' };
    const rule = { placement: 'Forbidden' as const, requireCheckpoint: true };
    const explicit = pod({ ...CHECKPOINTED, ...preset }, { nodeSelector: { lifecycle: 'EC2Spot' } });
    expect(decideSpotAdmission(input(explicit, { rule })).verdict).toBe('deny');
    const d = decideSpotAdmission(input(pod({ ...preset, 'aicost.dev/cost': '0', team: 'x' })));
    if (d.verdict !== 'patch') throw new Error(d.verdict);
    expect(apply(pod({ ...preset, 'aicost.dev/cost': '0', team: 'x' }), d.patch).metadata?.annotations).toEqual({
      team: 'x',
      'aicost.dev/spot-placement': 'Avoided',
      'aicost.dev/spot-policy': 'train-spot',
    });
  });
});
