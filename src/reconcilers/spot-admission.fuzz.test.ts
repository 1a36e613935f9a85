/**
 * The spot webhook's reviewer on arbitrary requests (fast-check): tenants write the pods it reads, so whatever
 * the AdmissionReview holds, it answers the request's uid and never throws, and a pod of the Pod type (any
 * labels, annotations, owners, node selector, affinity, tolerations) gets a decision, never the error path
 * (which refuses the pod), with a JSON patch that applies to it and leaves no operator key the creator set.
 * Budgets that are exceeded (one in Enforce, one in Audit) and a GPU node judge and price its GPU pods too.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { operatorKeysIn } from '../policy/annotation-keys.ts';
import { SPOT_ANNOTATION } from '../policy/spot.ts';
import { SPOT_LABELS } from '../pricing/capacity-type.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { exceededBudgetPolicy } from '../testing/budget-policies.ts';
import { fuzzRuns } from '../testing/fuzz.ts';
import { podCreateReview, startSpotAdmission } from '../testing/harness.ts';

const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const errors: string[] = [];
let s: Awaited<ReturnType<typeof startSpotAdmission>>;

beforeAll(async () => {
  const api = new FakeKube();
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: 'train', namespace: 'ml', uid: 'job-uid', labels: { workload: 'training' } },
    spec: { template: { metadata: {} } },
  });
  // One policy per placement and mode, chosen by the pod's labels.
  const rules = [
    ['training', 'Preferred', 'Enforce'],
    ['serving', 'Forbidden', 'Enforce'],
    ['batch', 'Required', 'Enforce'],
    ['eval', 'Required', 'Audit'],
  ] as const;
  for (const [workload, placement, mode] of rules) {
    api.put(POLICIES, {
      metadata: { name: `${workload}-spot`, generation: 1 },
      spec: { mode, selector: { matchLabels: { workload } }, rules: { spot: { placement } } },
    });
  }
  api.put('/api/v1/nodes', {
    metadata: {
      name: 'gpu-1',
      labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge', 'kubernetes.io/arch': 'amd64' },
    },
    spec: { taints: [{ key: 'karpenter.sh/capacity-type', value: 'spot', effect: 'NoSchedule' }] },
    status: { allocatable: { 'nvidia.com/gpu': '1', cpu: '4', memory: '16Gi' } },
  });
  for (const [workload, mode] of [
    ['batch', 'Enforce'],
    ['eval', 'Audit'],
  ] as const) {
    api.put(
      POLICIES,
      exceededBudgetPolicy({
        name: `${workload}-budget`,
        mode,
        scope: { selector: { matchLabels: { workload } } },
        amount: '10',
        spent: '12.000000',
        percent: 120,
      }),
    );
  }
  const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
  s = await startSpotAdmission(api, new FakeClock(Date.UTC(2026, 10, 23)), { defaultMode: 'Enforce', log });
});

afterAll(() => s.stop());

const spotKey = fc.constantFrom(...SPOT_LABELS.map((l) => l.key), 'kubernetes.io/arch');
const spotValue = fc.constantFrom(...SPOT_LABELS.map((l) => l.value), 'on-demand', '');
const annotationKey = fc.oneof(
  fc.constantFrom(
    SPOT_ANNOTATION.placement,
    SPOT_ANNOTATION.policy,
    SPOT_ANNOTATION.checkpointPath,
    SPOT_ANNOTATION.checkpointInterval,
    SPOT_ANNOTATION.lastCheckpoint,
    'aicost.dev/cost',
    'aicost.dev/accounted-until',
    'aicost.dev/a~b/c',
    'example.com/x',
  ),
  fc.string({ maxLength: 12 }),
);
const annotationValue = fc.oneof(fc.constantFrom('/ckpt', '10m', '2h', '', 'Required', 'Avoided', '0'), fc.string());
const expression = fc.record(
  {
    key: spotKey,
    operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
    values: fc.array(spotValue, { maxLength: 2 }),
  },
  { requiredKeys: ['key', 'operator'] },
);
const term = fc.record({ matchExpressions: fc.array(expression, { maxLength: 3 }) }, { requiredKeys: [] });
const affinity = fc.record(
  {
    nodeAffinity: fc.record(
      {
        requiredDuringSchedulingIgnoredDuringExecution: fc.record({
          nodeSelectorTerms: fc.array(term, { maxLength: 3 }),
        }),
        preferredDuringSchedulingIgnoredDuringExecution: fc.array(
          fc.record({ weight: fc.integer({ min: 1, max: 100 }), preference: term }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    ),
    podAntiAffinity: fc.constant({}),
  },
  { requiredKeys: [] },
);
const toleration = fc.record(
  {
    key: spotKey,
    operator: fc.constantFrom('Equal', 'Exists'),
    value: spotValue,
    effect: fc.constantFrom('NoSchedule', 'NoExecute'),
  },
  { requiredKeys: [] },
);
const owner = fc.record(
  {
    apiVersion: fc.constantFrom('batch/v1', 'apps/v1', 'v1'),
    kind: fc.constantFrom('Job', 'ReplicaSet', 'StatefulSet', 'Deployment', 'Pod', ''),
    name: fc.constantFrom('train', 'rs-1', ''),
    uid: fc.constantFrom('job-uid', 'other'),
    controller: fc.boolean(),
  },
  { requiredKeys: [] },
);
/** A Pod as the API server decodes it: any values, but of the Pod type's shapes. */
const pod = fc.record({
  metadata: fc.record(
    {
      name: fc.string({ maxLength: 8 }),
      generateName: fc.constantFrom('train-', 'x-'),
      labels: fc.dictionary(
        fc.constantFrom('workload', 'team', 'job-name'),
        fc.constantFrom('training', 'serving', 'batch', 'eval', 'train'),
      ),
      annotations: fc.dictionary(annotationKey, annotationValue, { maxKeys: 6 }),
      ownerReferences: fc.array(owner, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
  spec: fc.record(
    {
      containers: fc.constantFrom(
        [{ name: 'main' }],
        [{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
        [{ name: 'main', resources: { requests: { 'nvidia.com/mig-1g.5gb': '2', cpu: '500m', memory: '1Gi' } } }],
      ),
      activeDeadlineSeconds: fc.integer({ min: -1, max: 100_000 }),
      nodeSelector: fc.dictionary(spotKey, spotValue, { maxKeys: 2 }),
      affinity,
      tolerations: fc.array(toleration, { maxLength: 3 }),
    },
    { requiredKeys: ['containers'] },
  ),
});

type Op = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

function decodePatch(patch: string | undefined): unknown {
  return patch === undefined ? [] : (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as unknown);
}

function wellFormed(ops: unknown): ops is Op[] {
  return (
    Array.isArray(ops) &&
    ops.every(
      (o: { op?: unknown; path?: unknown }) =>
        (o.op === 'add' || o.op === 'remove') && typeof o.path === 'string' && o.path.startsWith('/'),
    )
  );
}

/** RFC 6902 add and remove on objects, strictly: the parent must exist, and a removed member too. */
function applyPatch(doc: unknown, ops: readonly Op[]): unknown {
  const root = structuredClone(doc);
  for (const op of ops) {
    const tokens = op.path
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) {
      if (parent === null || typeof parent !== 'object' || !Object.hasOwn(parent, t)) {
        throw new Error(`${op.op} ${op.path}: no ${t}`);
      }
      parent = (parent as Record<string, unknown>)[t];
    }
    if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) {
      throw new Error(`${op.op} ${op.path}: the parent is not an object`);
    }
    const object = parent as Record<string, unknown>;
    if (op.op === 'add') object[last] = structuredClone(op.value);
    else if (Object.hasOwn(object, last)) Reflect.deleteProperty(object, last);
    else throw new Error(`remove ${op.path}: no such member`);
  }
  return root;
}

describe('SpotAdmission on arbitrary requests (properties)', () => {
  it('answers anything with the request uid and a well-formed patch, without throwing', () => {
    const body = fc.oneof(
      fc.anything(),
      fc.record({ request: fc.anything() }),
      fc
        .tuple(fc.anything(), fc.anything(), fc.constantFrom('CREATE', 'UPDATE', 'create'))
        .map(([object, uid, operation]) => podCreateReview(object, { uid, operation })),
      pod.map((p) => podCreateReview(p, { uid: 'u-1' })),
    );
    fc.assert(
      fc.property(body, (b) => {
        const review = s.admission.review(b);
        const request = (b as { request?: { uid?: unknown } } | null | undefined)?.request;
        const uid = typeof request?.uid === 'string' ? request.uid : '';
        expect(review.response.uid).toBe(uid);
        expect(typeof review.response.allowed).toBe('boolean');
        expect(wellFormed(decodePatch(review.response.patch))).toBe(true);
      }),
      fuzzRuns(400),
    );
  });

  it('hears the error path (the canary of the next property): tolerations not a list, which the API server never sends', () => {
    errors.length = 0;
    const steered = {
      metadata: {
        labels: { workload: 'training' },
        annotations: { [SPOT_ANNOTATION.checkpointPath]: '/ckpt', [SPOT_ANNOTATION.checkpointInterval]: '10m' },
      },
      spec: { tolerations: 5 },
    };
    const review = s.admission.review(podCreateReview(steered));
    // The error path refuses the pod (#19): it used to admit it unchanged, skipping any spot rule.
    expect(review.response).toMatchObject({
      uid: 'req-1',
      allowed: false,
      status: { code: 500, reason: 'InternalError' },
    });
    expect(errors.join('')).toContain('admission review failed');
  });

  it('decides every pod of the Pod type with a patch that applies and strips the keys its creator set', () => {
    fc.assert(
      fc.property(pod, fc.boolean(), (p, dryRun) => {
        errors.length = 0;
        const review = s.admission.review(podCreateReview(p, { dryRun }, 'ml'));
        expect(errors).toEqual([]);
        const ops = decodePatch(review.response.patch);
        expect(wellFormed(ops)).toBe(true);
        const patched = applyPatch(p, ops as Op[]) as typeof p;
        if (!review.response.allowed) return;
        const set = new Set((ops as Op[]).filter((o) => o.op === 'add').map((o) => o.path));
        for (const key of operatorKeysIn(patched.metadata.annotations)) {
          const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
          expect(set.has(path) || set.has('/metadata/annotations'), key).toBe(true);
        }
      }),
      fuzzRuns(400),
    );
  });
});
