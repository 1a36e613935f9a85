import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { rowInScope, scopeKey, type ScopedRow } from './scope.ts';

const PROTECTED = new Set(['kube-system', 'aicost-system']);
const spec = (over: Record<string, unknown>) =>
  policySpecSchema.parse({ ...over, rules: { budget: { amount: '100' } } });
/** A row of now: the namespace's own labels (its name) apart, and merged under the workload's and pod's. */
const row = (
  namespace: string,
  labels: Record<string, string>,
  workloadKind: ScopedRow['workloadKind'] = 'Job',
  namespaceLabels: Record<string, string> = {},
): ScopedRow => {
  const own = { 'kubernetes.io/metadata.name': namespace, ...namespaceLabels };
  return { namespace, labels: { ...own, ...labels }, namespaceLabels: own, workloadKind };
};
/** A row written before the ledger kept the namespace's labels apart: the merged ones only. */
const before = (namespace: string, labels: Record<string, string>): ScopedRow => ({
  ...row(namespace, labels),
  namespaceLabels: undefined,
});
const RESEARCH = { namespaceSelector: { matchLabels: { team: 'research' } } };

describe('rowInScope', () => {
  it.each<[string, Record<string, unknown>, ScopedRow, boolean]>([
    ['a cluster-wide budget: every workload row', {}, row('ml', {}), true],
    ['a bare pod row', {}, row('ml', {}, 'Pod'), true],
    ['never a node idle row', {}, { namespace: '', labels: {}, namespaceLabels: {}, workloadKind: 'Node' }, false],
    ['never a protected namespace', {}, row('kube-system', {}), false],
    [
      'by namespace name',
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml' } } },
      row('ml', {}),
      true,
    ],
    [
      'by namespace name, another namespace',
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml' } } },
      row('web', {}),
      false,
    ],
    [
      'a selector on a team label from the namespace (merged labels)',
      { selector: { matchLabels: { team: 'a' } } },
      row('ml', {}, 'Job', { team: 'a' }),
      true,
    ],
    ['a namespaceSelector on the namespace’s own label', RESEARCH, row('ml', {}, 'Job', { team: 'research' }), true],
    [
      'a pod labelled team: other in a team: research namespace still counts in research’s budget',
      RESEARCH,
      row('ml', { team: 'other' }, 'Pod', { team: 'research' }),
      true,
    ],
    [
      '… and not in a budget of the team it claims',
      { namespaceSelector: { matchLabels: { team: 'other' } } },
      row('ml', { team: 'other' }, 'Pod', { team: 'research' }),
      false,
    ],
    [
      'a pod that claims its namespace’s name is still in its namespace',
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'prod' } } },
      row('ml', { 'kubernetes.io/metadata.name': 'prod' }),
      false,
    ],
    ['a team label on the workload only is not the namespace’s', RESEARCH, row('ml', { team: 'research' }), false],
    [
      'a selector reads the merged labels, where the pod’s label wins',
      { selector: { matchLabels: { team: 'research' } } },
      row('ml', { team: 'other' }, 'Pod', { team: 'research' }),
      false,
    ],
    [
      'the selector still sees the pod’s label (what the report groups by)',
      { selector: { matchLabels: { team: 'other' } } },
      row('ml', { team: 'other' }, 'Pod', { team: 'research' }),
      true,
    ],
    [
      'a row of before: the namespaceSelector falls back to the merged labels',
      RESEARCH,
      before('ml', { team: 'research' }),
      true,
    ],
    [
      'a row of before: a pod’s label still overrides its namespace’s there',
      RESEARCH,
      before('ml', { team: 'other' }),
      false,
    ],
    ['another team', { selector: { matchLabels: { team: 'a' } } }, row('ml', { team: 'b' }), false],
    [
      'an expression',
      { selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] } },
      row('ml', { team: 'b' }),
      true,
    ],
    ['excluded namespace', { exclude: { namespaces: ['ml'] } }, row('ml', {}), false],
    [
      'excluded by a selector',
      { exclude: { selectors: [{ matchLabels: { env: 'ci' } }] } },
      row('ml', { env: 'ci' }),
      false,
    ],
    ['exemption is not seen in rows', { allowExemptions: true }, row('ml', {}), true],
  ])('%s', (_name, over, r, expected) => {
    expect(rowInScope(spec(over), r, PROTECTED)).toBe(expected);
  });
});

describe('rowInScope, idle a node label owns (--idle-owner-label team)', () => {
  const owned = (labels: Record<string, string>, idleOwner = Object.values(labels)[0] ?? ''): ScopedRow => ({
    namespace: '',
    labels,
    namespaceLabels: {},
    workloadKind: 'Node',
    idleOwner,
  });
  const ml = owned({ team: 'ml' });
  it.each<[string, Record<string, unknown>, ScopedRow, boolean]>([
    ['a budget of the namespaces of team ml', { namespaceSelector: { matchLabels: { team: 'ml' } } }, ml, true],
    ['a budget of the workloads of team ml', { selector: { matchLabels: { team: 'ml' } } }, ml, true],
    [
      'by an expression on the key',
      { selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['ml', 'cv'] }] } },
      ml,
      true,
    ],
    ['another team’s budget', { namespaceSelector: { matchLabels: { team: 'cv' } } }, ml, false],
    ['a cluster-wide budget: idle is no workload’s', {}, ml, false],
    [
      'a budget selecting on another label',
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml' } } },
      ml,
      false,
    ],
    [
      'a team budget narrowed to a namespace: a node has none',
      { namespaceSelector: { matchLabels: { team: 'ml', 'kubernetes.io/metadata.name': 'ml' } } },
      ml,
      false,
    ],
    [
      'excluded by a selector',
      { selector: { matchLabels: { team: 'ml' } }, exclude: { selectors: [{ matchLabels: { team: 'ml' } }] } },
      ml,
      false,
    ],
    [
      'exclude.namespaces does not apply: a node has no namespace',
      { selector: { matchLabels: { team: 'ml' } }, exclude: { namespaces: ['ml'] } },
      ml,
      true,
    ],
    ['unowned idle, whatever the budget', { selector: { matchLabels: { team: 'ml' } } }, owned({}, ''), false],
    [
      'a row with the team column but no owner (an older file)',
      { selector: { matchLabels: { team: 'ml' } } },
      owned({ team: 'ml' }, ''),
      false,
    ],
  ])('%s', (_name, over, r, expected) => {
    expect(rowInScope(spec(over), r, PROTECTED)).toBe(expected);
  });
});

describe('scopeKey', () => {
  it('changes with what selects rows, not with the rest of the policy', () => {
    const a = spec({ selector: { matchLabels: { team: 'a' } } });
    expect(scopeKey(a)).toBe(scopeKey({ ...a, mode: 'Enforce' }));
    expect(scopeKey(a)).not.toBe(scopeKey(spec({ selector: { matchLabels: { team: 'b' } } })));
    expect(scopeKey(a)).not.toBe(scopeKey({ ...a, exclude: { namespaces: ['x'] } }));
  });
});
