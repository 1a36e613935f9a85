/** The DCGM queries as sent: one per signal, carrying --dcgm-selector when it is set. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../controller/logger.ts';
import { createMetrics } from '../controller/metrics.ts';
import { createPrometheusClient } from '../measure/prometheus-client.ts';
import { FakePrometheus } from '../testing/harness.ts';
import { measurePods, querySignal } from './accounting-measure.ts';

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

describe('measurePods', () => {
  it('logs a failed query without the password of the Prometheus URL', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', identity: 'op-0' }, { write: (line: string) => void lines.push(line) });
    // Nothing listens on port 1: the query fails, and its error names the server.
    const prometheus = createPrometheusClient({ url: 'http://alice:s3cret-pw@127.0.0.1:1', timeoutMs: 2000 });
    const options = { idleThreshold: 0.05, minCoverage: 0.6, scrapeIntervalMs: 15_000, dcgmSelector: '' };
    const deps = { prometheus, metrics: createMetrics([], 10), log, options };
    const measured = await measurePods(deps, ['ml/train-0'], 1e9, 60, querySignal(deps, 0, 1e9, 60));
    expect(measured.status.available).toBe(false);
    expect(measured.status.reason).not.toContain('s3cret-pw');
    const logged = lines.join('');
    expect(logged).toContain('Prometheus queries failed');
    expect(logged).toContain('Prometheus at http://127.0.0.1:1 did not answer');
    expect(logged).not.toContain('s3cret-pw');
  });
});
