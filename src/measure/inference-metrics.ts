/**
 * What inference servers publish about the work they did, per pod, from Prometheus: the tokens in and out, the
 * requests served and the time spent serving them, each as its increase over a trailing window.
 *
 * One instant query per signal per cycle for the whole cluster (never one per pod or per server): each signal's
 * sources, one per server that publishes it, are joined with `or`, and each is summed by the labels that join
 * a series to its pod and by the model label, so that a counter's many series (vLLM's finished_reason, Triton's
 * version) arrive as one. Counter resets (a restarted server) are PromQL increase()'s to handle.
 *
 * Names as scraped (docs/unit-economics.md cites each server's reference):
 *   vLLM   vllm:prompt_tokens_total, vllm:generation_tokens_total, vllm:request_success_total, and the sums of the
 *          histograms vllm:request_prefill_time_seconds and vllm:request_decode_time_seconds (label model_name);
 *   Triton nv_inference_request_success, nv_inference_compute_infer_duration_us (labels model, version; no tokens);
 *   TGI    the sums of the histograms tgi_request_input_length and tgi_request_generated_tokens, tgi_request_success,
 *          and tgi_batch_forward_duration's sum by method="prefill" and method="decode" (no model label).
 *
 * Pods are matched by the scrape's labels in both styles, as DCGM series are (gpu-utilization.ts): the exported_
 * form wins when present. A pod with no series has no reading: unknown, never zero.
 */
import { JOIN_LABELS, podKeyOf, sampleValue, type MatrixSeries } from './gpu-utilization.ts';

/** The labels naming the model a series is about: vLLM's, then Triton's. */
export const MODEL_LABELS = ['model_name', 'model'] as const;

export type InferenceSignal =
  'promptTokens' | 'generationTokens' | 'requests' | 'prefillSeconds' | 'decodeSeconds' | 'servingSeconds';

export type InferenceServer = 'vLLM' | 'Triton' | 'TGI';

export interface SignalSource {
  readonly server: InferenceServer;
  readonly metric: string;
  /** Matchers the source's series must carry besides --inference-selector, e.g. TGI's method="prefill". */
  readonly matchers?: string;
  /** How many of the counter's units make one of the signal's (Triton counts microseconds). */
  readonly divisor?: number;
}

export interface SignalSpec {
  readonly signal: InferenceSignal;
  readonly sources: readonly SignalSource[];
}

/**
 * Every signal and where it comes from. Serving time is split into prefill and decode where a server splits it;
 * servingSeconds is for the servers that do not (Triton's compute time).
 */
export const INFERENCE_SIGNALS: readonly SignalSpec[] = [
  {
    signal: 'promptTokens',
    sources: [
      { server: 'vLLM', metric: 'vllm:prompt_tokens_total' },
      { server: 'TGI', metric: 'tgi_request_input_length_sum' },
    ],
  },
  {
    signal: 'generationTokens',
    sources: [
      { server: 'vLLM', metric: 'vllm:generation_tokens_total' },
      { server: 'TGI', metric: 'tgi_request_generated_tokens_sum' },
    ],
  },
  {
    signal: 'requests',
    sources: [
      { server: 'vLLM', metric: 'vllm:request_success_total' },
      { server: 'Triton', metric: 'nv_inference_request_success' },
      { server: 'TGI', metric: 'tgi_request_success' },
    ],
  },
  {
    signal: 'prefillSeconds',
    sources: [
      { server: 'vLLM', metric: 'vllm:request_prefill_time_seconds_sum' },
      { server: 'TGI', metric: 'tgi_batch_forward_duration_sum', matchers: 'method="prefill"' },
    ],
  },
  {
    signal: 'decodeSeconds',
    sources: [
      { server: 'vLLM', metric: 'vllm:request_decode_time_seconds_sum' },
      { server: 'TGI', metric: 'tgi_batch_forward_duration_sum', matchers: 'method="decode"' },
    ],
  },
  {
    signal: 'servingSeconds',
    sources: [{ server: 'Triton', metric: 'nv_inference_compute_infer_duration_us', divisor: 1_000_000 }],
  },
];

const GROUP_BY = [...JOIN_LABELS, ...MODEL_LABELS].join(', ');

/**
 * The signal's query: each source's increase over the window, summed by pod and model, joined with `or`.
 * `selector` is --inference-selector (validated as label matchers where it is parsed), '' for none.
 */
export function signalQuery(spec: SignalSpec, selector: string, windowSeconds: number): string {
  return spec.sources
    .map((source) => {
      const matchers = [source.matchers ?? '', selector].filter((m) => m !== '').join(', ');
      const braces = matchers === '' ? '' : `{${matchers}}`;
      const sum = `sum by (${GROUP_BY}) (increase(${source.metric}${braces}[${windowSeconds}s]))`;
      return source.divisor === undefined ? sum : `(${sum} / ${source.divisor})`;
    })
    .join(' or ');
}

/** One signal's increase per pod ("namespace/name"), over all its series, with the models they name. */
export interface SignalReading {
  readonly pods: ReadonlyMap<string, { readonly value: number; readonly models: readonly string[] }>;
  /** Pods with a sample that is not a non-negative decimal number: their figures are unknown. */
  readonly malformed: ReadonlySet<string>;
}

export function modelOf(labels: Readonly<Record<string, string>>): string | undefined {
  for (const label of MODEL_LABELS) {
    const name = labels[label];
    if (name !== undefined && name !== '') return name;
  }
  return undefined;
}

/** Reads one signal's answer: series of no pod are skipped; a pod's series (one per model) are added up. */
export function readSignal(series: readonly MatrixSeries[]): SignalReading {
  const pods = new Map<string, { value: number; models: string[] }>();
  const malformed = new Set<string>();
  for (const s of series) {
    const key = podKeyOf(s.metric);
    if (key === undefined) continue;
    // The answer comes from the network: an instant vector's one sample is checked whatever the type says.
    const samples: readonly unknown[] = Array.isArray(s.values) ? s.values : [];
    const value = samples.length === 1 ? sampleValue(samples[0], 1) : NaN;
    if (!(Number.isFinite(value) && value >= 0)) {
      malformed.add(key);
      continue;
    }
    const model = modelOf(s.metric);
    const entry = pods.get(key);
    if (entry) {
      entry.value += value;
      if (model !== undefined && !entry.models.includes(model)) entry.models.push(model);
    } else pods.set(key, { value, models: model === undefined ? [] : [model] });
  }
  for (const key of malformed) pods.delete(key);
  return { pods, malformed };
}

/** What one pod's servers did over the window; a signal they do not publish is undefined. */
export type PodInference = { readonly [S in InferenceSignal]?: number | undefined } & {
  /** The models named by its series, sorted. */
  readonly models: readonly string[];
};

/**
 * The pods' readings from every signal's: a pod with a malformed sample in any signal has none (a figure
 * from the others would be wrong, not unknown).
 */
export function combineReadings(readings: ReadonlyMap<InferenceSignal, SignalReading>): {
  readonly pods: ReadonlyMap<string, PodInference>;
  readonly malformed: ReadonlySet<string>;
} {
  const malformed = new Set<string>();
  for (const reading of readings.values()) for (const key of reading.malformed) malformed.add(key);
  const pods = new Map<string, { -readonly [S in InferenceSignal]?: number } & { models: string[] }>();
  for (const [signal, reading] of readings) {
    for (const [key, { value, models }] of reading.pods) {
      if (malformed.has(key)) continue;
      let pod = pods.get(key);
      if (!pod) pods.set(key, (pod = { models: [] }));
      pod[signal] = value;
      for (const model of models) if (!pod.models.includes(model)) pod.models.push(model);
    }
  }
  for (const pod of pods.values()) pod.models.sort();
  return { pods, malformed };
}
