import { describe, expect, it } from 'vitest';
import { fitLine, memoryFor, renderSweepSvg, tickStep, type SweepPoint } from '../../bench/sweep-chart.ts';

const point = (pods: number, steady: number, peak: number, median: number): SweepPoint => ({
  nodes: 1000,
  pods,
  rssSteadyMb: steady,
  rssPeakMb: peak,
  cycleMedianMs: median,
  cycleMaxMs: median * 2,
  cpuPerCycleMs: median,
  coldStartS: 5,
});

describe('the sweep chart', () => {
  it.each([
    // An exact line: 60 MB fixed, 6 MB per 1,000 pods.
    [[2500, 5000, 10000, 20000].map((x) => ({ x, y: 60 + (6 * x) / 1000 })), 60, 6],
    // Noise around it averages out: +1, -1, -1, +1.
    [
      [
        { x: 0, y: 11 },
        { x: 1000, y: 19 },
        { x: 2000, y: 29 },
        { x: 3000, y: 41 },
      ],
      10,
      10,
    ],
    // A single size: no slope to tell.
    [[{ x: 5000, y: 100 }], 100, 0],
  ])('fits fixed + per-1,000-pods by least squares (%#)', (points, fixed, per) => {
    const line = fitLine(points);
    expect(line.fixed).toBeCloseTo(fixed, 9);
    expect(line.perThousandPods).toBeCloseTo(per, 9);
  });

  it('reads off the memory for a size: the steady line plus the largest peak margin seen', () => {
    const points = [point(2500, 75, 80, 100), point(5000, 90, 102, 150), point(10000, 120, 126, 250)];
    // steady = 60 + 6 / 1,000 pods; the largest peak margin is 12 MB.
    expect(memoryFor(points, 20_000)).toBeCloseTo(60 + 120 + 12, 9);
  });

  it.each([
    [198, 50],
    [1000, 200],
    [110, 25],
    [7, 2],
  ])('ticks %d in round steps of %d', (max, step) => expect(tickStep(max)).toBe(step));

  it('draws both panels with every size, the targets and the caption, escaped', () => {
    const svg = renderSweepSvg([point(20000, 160, 190, 300), point(2500, 80, 90, 120)], '1000 nodes <2 cores>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const text of [
      'Operator RSS',
      'Accounting cycle',
      '2,500',
      '20,000',
      'steady target 150 MB',
      'p99 target 500 ms',
    ])
      expect(svg).toContain(text);
    expect(svg).toContain('1000 nodes &lt;2 cores>');
    // Two series per panel, one point per size each.
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg.match(/<circle/g)).toHaveLength(8);
  });
});
