import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../testing/fuzz.ts';
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

  it('reads empty, null, false, padded, hex and infinite samples as malformed, never as 0 % (idle)', () => {
    const bad: unknown[] = ['', ' ', null, false, true, 0, '0x0', ' 0', '0 ', 'NaN', '+Inf', '-Inf', 'Infinity', []];
    for (const value of bad) {
      const values = [
        [0, '0.5'],
        [15, value],
        [30, '0.5'],
        [45, '0.5'],
      ] as unknown as MatrixSeries['values'];
      const summary = summarizeSignal([{ metric: { pod: 'p', namespace: 'n' }, values }], 1, 'GR', options);
      expect(summary.pods.size, JSON.stringify(value)).toBe(0);
      expect([...summary.malformed]).toEqual(['n/p']);
    }
    const badTime = [
      [0, '0'],
      [null, '0'],
      [30, '0'],
      [45, '0'],
    ] as unknown as MatrixSeries['values'];
    expect(
      summarizeSignal([{ metric: { pod: 'p', namespace: 'n' }, values: badTime }], 1, 'GR', options).malformed,
    ).toEqual(new Set(['n/p']));
    // What Prometheus does write.
    const good = [
      [0, '0'],
      [15, '1e-05'],
      [30, '0.25'],
      [45, '1'],
    ] as const;
    expect(summarizeSignal([{ metric: { pod: 'p', namespace: 'n' }, values: good }], 1, 'GR', options).pods.size).toBe(
      1,
    );
  });

  it('fails the minimum with a NaN coverage', () => {
    const u = { mean: 0, idleRatio: 1, max: 0, coverage: NaN, gpus: 1, signal: 'GR' };
    const { pods, unknown } = combineSignals([{ pods: new Map([['n/p', u]]), malformed: new Set() }], 0.8);
    expect(pods.size).toBe(0);
    expect(unknown.has('n/p')).toBe(true);
    const fine = { ...u, coverage: 1 };
    expect(combineSignals([{ pods: new Map([['n/p', fine]]), malformed: new Set() }], NaN).pods.size).toBe(0);
  });

  it('never makes a pod with a malformed sample look idle, and keeps readings in 0..1 (property)', () => {
    // Each sample is tagged: a value Prometheus could write, or one it never does.
    const good = fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }).map((v) => String(v)),
      fc.double({ min: 0, max: 1, noNaN: true }).map((v) => v.toExponential()),
      fc.integer({ min: 0, max: 100 }).map((v) => `${v}.0`),
    );
    const bad = fc.oneof(
      fc.constantFrom<unknown>('', ' ', null, false, true, 0, 'NaN', '+Inf', '-Inf', '0x0', ' 0', '1,5', 'idle', []),
      fc.double({ min: 1.01, max: 1e9, noNaN: true }).map(String),
      fc.double({ max: -1e-3, noNaN: true }).map(String),
      fc.anything().filter((v) => typeof v !== 'string'),
    );
    const sample = fc.oneof(
      { weight: 8, arbitrary: good.map((v) => ({ ok: true, v })) },
      { weight: 1, arbitrary: bad.map((v) => ({ ok: false, v })) },
    );
    const series = fc.record({
      pod: fc.constantFrom('a', 'b', 'c'),
      samples: fc.array(sample, { minLength: 1, maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(series, { maxLength: 6 }), fc.double({ min: 0, max: 1 }), (all, minCoverage) => {
        const input: MatrixSeries[] = all.map((s) => ({
          metric: { pod: s.pod, namespace: 'n' },
          values: s.samples.map((x, i) => [i * 15, x.v]) as unknown as MatrixSeries['values'],
        }));
        const { pods, unknown } = combineSignals([summarizeSignal(input, 1, 'GR', options)], minCoverage);
        for (const s of all) {
          const key = `n/${s.pod}`;
          if (s.samples.some((x) => !x.ok)) {
            expect(pods.has(key)).toBe(false);
            expect(unknown.get(key)).toBe('malformed DCGM samples');
          }
        }
        for (const u of pods.values()) {
          for (const v of [u.mean, u.idleRatio, u.max, u.coverage]) expect(v >= 0 && v <= 1).toBe(true);
          expect(u.coverage + 1e-9 >= minCoverage).toBe(true);
        }
      }),
      fuzzRuns(300),
    );
  });
});
