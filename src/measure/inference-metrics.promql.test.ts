/**
 * The inference queries as sent, evaluated by Prometheus's own engine: `promtool test rules` (Debian's prometheus
 * package, which the local cluster runs) over synthetic series scraped every 15 s, no server needed. It checks
 * what the string tests cannot: that each query parses, that --inference-selector keeps other jobs out, that a
 * counter's series (vLLM's finished_reason) add up per pod, that a counter reset is increase()'s to handle, and
 * Triton's microseconds. Skipped where promtool is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { INFERENCE_SIGNALS, signalQuery, type InferenceSignal } from './inference-metrics.ts';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

const query = (signal: InferenceSignal) => {
  const spec = INFERENCE_SIGNALS.find((s) => s.signal === signal);
  if (!spec) throw new Error(`no signal ${signal}`);
  return signalQuery(spec, 'job="servers"', 60);
};

/** A series of the trusted job, and its values at 0, 15, ... 120 s in promtool's notation. */
const series = (labels: string, values: string, job = 'servers') => ({
  series: labels.replace('{', `{job="${job}",`),
  values,
});

/** A signal's query at 120 s and the samples it must answer, each the labels (inside braces) and the value. */
const at120 = (signal: InferenceSignal, samples: readonly (readonly [string, number])[]) => ({
  expr: query(signal),
  eval_time: '120s',
  exp_samples: samples.map(([labels, value]) => ({ labels: `{${labels}}`, value })),
});

describe.skipIf(!hasPromtool)('the inference queries in Prometheus (promtool)', () => {
  it('evaluate to each pod and model over the window, at 120 s', () => {
    const vllm = 'pod="llm-0",namespace="ml",model_name="llama"';
    const test = {
      rule_files: [],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          input_series: [
            series(`vllm:prompt_tokens_total{${vllm}}`, '0+6000x8'),
            // Two series of one counter (why requests finished), and one of a job outside the selector.
            series(`vllm:request_success_total{${vllm},finished_reason="stop"}`, '0+27x8'),
            series(`vllm:request_success_total{${vllm},finished_reason="length"}`, '0+3x8'),
            series(`vllm:request_success_total{${vllm},finished_reason="stop"}`, '0+1000x8', 'tenant'),
            // A Triton exporter's series for another pod (honor_labels: false).
            series(
              'nv_inference_request_success{exported_pod="triton-0",exported_namespace="ml",pod="exp",namespace="ops",model="resnet",version="1"}',
              '0+150x8',
            ),
            series('tgi_request_success{pod="tgi-0",namespace="ml"}', '0+15x8'),
            // A server restarted at 75 s: its counter starts again from 0.
            series(
              'vllm:generation_tokens_total{pod="llm-1",namespace="ml",model_name="llama"}',
              '0 9000 18000 27000 36000 0 9000 18000 27000',
            ),
            series(
              'nv_inference_compute_infer_duration_us{pod="triton-1",namespace="ml",model="resnet",version="1"}',
              '0+7500000x8',
            ),
            series('tgi_batch_forward_duration_sum{pod="tgi-0",namespace="ml",method="prefill"}', '0+3x8'),
            series('tgi_batch_forward_duration_sum{pod="tgi-0",namespace="ml",method="decode"}', '0+9x8'),
          ],
          promql_expr_test: [
            at120('promptTokens', [[vllm, 24000]]),
            at120('requests', [
              [vllm, 120],
              ['exported_pod="triton-0",exported_namespace="ml",pod="exp",namespace="ops",model="resnet"', 600],
              ['pod="tgi-0",namespace="ml"', 60],
            ]),
            // The restart at 75 s: 27,000 counted after it, none of the 36,000 before the window, nothing negative.
            at120('generationTokens', [['pod="llm-1",namespace="ml",model_name="llama"', 27000]]),
            at120('servingSeconds', [['pod="triton-1",namespace="ml",model="resnet"', 30]]),
            at120('prefillSeconds', [['pod="tgi-0",namespace="ml"', 12]]),
            at120('decodeSeconds', [['pod="tgi-0",namespace="ml"', 36]]),
          ],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'aicost-promql-'));
    try {
      writeFileSync(join(dir, 'test.yml'), stringify(test));
      const out = execFileSync('promtool', ['test', 'rules', 'test.yml'], { cwd: dir, encoding: 'utf8' });
      expect(out).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
