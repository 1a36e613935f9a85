import { describe, expect, it } from 'vitest';
import type { PodInference } from '../measure/inference-metrics.ts';
import { servedInCycle } from './served-cycle.ts';

const pod = (name: string) => ({ namespace: 'serving', name });
const vllm: PodInference = {
  models: ['llama-3-8b'],
  promptTokens: 1_440_000,
  generationTokens: 2_160_000,
  requests: 7_200,
};

describe("a ledger target's served counts in one cycle", () => {
  it.each<[string, PodInference[], number, ReturnType<typeof servedInCycle>]>([
    [
      "the worked example's hour at a 60 s cycle: a sixtieth of the window's counts",
      [vllm],
      60,
      { models: 'llama-3-8b', promptTokens: 24_000n, generatedTokens: 36_000n, requests: 120n },
    ],
    [
      'two pods, two models: summed, the models sorted and joined',
      [vllm, { models: ['gemma-2b', 'llama-3-8b'], promptTokens: 3_600, generationTokens: 0.4, requests: 1 }],
      3_600,
      { models: 'gemma-2b,llama-3-8b', promptTokens: 1_443_600n, generatedTokens: 2_160_000n, requests: 7_201n },
    ],
    [
      "extrapolated floats: whole over the window first, then the cycle's share, half up",
      [{ models: [], promptTokens: 7.4, generationTokens: 2.5, requests: 0.49 }],
      1_800,
      { models: '', promptTokens: 4n, generatedTokens: 2n, requests: 0n }, // 7 / 2 → 4; round(2.5) = 3 / 2 → 2
    ],
    [
      'Triton: requests only, tokens unknown',
      [{ models: ['resnet'], requests: 36 }],
      100,
      { models: 'resnet', requests: 1n },
    ],
    [
      'a cycle longer than the window (after an outage) counts the window, no more',
      [vllm],
      86_400,
      { models: 'llama-3-8b', promptTokens: 1_440_000n, generatedTokens: 2_160_000n, requests: 7_200n },
    ],
    ['no series: unknown', [], 60, undefined],
  ])('%s', (_, readings, spanSeconds, expected) => {
    const served = new Map(readings.map((r, i) => [`serving/p${i}`, r]));
    const pods = readings.map((_r, i) => pod(`p${i}`));
    expect(servedInCycle([...pods, pod('not-serving')], served, spanSeconds, 3_600)).toEqual(expected);
  });
});
