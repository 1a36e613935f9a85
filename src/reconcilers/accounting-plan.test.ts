import { describe, expect, it } from 'vitest';
import { divRoundHalfUp, formatMoney, parseMoney } from '../cost/money.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts, type PodFacts } from '../cost/types.ts';
import { tenDollarNode } from '../testing/cost-fixtures.ts';
import type { Ledger } from '../cost/ledger.ts';
import {
  draftAccounting,
  finishAccounting,
  hourlyShare,
  monthStartOf,
  planAccounting,
  type Ledgers,
} from './accounting-plan.ts';

// A node whose GPU part is exactly 8 $/h for 8 GPUs: 1 $ per GPU-hour, so figures read directly.
const node = tenDollarNode('n1');
const T0 = Date.UTC(2026, 10, 10, 12, 0, 0) / 1000;

function pod(name: string, over: Partial<PodFacts> = {}): PodFacts {
  return {
    uid: `uid-${name}`,
    namespace: 'ml',
    name,
    nodeName: 'n1',
    gpuUnits: GPU_UNITS_PER_GPU,
    cpuMillis: 0,
    memoryBytes: 0,
    from: T0,
    labels: {},
    workload: { kind: 'Job', namespace: 'ml', name: 'train' },
    ...over,
  };
}
const empty: Ledgers = { pods: new Map(), workloads: new Map(), namespaces: new Map() };
const ledger = (cost: string, until: number, gpuHours = 0): Ledger => ({
  cost: parseMoney(cost),
  gpuSeconds: gpuHours * 3600,
  idleGpuSeconds: undefined,
  idleGpuCost: undefined,
  accountedUntil: until,
  currency: 'USD',
});
const money = (n: bigint | undefined) => (n === undefined ? 'none' : formatMoney(n, 6));

describe('accounting plan', () => {
  it('starts a new pod, its Job and its namespace from the pod start', () => {
    const plan = planAccounting({
      nowSeconds: T0 + 1800,
      cycleStartSeconds: T0 + 1740,
      currency: 'USD',
      nodes: [node],
      pods: [pod('a')],
      ledgers: empty,
    });
    expect(money(plan.pods.get('uid-a')?.ledger.cost)).toBe('0.500000');
    expect(money(plan.workloads.get('Job/ml/train')?.ledger.cost)).toBe('0.500000');
    expect(money(plan.namespaces.get('ml')?.ledger.cost)).toBe('0.500000');
    expect(plan.pods.get('uid-a')?.ledger.accountedUntil).toBe(T0 + 1800);
    expect(money(plan.pods.get('uid-a')?.display.costPerHour)).toBe('1.000000');
    expect(plan.pods.get('uid-a')?.display.utilization).toBeUndefined();
  });

  it('adds exactly the cycle to a ledger that is up to date', () => {
    const ledgers: Ledgers = {
      pods: new Map([['uid-a', ledger('0.5', T0 + 1800, 0.5)]]),
      workloads: new Map([['Job/ml/train', ledger('3.25', T0 + 1800)]]),
      namespaces: new Map([['ml', ledger('100', T0 + 1800)]]),
    };
    const plan = planAccounting({
      nowSeconds: T0 + 1860,
      cycleStartSeconds: T0 + 1800,
      currency: 'USD',
      nodes: [node],
      pods: [pod('a')],
      ledgers,
    });
    expect(money(plan.pods.get('uid-a')?.ledger.cost)).toBe('0.516667');
    expect(plan.pods.get('uid-a')?.ledger.gpuSeconds).toBe(1860);
    expect(money(plan.workloads.get('Job/ml/train')?.delta)).toBe('0.016667');
    expect(money(plan.namespaces.get('ml')?.ledger.cost)).toBe('100.016667');
  });

  it('after a restart resumes each object from its own accounted-until: no double count, no gap', () => {
    // The pod was last written 10 minutes ago, the Job 20 minutes ago; the new process's first cycle is 60 s.
    const ledgers: Ledgers = {
      pods: new Map([['uid-a', ledger('1.0', T0 + 3600)]]),
      workloads: new Map([['Job/ml/train', ledger('0.8333333', T0 + 3000)]]),
      namespaces: new Map(),
    };
    const nowSeconds = T0 + 4200;
    const plan = planAccounting({
      nowSeconds,
      cycleStartSeconds: nowSeconds - 60,
      currency: 'USD',
      nodes: [node],
      pods: [pod('a')],
      ledgers,
    });
    // Either way the total equals 1 $/h since T0: 70 minutes = 1.166667.
    expect(money(plan.pods.get('uid-a')?.ledger.cost)).toBe('1.166667');
    expect(money(plan.workloads.get('Job/ml/train')?.ledger.cost)).toBe('1.166667');
    // A ledger already at `now` (another leader wrote it) adds nothing.
    const again = planAccounting({
      nowSeconds,
      cycleStartSeconds: nowSeconds - 60,
      currency: 'USD',
      nodes: [node],
      pods: [pod('a')],
      ledgers: { ...empty, pods: new Map([['uid-a', ledger('1.166667', nowSeconds)]]) },
    });
    expect(money(again.pods.get('uid-a')?.delta)).toBe('0.000000');
  });

  it('keeps a Job accruing the final span of a pod that ended, and stops there', () => {
    const ended = pod('a', { until: T0 + 1830 });
    const ledgers: Ledgers = { ...empty, workloads: new Map([['Job/ml/train', ledger('0.5', T0 + 1800)]]) };
    const plan = planAccounting({
      nowSeconds: T0 + 1860,
      cycleStartSeconds: T0 + 1800,
      currency: 'USD',
      nodes: [node],
      pods: [ended],
      ledgers,
    });
    expect(money(plan.workloads.get('Job/ml/train')?.ledger.cost)).toBe('0.508333');
    expect(money(plan.workloads.get('Job/ml/train')?.display.costPerHour)).toBe('0.000000');
  });

  it('restarts a namespace at the start of a new month (UTC)', () => {
    const monthStart = monthStartOf(Date.UTC(2026, 11, 1, 0, 30) / 1000);
    expect(monthStart).toBe(Date.UTC(2026, 11, 1) / 1000);
    const p = pod('a', { from: monthStart - 3600 });
    const ledgers: Ledgers = { ...empty, namespaces: new Map([['ml', ledger('250', monthStart - 60)]]) };
    const plan = planAccounting({
      nowSeconds: monthStart + 1800,
      cycleStartSeconds: monthStart + 1740,
      currency: 'USD',
      nodes: [node],
      pods: [p],
      ledgers,
    });
    expect(money(plan.namespaces.get('ml')?.ledger.cost)).toBe('0.500000');
  });

  it('weights utilization by GPU-seconds and counts measured idle time', () => {
    const busy = pod('busy', { gpuUnits: 3 * GPU_UNITS_PER_GPU, utilization: { mean: 0.9, idleRatio: 0 } });
    const idle = pod('idle', { utilization: { mean: 0.02, idleRatio: 1 } });
    const plan = planAccounting({
      nowSeconds: T0 + 60,
      cycleStartSeconds: T0,
      currency: 'USD',
      nodes: [node],
      pods: [busy, idle],
      ledgers: empty,
    });
    const job = plan.workloads.get('Job/ml/train');
    expect(job?.display.utilization).toBeCloseTo((3 * 0.9 + 0.02) / 4, 12);
    expect(job?.ledger.idleGpuSeconds).toBe(60);
    expect(plan.pods.get('uid-busy')?.ledger.idleGpuSeconds).toBe(0);
  });

  it('plans the money before utilization is known and gives the same plan once it is set on the facts', () => {
    // The accountant drafts while Prometheus answers, then sets utilization on the same facts and finishes.
    // Cases: a pod measured in the main segment, one unmeasured, and a Job whose ledger is behind (its
    // catch-up span covers the segment and takes the measurement) while the namespace's is ahead of it.
    const facts = [
      pod('a', { utilization: { mean: 0.4, idleRatio: 0.25 } }),
      pod('b', { utilization: undefined }),
      pod('c', { gpuUnits: 2 * GPU_UNITS_PER_GPU, utilization: { mean: 0.9, idleRatio: 0 } }),
    ];
    const ledgers: Ledgers = {
      pods: new Map([['uid-a', ledger('0.1', T0 + 1740)]]),
      workloads: new Map([['Job/ml/train', ledger('0.2', T0 + 1500)]]),
      namespaces: new Map([['ml', ledger('0.3', T0 + 1770)]]),
    };
    const input = {
      nowSeconds: T0 + 1800,
      cycleStartSeconds: T0 + 1740,
      currency: 'USD',
      nodes: [node],
      pods: facts,
      ledgers,
    };
    const bare = facts.map((f) => ({ ...f, utilization: undefined as PodFacts['utilization'] }));
    const draft = draftAccounting({ ...input, pods: bare });
    bare.forEach((f, i) => (f.utilization = facts[i]?.utilization));
    const twoSteps = finishAccounting(draft);
    const oneStep = planAccounting(input);
    expect(twoSteps.pods).toEqual(oneStep.pods);
    expect(twoSteps.workloads).toEqual(oneStep.workloads);
    expect(twoSteps.namespaces).toEqual(oneStep.namespaces);
    expect(twoSteps.main.pods.map((pc) => pc.idleGpuSeconds)).toEqual(oneStep.main.pods.map((pc) => pc.idleGpuSeconds));
    // Measured idle: a's 60 s × 0.25 on the pod; on the Job (behind) a's 15 s and c's 0; none on the namespace,
    // whose accrual starts after the measured segment began.
    expect(twoSteps.pods.get('uid-a')?.ledger.idleGpuSeconds).toBe(15);
    expect(twoSteps.workloads.get('Job/ml/train')?.ledger.idleGpuSeconds).toBe(15);
    expect(twoSteps.namespaces.get('ml')?.ledger.idleGpuSeconds).toBeUndefined();
    expect(twoSteps.workloads.get('Job/ml/train')?.display.utilization).toBeCloseTo((0.4 + 2 * 0.9) / 3, 12);
  });

  // One GPU of node n1 for the 60 s cycle costs 1 $/h × 60 s = 0.016666667; idle a quarter of the time, its idle
  // GPU cost is 0.004166667 (the ratio times the GPU cost, rounded half up to the nano).
  const quarterIdle = { mean: 0.3, idleRatio: 0.25 };
  const idleBefore = (idleGpuCost: string | undefined): Ledger => ({
    ...ledger('1', T0 + 1740),
    idleGpuSeconds: 3600,
    idleGpuCost: idleGpuCost === undefined ? undefined : parseMoney(idleGpuCost),
  });
  it.each([
    ['measured idle a quarter of the time', node, quarterIdle, undefined, '0.004166667', '0.004166667'],
    ['an earlier idle cost carries on', node, quarterIdle, idleBefore('1'), '1.004166667', '0.004166667'],
    ['unknown utilization and nothing measured before: unknown', node, undefined, undefined, 'none', '0.000000000'],
    ['unknown utilization keeps a known idle cost', node, undefined, idleBefore('1'), '1.000000000', '0.000000000'],
    // Written by a version without the annotation: the idle cost starts at the next measurement.
    [
      'idle hours known, idle cost never written',
      node,
      quarterIdle,
      idleBefore(undefined),
      '0.004166667',
      '0.004166667',
    ],
    // As with cost: idle GPU-hours are measured, but an unpriced node gives them no cost.
    ['an unpriced node', { ...node, perHour: undefined }, quarterIdle, undefined, '0.000000000', '0.000000000'],
  ])('accrues the idle GPU cost like cost: %s', (_, n, utilization, before, expected, delta) => {
    const plan = planAccounting({
      nowSeconds: T0 + 1800,
      cycleStartSeconds: T0 + 1740,
      currency: 'USD',
      nodes: [n],
      pods: [pod('a', { from: T0 + 1740, utilization })],
      ledgers: { ...empty, pods: new Map(before ? [['uid-a', before]] : []) },
    });
    const update = plan.pods.get('uid-a');
    const nanos = (n?: bigint) => (n === undefined ? 'none' : formatMoney(n, 9));
    expect([nanos(update?.ledger.idleGpuCost), nanos(update?.idleGpuCostDelta)]).toEqual([expected, delta]);
    // The Job and the namespace accrue it the same way from their own (empty) ledgers.
    expect(nanos(plan.workloads.get('Job/ml/train')?.ledger.idleGpuCost)).toBe(utilization ? delta : 'none');
    expect(nanos(plan.namespaces.get('ml')?.ledger.idleGpuCost)).toBe(utilization ? delta : 'none');
  });

  it("keeps pod ledgers for GPU pods and pods of no workload (the ledger's Pod rows), and charges every pod to its namespace", () => {
    const cpuOnly = pod('sidecar', {
      gpuUnits: 0,
      cpuMillis: 32_000,
      workload: { kind: 'Other', namespace: 'ml', name: 'ds' },
    });
    const cpuOfJob = pod('loader', {
      gpuUnits: 0,
      cpuMillis: 0,
      workload: { kind: 'Job', namespace: 'ml', name: 'etl' },
    });
    const plan = planAccounting({
      nowSeconds: T0 + 3600,
      cycleStartSeconds: T0 + 3540,
      currency: 'USD',
      nodes: [node],
      pods: [cpuOnly, cpuOfJob],
      ledgers: empty,
    });
    expect([...plan.pods.keys()]).toEqual([cpuOnly.uid]);
    expect(money(plan.pods.get(cpuOnly.uid)?.ledger.cost)).toBe('0.500000');
    expect([...plan.workloads.keys()]).toEqual(['Job/ml/etl']);
    expect(money(plan.namespaces.get('ml')?.ledger.cost)).toBe('0.500000');
  });

  it('accrues spot savings (on-demand price minus cost) for time on spot, and none on on-demand', () => {
    // The spot node costs 3 $/h for what costs 10 $/h on demand: 70 % off, per GPU 0.30 instead of 1.00.
    const spot: NodeFacts = {
      ...node,
      name: 'spot1',
      capacityType: 'spot',
      perHour: { total: parseMoney('3'), gpu: parseMoney('2.4'), cpu: parseMoney('0.3'), memory: parseMoney('0.3') },
      onDemandPerHour: parseMoney('10'),
    };
    const plan = planAccounting({
      nowSeconds: T0 + 3600,
      cycleStartSeconds: T0 + 3540,
      currency: 'USD',
      nodes: [node, spot],
      pods: [pod('s', { nodeName: 'spot1' }), pod('o', { workload: { kind: 'Job', namespace: 'ml', name: 'od' } })],
      ledgers: {
        ...empty,
        workloads: new Map([['Job/ml/train', { ...ledger('1', T0 + 3540), spotSavings: parseMoney('2') }]]),
      },
    });
    // One GPU-hour on spot: 0.30 paid, 1.00 on demand.
    expect(money(plan.pods.get('uid-s')?.ledger.cost)).toBe('0.300000');
    expect(money(plan.pods.get('uid-s')?.ledger.spotSavings)).toBe('0.700000');
    expect(money(plan.pods.get('uid-s')?.spotSavingsDelta)).toBe('0.700000');
    // The Job resumes from its ledger: one minute more.
    expect(money(plan.workloads.get('Job/ml/train')?.ledger.spotSavings)).toBe('2.011667');
    expect(plan.pods.get('uid-o')?.ledger.spotSavings).toBeUndefined();
    expect(plan.workloads.get('Job/ml/od')?.ledger.spotSavings).toBeUndefined();
    expect(money(plan.namespaces.get('ml')?.ledger.spotSavings)).toBe('0.700000');
  });
});

describe('hourlyShare', () => {
  // The exact rule, part by part in bigint: request (capped at capacity) over capacity, rounded half up.
  const exact = (p: PodFacts, n: NodeFacts) => {
    const price = n.perHour;
    if (!price) return 0n;
    const part = (amount: bigint, request: number, capacity: number) =>
      divRoundHalfUp(amount * BigInt(Math.round(Math.min(request, capacity))), BigInt(Math.round(capacity)));
    return (
      part(price.gpu, p.gpuUnits, n.gpuUnits) +
      part(price.cpu, p.cpuMillis, n.cpuMillis) +
      part(price.memory, p.memoryBytes / 2 ** 20, n.memoryBytes / 2 ** 20)
    );
  };
  const priced = (gpu: string, cpu: string, memory: string): NodeFacts => ({
    ...node,
    perHour: {
      total: parseMoney(gpu) + parseMoney(cpu) + parseMoney(memory),
      gpu: parseMoney(gpu),
      cpu: parseMoney(cpu),
      memory: parseMoney(memory),
    },
  });

  it.each([
    ['one GPU of eight, no CPU or memory', node, pod('a'), '1.000000000'],
    [
      'one GPU, 4 of 64 cores, 16 of 512 GiB',
      node,
      pod('b', { cpuMillis: 4000, memoryBytes: 16 * 2 ** 30 }),
      '1.093750000',
    ],
    ['requests above capacity are capped', node, pod('c', { gpuUnits: 9 * GPU_UNITS_PER_GPU }), '8.000000000'],
    [
      'a third of a GPU rounds half up to the nano',
      priced('1', '0', '0'),
      pod('d', { gpuUnits: GPU_UNITS_PER_GPU / 3 }),
      '0.041666667',
    ],
    // Past 2^53 until the fraction 7/5,765,760 is reduced to 1/823,680.
    ['a huge price, reduced', priced('9000000', '0', '0'), pod('e', { gpuUnits: 7 }), '10.926573427'],
    // 17 units share no factor with 5,765,760: the product stays past 2^53 and takes the bigint path.
    ['a huge price, bigint', priced('9000000', '0', '0'), pod('g', { gpuUnits: 17 }), '26.535964036'],
    ['an unpriced node', { ...node, perHour: undefined }, pod('f'), '0.000000000'],
  ])('%s', (_, n, p, expected) => {
    expect(formatMoney(hourlyShare(p, n), 9)).toBe(expected);
    expect(hourlyShare(p, n)).toBe(exact(p, n));
  });
});
