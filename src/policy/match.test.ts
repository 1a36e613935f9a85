import { describe, expect, it } from 'vitest';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { assignRules, matchPolicy, modeOf, type PolicyRef, type WorkloadView } from './match.ts';

const policy = (name: string, spec: unknown): PolicyRef => ({ name, spec: policySpecSchema.parse(spec) });
const workload = (over: Partial<WorkloadView> = {}): WorkloadView => ({
  namespace: 'team-a',
  labels: { environment: 'dev', team: 'a' },
  annotations: {},
  namespaceLabels: { tier: 'dev' },
  ...over,
});
const protectedNs = new Set(['kube-system', 'aicost-system']);

describe('policy matching', () => {
  const idle = policy('idle', { rules: { idleGPU: {} } });
  it.each([
    ['a plain workload', workload(), { applies: true }],
    ['kube-system', workload({ namespace: 'kube-system' }), { applies: false, reason: 'protected-namespace' }],
    [
      "the operator's namespace",
      workload({ namespace: 'aicost-system' }),
      { applies: false, reason: 'protected-namespace' },
    ],
    [
      'an exempt workload',
      workload({ annotations: { 'aicost.dev/exempt': 'true' } }),
      { applies: false, reason: 'exempt' },
    ],
    [
      'an exempt annotation that is not "true"',
      workload({ annotations: { 'aicost.dev/exempt': 'yes' } }),
      { applies: true },
    ],
  ])('%s', (_name, w, outcome) => {
    expect(matchPolicy(idle, w, protectedNs)).toEqual(outcome);
  });

  it('ignores the exemption when the policy forbids opting out', () => {
    const strict = policy('strict', { allowExemptions: false, rules: { idleGPU: {} } });
    expect(matchPolicy(strict, workload({ annotations: { 'aicost.dev/exempt': 'true' } }), protectedNs)).toEqual({
      applies: true,
    });
  });

  it('honours selectors, namespace selectors and exclusions', () => {
    const p = policy('p', {
      namespaceSelector: { matchLabels: { tier: 'dev' } },
      selector: { matchExpressions: [{ key: 'environment', operator: 'In', values: ['dev', 'test'] }] },
      exclude: { namespaces: ['team-b'], selectors: [{ matchLabels: { critical: 'true' } }] },
      rules: { scaleToZero: {} },
    });
    expect(matchPolicy(p, workload(), protectedNs).applies).toBe(true);
    expect(matchPolicy(p, workload({ labels: { environment: 'prod' } }), protectedNs)).toEqual({
      applies: false,
      reason: 'not-selected',
    });
    expect(matchPolicy(p, workload({ namespaceLabels: { tier: 'prod' } }), protectedNs)).toEqual({
      applies: false,
      reason: 'not-selected',
    });
    expect(matchPolicy(p, workload({ namespace: 'team-b' }), protectedNs)).toEqual({
      applies: false,
      reason: 'excluded',
    });
    expect(matchPolicy(p, workload({ labels: { environment: 'dev', critical: 'true' } }), protectedNs)).toEqual({
      applies: false,
      reason: 'excluded',
    });
  });
});

describe('precedence between policies', () => {
  const broad = policy('a-broad', { rules: { idleGPU: {}, spot: { placement: 'Preferred' } } });
  const specific = policy('z-specific', {
    selector: { matchLabels: { environment: 'dev' } },
    rules: { idleGPU: { idleAfter: '10m' } },
  });
  const sameLevel = policy('b-same', { rules: { idleGPU: {} } });

  it('gives each rule to the most specific policy that defines it, then by name', () => {
    const a = assignRules([sameLevel, broad, specific], workload(), protectedNs);
    expect(a.winners.idleGPU?.name).toBe('z-specific');
    expect(a.winners.spot?.name).toBe('a-broad');
    expect(a.overridden).toEqual([
      { policy: 'a-broad', rule: 'idleGPU', by: 'z-specific' },
      { policy: 'b-same', rule: 'idleGPU', by: 'z-specific' },
    ]);
    expect([...a.matched].sort()).toEqual(['a-broad', 'b-same', 'z-specific']);
  });

  it('gives budgets no precedence: a team budget and a cluster-wide one both count the workload', () => {
    const team = policy('team-a', { selector: { matchLabels: { team: 'a' } }, rules: { budget: { amount: '10' } } });
    const all = policy('everything', { rules: { budget: { amount: '100' } } });
    const a = assignRules([team, all], workload(), protectedNs);
    expect(a.winners.budget).toBeUndefined();
    expect(a.overridden).toEqual([]);
    expect([...a.matched].sort()).toEqual(['everything', 'team-a']);
  });

  it('breaks ties by name, whatever the order given', () => {
    expect(assignRules([sameLevel, broad], workload(), protectedNs).winners.idleGPU?.name).toBe('a-broad');
    expect(assignRules([broad, sameLevel], workload(), protectedNs).winners.idleGPU?.name).toBe('a-broad');
  });

  it('lets a rule override the policy mode', () => {
    const p = policy('p', { mode: 'Enforce', rules: { idleGPU: { mode: 'Audit' }, scaleToZero: {} } });
    expect(modeOf(p.spec, 'idleGPU', 'Audit')).toBe('Audit');
    expect(modeOf(p.spec, 'scaleToZero', 'Audit')).toBe('Enforce');
    // A policy without a mode takes the operator's default, whichever it is.
    const q = policy('q', { rules: { idleGPU: {} } });
    expect(q.spec.mode).toBeUndefined();
    expect(modeOf(q.spec, 'idleGPU', 'Audit')).toBe('Audit');
    expect(modeOf(q.spec, 'idleGPU', 'Enforce')).toBe('Enforce');
    expect(modeOf(p.spec, 'scaleToZero', 'Audit')).toBe('Enforce');
  });
});
