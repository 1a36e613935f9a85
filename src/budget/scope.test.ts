import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { rowInScope, scopeKey, type ScopedRow } from './scope.ts';

const PROTECTED = new Set(['kube-system', 'aicost-system']);
const spec = (over: Record<string, unknown>) =>
  policySpecSchema.parse({ ...over, rules: { budget: { amount: '100' } } });
const row = (namespace: string, labels: Record<string, string>, workloadKind: ScopedRow['workloadKind'] = 'Job') => ({
  namespace,
  labels: { 'kubernetes.io/metadata.name': namespace, ...labels },
  workloadKind,
});

describe('rowInScope', () => {
  it.each<[string, Record<string, unknown>, ScopedRow, boolean]>([
    ['a cluster-wide budget: every workload row', {}, row('ml', {}), true],
    ['a bare pod row', {}, row('ml', {}, 'Pod'), true],
    ['never a node idle row', {}, { namespace: '', labels: {}, workloadKind: 'Node' }, false],
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
    ['a team label from the namespace', { selector: { matchLabels: { team: 'a' } } }, row('ml', { team: 'a' }), true],
    [
      'a namespaceSelector on a merged label',
      { namespaceSelector: { matchLabels: { team: 'a' } } },
      row('x', { team: 'a' }),
      true,
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

describe('scopeKey', () => {
  it('changes with what selects rows, not with the rest of the policy', () => {
    const a = spec({ selector: { matchLabels: { team: 'a' } } });
    expect(scopeKey(a)).toBe(scopeKey({ ...a, mode: 'Enforce' }));
    expect(scopeKey(a)).not.toBe(scopeKey(spec({ selector: { matchLabels: { team: 'b' } } })));
    expect(scopeKey(a)).not.toBe(scopeKey({ ...a, exclude: { namespaces: ['x'] } }));
  });
});
