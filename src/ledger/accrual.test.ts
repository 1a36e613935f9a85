import { describe, expect, it } from 'vitest';
import { jobRow } from '../testing/ledger-rows.ts';
import { LedgerAccrual, type Observation, type RowDescriptor } from './accrual.ts';
import { ZERO, type Cumulative } from './cumulative.ts';
import type { LedgerRow } from './row.ts';

const HOUR = 3600;
const T = Date.UTC(2026, 10, 1, 13) / 1000; // a window start
const describe_: RowDescriptor = (({ clusterId: _c, windowStartMs: _s, windowEndMs: _e, imported: _i, ...rest }) => {
  const {
    cost: _1,
    gpuHours: _2,
    idleGpuHours: _3,
    idleGpuCost: _4,
    spotSavings: _5,
    onDemandEquivalent: _6,
    utilization: _7,
    ...d
  } = rest;
  return d;
})(jobRow());

const at = (until: number, cost: bigint, gpuHours = 0n): Cumulative => ({
  ...ZERO,
  cost,
  gpuHours,
  accountedUntil: until,
});
const obs = (until: number, cost: bigint, podCount = 1): Observation => ({
  id: 'Job/ml/train',
  cumulative: at(until, cost),
  describe: { ...describe_, podCount },
});

describe('ledger accrual', () => {
  it('splits the cycle over a boundary pro rata, finishes the window, and opens the next at the split', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    // A new target: its first cumulative (catch-up included) lands in the cycle's window.
    let out = accrual.observe(T + HOUR - 120, T + HOUR - 60, [obs(T + HOUR - 60, 5_000n)]);
    expect(out.finished).toEqual([]);
    expect(out.current?.rows.map((r) => [r.windowStartMs / 1000 - T, r.cost])).toEqual([[0, 5_000n]]);
    // [T+3540, T+3610): 60 s before the boundary, 10 s after; 700 accrued: 600 before, 100 after.
    out = accrual.observe(T + HOUR - 60, T + HOUR + 10, [obs(T + HOUR + 10, 5_701n, 3)]);
    expect(
      out.finished.map(({ window }) => window.rows.map((r) => [r.cost, r.podCount, r.windowEndMs / 1000 - T])),
    ).toEqual([
      [[5_600n, 3, HOUR]], // floor(701 × 60 / 70) = 600, plus the 5,000 before it
    ]);
    expect(out.finished[0]?.snapshot).toMatchObject({ throughMs: (T + HOUR) * 1000 });
    expect(out.finished[0]?.snapshot.targets.get('Job/ml/train')).toMatchObject({
      cost: 5_600n,
      accountedUntil: T + HOUR,
    });
    expect(out.current?.rows.map((r) => [r.windowStartMs / 1000 - T, r.cost, r.podCount])).toEqual([[HOUR, 101n, 3]]);
    expect(out.current?.targets[0]).toMatchObject({ opening: { cost: 5_600n }, closing: { cost: 5_701n } });
    // Writing the window again after a restart from these cumulatives gives the same rows: closing − opening.
    const again = new LedgerAccrual('prod-1', HOUR);
    again.seed(
      T + HOUR,
      new Map([
        [
          'Job/ml/train',
          { opening: at(T + HOUR, 5_600n), closing: at(T + HOUR + 10, 5_701n), row: out.current?.rows[0] },
        ],
      ]),
    );
    const resumed = again.observe(T + HOUR + 10, T + HOUR + 70, [obs(T + HOUR + 70, 5_801n)]);
    expect(resumed.current?.rows.map((r) => [r.cost, r.podCount])).toEqual([[201n, 3]]);
  });

  it('makes a workload row gpu in each window it held a GPU in, and cpu in the others; a Node row keeps its node’s kind', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    const job = (until: number, cost: bigint, gpuHours: bigint): Observation => ({
      id: 'Job/ml/etl',
      cumulative: at(until, cost, gpuHours),
      describe: { ...describe_, compute: 'cpu' },
    });
    const node = (until: number, cost: bigint, compute: 'gpu' | 'cpu', name: string): Observation => ({
      id: `Node/${name}`,
      cumulative: at(until, cost),
      describe: { ...describe_, workloadKind: 'Node', namespace: '', workloadName: name, jobOutcome: '', compute },
    });
    // Window 1: CPU only (no GPU-hours). Window 2: a GPU pod of the Job runs for a minute (1/60 GPU-hour).
    accrual.observe(T, T + 60, [job(T + 60, 100n, 0n), node(T + 60, 7n, 'cpu', 'c'), node(T + 60, 9n, 'gpu', 'g')]);
    const first = accrual.observe(T + 60, T + HOUR, [
      job(T + HOUR, 200n, 0n),
      node(T + HOUR, 8n, 'cpu', 'c'),
      node(T + HOUR, 9n, 'gpu', 'g'),
    ]);
    const out = accrual.observe(T + HOUR, T + HOUR + 60, [
      job(T + HOUR + 60, 300n, 16_666_667n),
      node(T + HOUR + 60, 8n, 'cpu', 'c'),
      node(T + HOUR + 60, 10n, 'gpu', 'g'),
    ]);
    const kinds = (rows: readonly LedgerRow[] | undefined) => rows?.map((r) => [r.workloadName, r.compute]);
    expect(kinds(first.finished[0]?.window.rows)).toEqual([
      ['train-llama', 'cpu'],
      ['c', 'cpu'],
      ['g', 'gpu'],
    ]);
    expect(kinds(out.current?.rows)).toEqual([
      ['train-llama', 'gpu'],
      ['c', 'cpu'],
      ['g', 'gpu'],
    ]);
  });

  it('spreads a catch-up over the windows it crosses, never into a closed one', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    accrual.seed(T, new Map([['Job/ml/train', { opening: at(T - HOUR, 0n), closing: at(T - 30, 1_000n) }]]));
    // Down from T-30 (in a closed window) to T+2h+30: the span is taken from T, the open window's start, and
    // its 7,230 s accrue 1 a second.
    const out = accrual.observe(T + 2 * HOUR - 30, T + 2 * HOUR + 30, [obs(T + 2 * HOUR + 30, 1_000n + 7_230n)]);
    expect(out.finished.map(({ window }) => window.rows.map((r) => r.cost))).toEqual([[1_000n + 3_600n], [3_600n]]);
    expect(out.current?.rows.map((r) => r.cost)).toEqual([30n]);
  });

  it('keeps the last window that ended and the open one in memory for readers of the spend up to now', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    expect(accrual.recent()).toBeUndefined();
    accrual.observe(T + HOUR - 60, T + HOUR - 30, [obs(T + HOUR - 30, 300n)], false);
    expect(accrual.recent()?.windows.map((w) => [w.windowStartMs / 1000 - T, w.rows[0]?.cost])).toEqual([[0, 300n]]);
    // Not asked for the current window (no piece due): still there for readers, with what ended before it.
    accrual.observe(T + HOUR - 30, T + HOUR + 30, [obs(T + HOUR + 30, 360n)], false);
    const recent = accrual.recent();
    expect(recent?.throughMs).toBe((T + HOUR + 30) * 1000);
    expect(recent?.windows.map((w) => [w.windowStartMs / 1000 - T, w.rows[0]?.cost])).toEqual([
      [0, 330n],
      [HOUR, 30n],
    ]);
    // Held while its file is not confirmed written (a sink that fails keeps it for readers)...
    accrual.release(undefined);
    accrual.release(T + HOUR - 1);
    expect(accrual.recent()?.windows).toHaveLength(2);
    // ...and let go once it is: readers find it in the ledger from then on.
    accrual.release(T + HOUR);
    expect(accrual.recent()?.windows.map((w) => [w.windowStartMs / 1000 - T, w.rows[0]?.cost])).toEqual([[HOUR, 30n]]);
    // A seed (a new leader) forgets them until its first cycle.
    accrual.seed(T + HOUR, new Map());
    expect(accrual.recent()).toBeUndefined();
  });

  it('flags the row of an imported opening balance, in its first window only', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    accrual.importOpening('Job/ml/train', at(T + HOUR - 100, 9_000n));
    let out = accrual.observe(T + HOUR - 60, T + HOUR - 0, [obs(T + HOUR, 9_100n)]);
    expect(out.finished.map(({ window }) => window.rows.map((r) => [r.cost, r.imported]))).toEqual([[[9_100n, true]]]);
    out = accrual.observe(T + HOUR, T + HOUR + 60, [obs(T + HOUR + 60, 9_160n)]);
    expect(out.current?.rows.map((r) => [r.cost, r.imported])).toEqual([[60n, false]]);
  });

  it('is settled for a target only once its last row is in a window written, and then forgets it', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    accrual.observe(T, T + 60, [obs(T + 60, 1_000n)]);
    // Its row is in the open window: not settled, whatever was written before.
    expect(accrual.settled('Job/ml/train', T)).toBe(false);
    // The window ends without it (gone): its final row is in the window just finished.
    const out = accrual.observe(T + HOUR - 60, T + HOUR + 60, []);
    expect(out.finished[0]?.window.rows.map((r) => r.cost)).toEqual([1_000n]);
    expect(accrual.settled('Job/ml/train', T)).toBe(false); // that window is not written yet
    expect(accrual.settled('Job/ml/train', T + HOUR)).toBe(true);
    expect(accrual.settled('Job/ml/other', undefined)).toBe(true); // nothing kept: nothing to write
    accrual.forget('Job/ml/train');
    expect(accrual.size).toBe(0);
    // The next snapshot leaves it out.
    const next = accrual.observe(T + 2 * HOUR - 60, T + 2 * HOUR + 60, []);
    expect([...(next.finished[0]?.snapshot.targets.keys() ?? [])]).toEqual([]);
  });
});

describe('served counts in the ledger (issue #17)', () => {
  const served = (until: number, cost: bigint, tokens: bigint | undefined, requests: bigint): Observation => ({
    id: 'Deployment/serving/llm',
    cumulative: { ...at(until, cost), promptTokens: tokens, generatedTokens: tokens, requests },
    describe: { ...describe_, workloadKind: 'Deployment', jobOutcome: '', servedModels: 'llama-3-8b' },
  });

  it('splits counts over a boundary pro rata, as cost, and keeps the models', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    accrual.observe(T + HOUR - 120, T + HOUR - 60, [served(T + HOUR - 60, 60n, 600n, 60n)]);
    const out = accrual.observe(T + HOUR - 60, T + HOUR + 10, [served(T + HOUR + 10, 130n, 1_300n, 130n)]);
    const figures = (rows: LedgerRow[] | undefined) =>
      rows?.map((r) => [r.cost, r.promptTokens, r.generatedTokens, r.requests, r.servedModels]);
    // 70 of each a 70 s cycle: 60 before the boundary, 10 after.
    expect(figures(out.finished[0]?.window.rows)).toEqual([[120n, 1_200n, 1_200n, 120n, 'llama-3-8b']]);
    expect(figures(out.current?.rows)).toEqual([[10n, 100n, 100n, 10n, 'llama-3-8b']]);
  });

  it('a workload that counts nothing has no counts, and one that never named a model none either', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    const out = accrual.observe(T, T + 60, [obs(T + 60, 5n)]);
    expect(out.current?.rows.map((r) => [r.promptTokens, r.requests, r.servedModels])).toEqual([
      [undefined, undefined, undefined],
    ]);
  });

  it('keeps the models of the window when a later cycle heard none', () => {
    const accrual = new LedgerAccrual('prod-1', HOUR);
    accrual.observe(T, T + 60, [served(T + 60, 1n, 10n, 1n)]);
    const silent = served(T + 120, 2n, 10n, 1n);
    const out = accrual.observe(T + 60, T + 120, [
      { ...silent, describe: { ...silent.describe, servedModels: undefined } },
    ]);
    expect(out.current?.rows.map((r) => [r.servedModels, r.promptTokens])).toEqual([['llama-3-8b', 10n]]);
  });
});
