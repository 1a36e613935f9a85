import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from './money.ts';
import { planStorage, type ClaimFacts, type MountFacts } from './storage-plan.ts';
import type { WorkloadRef } from './types.ts';

const GIB = 2 ** 30;
const HOUR = { start: 0, end: 3600 };
/** 100 GiB of gp3 (0.08 per GiB-month): 8 per 730 hours, 0.010958904 for the hour. */
const checkpoints: ClaimFacts = {
  uid: 'c-1',
  namespace: 'ml',
  name: 'checkpoints',
  storageClass: 'gp3',
  bytes: 100 * GIB,
  nanosPerGiBMonth: parseMoney('0.08'),
  from: 0,
};
const job = (name: string): WorkloadRef => ({ kind: 'Job', namespace: 'ml', name });
const mount = (workload: WorkloadRef, from: number, until?: number, claimName = 'checkpoints'): MountFacts => ({
  namespace: workload.namespace,
  claimName,
  workload,
  from,
  until,
});

/** Shares as [workload key, seconds, cost] and the unattached [seconds, cost], for exact comparison. */
function table(claims: readonly ClaimFacts[], mounts: readonly MountFacts[], interval = HOUR) {
  return planStorage(interval, claims, mounts).map((c) => ({
    claim: c.claim.name,
    seconds: c.seconds,
    cost: formatMoney(c.cost, 9),
    shares: c.shares.map((s) => [s.workloadKey, s.seconds, formatMoney(s.cost, 9)]),
    unattached: [c.unattachedSeconds, formatMoney(c.unattachedCost, 9)],
  }));
}

describe('planStorage', () => {
  it.each<[string, MountFacts[], [string, number, string][], [number, string]]>([
    [
      'a Job mounting it the whole hour pays all of it',
      [mount(job('train'), 0)],
      [['Job/ml/train', 3600, '0.010958904']],
      [0, '0.000000000'],
    ],
    [
      // 0.010958904 × 1800 / 3600 = 0.005479452 each
      'a Job that ends half-way: the rest is billed to the namespace',
      [mount(job('train'), 0, 1800)],
      [['Job/ml/train', 1800, '0.005479452']],
      [1800, '0.005479452'],
    ],
    [
      'two pods of one Job count once',
      [mount(job('train'), 0), mount(job('train'), 0)],
      [['Job/ml/train', 3600, '0.010958904']],
      [0, '0.000000000'],
    ],
    [
      // 0.010958904 / 2 = 0.005479452 each
      'two workloads sharing it pay half each',
      [mount(job('a'), 0), mount({ kind: 'Deployment', namespace: 'ml', name: 'eval' }, 0)],
      [
        ['Deployment/ml/eval', 3600, '0.005479452'],
        ['Job/ml/a', 3600, '0.005479452'],
      ],
      [0, '0.000000000'],
    ],
    [
      // [0,1200) a alone: 0.003652968; [1200,2400) shared: 0.003652968 split 0.001826484 each; [2400,3600) nobody.
      'overlapping workloads split the shared seconds, the rest is unattached',
      [mount(job('a'), 0, 2400), mount(job('b'), 1200, 2400)],
      [
        ['Job/ml/a', 2400, '0.005479452'],
        ['Job/ml/b', 1200, '0.001826484'],
      ],
      [1200, '0.003652968'],
    ],
    [
      'a pod that mounts another claim pays nothing for this one',
      [mount(job('a'), 0, undefined, 'datasets')],
      [],
      [3600, '0.010958904'],
    ],
    [
      'mounts outside the claim or the interval are clipped',
      [mount(job('a'), -500, 600), mount(job('b'), 3000, 9000)],
      [
        ['Job/ml/a', 600, '0.001826484'],
        ['Job/ml/b', 600, '0.001826484'],
      ],
      [2400, '0.007305936'],
    ],
  ])('%s', (_name, mounts, shares, unattached) => {
    const [row] = table([checkpoints], mounts);
    expect(row).toEqual({ claim: 'checkpoints', seconds: 3600, cost: '0.010958904', shares, unattached });
  });

  it('a claim bound or deleted inside the interval costs only its bound seconds', () => {
    expect(table([{ ...checkpoints, from: 900, until: 2700 }], [mount(job('a'), 0)])).toEqual([
      {
        claim: 'checkpoints',
        seconds: 1800,
        cost: '0.005479452',
        shares: [['Job/ml/a', 1800, '0.005479452']],
        unattached: [0, '0.000000000'],
      },
    ]);
    expect(table([{ ...checkpoints, from: 3600 }], [])).toEqual([]);
    expect(table([{ ...checkpoints, until: 0 }], [])).toEqual([]);
  });

  it('matches claims by namespace and name', () => {
    const other = { ...checkpoints, uid: 'c-2', namespace: 'research' };
    const [ml, research] = table([checkpoints, other], [mount(job('a'), 0)]);
    expect(ml?.shares).toHaveLength(1);
    expect(research?.shares).toEqual([]);
    expect(research?.unattached).toEqual([3600, '0.010958904']);
  });

  it('conserves every claim exactly, whatever the mounts (largest remainder)', () => {
    // Thirds of odd amounts, many breakpoints: the parts still add up to the cost to the nano.
    const odd = { ...checkpoints, bytes: 7 * GIB + 12345, nanosPerGiBMonth: parseMoney('0.170000001') };
    for (let seed = 1; seed <= 50; seed++) {
      const mounts: MountFacts[] = [];
      for (let i = 0; i < 6; i++) {
        const from = (seed * 7919 * (i + 1)) % 3600;
        mounts.push(mount(job(`w${(seed + i) % 4}`), from, from + ((seed * 104729 * (i + 3)) % 2000) + 1));
      }
      for (const c of planStorage(HOUR, [odd], mounts)) {
        const total = c.shares.reduce((sum, s) => sum + s.cost, c.unattachedCost);
        expect(total).toBe(c.cost);
        expect(c.cost > 0n).toBe(true);
      }
    }
  });
});
