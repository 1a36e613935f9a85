import { describe, expect, it } from 'vitest';
import { combineSignals, coverageOf, summarizeSignal, type MatrixSeries } from './gpu-utilization.ts';

const options = { windowSeconds: 60, idleThreshold: 0.1, scrapeIntervalSeconds: 15 };
const samples = (start: number, step: number, values: number[]) =>
  values.map((v, i) => [start + i * step, String(v)] as const);

describe('GPU utilization from DCGM series', () => {
  it('reads both label styles and prefers exported_pod over the exporter pod label', () => {
    const series: MatrixSeries[] = [
      { metric: { pod: 'trainer-0', namespace: 'ml', gpu: '0' }, values: samples(0, 15, [0.5, 0.5, 0.5, 0.5]) },
      {
        metric: { exported_pod: 'server', exported_namespace: 'web', pod: 'dcgm-exporter-x', namespace: 'gpu-ops' },
        values: samples(0, 15, [0.2, 0.2, 0.2, 0.2]),
      },
      { metric: { gpu: '3', Hostname: 'n1' }, values: samples(0, 15, [0, 0, 0, 0]) }, // a free GPU: no pod
    ];
    const { pods } = summarizeSignal(series, 1, 'GR', options);
    expect([...pods.keys()].sort()).toEqual(['ml/trainer-0', 'web/server']);
    expect(pods.get('web/server')?.mean).toBeCloseTo(0.2, 12);
  });

  it('averages a pod over its GPUs and counts samples under the idle threshold', () => {
    const series: MatrixSeries[] = [
      { metric: { pod: 'p', namespace: 'n', gpu: '0' }, values: samples(0, 15, [90, 90, 5, 5]) },
      { metric: { pod: 'p', namespace: 'n', gpu: '1' }, values: samples(0, 15, [0, 0, 0, 0]) },
    ];
    const u = summarizeSignal(series, 100, 'GPU_UTIL', options).pods.get('n/p');
    expect(u?.mean).toBeCloseTo((0.475 + 0) / 2, 12);
    expect(u?.idleRatio).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(u?.gpus).toBe(2);
    expect(u?.max).toBe(0.9);
    expect(u?.coverage).toBe(1);
  });

  it.each([
    [[0, 15, 30, 45], 1],
    [[0, 15], 0.5],
    [[10], 0.25],
    [[], 0],
    [[0, 5, 10], 0.25],
    [[0, 3, 6, 30], 0.2], // uneven: the median gap (3 s), not the first or the mean
    [[0, 30, 33, 36], 0.2],
  ])('coverage of samples at %j in a 60 s window is %d', (times, coverage) => {
    expect(coverageOf(times, options)).toBe(coverage);
  });

  it('makes malformed and sparse pods unknown with a reason, never zero', () => {
    const gr = summarizeSignal(
      [
        { metric: { pod: 'bad', namespace: 'n' }, values: [[0, 'NaN']] },
        { metric: { pod: 'sparse', namespace: 'n' }, values: samples(0, 15, [0.9]) },
        { metric: { pod: 'big', namespace: 'n' }, values: samples(0, 15, [7, 7, 7, 7]) },
      ],
      1,
      'GR',
      options,
    );
    const { pods, unknown } = combineSignals([gr], 0.8);
    expect(pods.size).toBe(0);
    expect(unknown.get('n/bad')).toBe('malformed DCGM samples');
    expect(unknown.get('n/big')).toBe('malformed DCGM samples');
    expect(unknown.get('n/sparse')).toMatch(/coverage 25% is under 80%/);
  });

  it('uses the fallback signal only for pods the preferred one lacks', () => {
    const gr = summarizeSignal(
      [{ metric: { pod: 'a', namespace: 'n' }, values: samples(0, 15, [0.3, 0.3, 0.3, 0.3]) }],
      1,
      'GR',
      options,
    );
    const util = summarizeSignal(
      [
        { metric: { pod: 'a', namespace: 'n' }, values: samples(0, 15, [99, 99, 99, 99]) },
        { metric: { pod: 'b', namespace: 'n' }, values: samples(0, 15, [40, 40, 40, 40]) },
      ],
      100,
      'UTIL',
      options,
    );
    const { pods } = combineSignals([gr, util], 0.8);
    expect(pods.get('n/a')?.signal).toBe('GR');
    expect(pods.get('n/a')?.mean).toBeCloseTo(0.3, 12);
    expect(pods.get('n/b')?.signal).toBe('UTIL');
    expect(pods.get('n/b')?.mean).toBeCloseTo(0.4, 12);
  });
});
