/**
 * Unit economics of an inference endpoint (a Deployment or StatefulSet): its cost per million tokens and per
 * thousand requests over a trailing window, on two bases. A pure function of the facts, the window and what the
 * servers reported (src/measure/inference-metrics.ts); docs/unit-economics.md has the formulas with a worked
 * example, which the table tests check to the nano.
 *
 * 1. Allocation basis: A, the endpoint's whole cost over the window [now - W, now), as the cost engine attributes
 *    it to the pods it has now (and those deleted since the last cycle), idle time included.
 * 2. Usage basis: U, its cost while serving. Each pod's cost is weighted by its busy share, the seconds its
 *    requests spent being served (prefill + decode, or a server's single serving time) over the seconds it ran
 *    in the window, capped at 1: U = sum over pods of cost x min(serving, running) / running. Requests served
 *    together overlap, so the busy share is an upper bound when they do (and exact when they do not); a pod
 *    that reported nothing served nothing that can be seen, and adds nothing. Without serving times (a server
 *    that publishes none) the usage basis is unknown.
 * 3. Per million tokens: cost x 10^6 / (prompt + generated tokens); per thousand requests: cost x 10^3 / requests.
 * 4. Input and output: the cost is split by prefill and decode time where every pod that counted tokens reported
 *    both, else (the documented fallback) by token counts, which prices every token alike. Input cost x 10^6 /
 *    prompt tokens, output cost (the rest, so the two add up) x 10^6 / generated tokens.
 *
 * Counts arrive as floats (PromQL's increase() extrapolates): they are rounded to whole tokens and requests, and
 * times to whole milliseconds, before any division, which then runs on integers, rounded half up to the nano.
 * A count of 0 has no figure (nothing was served: the cost of a token is not defined), and a figure nothing
 * measured is unknown, never 0.
 */
import { attributeInterval } from './engine.ts';
import { formatMoney, mulDivRoundHalfUp, type Nanos } from './money.ts';
import { workloadKey } from './rollup.ts';
import type { EpochSeconds, NodeFacts, PodFacts } from './types.ts';
import type { InferenceSignal, PodInference } from '../measure/inference-metrics.ts';

/** One pod of an endpoint over the window. */
export interface EndpointPod {
  /** Its cost over the window; undefined when it cannot be known (an unpriced or skipped node, a skipped pod). */
  readonly cost: Nanos | undefined;
  /** The seconds it ran within the window. */
  readonly seconds: number;
  /** What its server reported over the window; undefined when it has no series. */
  readonly served: PodInference | undefined;
}

/** The figures of one basis; each undefined when not known (see the module comment). */
export interface Basis {
  /** The cost over the window the figures divide. */
  readonly cost: Nanos;
  readonly perMillionTokens: Nanos | undefined;
  readonly perMillionInputTokens: Nanos | undefined;
  readonly perMillionOutputTokens: Nanos | undefined;
  readonly perThousandRequests: Nanos | undefined;
}

export interface UnitCost {
  /** The models the endpoint's series name, sorted. */
  readonly models: readonly string[];
  readonly allocation: Basis;
  /** Undefined when a pod that reported counts reported no serving time. */
  readonly usage: Basis | undefined;
  /** Whole tokens over the window; undefined when the servers count none (Triton). */
  readonly tokens: { readonly input: number; readonly output: number } | undefined;
  /** Whole requests over the window; undefined when the servers count none. */
  readonly requests: number | undefined;
  /** How the cost is split between input and output tokens; undefined without tokens. */
  readonly split: 'time' | 'tokens' | undefined;
}

const MILLION = 1_000_000;
const THOUSAND = 1000;

/** A sum over the pods that report `signal`, rounded to a whole number of `scale`-ths; undefined if none do. */
function total(pods: readonly PodInference[], signal: InferenceSignal, scale = 1): number | undefined {
  let sum: number | undefined;
  for (const pod of pods) {
    const value = pod[signal];
    if (value !== undefined) sum = (sum ?? 0) + value;
  }
  return sum === undefined ? undefined : Math.round(sum * scale);
}

/** Milliseconds a pod's server spent serving: prefill + decode where both are known, else its serving time. */
function servingMs(pod: PodInference): number | undefined {
  if (pod.prefillSeconds !== undefined && pod.decodeSeconds !== undefined)
    return Math.round((pod.prefillSeconds + pod.decodeSeconds) * 1000);
  return pod.servingSeconds === undefined ? undefined : Math.round(pod.servingSeconds * 1000);
}

/** cost x scale / count, or undefined without a count to divide by. */
function per(cost: Nanos, scale: number, count: number | undefined): Nanos | undefined {
  return count === undefined || count < 1 ? undefined : mulDivRoundHalfUp(cost, scale, count);
}

/** The endpoint's figures, or undefined when no pod reported anything or a pod's cost is unknown. */
export function unitCostOf(pods: readonly EndpointPod[]): UnitCost | undefined {
  let allocation = 0n;
  const served: PodInference[] = [];
  for (const pod of pods) {
    // A part of the whole cost unknown makes the whole unknown: a figure from the rest would be too low.
    if (pod.cost === undefined) return undefined;
    allocation += pod.cost;
    if (pod.served) served.push(pod.served);
  }
  if (served.length === 0) return undefined;

  const counting = served.filter((p) => p.promptTokens !== undefined && p.generationTokens !== undefined);
  const input = total(counting, 'promptTokens');
  const output = total(counting, 'generationTokens');
  const tokens = input === undefined || output === undefined ? undefined : { input, output };
  const requests = total(served, 'requests');

  // The input share of the cost, as numerator / denominator: by time where every token-counting pod has both.
  let split: UnitCost['split'];
  let share: readonly [number, number] = [0, 0];
  if (tokens) {
    const timed = counting.every((p) => p.prefillSeconds !== undefined && p.decodeSeconds !== undefined);
    const prefillMs = timed ? (total(counting, 'prefillSeconds', 1000) ?? 0) : 0;
    const decodeMs = timed ? (total(counting, 'decodeSeconds', 1000) ?? 0) : 0;
    if (prefillMs + decodeMs > 0) [split, share] = ['time', [prefillMs, prefillMs + decodeMs]];
    else if (tokens.input + tokens.output > 0)
      [split, share] = ['tokens', [tokens.input, tokens.input + tokens.output]];
  }
  const basis = (cost: Nanos): Basis => {
    const inputCost = split === undefined ? 0n : mulDivRoundHalfUp(cost, share[0], share[1]);
    return {
      cost,
      perMillionTokens: per(cost, MILLION, tokens && tokens.input + tokens.output),
      perMillionInputTokens: split === undefined ? undefined : per(inputCost, MILLION, tokens?.input),
      perMillionOutputTokens: split === undefined ? undefined : per(cost - inputCost, MILLION, tokens?.output),
      perThousandRequests: per(cost, THOUSAND, requests),
    };
  };

  const usage = usageCost(pods);
  const models = [...new Set(served.flatMap((p) => p.models))].sort();
  return {
    models,
    allocation: basis(allocation),
    usage: usage === undefined ? undefined : basis(usage),
    tokens,
    requests,
    split,
  };
}

/** U: each pod's cost times its busy share; undefined when a pod that reported counts has no serving time. */
function usageCost(pods: readonly EndpointPod[]): Nanos | undefined {
  let usage = 0n;
  for (const pod of pods) {
    if (!pod.served || pod.cost === undefined) continue;
    const serving = servingMs(pod.served);
    if (serving === undefined) return undefined;
    const runningMs = Math.round(pod.seconds * 1000);
    if (runningMs > 0) usage += mulDivRoundHalfUp(pod.cost, Math.min(serving, runningMs), runningMs);
  }
  return usage;
}

export interface UnitCostInput {
  readonly nowSeconds: EpochSeconds;
  readonly windowSeconds: number;
  readonly nodes: readonly NodeFacts[];
  /** The cycle's pods (with those deleted since the last one); their cache keys are "namespace/name". */
  readonly pods: readonly PodFacts[];
  /** What each pod's server reported over the same window, by "namespace/name". */
  readonly served: ReadonlyMap<string, PodInference>;
}

/**
 * Every inference endpoint's figures, by workload key ("Kind/namespace/name"): the Deployments and StatefulSets
 * with a pod that reported anything. The window's cost is attributed once for all their pods: a pod's share of
 * its node does not depend on the other pods (the scheduler never over-commits what it requests).
 */
export function planUnitCosts(input: UnitCostInput): Map<string, UnitCost> {
  const endpoints = new Map<string, PodFacts[]>();
  for (const pod of input.pods) {
    if (pod.workload.kind !== 'Deployment' && pod.workload.kind !== 'StatefulSet') continue;
    const key = workloadKey(pod.workload);
    let list = endpoints.get(key);
    if (!list) endpoints.set(key, (list = []));
    list.push(pod);
  }
  const served = (pod: PodFacts) => input.served.get(`${pod.namespace}/${pod.name}`);
  for (const [key, pods] of endpoints) if (!pods.some(served)) endpoints.delete(key);
  const out = new Map<string, UnitCost>();
  if (endpoints.size === 0) return out;

  const pods = [...endpoints.values()].flat();
  const nodeNames = new Set(pods.map((p) => p.nodeName));
  const window = { start: input.nowSeconds - input.windowSeconds, end: input.nowSeconds };
  const attributed = attributeInterval(
    window,
    input.nodes.filter((n) => nodeNames.has(n.name)),
    pods,
  );
  const costs = new Map<string, { cost: Nanos | undefined; seconds: number }>();
  for (const pc of attributed.pods) costs.set(pc.pod.uid, { cost: pc.cost?.total, seconds: pc.seconds });
  for (const u of attributed.unattributed) costs.set(u.pod.uid, { cost: undefined, seconds: 0 });
  for (const [key, list] of endpoints) {
    // A pod the engine did not mention held nothing in the window: it cost nothing.
    const endpoint = list.map((pod) => ({ ...(costs.get(pod.uid) ?? { cost: 0n, seconds: 0 }), served: served(pod) }));
    const figures = unitCostOf(endpoint);
    if (figures) out.set(key, figures);
  }
  return out;
}

/** The annotations, on the allocation basis and the usage basis beside them. */
export const UNIT_COST_ANNOTATION = {
  perMillionTokens: 'aicost.dev/cost-per-million-tokens',
  perThousandRequests: 'aicost.dev/cost-per-1k-requests',
  perMillionTokensUsage: 'aicost.dev/cost-per-million-tokens-usage',
  perThousandRequestsUsage: 'aicost.dev/cost-per-1k-requests-usage',
} as const;

/** Decimals of the annotations' amounts, as aicost.dev/cost has. */
const UNIT_COST_DIGITS = 6;

/**
 * The four annotations' values in their order above: the amount with 6 decimals, or null (a merge patch removes
 * the key) when it is not known, so that a figure that stops being known is not left behind.
 */
export function unitCostValues(figures: UnitCost | undefined): (string | null)[] {
  const show = (n: Nanos | undefined) => (n === undefined ? null : formatMoney(n, UNIT_COST_DIGITS));
  return [
    show(figures?.allocation.perMillionTokens),
    show(figures?.allocation.perThousandRequests),
    show(figures?.usage?.perMillionTokens),
    show(figures?.usage?.perThousandRequests),
  ];
}

export function renderUnitCost(figures: UnitCost | undefined): Record<string, string | null> {
  const values = unitCostValues(figures);
  return Object.fromEntries(Object.values(UNIT_COST_ANNOTATION).map((key, i) => [key, values[i] ?? null]));
}
