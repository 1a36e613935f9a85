import { describe, expect, it } from 'vitest';
import { jsonEqual } from './deep-equal.ts';

describe('jsonEqual', () => {
  it.each<[string, unknown, unknown, boolean]>([
    [
      'the same keys in another order',
      { a: 1, b: { c: [1, { d: 'x', e: null }] } },
      { b: { c: [1, { e: null, d: 'x' }] }, a: 1 },
      true,
    ],
    ['a changed leaf', { a: 1, b: 2 }, { b: 3, a: 1 }, false],
    ['an array in another order', { a: [1, 2] }, { a: [2, 1] }, false],
    ['a missing key', { a: 1, b: 2 }, { a: 1 }, false],
    ['a key set to undefined is absent, as in JSON', { a: 1, b: undefined }, { a: 1 }, true],
    ['an array against an object', { a: [] }, { a: {} }, false],
    ['null against an object', null, {}, false],
    ['undefined against an object (no status yet)', undefined, { a: 1 }, false],
    ['numbers and their strings differ', { a: 1 }, { a: '1' }, false],
  ])('%s', (_name, a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});
