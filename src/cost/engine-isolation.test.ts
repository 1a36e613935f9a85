import { describe, expect, it } from 'vitest';
import { podFacts, tenDollarNode } from '../testing/cost-fixtures.ts';
import { attributeInterval } from './engine.ts';
import { NANOS_PER_UNIT } from './money.ts';
import { GPU_UNITS_PER_GPU, type IntervalCost, type NodeFacts, type PodFacts } from './types.ts';

/** An hour: long enough that a node of 10^10 cores overflows capacity × seconds. */
const HOUR = { start: 0, end: 3600 };

/** A pod of 1 GPU, 4 cores and 16 GiB from time 0. */
const pod = (name: string, nodeName: string, over: Partial<PodFacts> = {}) =>
  podFacts(name, nodeName, { gpuUnits: GPU_UNITS_PER_GPU, cpuMillis: 4000, memoryBytes: 16 * 2 ** 30, ...over });

/** Two good nodes with two pods each. */
const good: NodeFacts[] = [tenDollarNode('good-1'), tenDollarNode('good-2')];
const goodPods: PodFacts[] = [
  pod('a', 'good-1'),
  pod('b', 'good-1', { from: 600, gpuUnits: 2 * GPU_UNITS_PER_GPU }),
  pod('c', 'good-2', { until: 1800 }),
  pod('d', 'good-2', { cpuMillis: 16_000 }),
];

/** What the good nodes and their pods cost, by name: comparable between runs. */
function goodCosts(result: IntervalCost) {
  const nodes = result.nodes.filter((n) => n.node.name.startsWith('good'));
  const pods = result.pods.filter((p) => p.pod.nodeName.startsWith('good'));
  return {
    nodes: nodes.map((n) => [n.node.name, n.cost, n.allocated, n.idle, n.idleGpuSeconds]),
    pods: pods.map((p) => [p.pod.name, p.cost, p.seconds, p.gpuSeconds]),
  };
}

const alone = goodCosts(attributeInterval(HOUR, good, goodPods));

describe('a bad node costs only itself', () => {
  const bad = tenDollarNode('bad');
  it.each<[string, NodeFacts, PodFacts[]]>([
    ['10^10 cores (capacity × seconds past 2^53)', { ...bad, cpuMillis: 1e13 }, [pod('x', 'bad')]],
    ['a capacity that is no number', { ...bad, gpuUnits: Number.NaN }, [pod('x', 'bad')]],
    ['price parts that do not add up', { ...bad, perHour: { ...tenDollarPrice(), gpu: -1n } }, [pod('x', 'bad')]],
    [
      'a problem found before the engine',
      { ...bad, problem: { reason: 'quantity', message: 'allocatable memory: too large' } },
      [pod('x', 'bad')],
    ],
    [
      "pods whose requests add up past 2^53 (the engine's own error)",
      bad,
      [1, 2, 3].map((i) => pod(`x${i}`, 'bad', { cpuMillis: 2e12 })),
    ],
  ])('%s: skipped with its pods, the good nodes exactly as without it', (_what, badNode, badPods) => {
    const result = attributeInterval(
      HOUR,
      [good[0] as NodeFacts, badNode, good[1] as NodeFacts],
      [...goodPods, ...badPods],
    );
    expect(goodCosts(result)).toEqual(alone);
    const skipped = result.nodes.find((n) => n.node.name === 'bad');
    expect(skipped).toMatchObject({ cost: undefined, idle: undefined, allocated: 0n, idleGpuSeconds: 0 });
    expect(skipped?.skipped?.message).toBeTruthy();
    expect(result.pods.filter((p) => p.pod.nodeName === 'bad')).toEqual([]);
    expect(result.unattributed.map((u) => [u.pod.name, u.skipped?.by])).toEqual(badPods.map((p) => [p.name, 'node']));
  });

  it('says why, with a reason fit for a metric label', () => {
    const result = attributeInterval(HOUR, [{ ...bad, cpuMillis: 1e13 }], [pod('x', 'bad')]);
    expect(result.nodes[0]?.skipped).toEqual({
      reason: 'overflow',
      message: 'its cpuMillis capacity × 3600 s is beyond exact integers',
    });
    expect(result.unattributed[0]?.reason).toBe(
      'node bad is skipped: its cpuMillis capacity × 3600 s is beyond exact integers',
    );
  });
});

describe('a bad pod costs only itself', () => {
  it.each<[string, Partial<PodFacts>]>([
    ['a request past 2^53 over the hour', { cpuMillis: 1e13 }],
    ['a request that is no number', { memoryBytes: -1 }],
    ['a problem found before the engine', { problem: { reason: 'quantity', message: 'request memory: too large' } }],
  ])('%s: skipped, its node shared by the others as without it', (_what, over) => {
    const result = attributeInterval(HOUR, good, [...goodPods, pod('x', 'good-1', over)]);
    expect(goodCosts(result)).toEqual(alone);
    expect(result.unattributed.map((u) => [u.pod.name, u.skipped?.by])).toEqual([['x', 'pod']]);
  });
});

describe('a huge but valid price', () => {
  it('is accounted exactly (allocated + idle = node cost) and changes nothing for the other nodes', () => {
    const perHour = 10n ** 15n * NANOS_PER_UNIT; // 10^15 an hour
    const huge: NodeFacts = {
      ...tenDollarNode('huge'),
      perHour: { total: perHour, gpu: perHour - 2n * NANOS_PER_UNIT, cpu: NANOS_PER_UNIT, memory: NANOS_PER_UNIT },
    };
    const result = attributeInterval(HOUR, [huge, ...good], [...goodPods, pod('x', 'huge')]);
    expect(goodCosts(result)).toEqual(alone);
    const nc = result.nodes.find((n) => n.node.name === 'huge');
    expect(nc?.cost?.total).toBe(perHour);
    expect((nc?.allocated ?? 0n) + (nc?.idle?.total ?? 0n)).toBe(perHour);
    expect(result.pods.find((p) => p.pod.name === 'x')?.cost?.gpu).toBe((perHour - 2n * NANOS_PER_UNIT) / 8n);
  });
});

function tenDollarPrice() {
  const price = tenDollarNode('').perHour;
  if (!price) throw new Error('the fixture is priced');
  return price;
}
