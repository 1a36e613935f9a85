/** The DCGM queries as sent: one per signal, carrying --dcgm-selector when it is set. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../controller/metrics.ts';
import { FakePrometheus } from '../testing/harness.ts';
import { querySignal } from './accounting-measure.ts';

describe('querySignal', () => {
  it.each([
    ['', 'DCGM_FI_PROF_GR_ENGINE_ACTIVE[60s]'],
    ['job="dcgm-exporter"', 'DCGM_FI_PROF_GR_ENGINE_ACTIVE{job="dcgm-exporter"}[60s]'],
    [
      'job=~"dcgm.*", namespace="gpu-operator"',
      'DCGM_FI_PROF_GR_ENGINE_ACTIVE{job=~"dcgm.*", namespace="gpu-operator"}[60s]',
    ],
  ])('selector %j asks %s', async (dcgmSelector, query) => {
    const prometheus = new FakePrometheus();
    const options = { idleThreshold: 0.05, minCoverage: 0.6, scrapeIntervalMs: 15_000, dcgmSelector };
    await querySignal(
      { prometheus, metrics: createMetrics([], 10), log: pino({ level: 'silent' }), options },
      0,
      1e9,
      60,
    );
    expect(prometheus.queries).toEqual([query]);
  });
});
