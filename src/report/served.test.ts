import { describe, expect, it } from 'vitest';
import { jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { addServed, NOTHING_SERVED, servedOf, unitFigures, withServed, type Served } from './served.ts';

const served = (overrides: Partial<Served>): Served => ({ ...NOTHING_SERVED, ...overrides });

/** docs/unit-economics.md's worked example: an A100-hour of vLLM. */
const WORKED = served({
  tokenCost: 1_760_705_250n,
  promptTokens: 1_440_000n,
  generatedTokens: 2_160_000n,
  requestCost: 1_760_705_250n,
  requests: 7_200n,
});

describe('what a report by model sums of what was served', () => {
  it.each<[string, Parameters<typeof jobRow>[0], Served]>([
    ['a row without series counts nothing', {}, NOTHING_SERVED],
    [
      'a vLLM row: its cost divides its tokens and its requests',
      { cost: 1_760_705_250n, promptTokens: 1_440_000n, generatedTokens: 2_160_000n, requests: 7_200n },
      WORKED,
    ],
    ['a Triton row: requests only', { cost: 5n, requests: 3n }, served({ requestCost: 5n, requests: 3n })],
    ['half the tokens is no tokens: their sum is what a token divides', { cost: 5n, promptTokens: 3n }, NOTHING_SERVED],
    [
      'an endpoint that served nothing counted 0',
      { cost: 7n, promptTokens: 0n, generatedTokens: 0n, requests: 0n },
      served({ tokenCost: 7n, promptTokens: 0n, generatedTokens: 0n, requestCost: 7n, requests: 0n }),
    ],
  ])('%s', (_, overrides, expected) => {
    expect(servedOf(jobRow(overrides))).toEqual(expected);
  });

  it('an idle row serves nothing', () => {
    expect(servedOf(nodeRow())).toEqual(NOTHING_SERVED);
  });

  it('adds counts, unknown plus known being the known', () => {
    const a = served({ tokenCost: 1n, promptTokens: 2n, generatedTokens: 3n });
    const b = served({ requestCost: 4n, requests: 5n });
    expect(addServed(a, b)).toEqual(
      served({ tokenCost: 1n, promptTokens: 2n, generatedTokens: 3n, requestCost: 4n, requests: 5n }),
    );
    expect(addServed(NOTHING_SERVED, NOTHING_SERVED)).toEqual(NOTHING_SERVED);
    expect(addServed(a, a)).toEqual(served({ tokenCost: 2n, promptTokens: 4n, generatedTokens: 6n }));
  });

  it.each<[string, Served, bigint | null, bigint | null]>([
    [
      "docs/unit-economics.md's worked example: an A100-hour over 3,600,000 tokens and 7,200 requests",
      WORKED,
      489_084_792n, // 0.48908479166… rounds down
      244_542_396n, // 0.24454239583… rounds down
    ],
    [
      'half a nano rounds up',
      served({
        tokenCost: 1n,
        promptTokens: 1_000_000n,
        generatedTokens: 1_000_000n,
        requestCost: 1n,
        requests: 2_000n,
      }),
      1n,
      1n,
    ],
    ['nothing counted: unknown', NOTHING_SERVED, null, null],
    [
      'counted 0: no figure, nothing was served',
      served({ tokenCost: 9n, promptTokens: 0n, generatedTokens: 0n, requestCost: 9n, requests: 0n }),
      null,
      null,
    ],
    [
      'a month of a large endpoint stays exact beyond 2^53 nanos',
      served({
        tokenCost: 123_456_789_012_345_678n,
        promptTokens: 3n,
        generatedTokens: 0n,
        requestCost: 0n,
        requests: 1n,
      }),
      41_152_263_004_115_226_000_000n,
      0n,
    ],
  ])('%s', (_, input, perMillionTokens, perThousandRequests) => {
    expect(unitFigures(input)).toEqual({ perMillionTokens, perThousandRequests });
  });

  it('is shown by a report whose keys include model', () => {
    expect([withServed(['model']), withServed(['team', 'model']), withServed(['team'])]).toEqual([true, true, false]);
  });
});
