import { describe, expect, it } from 'vitest';
import {
  cumulativeAt,
  cumulativeFromJson,
  cumulativeToJson,
  windowFigures,
  ZERO,
  type Cumulative,
} from './cumulative.ts';
import { CUMULATIVE_KEY, parseSnapshot, parseStoredTargets, snapshotJson, storedTargetsMetadata } from './durable.ts';

const plain: Cumulative = { ...ZERO, cost: 5n, gpuHours: 7n, accountedUntil: 1_000 };
const counted: Cumulative = { ...plain, promptTokens: 1_440_000n, generatedTokens: 2_160_000n, requests: 7_200n };
const triton: Cumulative = { ...plain, requests: 2n ** 62n };

describe('served counts in the stored cumulatives (issue #17)', () => {
  it('round-trip in a window file’s metadata, and unknown stays unknown', () => {
    const targets = [
      { id: 'Deployment/s/llm', opening: { ...counted, requests: 0n }, closing: counted, imported: false },
      { id: 'Deployment/s/triton', opening: plain, closing: triton, imported: false },
      { id: 'Job/ml/train', opening: plain, closing: plain, imported: true },
    ];
    const parsed = parseStoredTargets(storedTargetsMetadata(targets));
    expect(parsed).toEqual(targets);
    expect(parsed[2]?.closing).not.toHaveProperty('requests');
  });

  it('leave the entries a reader of before reads as they were: its four values first', () => {
    const text = storedTargetsMetadata([{ id: 'Deployment/s/llm', opening: plain, closing: counted, imported: false }]);
    const { targets } = JSON.parse(text[CUMULATIVE_KEY] ?? '') as { targets: unknown[][] };
    const [entry] = targets;
    expect(entry?.slice(0, 4)).toEqual(['Deployment/s/llm', cumulativeToJson(plain), cumulativeToJson(plain), 0]);
    expect(cumulativeFromJson(entry?.[2])).toEqual(plain);
    expect(entry?.slice(4)).toEqual([null, ['1440000', '2160000', '7200']]);
  });

  it('round-trip in the state snapshot, apart from the cumulatives; a snapshot of before has none', () => {
    const snapshot = {
      throughMs: 3_600_000,
      targets: new Map([
        ['Deployment/s/llm', counted],
        ['Job/ml/train', plain],
      ]),
    };
    const text = snapshotJson('prod-1', snapshot);
    expect(parseSnapshot(text)).toEqual(snapshot);
    const before = JSON.parse(text) as Record<string, unknown>;
    expect(before.served).toEqual({ 'Deployment/s/llm': ['1440000', '2160000', '7200'] });
    delete before.served;
    expect(parseSnapshot(JSON.stringify(before)).targets.get('Deployment/s/llm')).toEqual(plain);
  });

  it('refuse what they did not write', () => {
    const text = snapshotJson('prod-1', { throughMs: 0, targets: new Map([['a', plain]]) });
    const bad = (served: unknown) => JSON.stringify({ ...(JSON.parse(text) as object), served: { a: served } });
    expect(() => parseSnapshot(bad(['1', '2']))).toThrow(/array of 3/);
    expect(() => parseSnapshot(bad(['-1', null, null]))).toThrow(/not a count/);
    expect(() => parseSnapshot(bad([1, null, null]))).toThrow(/not a count/);
  });
});

describe('storage costs in the stored cumulatives (issue #18)', () => {
  const stored: Cumulative = { ...plain, storageCost: 10_958_904n };
  const both: Cumulative = { ...counted, storageCost: 3n };

  it('round-trip in a window file’s metadata after the served counts, which stay null when there are none', () => {
    const targets = [
      { id: 'Job/ml/train', opening: plain, closing: stored, imported: false },
      { id: 'Deployment/s/llm', opening: counted, closing: both, imported: false },
      {
        id: 'PersistentVolumeClaim/ml/ckpt',
        opening: stored,
        closing: { ...stored, storageCost: 20n },
        imported: false,
      },
    ];
    const text = storedTargetsMetadata(targets);
    expect(parseStoredTargets(text)).toEqual(targets);
    const { targets: entries } = JSON.parse(text[CUMULATIVE_KEY] ?? '') as { targets: unknown[][] };
    expect(entries[0]?.slice(4)).toEqual([null, null, null, '10958904']);
  });

  it('round-trip in the state snapshot; a snapshot of before has none', () => {
    const snapshot = { throughMs: 3_600_000, targets: new Map([['Job/ml/train', stored]]) };
    const text = snapshotJson('prod-1', snapshot);
    expect(parseSnapshot(text)).toEqual(snapshot);
    const before = JSON.parse(text) as Record<string, unknown>;
    delete before.storage;
    expect(parseSnapshot(JSON.stringify(before)).targets.get('Job/ml/train')).toEqual(plain);
    const bad = JSON.stringify({ ...before, storage: { 'Job/ml/train': '-5' } });
    expect(() => parseSnapshot(bad)).toThrow(/not a storage cost/);
  });

  it('accrue into the window rows apart from cost, split at a window boundary like cost', () => {
    const opening: Cumulative = { ...ZERO, accountedUntil: 0 };
    const closing: Cumulative = { ...ZERO, cost: 100n, storageCost: 30n, accountedUntil: 100 };
    const middle = cumulativeAt(opening, closing, 50);
    expect(middle.storageCost).toBe(15n);
    expect(windowFigures(opening, middle)).toMatchObject({ cost: 50n, storageCost: 15n });
    expect(windowFigures(middle, closing)).toMatchObject({ cost: 50n, storageCost: 15n });
    expect(windowFigures(opening, { ...closing, storageCost: undefined }).storageCost).toBeUndefined();
  });
});
