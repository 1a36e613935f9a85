import { describe, expect, it } from 'vitest';
import type { MatrixSeries } from './gpu-utilization.ts';
import {
  combineReadings,
  INFERENCE_SIGNALS,
  readSignal,
  signalQuery,
  type InferenceSignal,
  type SignalSpec,
} from './inference-metrics.ts';

const spec = (signal: InferenceSignal): SignalSpec => {
  const found = INFERENCE_SIGNALS.find((s) => s.signal === signal);
  if (!found) throw new Error(`no signal ${signal}`);
  return found;
};
const BY = 'sum by (pod, namespace, exported_pod, exported_namespace, model_name, model)';
/** An instant vector's series: its labels and its one sample at t = 1000. */
const at = (metric: Record<string, string>, value: unknown): MatrixSeries =>
  ({ metric, values: [[1000, value]] }) as unknown as MatrixSeries;

describe('the inference queries', () => {
  it('asks one query per signal, every server that publishes it joined with or', () => {
    expect(INFERENCE_SIGNALS.map((s) => s.signal)).toEqual([
      'promptTokens',
      'generationTokens',
      'requests',
      'prefillSeconds',
      'decodeSeconds',
      'servingSeconds',
    ]);
    expect(signalQuery(spec('requests'), '', 3600)).toBe(
      `${BY} (increase(vllm:request_success_total[3600s])) or ` +
        `${BY} (increase(nv_inference_request_success[3600s])) or ` +
        `${BY} (increase(tgi_request_success[3600s]))`,
    );
  });

  it.each([
    [
      'promptTokens',
      '',
      `${BY} (increase(vllm:prompt_tokens_total[60s])) or ${BY} (increase(tgi_request_input_length_sum[60s]))`,
    ],
    [
      'generationTokens',
      'job="vllm"',
      `${BY} (increase(vllm:generation_tokens_total{job="vllm"}[60s])) or ` +
        `${BY} (increase(tgi_request_generated_tokens_sum{job="vllm"}[60s]))`,
    ],
    [
      'prefillSeconds',
      'job=~"vllm|tgi", namespace!="x"',
      `${BY} (increase(vllm:request_prefill_time_seconds_sum{job=~"vllm|tgi", namespace!="x"}[60s])) or ` +
        `${BY} (increase(tgi_batch_forward_duration_sum{method="prefill", job=~"vllm|tgi", namespace!="x"}[60s]))`,
    ],
    [
      'decodeSeconds',
      '',
      `${BY} (increase(vllm:request_decode_time_seconds_sum[60s])) or ` +
        `${BY} (increase(tgi_batch_forward_duration_sum{method="decode"}[60s]))`,
    ],
    // Triton counts microseconds: the sum is divided into seconds in PromQL.
    [
      'servingSeconds',
      'job="triton"',
      `(${BY} (increase(nv_inference_compute_infer_duration_us{job="triton"}[60s])) / 1000000)`,
    ],
  ] as const)('%s with selector %j asks %s', (signal, selector, query) => {
    expect(signalQuery(spec(signal), selector, 60)).toBe(query);
  });
});

describe('reading a signal', () => {
  it('matches series to pods in both label styles, the exported_ form first, and keeps the model', () => {
    const reading = readSignal([
      at({ pod: 'llm-0', namespace: 'ml', model_name: 'llama-3-8b' }, '1200'),
      at(
        {
          exported_pod: 'llm-1',
          exported_namespace: 'ml',
          pod: 'exporter',
          namespace: 'ops',
          model_name: 'llama-3-8b',
        },
        '300.5',
      ),
      at({ pod: 'triton-0', namespace: 'serve', model: 'resnet' }, '7'),
      at({ model_name: 'orphan' }, '5'), // no pod: skipped
    ]);
    expect(Object.fromEntries(reading.pods)).toEqual({
      'ml/llm-0': { value: 1200, models: ['llama-3-8b'] },
      'ml/llm-1': { value: 300.5, models: ['llama-3-8b'] },
      'serve/triton-0': { value: 7, models: ['resnet'] },
    });
    expect(reading.malformed.size).toBe(0);
  });

  it("adds up a pod's series, one per model, and names each model once", () => {
    const reading = readSignal([
      at({ pod: 'p', namespace: 'n', model_name: 'b' }, '10'),
      at({ pod: 'p', namespace: 'n', model_name: 'a' }, '5'),
      at({ pod: 'p', namespace: 'n', model_name: 'b' }, '1'),
      at({ pod: 'p', namespace: 'n' }, '2'), // TGI: no model label
    ]);
    expect(reading.pods.get('n/p')).toEqual({ value: 18, models: ['b', 'a'] });
  });

  it('makes a pod with a sample that is not a non-negative number malformed, never 0', () => {
    const bad: unknown[] = ['', 'NaN', '+Inf', '-1', '0x10', null, 5, ' 1'];
    for (const value of bad) {
      const reading = readSignal([at({ pod: 'p', namespace: 'n' }, value), at({ pod: 'q', namespace: 'n' }, '3')]);
      expect([...reading.pods.keys()], JSON.stringify(value)).toEqual(['n/q']);
      expect([...reading.malformed]).toEqual(['n/p']);
    }
    // A vector series must have exactly one sample.
    const two = {
      metric: { pod: 'p', namespace: 'n' },
      values: [
        [1, '1'],
        [2, '2'],
      ],
    } as unknown as MatrixSeries;
    expect(readSignal([two]).malformed).toEqual(new Set(['n/p']));
    // What Prometheus does write: 0 (a counter that did not move) is a reading, not an absence.
    expect(readSignal([at({ pod: 'p', namespace: 'n' }, '0')]).pods.get('n/p')?.value).toBe(0);
    expect(readSignal([at({ pod: 'p', namespace: 'n' }, '1.5e+06')]).pods.get('n/p')?.value).toBe(1_500_000);
  });
});

describe('combining the signals per pod', () => {
  it('gives each pod the signals it has, its models sorted, and leaves the others undefined', () => {
    const readings = new Map([
      ['promptTokens', readSignal([at({ pod: 'llm', namespace: 'ml', model_name: 'm2' }, '400')])],
      ['generationTokens', readSignal([at({ pod: 'llm', namespace: 'ml', model_name: 'm1' }, '600')])],
      [
        'requests',
        readSignal([
          at({ pod: 'llm', namespace: 'ml', model_name: 'm2' }, '2'),
          at({ pod: 'triton', namespace: 'ml', model: 'r' }, '9'),
        ]),
      ],
    ] as const);
    const { pods, malformed } = combineReadings(readings);
    expect(Object.fromEntries(pods)).toEqual({
      'ml/llm': { models: ['m1', 'm2'], promptTokens: 400, generationTokens: 600, requests: 2 },
      'ml/triton': { models: ['r'], requests: 9 },
    });
    expect(malformed.size).toBe(0);
  });

  it('leaves a pod malformed in any signal without a reading in every signal', () => {
    const readings = new Map([
      ['promptTokens', readSignal([at({ pod: 'llm', namespace: 'ml' }, '400')])],
      ['requests', readSignal([at({ pod: 'llm', namespace: 'ml' }, 'NaN')])],
    ] as const);
    const { pods, malformed } = combineReadings(readings);
    expect(pods.size).toBe(0);
    expect([...malformed]).toEqual(['ml/llm']);
  });
});
