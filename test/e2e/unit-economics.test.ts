/**
 * Unit economics on the local cluster (issue #17; docs/unit-economics.md), in numbered steps:
 *
 * 1. Three Deployments of one pod each, each pod holding one GPU of a p4d.24xlarge (kwok) and nothing else, so it
 *    costs 1.76070525 $ per hour (docs/cost-model.md): `llm`, whose pod the DCGM simulator makes a vLLM server of
 *    llama-3-8b serving 400 prompt and 600 generated tokens and 2 requests a second, busy half the time, a quarter
 *    of it in prefill; `chat`, the same rates with no serving times; `plain`, no vLLM series at all.
 * 2. The operator, with a two-minute --inference-window over the simulator's scrape job and annotations written at
 *    once, runs until its figures cover a window the pods ran through whole.
 * 3. `llm` has the four annotations of the hand computation, on both bases; the gauges too, with the input and
 *    output split by prefill and decode time. By hand, for one GPU at P $/h (the window's length cancels out):
 *      allocation per million tokens   = P / 3600 / (400 + 600) × 10^6         = 0.489084792
 *      allocation per thousand requests = P / 3600 / 2 × 10^3                  = 0.244542396
 *      usage (busy 0.5)                 = half of each                         = 0.244542396, 0.122271198
 *      input, output per million        = P / 3600 × 0.25 / 400 × 10^6, × 0.75 / 600 × 10^6 = 0.305677995, 0.611355990
 * 4. `chat` has the allocation basis only (no serving time: the usage basis is unknown), split by token counts;
 *    `plain` has no unit-cost annotation or gauge: unknown, never 0.
 * 5. A new operator with the default --annotate-interval (5m) writes `plain`'s cost; its pod then starts serving
 *    (annotated for the simulator): the figures are written at one of the next cycles, not five minutes later.
 *
 * Tolerances, against the exact hand computation in nano-dollars: the window's cost is exact (the engine's, to
 * the nano; the annotations round to 6 decimals, 4 parts per million of the smallest figure here). The counts are
 * Prometheus's: increase() over the window from samples scraped every 5 s, whose values the simulator computes a
 * few milliseconds after Prometheus stamps the scrape (a few parts in 100,000 of a two-minute window), and the
 * simulator's counters are whole (each sample up to one token or one request short). One request short of 240 in
 * the window is 0.42 %: figures per request are checked to 1 %, figures per token (one token of 96,000) to 0.2 %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMoney, type Nanos } from '../../src/cost/money.ts';
import { cluster, createTestNamespace, waitFor, type PodLike, type TestNamespace } from './support/cluster.ts';
import { gpuDeployment, P4D_GPU_HOUR_NANOS } from './support/hand-cost.ts';
import { fastArgs, metricValue, OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const WINDOW_S = 120;
const VLLM = {
  'dcgm-sim.aicost.dev/tokens-per-second': 'prompt=400,generation=600',
  'dcgm-sim.aicost.dev/requests-per-second': '2',
  'dcgm-sim.aicost.dev/model': 'llama-3-8b',
};
const TIMED = { 'dcgm-sim.aicost.dev/serving-share': '0.5', 'dcgm-sim.aicost.dev/prefill-share': '0.25' };
const KEYS = {
  tokens: 'aicost.dev/cost-per-million-tokens',
  requests: 'aicost.dev/cost-per-1k-requests',
  tokensUsage: 'aicost.dev/cost-per-million-tokens-usage',
  requestsUsage: 'aicost.dev/cost-per-1k-requests-usage',
} as const;

let ns: TestNamespace;
let ledgerDir: string;
const operators: OperatorProcess[] = [];

beforeEach(async () => {
  ns = await createTestNamespace(client, 'unit-cost');
  ledgerDir = mkdtempSync(join(tmpdir(), 'aicost-unit-cost-e2e-'));
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  await ns.remove();
  rmSync(ledgerDir, { recursive: true, force: true });
});

function operator(name: string, annotateInterval: string): OperatorProcess {
  const op = OperatorProcess.start({
    kubeconfig,
    logDir,
    name: `${ns.name}-${name}`,
    args: [
      ...fastArgs(prometheusUrl),
      ...['--interval', '2s', '--annotate-interval', annotateInterval, '--namespace', `${ns.name}-op`],
      ...['--inference-window', `${WINDOW_S}s`, '--inference-selector', 'job="dcgm-exporter"'],
      ...['--ledger', join(ledgerDir, 'ledger'), '--ledger-flush-interval', '0s'],
    ],
  });
  operators.push(op);
  return op;
}

/** One GPU of a p4d per `scale` units served at `perSecond` a second, times `share`: nano-dollars, by hand. */
function handNanos(scale: bigint, perSecond: bigint, share: readonly [bigint, bigint] = [1n, 1n]): Nanos {
  const [num, den] = share;
  return (P4D_GPU_HOUR_NANOS * scale * num) / (3600n * perSecond * den);
}
const HAND = {
  tokens: handNanos(1_000_000n, 1000n),
  requests: handNanos(1000n, 2n),
  tokensUsage: handNanos(1_000_000n, 1000n, [1n, 2n]),
  requestsUsage: handNanos(1000n, 2n, [1n, 2n]),
  input: handNanos(1_000_000n, 400n, [1n, 4n]),
  output: handNanos(1_000_000n, 600n, [3n, 4n]),
  inputUsage: handNanos(1_000_000n, 400n, [1n, 8n]),
  outputUsage: handNanos(1_000_000n, 600n, [3n, 8n]),
};
/** Parts per million the figures may be off the hand computation (see the header). */
const PER_TOKEN_PPM = 2000n;
const PER_REQUEST_PPM = 10_000n;

/** `actual` (a decimal string, or a gauge's number) within `ppm` parts per million of `expected`. */
function expectNear(what: string, actual: string | number | undefined, expected: Nanos, ppm: bigint): void {
  expect(actual, what).toBeDefined();
  const nanos = typeof actual === 'number' ? BigInt(Math.round(actual * 1e9)) : parseMoney(actual ?? '');
  const off = nanos > expected ? nanos - expected : expected - nanos;
  expect(off * 1_000_000n <= expected * ppm, `${what}: ${String(actual)}, by hand ${expected} nano-dollars`).toBe(true);
}

const deploymentPath = (name: string) => `/apis/apps/v1/namespaces/${ns.name}/deployments/${name}`;

async function annotations(name: string): Promise<Record<string, string>> {
  const d = await client.get<{ metadata: { annotations?: Record<string, string> } }>(deploymentPath(name));
  return d.metadata.annotations ?? {};
}

/** The Deployment's annotations once its accounted-until (the cycle its figures are from) is at least `atS`. */
function accountedFrom(name: string, atS: number, timeoutMs: number, has?: string): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const a = await annotations(name);
      const until = Date.parse(a['aicost.dev/accounted-until'] ?? '') / 1000;
      return until >= atS && (has === undefined || a[has] !== undefined) ? a : undefined;
    },
    { description: `${name}'s figures from ${new Date(atS * 1000).toISOString()} on`, timeoutMs },
  );
}

const startedS = (pod: PodLike) => Date.parse(pod.status.startTime ?? '') / 1000;

describe('unit economics on the local cluster', () => {
  it('prices a vLLM endpoint per million tokens and per thousand requests as by hand, on both bases', async (ctx) => {
    if (!prometheusUrl) ctx.skip();
    // 1. The endpoints.
    const llm = await gpuDeployment(client, ns.name, 'llm', {
      gpus: 1,
      utilization: '50',
      annotations: { ...VLLM, ...TIMED },
    });
    const chat = await gpuDeployment(client, ns.name, 'chat', { gpus: 1, utilization: '50', annotations: VLLM });
    const plain = await gpuDeployment(client, ns.name, 'plain', { gpus: 1, utilization: '50' });

    // 2. Figures from a cycle whose window the pods ran through whole, with two scrapes to spare.
    const first = operator('a', '0s');
    const steadyS = Math.max(startedS(llm.pod), startedS(chat.pod)) + WINDOW_S + 10;
    const a = await accountedFrom('llm', steadyS, (WINDOW_S + 90) * 1000, KEYS.tokens);

    // 3. llm: the hand computation on both bases, annotations and gauges.
    for (const key of ['tokens', 'requests', 'tokensUsage', 'requestsUsage'] as const)
      expectNear(key, a[KEYS[key]], HAND[key], key.startsWith('tokens') ? PER_TOKEN_PPM : PER_REQUEST_PPM);
    const metrics = await first.metrics();
    const labels = { namespace: ns.name, workload: 'llm', model: 'llama-3-8b' };
    const perToken = (basis: string, tokens: string) =>
      metricValue(metrics, 'aicost_cost_per_million_tokens', { ...labels, basis, tokens });
    expectNear('gauge, all tokens', perToken('allocation', 'all'), HAND.tokens, PER_TOKEN_PPM);
    expectNear('gauge, input tokens', perToken('allocation', 'input'), HAND.input, PER_TOKEN_PPM);
    expectNear('gauge, output tokens', perToken('allocation', 'output'), HAND.output, PER_TOKEN_PPM);
    expectNear('gauge, input tokens, usage', perToken('usage', 'input'), HAND.inputUsage, PER_TOKEN_PPM);
    expectNear('gauge, output tokens, usage', perToken('usage', 'output'), HAND.outputUsage, PER_TOKEN_PPM);
    const perRequest = metricValue(metrics, 'aicost_cost_per_thousand_requests', { ...labels, basis: 'usage' });
    expectNear('gauge, requests, usage', perRequest, HAND.requestsUsage, PER_REQUEST_PPM);

    // 4. chat: the allocation basis only, its tokens priced alike; plain: nothing.
    const c = await accountedFrom('chat', steadyS, 30_000, KEYS.tokens);
    expectNear('chat', c[KEYS.tokens], HAND.tokens, PER_TOKEN_PPM);
    expectNear('chat', c[KEYS.requests], HAND.requests, PER_REQUEST_PPM);
    expect([c[KEYS.tokensUsage], c[KEYS.requestsUsage]]).toEqual([undefined, undefined]);
    const chatInput = metricValue(metrics, 'aicost_cost_per_million_tokens', {
      namespace: ns.name,
      workload: 'chat',
      basis: 'allocation',
      tokens: 'input',
    });
    expectNear('chat, input tokens', chatInput, HAND.tokens, PER_TOKEN_PPM);
    const p = await accountedFrom('plain', steadyS, 30_000);
    expect(Object.values(KEYS).filter((k) => k in p)).toEqual([]);
    expect(metrics).not.toMatch(new RegExp(`aicost_cost_per_\\w+\\{[^}]*workload="plain"`));
    await first.stop('SIGTERM');

    // 5. The default --annotate-interval: plain's cost is written at the new operator's first cycle; its pod then
    // serves, and its figures come at one of the next cycles, long before five minutes.
    operator('b', '5m');
    const written = await accountedFrom('plain', Math.floor(Date.now() / 1000), 60_000);
    const writtenS = Date.parse(written['aicost.dev/accounted-until'] ?? '') / 1000;
    await client.patch(
      `/api/v1/namespaces/${ns.name}/pods/${plain.pod.metadata.name}`,
      { metadata: { annotations: VLLM } },
      'merge',
    );
    const served = await accountedFrom('plain', writtenS + 1, 60_000, KEYS.requests);
    const servedS = Date.parse(served['aicost.dev/accounted-until'] ?? '') / 1000;
    expect(servedS - writtenS).toBeLessThan(60);
  }, 420_000);
});
