import { describe, expect, it } from 'vitest';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { allRows } from '../testing/report-ledger.ts';
import { apportionBig, GroupSums, IDLE, keyValue, reportRows, rowKeys, totals, type Group } from './aggregate.ts';
import { decimal } from './format.ts';
import type { IdleMode } from './options.ts';

/** Report rows as [keys..., cost, currency] lines, costs as exact decimals. */
function report(by: string[], mode: IdleMode, namespace?: string): string[][] {
  const sums = new GroupSums(by, namespace);
  sums.add(allRows());
  return reportRows(sums.groups(), mode, by).map((r) => [...r.keys, decimal(r.cost), r.currency]);
}

describe('report keys', () => {
  const row = jobRow({ labels: { team: 'alpha', environment: 'prod' } });

  it.each([
    ['team', 'alpha'],
    ['project', 'llm'],
    ['experiment', 'exp-42'],
    ['model', 'llama-3-8b'],
    ['namespace', 'ml-alpha'],
    ['workload', 'ml-alpha/Job/train-llama'],
    ['cluster', 'prod-1'],
    ['environment', 'prod'],
    ['compute', 'gpu'],
    ['app.kubernetes.io/name', ''],
  ])('%s of a workload row is %j', (key, value) => {
    expect(keyValue(row, key)).toBe(value);
  });

  it.each<[string, Parameters<typeof jobRow>[0], string]>([
    ['its series name a model: that one, over its label', { servedModels: 'mistral-7b' }, 'mistral-7b'],
    ['its series name several: all of them', { servedModels: 'a,b' }, 'a,b'],
    ['its series name none (TGI): its label', { servedModels: '' }, 'llama-3-8b'],
    ['neither says: unknown, ""', { servedModels: '', model: '' }, ''],
  ])('the model of a row whose %s', (_, overrides, model) => {
    expect(keyValue(jobRow(overrides), 'model')).toBe(model);
  });

  it('a node row is idle under every key but the cluster and the compute', () => {
    expect(rowKeys(nodeRow(), ['team', 'cluster', 'namespace'])).toEqual([IDLE, 'prod-1', IDLE]);
    expect(rowKeys(nodeRow(), ['team', 'compute'])).toEqual([IDLE, 'gpu']);
    expect(rowKeys(nodeRow({ compute: 'cpu', gpuHours: 0n }), ['compute', 'namespace'])).toEqual(['cpu', IDLE]);
  });

  it('a CPU workload row is cpu under compute, and a label called compute is not read for it', () => {
    const etl = jobRow({ gpuHours: 0n, compute: 'cpu', labels: { compute: 'gpu' } });
    expect(rowKeys(etl, ['experiment', 'compute'])).toEqual(['exp-42', 'cpu']);
  });
});

describe('report rows (the ledger of src/testing/report-ledger.ts)', () => {
  it('by team, idle separate: one __idle__ row, last; a missing label is ""', () => {
    expect(report(['team'], 'separate')).toEqual([
      ['alpha', '5.500000003', 'USD'],
      ['beta', '4.999999999', 'USD'],
      ['', '0.30', 'USD'],
      [IDLE, '3.10', 'USD'],
    ]);
  });

  it("by team, idle shared: each cluster's idle by the keys' share of its cost, to the nano-unit", () => {
    // prod-1's idle 2.1 over alpha 5.500000003, beta 0.999999999 and "" 0.3 (largest remainder: one
    // nano-unit left over goes to alpha); prod-2's idle 1 all to beta, its only key.
    expect(report(['team'], 'share')).toEqual([
      ['alpha', '7.198529415', 'USD'],
      ['beta', '6.308823528', 'USD'],
      ['', '0.392647059', 'USD'],
    ]);
  });

  it('by cluster and team: idle stays with its cluster', () => {
    expect(report(['cluster', 'team'], 'separate')).toEqual([
      ['prod-1', 'alpha', '5.500000003', 'USD'],
      ['prod-2', 'beta', '4.00', 'USD'],
      ['prod-1', 'beta', '0.999999999', 'USD'],
      ['prod-1', '', '0.30', 'USD'],
      ['prod-1', IDLE, '2.10', 'USD'],
      ['prod-2', IDLE, '1.00', 'USD'],
    ]);
  });

  it('by workload: the deleted Job is there', () => {
    expect(report(['workload'], 'separate').map((r) => r[0])).toContain('ml-alpha/Job/train-b');
  });

  it('by a label that is not a column', () => {
    expect(report(['environment'], 'separate')).toEqual([
      ['', '9.800000003', 'USD'],
      ['prod', '0.999999999', 'USD'],
      [IDLE, '3.10', 'USD'],
    ]);
  });

  it('one namespace leaves idle out: it belongs to no namespace', () => {
    expect(report(['team'], 'separate', 'serving')).toEqual([['beta', '0.999999999', 'USD']]);
  });

  it.each([['separate'], ['share'], ['pooled']] as const)(
    'idle %s: the rows add up to the ledger total exactly',
    (mode) => {
      for (const by of [['team'], ['cluster', 'team'], ['workload'], ['model', 'namespace']]) {
        const sums = new GroupSums(by);
        sums.add(allRows());
        expect(totals(reportRows(sums.groups(), mode, by))).toEqual(totals(allRows()));
      }
    },
  );

  it('never mixes currencies, and shares idle within a currency', () => {
    const eur = { currency: 'EUR', windowStartMs: 0, windowEndMs: HOUR_MS };
    const sums = new GroupSums(['team']);
    sums.add([jobRow({ ...eur, team: 'alpha', cost: 3n }), nodeRow({ ...eur, cost: 2n }), jobRow({ cost: 5n })]);
    expect(reportRows(sums.groups(), 'share', ['team']).map((r) => [r.keys[0], r.cost, r.currency])).toEqual([
      ['alpha', 5n, 'EUR'],
      ['alpha', 5n, 'USD'],
    ]);
  });

  it('a cluster with idle cost but no allocated cost keeps its __idle__ row when sharing', () => {
    const groups: Group[] = [{ clusterId: 'c', currency: 'USD', idle: true, keys: [IDLE], cost: 9n }];
    expect(reportRows(groups, 'share', ['team'])).toEqual([{ keys: [IDLE], cost: 9n, currency: 'USD', idle: true }]);
  });
});

describe('apportionBig', () => {
  // Amounts as text: the test runner cannot serialize bigint arguments.
  it.each([
    ['10', ['1', '1', '1'], ['4', '3', '3']],
    ['2', ['1', '1', '1'], ['1', '1', '0']],
    ['7', ['0', '5'], ['0', '7']],
    ['100', ['1', '2', '3', '4'], ['10', '20', '30', '40']],
    // Beyond 2^53: still exact.
    [String(2n ** 60n + 1n), [String(2n ** 59n), String(2n ** 59n)], [String(2n ** 59n + 1n), String(2n ** 59n)]],
  ])('%s over %j is %j', (total, weights, parts) => {
    const result = apportionBig(BigInt(total), weights.map(BigInt));
    expect(result.map(String)).toEqual(parts);
    expect(result.reduce((s, p) => s + p, 0n)).toBe(BigInt(total));
  });

  it('refuses weights that sum to nothing', () => {
    expect(() => apportionBig(1n, [0n])).toThrow(RangeError);
  });
});
