import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { WorkloadView } from '../policy/match.ts';
import {
  budgetsInScope,
  decideBudgetAdmission,
  isWorkloadController,
  type BudgetAdmissionInput,
  type PodOwner,
} from './admission.ts';

const PROTECTED = new Set(['kube-system', 'aicost-system']);
const NOW = Date.UTC(2026, 10, 21, 12);
/** The budget was exceeded on 20 November at 08:00 UTC. */
const EXCEEDED_AT = '2026-11-20T08:00:00Z';
const BEFORE = Date.UTC(2026, 10, 20, 7, 59, 59) / 1000;
const AFTER = Date.UTC(2026, 10, 20, 8) / 1000;

interface BudgetOptions {
  readonly name?: string;
  /** The rule's mode; null: none. */
  readonly mode?: 'Audit' | 'Enforce' | null;
  readonly policyMode?: 'Audit' | 'Enforce';
  readonly onExceeded?: string[];
  readonly contact?: string;
  readonly exceededAt?: string | undefined;
  readonly periodEnd?: string;
  readonly observedGeneration?: number;
  readonly selector?: Record<string, string>;
  readonly allowExemptions?: boolean;
}

function policy(o: BudgetOptions = {}): PolicyRecord {
  const name = o.name ?? 'team-research';
  const exceededAt = 'exceededAt' in o ? o.exceededAt : EXCEEDED_AT;
  return {
    name,
    uid: `uid-${name}`,
    generation: 3,
    invalid: undefined,
    spec: policySpecSchema.parse({
      namespaceSelector: { matchLabels: { team: 'research' } },
      ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.allowExemptions === undefined ? {} : { allowExemptions: o.allowExemptions }),
      ...(o.policyMode ? { mode: o.policyMode } : {}),
      rules: {
        budget: {
          amount: '5000',
          ...(o.mode === null ? {} : { mode: o.mode ?? 'Enforce' }),
          onExceeded: o.onExceeded ?? ['DenyNewGPUPods'],
          ...(o.contact === undefined ? {} : { contact: o.contact }),
        },
      },
    }),
    status: {
      observedGeneration: o.observedGeneration ?? 3,
      currency: 'USD',
      budget: {
        periodStart: '2026-11-01T00:00:00Z',
        periodEnd: o.periodEnd ?? '2026-12-01T00:00:00Z',
        accountedUntil: '2026-11-21T11:55:00Z',
        spent: '5012.345678',
        percent: 100,
        forecast: '7000.00',
        forecastPercent: 140,
        ...(exceededAt === undefined ? {} : { exceededAt }),
      },
    },
  };
}

const VIEW: WorkloadView = {
  namespace: 'ml',
  labels: { app: 'train' },
  annotations: {},
  namespaceLabels: { team: 'research', 'kubernetes.io/metadata.name': 'ml' },
};
const job = (createdAtSeconds: number | undefined): PodOwner => ({
  verified: true,
  kind: 'Job',
  name: 'train',
  createdAtSeconds,
});

function input(over: Partial<BudgetAdmissionInput> = {}): BudgetAdmissionInput {
  return {
    policies: [policy()],
    view: VIEW,
    protectedNamespaces: PROTECTED,
    defaultMode: 'Audit',
    nowMs: NOW,
    gpu: true,
    owner: job(AFTER),
    byController: true,
    podName: 'train-',
    override: undefined,
    ...over,
  };
}

const REFUSAL =
  'aicost budget team-research is exceeded: 5012.35 USD spent of 5000.00 USD in the period ending ' +
  '2026-12-01T00:00:00Z, so new GPU pods in its scope are refused. Ask the platform team (owners of AICostPolicy ' +
  'team-research); urgent work can go through with the annotation aicost.dev/budget-override=<reason> on namespace ml.';
const DENIED_EVENT =
  'aicost budget team-research refused a new GPU pod of Job ml/train: the budget of 5000.00 USD is exceeded ' +
  'until 2026-12-01T00:00:00Z; ask the platform team (owners of AICostPolicy team-research)';

describe('decideBudgetAdmission', () => {
  it('refuses a new GPU pod in Enforce, saying what, why, who to ask and the way out', () => {
    expect(decideBudgetAdmission(input())).toEqual({
      verdicts: [
        {
          policy: 'team-research',
          verdict: 'denied',
          event: { type: 'Warning', reason: 'BudgetDenied', message: DENIED_EVENT },
          warning: undefined,
        },
      ],
      refusal: REFUSAL,
    });
  });

  it('names the contact when the budget gives one', () => {
    const d = decideBudgetAdmission(input({ policies: [policy({ contact: '#ml-platform on Slack' })] }));
    expect(d.refusal).toContain('. Ask #ml-platform on Slack; urgent work can go through');
    expect(d.verdicts[0]?.event?.message).toMatch(/; ask #ml-platform on Slack$/);
  });

  it('admits in Audit with a warning and a BudgetWouldDeny Event', () => {
    expect(decideBudgetAdmission(input({ policies: [policy({ mode: 'Audit' })] }))).toEqual({
      verdicts: [
        {
          policy: 'team-research',
          verdict: 'would_deny',
          event: {
            type: 'Warning',
            reason: 'BudgetWouldDeny',
            message:
              'aicost budget team-research (Audit) would refuse new GPU pods of Job ml/train: the budget of 5000.00 USD ' +
              'is exceeded until 2026-12-01T00:00:00Z',
          },
          warning:
            'aicost budget team-research is exceeded (5012.35 USD spent of 5000.00 USD) until 2026-12-01T00:00:00Z: ' +
            'admitted in Audit; Enforce would refuse this new GPU pod',
        },
      ],
      refusal: undefined,
    });
  });

  it("lets a new pod through on the namespace's override, with an Event naming the budget, the value and the workload", () => {
    const message =
      'aicost budget team-research: the budget of 5000.00 USD is exceeded until 2026-12-01T00:00:00Z; a new GPU pod ' +
      'of Job ml/train went through on namespace ml\'s aicost.dev/budget-override: "incident 4711, approved by ana"';
    expect(decideBudgetAdmission(input({ override: 'incident 4711, approved by ana' }))).toEqual({
      verdicts: [
        {
          policy: 'team-research',
          verdict: 'overridden',
          event: { type: 'Warning', reason: 'BudgetOverridden', message },
          warning: message,
        },
      ],
      refusal: undefined,
    });
  });

  const replacement = { verdicts: [{ policy: 'team-research', verdict: 'replacement' }], refusal: undefined };
  const denied = { verdicts: [{ policy: 'team-research', verdict: 'denied' }], refusal: REFUSAL };
  const untouched = { verdicts: [], refusal: undefined };
  const bare = (name: string) => ({ ...denied, verdicts: [{ ...denied.verdicts[0], event: { message: name } }] });

  it.each<[string, Partial<BudgetAdmissionInput>, unknown]>([
    ['a Job created before the budget was exceeded: a replacement', { owner: job(BEFORE) }, replacement],
    ['a Job created as it was exceeded: new', { owner: job(AFTER) }, denied],
    // A tenant can read its old Job's uid and name it in a pod of its own: the reference checks out, the
    // requester does not.
    ["an old Job's pod not created by a workload controller: new", { owner: job(BEFORE), byController: false }, denied],
    [
      'a Deployment created before, through its ReplicaSet: a replacement',
      { owner: { verified: true, kind: 'Deployment', name: 'web', createdAtSeconds: BEFORE } },
      replacement,
    ],
    ['a cached workload without a creation time: new', { owner: job(undefined) }, denied],
    [
      'an owner not cached yet, or of a kind not cached: new',
      { owner: { verified: false, kind: 'ReplicaSet', name: 'rs' } },
      denied,
    ],
    [
      // resolveOwner turns a reference to a cached object of another uid into no owner at all.
      'a forged owner reads as a bare pod: new, and named as the pod',
      { owner: undefined },
      bare(DENIED_EVENT.replace('Job ml/train', 'Pod ml/train-')),
    ],
    ['not a GPU pod: untouched', { gpu: false }, untouched],
    ['under the budget (no exceededAt): untouched', { policies: [policy({ exceededAt: undefined })] }, untouched],
    [
      'the period of exceededAt has ended: untouched',
      { policies: [policy({ periodEnd: '2026-11-21T12:00:00Z' })] },
      untouched,
    ],
    ['a status of an older generation: untouched', { policies: [policy({ observedGeneration: 2 })] }, untouched],
    ['a budget that only alerts: untouched', { policies: [policy({ onExceeded: [] })] }, untouched],
    ['ScaleDevToZero alone: untouched here', { policies: [policy({ onExceeded: ['ScaleDevToZero'] })] }, untouched],
    ['another team: out of scope', { view: { ...VIEW, namespaceLabels: { team: 'web' } } }, untouched],
    ['a protected namespace: out of scope', { view: { ...VIEW, namespace: 'kube-system' } }, untouched],
    [
      'aicost.dev/exempt does not take a pod out of a budget',
      {
        view: { ...VIEW, annotations: { 'aicost.dev/exempt': 'true' } },
        policies: [policy({ allowExemptions: true })],
      },
      denied,
    ],
  ])('%s', (_name, over, expected) => {
    expect(decideBudgetAdmission(input(over))).toMatchObject(expected as object);
  });

  it('judges every exceeded budget in name order; the first refusing one wins', () => {
    const d = decideBudgetAdmission(
      input({
        policies: [
          policy({ name: 'zz-cluster', mode: 'Enforce' }),
          policy({ name: 'b-team', mode: 'Enforce', contact: 'team b' }),
          policy({ name: 'a-audit', mode: 'Audit' }),
        ],
      }),
    );
    expect(d.verdicts.map((v) => [v.policy, v.verdict])).toEqual([
      ['a-audit', 'would_deny'],
      ['b-team', 'denied'],
    ]);
    expect(d.refusal).toMatch(/^aicost budget b-team is exceeded: .* Ask team b; /);
  });

  it.each<[BudgetOptions, 'Audit' | 'Enforce', string]>([
    [{ mode: null }, 'Audit', 'would_deny'],
    [{ mode: null }, 'Enforce', 'denied'],
    [{ mode: null, policyMode: 'Enforce' }, 'Audit', 'denied'],
    [{ mode: 'Audit', policyMode: 'Enforce' }, 'Enforce', 'would_deny'],
  ])('runs in the rule mode, else the policy mode, else the default: %j, default %s', (o, defaultMode, expected) => {
    const d = decideBudgetAdmission(input({ policies: [policy(o)], defaultMode }));
    expect(d.verdicts[0]?.verdict).toBe(expected);
  });
});

describe('budgetsInScope', () => {
  it('lists the budgets whose scope holds the pod, in name order, with or without onExceeded', () => {
    const names = budgetsInScope(
      [
        policy({ name: 'c' }),
        policy({ name: 'a', onExceeded: [] }),
        policy({ name: 'b', selector: { app: 'serve' } }),
        { ...policy({ name: 'invalid' }), spec: undefined },
      ],
      VIEW,
      PROTECTED,
    ).map((p) => p.name);
    expect(names).toEqual(['a', 'c']);
  });
});

describe('isWorkloadController', () => {
  it.each([
    ['system:serviceaccount:kube-system:replicaset-controller', true],
    ['system:serviceaccount:kube-system:job-controller', true],
    ['system:serviceaccount:kube-system:statefulset-controller', true],
    ['system:kube-controller-manager', true],
    ['system:serviceaccount:kube-system:deployment-controller', false],
    ['system:serviceaccount:ml:default', false],
    ['alice@example.com', false],
    ['', false],
  ])('%s: %s', (username, expected) => {
    expect(isWorkloadController(username)).toBe(expected);
  });
});
