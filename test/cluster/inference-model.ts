/**
 * The simulator's inference servers: vLLM's series for the Running pods annotated as serving, as a node-level
 * exporter would publish them for other pods (with `pod`/`namespace` labels, or `exported_` ones in that style),
 * so that the operator's unit costs can be checked on the local cluster against a hand computation
 * (docs/unit-economics.md, test/e2e/unit-economics.test.ts). Pod annotations:
 *   dcgm-sim.aicost.dev/tokens-per-second: "prompt=400,generation=600"
 *   dcgm-sim.aicost.dev/requests-per-second: "2"
 *   dcgm-sim.aicost.dev/model: "llama-3-8b"            (model_name; default "model")
 *   dcgm-sim.aicost.dev/serving-share: "0.5"           (request-seconds served per second; the time histograms)
 *   dcgm-sim.aicost.dev/prefill-share: "0.25"          (of the serving time, in prefill; default 0.5)
 * Counters grow at those rates from the pod's start: a counter's value at a scrape is rate × seconds since, whole
 * (tokens and requests are counted one by one). Times have six decimals. An invalid annotation is logged once
 * and the pod serves no series at all: unknown, not zero.
 */
import { escapeLabel, once, startedMs, type RenderOptions, type SimPod, type SimState } from './dcgm-model.ts';

export const ANNOTATION_TOKENS = 'dcgm-sim.aicost.dev/tokens-per-second';
export const ANNOTATION_REQUESTS = 'dcgm-sim.aicost.dev/requests-per-second';
export const ANNOTATION_MODEL = 'dcgm-sim.aicost.dev/model';
export const ANNOTATION_SERVING_SHARE = 'dcgm-sim.aicost.dev/serving-share';
export const ANNOTATION_PREFILL_SHARE = 'dcgm-sim.aicost.dev/prefill-share';

/** What one serving pod has done since it started. */
export interface InferenceSample {
  readonly namespace: string;
  readonly pod: string;
  readonly model: string;
  readonly promptTokens: number | undefined;
  readonly generationTokens: number | undefined;
  readonly requests: number | undefined;
  /** Present with serving-share or prefill-share. */
  readonly prefillSeconds: number | undefined;
  readonly decodeSeconds: number | undefined;
}

const RATE = /^\d+(\.\d+)?$/;

/** A rate: a non-negative decimal number. */
function rate(text: string): number {
  if (!RATE.test(text.trim())) throw new Error(`"${text}" is not a non-negative number`);
  return Number(text);
}

/** A share: a decimal number from 0 to 1 (`max` for serving, where requests served together overlap). */
function share(text: string, max = 1): number {
  const value = rate(text);
  if (value > max) throw new Error(`${value} is above ${max}`);
  return value;
}

/** Reads "prompt=400,generation=600": both rates, in any order, each once. */
export function parseTokenRates(text: string): { prompt: number; generation: number } {
  const rates = new Map<string, number>();
  for (const part of text.split(',')) {
    const [key = '', value = '', extra] = part.split('=').map((p) => p.trim());
    if ((key !== 'prompt' && key !== 'generation') || extra !== undefined || rates.has(key))
      throw new Error(`cannot read "${part.trim()}": expected prompt=<tokens/s>,generation=<tokens/s>`);
    rates.set(key, rate(value));
  }
  const prompt = rates.get('prompt');
  const generation = rates.get('generation');
  if (prompt === undefined || generation === undefined)
    throw new Error('expected both prompt=<tokens/s> and generation=<tokens/s>');
  return { prompt, generation };
}

/** The serving pods among `pods` at `now` (epoch ms), with what they have served since they started. */
export function simulateInference(
  pods: readonly SimPod[],
  state: SimState,
  now: number,
  warn: (message: string) => void = () => undefined,
): InferenceSample[] {
  const samples: InferenceSample[] = [];
  for (const pod of pods) {
    const annotations = pod.metadata?.annotations ?? {};
    const tokensText = annotations[ANNOTATION_TOKENS];
    const requestsText = annotations[ANNOTATION_REQUESTS];
    if (pod.status?.phase !== 'Running' || (tokensText === undefined && requestsText === undefined)) continue;
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const report = once(state, pod.metadata?.uid ?? '', `pod ${namespace}/${name}`, warn);
    const seconds = Math.max(0, (now - startedMs(pod, state, now)) / 1000);
    const read = <T>(annotation: string, text: string, parse: (t: string) => T): T => {
      try {
        return parse(text);
      } catch (error) {
        report(annotation, text, error, 'serving no series');
        throw error;
      }
    };
    try {
      const tokens = tokensText === undefined ? undefined : read(ANNOTATION_TOKENS, tokensText, parseTokenRates);
      const requestRate = requestsText === undefined ? undefined : read(ANNOTATION_REQUESTS, requestsText, rate);
      const servingText = annotations[ANNOTATION_SERVING_SHARE];
      const prefillText = annotations[ANNOTATION_PREFILL_SHARE];
      const timed = servingText !== undefined || prefillText !== undefined;
      const serving = read(ANNOTATION_SERVING_SHARE, servingText ?? '1', (t) => share(t, 64));
      const prefill = read(ANNOTATION_PREFILL_SHARE, prefillText ?? '0.5', share);
      samples.push({
        namespace,
        pod: name,
        model: annotations[ANNOTATION_MODEL] ?? 'model',
        promptTokens: tokens && Math.floor(tokens.prompt * seconds),
        generationTokens: tokens && Math.floor(tokens.generation * seconds),
        requests: requestRate === undefined ? undefined : Math.floor(requestRate * seconds),
        prefillSeconds: timed ? serving * prefill * seconds : undefined,
        decodeSeconds: timed ? serving * (1 - prefill) * seconds : undefined,
      });
    } catch {
      // reported once by read(): no series for the pod
    }
  }
  return samples;
}

// vLLM's names and help texts (its metrics reference); counters as the text format writes them, with _total.
const COUNTERS = [
  { name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', of: 'promptTokens' },
  { name: 'vllm:generation_tokens_total', help: 'Number of generation tokens processed.', of: 'generationTokens' },
  { name: 'vllm:request_success_total', help: 'Count of successfully processed requests.', of: 'requests' },
] as const;
const HISTOGRAMS = [
  {
    name: 'vllm:request_prefill_time_seconds',
    help: 'Histogram of time spent in PREFILL phase for request.',
    of: 'prefillSeconds',
  },
  {
    name: 'vllm:request_decode_time_seconds',
    help: 'Histogram of time spent in DECODE phase for request.',
    of: 'decodeSeconds',
  },
] as const;

/** vLLM's text for the serving pods: # HELP and # TYPE per metric, then one series per pod. */
export function renderInferenceMetrics(samples: readonly InferenceSample[], options: RenderOptions): string {
  if (samples.length === 0) return '';
  const prefix = options.labelStyle === 'exported' ? 'exported_' : '';
  const labelsOf = (s: InferenceSample) =>
    `${prefix}namespace="${escapeLabel(s.namespace)}",${prefix}pod="${escapeLabel(s.pod)}",model_name="${escapeLabel(s.model)}"`;
  const lines: string[] = [];
  for (const counter of COUNTERS) {
    const serving = samples.filter((s) => s[counter.of] !== undefined);
    if (serving.length === 0) continue;
    lines.push(`# HELP ${counter.name} ${counter.help}`, `# TYPE ${counter.name} counter`);
    // vLLM labels its request counter with why a request finished: every simulated one stops.
    const extra = counter.of === 'requests' ? ',finished_reason="stop"' : '';
    for (const s of serving) lines.push(`${counter.name}{${labelsOf(s)}${extra}} ${s[counter.of] ?? 0}`);
  }
  for (const histogram of HISTOGRAMS) {
    const timed = samples.filter((s) => s[histogram.of] !== undefined);
    if (timed.length === 0) continue;
    lines.push(`# HELP ${histogram.name} ${histogram.help}`, `# TYPE ${histogram.name} histogram`);
    for (const s of timed) {
      const count = s.requests ?? 0;
      lines.push(
        `${histogram.name}_bucket{${labelsOf(s)},le="+Inf"} ${count}`,
        `${histogram.name}_sum{${labelsOf(s)}} ${(s[histogram.of] ?? 0).toFixed(6)}`,
        `${histogram.name}_count{${labelsOf(s)}} ${count}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
