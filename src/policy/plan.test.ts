/** The policy plan as tables: one workload, its winning policies, memory and the clock in; effects out. */
import { describe, expect, it } from 'vitest';
import type { PodRecord, WorkloadRecord } from '../controller/projections.ts';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import { NANOS_PER_UNIT } from '../cost/money.ts';
import type { IdleState } from './idle.ts';
import { assignRules, type PolicyRef } from './match.ts';
import { commitUnit } from './plan-memory.ts';
import { nextWakeAtMs, planWorkload } from './plan.ts';
import { restoreReplicas } from './plan-schedule.ts';
import {
  emptyMemory,
  type PlanContext,
  type PlanNode,
  type PlanWorkload,
  type PolicyMemory,
  type WorkloadKind,
  type WorkloadPlan,
} from './plan-types.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const MIN = 60_000;
const COST = 2n * NANOS_PER_UNIT; // 2.00 per hour

const policy = (name: string, spec: unknown): PolicyRef => ({ name, spec: policySpecSchema.parse(spec) });

function pod(name: string, over: Partial<PodRecord> = {}): PodRecord {
  return {
    uid: `${name}-uid`,
    namespace: 'dev',
    name,
    nodeName: 'g5',
    phase: 'Running',
    resourceVersion: '1',
    startedAtSeconds: (T0 - 60 * MIN) / 1000,
    endedAtSeconds: undefined,
    deletingAtSeconds: undefined,
    gpuRequests: { 'nvidia.com/gpu': 1 },
    cpuMillis: 1000,
    memoryBytes: 2 ** 30,
    labels: {},
    owner: undefined,
    ledger: undefined,
    annotations: {},
    ...over,
  };
}

function workload(
  kind: WorkloadKind,
  over: { annotations?: Record<string, string>; replicas?: number; suspended?: boolean; pods?: PodRecord[] } = {},
): PlanWorkload {
  const record: WorkloadRecord | undefined =
    kind === 'Pod'
      ? undefined
      : {
          kind,
          namespace: 'dev',
          name: 'llm',
          uid: 'w-uid',
          resourceVersion: '1',
          labels: {},
          annotations: over.annotations ?? {},
          templateAnnotations: {},
          replicas: kind === 'Job' ? undefined : (over.replicas ?? 2),
          suspended: over.suspended ?? false,
          generation: 1,
          ledger: undefined,
        };
  return {
    kind,
    namespace: 'dev',
    name: 'llm',
    uid: 'w-uid',
    labels: {},
    annotations: over.annotations ?? {},
    record,
    pods: over.pods ?? [pod('llm-1')],
    costPerHour: COST,
  };
}

const nodes: Record<string, PlanNode> = {
  g5: { name: 'g5', spot: false, interruption: undefined },
  spot: { name: 'spot', spot: true, interruption: undefined },
  reclaimed: { name: 'reclaimed', spot: true, interruption: 'aws-node-termination-handler/spot-itn' },
};

function context(nowMs: number, utilization: number | undefined, over: Partial<PlanContext> = {}): PlanContext {
  return {
    nowMs,
    defaultMode: 'Audit',
    currency: 'USD',
    measurement: {
      available: true,
      reason: '',
      windowStartMs: nowMs - MIN,
      pods: utilization === undefined ? new Map() : new Map([['dev/llm-1', { max: utilization, coverage: 1 }]]),
      unknown: utilization === undefined ? new Map([['dev/llm-1', 'no DCGM data']]) : new Map(),
    },
    node: (name) => nodes[name],
    spotPrices: () => ({ onDemandPerHour: 10n * NANOS_PER_UNIT, spotPerHour: 4n * NANOS_PER_UNIT }),
    podCostPerHour: () => COST,
    ...over,
  };
}

function plan(w: PlanWorkload, policies: PolicyRef[], memory: PolicyMemory, ctx: PlanContext): WorkloadPlan {
  const view = { namespace: w.namespace, labels: w.labels, annotations: w.annotations, namespaceLabels: {} };
  const assignment = assignRules(policies, view, new Set());
  return planWorkload({ workload: w, assignment, requests: undefined }, memory, ctx);
}

/** Each effect in a word: `event:Reason`, `annotate:key,key`, or its kind. */
function effects(p: WorkloadPlan): string[] {
  return p.units.flatMap((u) =>
    u.effects.map((e) =>
      e.kind === 'event'
        ? `event:${e.reason}`
        : e.kind === 'annotate'
          ? `annotate:${Object.keys(e.annotations)
              .map((k) => k.replace(/^aicost\.dev\//, ''))
              .join(',')}`
          : e.kind,
    ),
  );
}
const actions = (p: WorkloadPlan) => p.units.flatMap((u) => u.records.map((r) => `${r.mode}:${r.action}`));

function memoryWith(idle: Record<string, IdleState> = {}, audited: string[] = []): PolicyMemory {
  const m = emptyMemory();
  for (const [k, v] of Object.entries(idle)) m.idle.set(k, v);
  for (const a of audited) m.audited.add(a);
  return m;
}

describe('plan: the idleGPU rule', () => {
  const idle = (mode: 'Audit' | 'Enforce', rule: Record<string, unknown> = {}) =>
    policy('idle', { mode, rules: { idleGPU: { idleAfter: '10m', gracePeriod: '5m', ...rule } } });
  const key = (kind: WorkloadKind) => `idleGPU/${kind}/dev/llm`;
  const declared = { idleSinceMs: T0 - 20 * MIN, belowSinceMs: T0 - 20 * MIN, warnedAtMs: T0 - 10 * MIN };

  it.each([
    ['busy: nothing', 'Enforce', 'Deployment', 0.9, {}, {}, [], []],
    ['below, not yet idle: nothing', 'Enforce', 'Deployment', 0, { belowSinceMs: T0 - 5 * MIN }, {}, [], []],
    [
      'idle for idleAfter: a warning and idle-since',
      'Enforce',
      'Deployment',
      0,
      { belowSinceMs: T0 - 10 * MIN },
      {},
      ['event:GPUIdle', 'annotate:idle-since'],
      [],
    ],
    ['in the grace period: nothing', 'Enforce', 'Deployment', 0, { ...declared, warnedAtMs: T0 - MIN }, {}, [], []],
    [
      'Enforce, Deployment: replicas-before, then to zero',
      'Enforce',
      'Deployment',
      0,
      declared,
      {},
      [
        'annotate:replicas-before,cost-per-hour-before,asleep-since,last-action,idle-since',
        'scale-to-zero',
        'event:ScaledToZero',
      ],
      ['Enforce:scale-to-zero'],
    ],
    [
      'Enforce, Job: suspended',
      'Enforce',
      'Job',
      0,
      declared,
      {},
      ['suspend-job', 'event:Suspended'],
      ['Enforce:suspend'],
    ],
    ['Enforce, bare Pod: evicted', 'Enforce', 'Pod', 0, declared, {}, ['evict', 'event:Evicted'], ['Enforce:evict']],
    [
      'Audit: the would-be action, once',
      'Audit',
      'Deployment',
      0,
      declared,
      {},
      ['annotate:last-action', 'event:WouldScaleDown'],
      ['Audit:would-scale-to-zero'],
    ],
    [
      'karpenter.sh/do-not-disrupt: left running, said once',
      'Enforce',
      'Deployment',
      0,
      declared,
      { 'karpenter.sh/do-not-disrupt': 'true' },
      ['event:IdleButProtected'],
      [],
    ],
    [
      'metrics unknown after idle-since: the clock resets and idle-since goes',
      'Enforce',
      'Deployment',
      undefined,
      declared,
      {},
      ['annotate:idle-since'],
      [],
    ],
  ] as const)('%s', (_name, mode, kind, utilization, state, annotations, want, wantActions) => {
    const w = workload(kind, { annotations: { ...annotations } });
    const p = plan(w, [idle(mode)], memoryWith({ [key(kind)]: state }), context(T0, utilization));
    expect(effects(p)).toEqual(want);
    expect(actions(p)).toEqual(wantActions);
  });

  it('Enforce realizes the hourly cost it turns off, an eviction nothing', () => {
    const deployment = plan(
      workload('Deployment'),
      [idle('Enforce')],
      memoryWith({ [key('Deployment')]: declared }),
      context(T0, 0),
    );
    expect(deployment.units.flatMap((u) => u.realized)).toEqual([{ policy: 'idle', perHour: COST }]);
    const evicted = plan(workload('Pod'), [idle('Enforce')], memoryWith({ [key('Pod')]: declared }), context(T0, 0));
    expect(evicted.units.flatMap((u) => u.realized)).toEqual([{ policy: 'idle', perHour: 0n }]);
  });

  it('Audit estimates the saving every pass, records it only once per episode', () => {
    const memory = memoryWith({ [key('Deployment')]: declared });
    const first = plan(workload('Deployment'), [idle('Audit')], memory, context(T0, 0));
    expect(first.tally.estimated).toEqual([{ policy: 'idle', perHour: COST }]);
    for (const u of first.units) commitUnit(memory, u);
    const second = plan(workload('Deployment'), [idle('Audit')], memory, context(T0 + MIN, 0));
    expect(effects(second)).toEqual([]);
    expect(second.tally.estimated).toEqual([{ policy: 'idle', perHour: COST }]);
  });

  it.each([
    ['garbage', 'soon'],
    ['a future time', '2027-01-01T00:00:00Z'],
    ['a bare year Date.parse accepts', '3000'],
  ])('an idle-since of %s is as if absent: a fresh episode starts, no action', (_name, value) => {
    const w = workload('Deployment', { annotations: { 'aicost.dev/idle-since': value } });
    const p = plan(w, [idle('Enforce')], emptyMemory(), context(T0, 0));
    expect(effects(p)).toEqual([]);
    expect(p.units[0]?.memory.idle).toEqual([[key('Deployment'), { belowSinceMs: T0 - MIN }]]);
  });

  it('counts the pods it measured and says why the others are not', () => {
    const p = plan(workload('Job'), [idle('Enforce')], emptyMemory(), context(T0, undefined));
    expect(p.tally.pods).toEqual([{ policy: 'idle', measured: false, problem: 'dev/llm-1: no DCGM data' }]);
  });

  it('leaves a workload that is off already alone', () => {
    const p = plan(
      workload('Job', { suspended: true }),
      [idle('Enforce')],
      memoryWith({ [key('Job')]: declared }),
      context(T0, 0),
    );
    expect(p.units).toEqual([]);
  });
});

describe('plan: scaleToZero, its schedules and wake', () => {
  const stz = (mode: 'Audit' | 'Enforce', rule: Record<string, unknown> = {}) =>
    policy('dev', { mode, rules: { scaleToZero: { idleAfter: '10m', ...rule } } });
  // 8:00 wake, 20:00 sleep, UTC; T0 is 9:00.
  const schedule = { wake: '0 8 * * *', sleep: '0 20 * * *', timeZone: 'UTC' };
  const asleep = (extra: Record<string, string> = {}) => ({
    'aicost.dev/replicas-before': '3',
    'aicost.dev/cost-per-hour-before': '2.000000',
    'aicost.dev/asleep-since': '2026-11-23T07:00:00Z',
    ...extra,
  });

  it.each([
    [
      'idle for idleAfter, no grace period: to zero at once',
      'Enforce',
      {},
      workload('Deployment'),
      { belowSinceMs: T0 - 10 * MIN, idleSinceMs: T0 - 10 * MIN },
      [
        'annotate:replicas-before,cost-per-hour-before,asleep-since,last-action,idle-since',
        'scale-to-zero',
        'event:ScaledToZero',
      ],
    ],
    [
      'asleep, woken on aicost.dev/wake: the replicas it had',
      'Enforce',
      {},
      workload('Deployment', { replicas: 0, pods: [], annotations: asleep({ 'aicost.dev/wake': 'now' }) }),
      undefined,
      [
        'restore',
        'annotate:replicas-before,cost-per-hour-before,asleep-since,idle-since,wake,paused-via,last-action',
        'event:Woken',
      ],
    ],
    [
      'asleep, the wake schedule fired since it slept: woken',
      'Enforce',
      { schedule },
      workload('Deployment', { replicas: 0, pods: [], annotations: asleep() }),
      undefined,
      [
        'restore',
        'annotate:replicas-before,cost-per-hour-before,asleep-since,idle-since,wake,paused-via,last-action',
        'event:Woken',
      ],
    ],
    [
      'asleep since after the last wake firing: stays asleep',
      'Enforce',
      { schedule },
      workload('Deployment', {
        replicas: 0,
        pods: [],
        annotations: asleep({ 'aicost.dev/asleep-since': '2026-11-23T08:30:00Z' }),
      }),
      undefined,
      [],
    ],
    [
      'scaled up by hand while asleep: let go, a fresh idle window',
      'Enforce',
      {},
      workload('Deployment', { replicas: 1, annotations: asleep() }),
      undefined,
      [
        'annotate:replicas-before,cost-per-hour-before,asleep-since,idle-since,wake,paused-via,last-action',
        'event:ManualScaleUp',
      ],
    ],
  ] as const)('%s', (_name, mode, rule, w, state, want) => {
    const memory = memoryWith(state ? { 'scaleToZero/Deployment/dev/llm': state } : {});
    expect(effects(plan(w, [stz(mode, rule)], memory, context(T0, 0)))).toEqual(want);
  });

  it('restores replicas-before, at least one, and realizes nothing more once awake', () => {
    const w = workload('Deployment', {
      replicas: 0,
      pods: [],
      annotations: asleep({ 'aicost.dev/wake': 'now', 'aicost.dev/replicas-before': 'x' }),
    });
    const p = plan(w, [stz('Enforce')], emptyMemory(), context(T0, 0));
    expect(p.units[0]?.effects[0]).toEqual({ kind: 'restore', replicas: 1 });
    expect(p.tally.held).toEqual([]);
  });

  it('an endpoint held asleep realizes what it cost awake', () => {
    const w = workload('Deployment', { replicas: 0, pods: [], annotations: asleep() });
    expect(plan(w, [stz('Enforce')], emptyMemory(), context(T0, 0)).tally.held).toEqual([
      { policy: 'dev', perHour: COST },
    ]);
  });

  it.each([
    [
      'Enforce: to sleep, the firing handled',
      'Enforce',
      {},
      [
        'annotate:replicas-before,cost-per-hour-before,asleep-since,last-action,idle-since',
        'scale-to-zero',
        'annotate:sleep-handled',
        'event:ScaledToZero',
      ],
    ],
    ['Audit: the would-be sleep', 'Audit', {}, ['annotate:last-action', 'event:WouldScaleDown']],
    [
      'the firing handled already (woken by hand after it): the idle clock instead',
      'Enforce',
      { 'aicost.dev/sleep-handled': '2026-11-23T20:00:00Z' },
      [],
    ],
  ] as const)('after the sleep firing, %s', (_name, mode, annotations, want) => {
    const at = Date.UTC(2026, 10, 23, 21, 0, 0);
    const w = workload('Deployment', { annotations: { ...annotations } });
    expect(effects(plan(w, [stz(mode, { schedule })], emptyMemory(), context(at, 0.9)))).toEqual(want);
  });

  it('serving requests keeps an idle-GPU endpoint awake', () => {
    const view = { namespace: 'dev', labels: {}, annotations: {}, namespaceLabels: {} };
    const policies = [stz('Enforce', { requestsQuery: 'sum(rate(x[1m]))' })];
    const input = { workload: workload('Deployment'), assignment: assignRules(policies, view, new Set()) };
    const memory = memoryWith({ 'scaleToZero/Deployment/dev/llm': { belowSinceMs: T0 - 30 * MIN } });
    const serving = planWorkload(
      { ...input, requests: { requestRate: 0.5, requestsKnown: true } },
      memory,
      context(T0, 0),
    );
    expect(effects(serving)).toEqual([]);
    expect(serving.units[0]?.memory.idle).toEqual([['scaleToZero/Deployment/dev/llm', {}]]);
    const failed = planWorkload(
      { ...input, requests: { requestRate: 0, requestsKnown: false } },
      memory,
      context(T0, 0),
    );
    expect(effects(failed)).toEqual([]);
  });

  it('comes back at the next wake or sleep firing', () => {
    expect(nextWakeAtMs([stz('Enforce', { schedule })], T0)).toBe(Date.UTC(2026, 10, 23, 20, 0, 0));
    expect(nextWakeAtMs([stz('Enforce')], T0)).toBeUndefined();
  });
});

describe('plan: the spot watch', () => {
  const spot = policy('spot', { mode: 'Enforce', rules: { spot: { placement: 'Preferred' } } });
  const checkpoints = { 'aicost.dev/checkpoint-path': 's3://ckpt/run', 'aicost.dev/checkpoint-interval': '10m' };

  it.each([
    [
      'a reclaimed spot node: work at risk, said once',
      'reclaimed',
      {},
      ['count-at-risk', 'event:SpotInterruption'],
      ['interrupted'],
    ],
    [
      'a checkpoint older than twice its interval on spot',
      'spot',
      { ...checkpoints, 'aicost.dev/last-checkpoint': '2026-11-23T08:30:00Z' },
      ['event:CheckpointStale'],
      ['stale'],
    ],
    [
      'a fresh checkpoint on spot: nothing',
      'spot',
      { ...checkpoints, 'aicost.dev/last-checkpoint': '2026-11-23T08:55:00Z' },
      [],
      [],
    ],
    [
      'on-demand though it checkpoints: the saving forgone',
      'g5',
      checkpoints,
      ['event:ForgoneSpotSaving'],
      ['forgone'],
    ],
    ['on-demand without checkpoints: nothing', 'g5', {}, [], []],
  ] as const)('%s', (_name, node, annotations, want, episodes) => {
    const w = workload('Job', { annotations: { ...annotations }, pods: [pod('llm-1', { nodeName: node })] });
    const p = plan(w, [spot], emptyMemory(), context(T0, 0.9));
    expect(effects(p)).toEqual(want);
    expect(p.seen.map((s) => s.episode)).toEqual(episodes);
  });

  it('reports an episode once while it lasts', () => {
    const w = workload('Job', { pods: [pod('llm-1', { nodeName: 'reclaimed' })] });
    const memory = emptyMemory();
    for (const u of plan(w, [spot], memory, context(T0, 0.9)).units) commitUnit(memory, u);
    const again = plan(w, [spot], memory, context(T0 + MIN, 0.9));
    expect(effects(again)).toEqual([]);
    expect(again.seen).toEqual([{ episode: 'interrupted', key: 'llm-1-uid/reclaimed' }]);
  });

  it('the forgone saving: the pod cost scaled by the spot discount, in the estimate', () => {
    const w = workload('Job', { annotations: checkpoints });
    // 2.00/h at a 60 % discount (10 on demand, 4 as spot).
    expect(plan(w, [spot], emptyMemory(), context(T0, 0.9)).tally.estimated).toEqual([
      { policy: 'spot', perHour: 1_200_000_000n },
    ]);
  });

  it("counts the webhook's placement once, for the Enforce policy named on the pods", () => {
    const placed = pod('llm-1', {
      annotations: { 'aicost.dev/spot-placement': 'Preferred', 'aicost.dev/spot-policy': 'spot' },
    });
    const w = workload('Job', { pods: [placed] });
    expect(effects(plan(w, [spot], emptyMemory(), context(T0, 0.9)))).toEqual(['annotate:spot-recorded']);
    const recorded = workload('Job', {
      pods: [placed],
      annotations: { 'aicost.dev/spot-recorded': 'Preferred by spot' },
    });
    expect(effects(plan(recorded, [spot], emptyMemory(), context(T0, 0.9)))).toEqual([]);
    const audit = policy('spot', { mode: 'Audit', rules: { spot: { placement: 'Preferred' } } });
    expect(effects(plan(w, [audit], emptyMemory(), context(T0, 0.9)))).toEqual([]);
  });
});

describe('plan: the spot watch, several pods', () => {
  it('reports a workload episode once, however many of its pods show it', () => {
    const spot = policy('spot', { mode: 'Enforce', rules: { spot: { placement: 'Preferred' } } });
    const checkpoints = { 'aicost.dev/checkpoint-path': 's3://ckpt/run', 'aicost.dev/checkpoint-interval': '10m' };
    const onSpot = workload('Job', {
      annotations: checkpoints,
      pods: [pod('llm-1', { nodeName: 'spot' }), pod('llm-2', { nodeName: 'spot' })],
    });
    expect(effects(plan(onSpot, [spot], emptyMemory(), context(T0, 0.9)))).toEqual(['event:CheckpointStale']);
    const onDemand = workload('Job', { annotations: checkpoints, pods: [pod('llm-1'), pod('llm-2')] });
    const p = plan(onDemand, [spot], emptyMemory(), context(T0, 0.9));
    expect(effects(p)).toEqual(['event:ForgoneSpotSaving']);
    // Both pods forgo a saving: the estimate counts each.
    expect(p.tally.estimated).toEqual([{ policy: 'spot', perHour: 2_400_000_000n }]);
  });
});

describe('plan: sleep and wake annotations read back as untrusted', () => {
  const schedule = { wake: '0 8 * * *', sleep: '0 20 * * *', timeZone: 'UTC' };
  const stz = policy('dev', { mode: 'Enforce', rules: { scaleToZero: { idleAfter: '10m', schedule } } });

  it.each([
    ['3', 3],
    ['1000', 1000],
    ['5000', 1],
    ['0', 1],
    ['-2', 1],
    ['2.5', 1],
    ['lots', 1],
  ])('replicas-before %s restores %i', (before, replicas) => {
    expect(restoreReplicas(before)).toBe(replicas);
  });

  it.each([
    ['garbage', 'soon'],
    ['a far-future time', '2999-01-01T00:00:00Z'],
  ])('an asleep-since of %s does not hold the endpoint asleep past the wake firing', (_name, value) => {
    const w = workload('Deployment', {
      replicas: 0,
      pods: [],
      annotations: { 'aicost.dev/replicas-before': '2', 'aicost.dev/asleep-since': value },
    });
    expect(effects(plan(w, [stz], emptyMemory(), context(T0, 0)))).toContain('event:Woken');
  });

  it('a far-future sleep-handled does not exempt the endpoint from the sleep firing', () => {
    const at = Date.UTC(2026, 10, 23, 21, 0, 0);
    const w = workload('Deployment', { annotations: { 'aicost.dev/sleep-handled': '2999-01-01T00:00:00Z' } });
    expect(effects(plan(w, [stz], emptyMemory(), context(at, 0.9)))).toContain('scale-to-zero');
  });
});

describe('plan: a budget exceeded with onExceeded ScaleDevToZero', () => {
  const stz = policy('dev', { mode: 'Audit', rules: { scaleToZero: { idleAfter: '10m' } } });
  const team = policy('team', { rules: { budget: { amount: '10.00', onExceeded: ['ScaleDevToZero'] } } });
  const EXCEEDED_AT = T0 - 30 * MIN;
  const exceeded = (mode: 'Audit' | 'Enforce') =>
    new Map([
      ['team', { policy: 'team', mode, exceededAtMs: EXCEEDED_AT, spent: '10.42', amount: '10.00', currency: 'USD' }],
    ]);
  const busy = context(T0, 0.9, { exceededBudgets: exceeded('Enforce') });
  const slept = ['annotate:replicas-before,cost-per-hour-before,asleep-since,last-action,idle-since'];

  it.each([
    [
      'Enforce, a busy endpoint in scope: to sleep now, the episode recorded',
      workload('Deployment'),
      [stz, team],
      busy,
      [...slept, 'scale-to-zero', 'annotate:sleep-handled', 'event:ScaledToZero'],
      ['Enforce:scale-to-zero'],
    ],
    [
      'Audit: the would-be sleep, once',
      workload('Deployment'),
      [stz, team],
      context(T0, 0.9, { exceededBudgets: exceeded('Audit') }),
      ['annotate:last-action', 'event:WouldScaleDown'],
      ['Audit:would-scale-to-zero'],
    ],
    [
      'Audit already recorded in this episode (last-action): nothing',
      workload('Deployment', {
        annotations: {
          'aicost.dev/last-action': 'Audit: would be scaled to zero by policy team (budget) at 2026-11-23T08:45:00Z',
        },
      }),
      [stz, team],
      context(T0, 0.9, { exceededBudgets: exceeded('Audit') }),
      [],
      [],
    ],
    [
      "woken after this episode's sleep (sleep-handled at the exceeded time): stays awake",
      workload('Deployment', { annotations: { 'aicost.dev/sleep-handled': '2026-11-23T08:30:00Z' } }),
      [stz, team],
      busy,
      [],
      [],
    ],
    [
      'a sleep handled in an earlier episode: to sleep again',
      workload('Deployment', { annotations: { 'aicost.dev/sleep-handled': '2026-11-22T20:00:00Z' } }),
      [stz, team],
      busy,
      [...slept, 'scale-to-zero', 'annotate:sleep-handled', 'event:ScaledToZero'],
      ['Enforce:scale-to-zero'],
    ],
    [
      'a forged future sleep-handled: not immune',
      workload('Deployment', { annotations: { 'aicost.dev/sleep-handled': '2099-01-01T00:00:00Z' } }),
      [stz, team],
      busy,
      [...slept, 'scale-to-zero', 'annotate:sleep-handled', 'event:ScaledToZero'],
      ['Enforce:scale-to-zero'],
    ],
    ['no scaleToZero rule governs it (production): untouched', workload('Deployment'), [team], busy, [], []],
    ['a Job, even under a scaleToZero rule: untouched', workload('Job'), [stz, team], busy, [], []],
    ['the budget policy does not match it: untouched', workload('Deployment'), [stz], busy, [], []],
    [
      'the namespace carries aicost.dev/budget-override: untouched',
      workload('Deployment'),
      [stz, team],
      context(T0, 0.9, { exceededBudgets: exceeded('Enforce'), budgetOverride: (ns) => ns === 'dev' }),
      [],
      [],
    ],
    [
      'asleep already: stays asleep, no second action',
      workload('Deployment', {
        replicas: 0,
        pods: [],
        annotations: { 'aicost.dev/replicas-before': '2', 'aicost.dev/asleep-since': '2026-11-23T08:40:00Z' },
      }),
      [stz, team],
      busy,
      [],
      [],
    ],
  ] as const)('%s', (_name, w, policies, ctx, expectedEffects, expectedActions) => {
    const p = plan(w, [...policies], emptyMemory(), ctx);
    expect(effects(p)).toEqual(expectedEffects);
    expect(actions(p)).toEqual(expectedActions);
  });

  it('names the budget and the spend in the Event, and records the sleep under the budget policy', () => {
    const p = plan(workload('Deployment'), [stz, team], emptyMemory(), busy);
    const messages = p.units.flatMap((u) => u.effects.flatMap((e) => (e.kind === 'event' ? [e.message] : [])));
    expect(messages).toEqual([
      'budget team exceeded (10.42 of 10.00 USD spent): put this endpoint to sleep (onExceeded: ScaleDevToZero; scaleToZero rule of policy dev); aicost.dev/wake wakes it',
    ]);
    expect(p.units.flatMap((u) => u.records.map((r) => [r.policy, r.rule]))).toEqual([['team', 'budget']]);
    const handled = p.units
      .flatMap((u) => u.effects)
      .find((e) => e.kind === 'annotate' && 'aicost.dev/sleep-handled' in e.annotations);
    expect(handled).toEqual({ kind: 'annotate', annotations: { 'aicost.dev/sleep-handled': '2026-11-23T08:30:00Z' } });
  });
});
