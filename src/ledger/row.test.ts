import { describe, expect, it } from 'vitest';
import { computeOf, MAX_DECIMAL_18, rollupColumns, rowProblems, type LedgerRow } from './row.ts';
import { jobRow, nodeRow, WINDOW_START_MS } from '../testing/ledger-rows.ts';

describe('rowProblems', () => {
  it('accepts a Job row and a Node row', () => {
    expect(rowProblems(jobRow())).toEqual([]);
    expect(rowProblems(nodeRow())).toEqual([]);
    expect(rowProblems(jobRow({ workloadKind: 'Deployment', jobOutcome: '' }))).toEqual([]);
    expect(rowProblems(jobRow({ cost: MAX_DECIMAL_18, spotSavings: -MAX_DECIMAL_18 }))).toEqual([]);
    // A row read from a file written before the namespace_labels column.
    expect(rowProblems(jobRow({ namespaceLabels: undefined }))).toEqual([]);
    expect(rowProblems(nodeRow({ namespaceLabels: undefined }))).toEqual([]);
    // Idle owned by a team, unowned, and a workload row that says so.
    expect(rowProblems(nodeRow({ team: 'ml', labels: { team: 'ml' }, idleOwner: 'ml' }))).toEqual([]);
    expect(rowProblems(nodeRow({ idleOwner: '' }))).toEqual([]);
    expect(rowProblems(jobRow({ idleOwner: '' }))).toEqual([]);
  });

  it.each<[string, Partial<LedgerRow>, string[]]>([
    ['a bad cluster id', { clusterId: 'Prod' }, ['clusterId "Prod" is not a cluster id']],
    ['a fractional start', { windowStartMs: 1.5 }, ['windowStartMs is not a non-negative integer']],
    ['an empty window', { windowEndMs: WINDOW_START_MS }, ['windowEndMs is not after windowStartMs']],
    [
      'an unknown kind',
      { workloadKind: 'ReplicaSet' as 'Pod', jobOutcome: '' },
      ['workloadKind "ReplicaSet" is not a ledger kind'],
    ],
    ['a workload without namespace', { namespace: '' }, ['namespace is empty']],
    ['no name', { workloadName: '' }, ['workloadName is empty']],
    ['no uid', { workloadUid: '' }, ['workloadUid is empty']],
    ['a negative pod count', { podCount: -1 }, ['podCount is not a non-negative 32-bit integer']],
    ['a pod count over int32', { podCount: 2 ** 31 }, ['podCount is not a non-negative 32-bit integer']],
    ['a negative cost', { cost: -1n }, ['cost is outside 0..999999999.999999999']],
    ['a cost over DECIMAL(18,9)', { cost: MAX_DECIMAL_18 + 1n }, ['cost is outside 0..999999999.999999999']],
    ['negative GPU-hours', { gpuHours: -1n }, ['gpuHours is outside 0..999999999.999999999']],
    [
      'savings past DECIMAL(18,9)',
      { spotSavings: -MAX_DECIMAL_18 - 1n },
      ['spotSavings is outside ±999999999.999999999'],
    ],
    ['a utilization over 1', { utilization: 1.01 }, ['utilization is not a ratio 0..1 or null']],
    ['a NaN utilization', { utilization: NaN }, ['utilization is not a ratio 0..1 or null']],
    ['a lower-case currency', { currency: 'usd' }, ['currency "usd" is not an ISO 4217 code']],
    ['a Job without outcome', { jobOutcome: '' }, ['jobOutcome "" is not an outcome for a Job']],
    [
      'a Deployment with one',
      { workloadKind: 'Deployment' },
      ['jobOutcome "succeeded" is not an outcome for a Deployment'],
    ],
    [
      'a non-string label',
      { labels: { team: 1 as unknown as string } },
      ['labels "team" has a value that is not a string'],
    ],
    [
      'a non-string namespace label',
      { namespaceLabels: { team: null as unknown as string } },
      ['namespaceLabels "team" has a value that is not a string'],
    ],
    ['an idle owner on a workload row', { idleOwner: 'ml' }, ['idleOwner must be empty on a Job row']],
    [
      'an idle owner past 63 characters',
      { idleOwner: 'a'.repeat(64) },
      ['idleOwner must be empty on a Job row', 'idleOwner is not a label value'],
    ],
    ['a compute of neither kind', { compute: 'tpu' as 'gpu' }, ['compute "tpu" is not gpu, cpu or storage']],
    [
      'a CPU row with GPU-hours',
      { compute: 'cpu' },
      ['compute "cpu" disagrees with gpuHours 8000000000 (gpu exactly when above 0)'],
    ],
    [
      'a GPU row without GPU-hours',
      { gpuHours: 0n, compute: 'gpu' },
      ['compute "gpu" disagrees with gpuHours 0 (gpu exactly when above 0)'],
    ],
  ])('refuses %s', (_, overrides, problems) => {
    expect(rowProblems(jobRow(overrides))).toEqual(problems);
  });

  it('accepts a Node row of either kind, with or without idle GPU-hours', () => {
    expect(rowProblems(nodeRow({ compute: 'cpu', gpuHours: 0n, idleGpuHours: 0n }))).toEqual([]);
    expect(rowProblems(nodeRow({ compute: 'gpu', gpuHours: 0n, idleGpuHours: 0n }))).toEqual([]);
  });

  it('refuses a Node row in a namespace', () => {
    expect(rowProblems(nodeRow({ namespace: 'x' }))).toEqual(['namespace must be empty on a Node row']);
    expect(rowProblems(nodeRow({ namespaceLabels: { team: 'a' } }))).toEqual([
      'namespaceLabels must be empty on a Node row',
    ]);
  });
});

describe('rollupColumns', () => {
  it.each([
    [
      { team: 'pod' },
      { team: 'job', model: 'm' },
      { team: 'ns', project: 'p' },
      { team: 'pod', project: 'p', experiment: '', model: 'm' },
    ],
    [{}, undefined, undefined, { team: '', project: '', experiment: '', model: '' }],
    [{ team: '' }, { team: 'job' }, undefined, { team: '', project: '', experiment: '', model: '' }],
  ])('pod %j, workload %j, namespace %j give %j', (pod, workload, namespace, columns) => {
    expect(rollupColumns(pod, workload, namespace)).toEqual(columns);
  });
});

describe('computeOf', () => {
  it.each<[LedgerRow['workloadKind'], bigint, LedgerRow['compute'], LedgerRow['compute']]>([
    // A workload: GPU work when it held a GPU at any time in the window, whatever node kind its row names.
    ['Job', 1n, 'cpu', 'gpu'],
    ['Job', 0n, 'gpu', 'cpu'],
    ['Deployment', 277_778n, 'cpu', 'gpu'],
    ['StatefulSet', 0n, 'cpu', 'cpu'],
    ['Pod', 0n, 'cpu', 'cpu'],
    ['Pod', 8_000_000_000n, 'cpu', 'gpu'],
    // A Node row: its node's kind, however many of its GPUs stood idle.
    ['Node', 0n, 'gpu', 'gpu'],
    ['Node', 5n, 'gpu', 'gpu'],
    ['Node', 0n, 'cpu', 'cpu'],
  ])('%s with %s nano GPU-hours on a %s node is %s', (kind, gpuHours, nodeCompute, compute) => {
    expect(computeOf(kind, gpuHours, nodeCompute)).toBe(compute);
  });
});
