import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { nodeRow } from '../testing/ledger-rows.ts';
import { emptyNodes } from './empty-nodes.ts';
import { HOUR_MS } from './types.ts';

const T = Date.UTC(2026, 10, 28); // a Saturday, 00:00 UTC
const LAST = T + 3 * HOUR_MS;
const GPUS: Record<string, number> = { 'g5.xlarge': 1, 'p4d.24xlarge': 8 };

/** A Node row for hour `h` after T: `gpuHours` of the node's GPUs unrequested, at `cost`. */
function hour(node: string, h: number, gpuHours: bigint, cost = '1.006', instanceType = 'g5.xlarge'): LedgerRow {
  return nodeRow({
    workloadName: node,
    workloadUid: `node-${node}`,
    windowStartMs: T + h * HOUR_MS,
    windowEndMs: T + (h + 1) * HOUR_MS,
    instanceType,
    capacityType: 'on-demand',
    gpuHours,
    cost: parseMoney(cost),
  });
}

const FULL = 1_000_000_000n; // one GPU for a whole hour

function flagged(rows: LedgerRow[], minEmptyMs = 2 * HOUR_MS) {
  return emptyNodes(rows, new Map([['prod-1', LAST]]), (t) => GPUS[t], { minEmptyMs }).map((r) => [
    r.target,
    r.details.emptySince,
    r.details.costSoFar,
    formatMoney(r.monthlySaving, 2),
  ]);
}

describe('emptyNodes', () => {
  it('flags a node empty for four hours, with its cost so far and a month of it', () => {
    const [r] = emptyNodes(
      [0, 1, 2, 3].map((h) => hour('gpu-a', h, FULL)),
      new Map([['prod-1', LAST]]),
      (t) => GPUS[t],
    );
    expect(r).toEqual({
      type: 'empty-node',
      target: 'Node/gpu-a',
      clusterId: 'prod-1',
      monthlySaving: parseMoney('734.38'), // 1.006 x 730
      currency: 'USD',
      confidence: 'high',
      reason: 'no pod requested any of its 1 GPUs for 4 h, costing 4.02 USD: scale it down',
      details: {
        instanceType: 'g5.xlarge',
        gpus: 1,
        emptySince: '2026-11-28T00:00:00.000Z',
        emptyHours: '4',
        costSoFar: '4.024000000',
        costPerHour: '1.006000000',
      },
    });
  });

  it.each<[string, LedgerRow[], unknown[]]>([
    [
      'empty since a GPU was last requested two hours ago',
      [hour('gpu-c', 1, FULL / 2n), hour('gpu-c', 2, FULL), hour('gpu-c', 3, FULL)],
      [['Node/gpu-c', '2026-11-28T02:00:00.000Z', '2.012000000', '734.38']],
    ],
    [
      'a gap in its rows ends the stretch',
      [hour('gpu-f', 0, FULL), hour('gpu-f', 2, FULL), hour('gpu-f', 3, FULL)],
      [['Node/gpu-f', '2026-11-28T02:00:00.000Z', '2.012000000', '734.38']],
    ],
    [
      "the writer's rounding of GPU-hours does not make it look used",
      [hour('gpu-r', 2, FULL - 500n), hour('gpu-r', 3, FULL - 500n)],
      [['Node/gpu-r', '2026-11-28T02:00:00.000Z', '2.012000000', '734.38']],
    ],
    // The "no recommendation" cases.
    ['empty for one hour only', [hour('gpu-b', 2, FULL / 2n), hour('gpu-b', 3, FULL)], []],
    ['gone: no row in the last window', [hour('gpu-d', 0, FULL), hour('gpu-d', 1, FULL), hour('gpu-d', 2, FULL)], []],
    ['an instance type of unknown GPUs', [2, 3].map((h) => hour('gpu-e', h, FULL, '1', 'x9.metal')), []],
    [
      'one of eight GPUs requested part of the time',
      [2, 3].map((h) => hour('gpu-g', h, 8n * FULL - FULL / 4n, '21.957642', 'p4d.24xlarge')),
      [],
    ],
    [
      'a CPU-only node, even of an instance type taken for a GPU one (its idle is CPU capacity)',
      [0, 1, 2, 3].map((h) => ({ ...hour('cpu-1', h, FULL, '0.3872'), compute: 'cpu' as const })),
      [],
    ],
    [
      'a workload row is not a node',
      [2, 3].map((h) => ({ ...hour('gpu-w', h, FULL), workloadKind: 'Job' as const })),
      [],
    ],
  ])('%s', (_, rows, expected) => {
    expect(flagged(rows)).toEqual(expected);
  });

  it('takes its threshold from its settings', () => {
    const rows = [hour('gpu-b', 2, FULL / 2n), hour('gpu-b', 3, FULL)];
    expect(flagged(rows, HOUR_MS)).toEqual([['Node/gpu-b', '2026-11-28T03:00:00.000Z', '1.006000000', '734.38']]);
  });
});
