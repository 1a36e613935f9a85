import { describe, expect, it } from 'vitest';
import { attributeInterval } from '../cost/engine.ts';
import { formatMoney } from '../cost/money.ts';
import { GPU_UNITS_PER_GPU, type NodeFacts, type PodFacts } from '../cost/types.ts';
import { tenDollarNode } from '../testing/cost-fixtures.ts';
import { rollupRows } from './rollup-rows.ts';

// 10 $/h: GPU part 8 $/h for 8 GPUs (1 $ per GPU-hour), CPU part 1 $/h for 64 cores, memory 1 $/h.
const priced = tenDollarNode('a');
const unpriced: NodeFacts = { ...priced, name: 'b', perHour: undefined, unpricedReason: 'no price' };

function pod(name: string, namespace: string, gpus: number, labels: Record<string, string>, over = {}): PodFacts {
  return {
    uid: name,
    namespace,
    name,
    nodeName: 'a',
    gpuUnits: gpus * GPU_UNITS_PER_GPU,
    cpuMillis: 0,
    memoryBytes: 0,
    from: 0,
    labels,
    workload: { kind: 'Pod', namespace, name },
    ...over,
  };
}

const keys = ['team'];
const byTeam = (p: PodFacts) => {
  const values = keys.map((k) => p.labels[k] ?? '__unset__');
  return { key: values.join('\u0000'), values };
};
const money = (n: bigint) => formatMoney(n, 9);

describe('roll-up rows of a cycle', () => {
  it.each([
    [
      // 2 + 1.25 + 1 allocated on node a; the pod on the unpriced node b has no cost and is in no row.
      'an idle row takes what no pod requested',
      [priced, unpriced],
      [
        pod('train', 'research', 2, { team: 'research' }),
        pod('notebook', 'research', 1, {}, { cpuMillis: 16_000 }),
        pod('chat', 'serving', 1, { team: 'serving' }),
        pod('lost', 'serving', 1, { team: 'serving' }, { nodeName: 'b' }),
      ],
      [
        ['research', '3.250000000'],
        ['serving', '1.000000000'],
        ['__idle__', '5.750000000'],
      ],
      [
        ['research', '2.000000000'],
        ['__unset__', '1.250000000'],
        ['serving', '1.000000000'],
        ['__idle__', '5.750000000'],
      ],
      '10.000000000',
    ],
    [
      'a full node keeps its idle row, at zero',
      [priced],
      [pod('big', 'research', 8, { team: 'research' }, { cpuMillis: 64_000, memoryBytes: 512 * 2 ** 30 })],
      [
        ['research', '10.000000000'],
        ['__idle__', '0.000000000'],
      ],
      [
        ['research', '10.000000000'],
        ['__idle__', '0.000000000'],
      ],
      '10.000000000',
    ],
    ['no priced node: no rows', [unpriced], [pod('lost', 'serving', 1, {}, { nodeName: 'b' })], [], [], '0.000000000'],
  ])('%s', (_, nodes, pods, namespaces, labels, nodeCost) => {
    const main = attributeInterval({ start: 0, end: 3600 }, nodes, pods);
    const rows = rollupRows(main, keys.length, byTeam);
    expect([...rows.namespaces].map(([k, v]) => [k, money(v)])).toEqual(namespaces);
    expect([...rows.labels.values()].map((r) => [r.values.join(','), money(r.total)])).toEqual(labels);
    expect(money(rows.nodeCost)).toBe(nodeCost);
    // Each roll-up adds up to the node cost, to the nano.
    const sum = (amounts: Iterable<bigint>) => [...amounts].reduce((a, b) => a + b, 0n);
    expect(sum(rows.namespaces.values())).toBe(rows.nodeCost);
    expect(sum([...rows.labels.values()].map((r) => r.total))).toBe(rows.nodeCost);
  });
});
