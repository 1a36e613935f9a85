import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../testing/fuzz.ts';
import { actionStamp, pastRfc3339Ms, recordedSince } from './last-action.ts';

const SINCE = Date.UTC(2026, 10, 23, 9, 0, 0, 400);
const NOW = Date.UTC(2026, 10, 23, 9, 6);

describe('last-action records', () => {
  it('writes the record the controller reads back', () => {
    expect(actionStamp('scaled to zero', 'dev', 'scaleToZero', '2026-11-23T09:05:00Z')).toBe(
      'scaled to zero by policy dev (scaleToZero) at 2026-11-23T09:05:00Z',
    );
  });

  it.each([
    ['no annotation', undefined, false],
    ['the same episode, Audit', 'Audit: would be suspended by policy dev (idleGPU) at 2026-11-23T09:05:00Z', true],
    ['the same episode, Enforce', 'suspended by policy dev (idleGPU) at 2026-11-23T09:05:00Z', true],
    ['in the second the episode began', 'suspended by policy dev (idleGPU) at 2026-11-23T09:00:00Z', true],
    ['an earlier episode', 'Audit: would be suspended by policy dev (idleGPU) at 2026-11-23T08:59:59Z', false],
    ['another policy', 'Audit: would be suspended by policy prod (idleGPU) at 2026-11-23T09:05:00Z', false],
    [
      'a policy whose name ends alike',
      'Audit: would be suspended by policy xdev (idleGPU) at 2026-11-23T09:05:00Z',
      false,
    ],
    ['another rule', 'Audit: would be scaled to zero by policy dev (scaleToZero) at 2026-11-23T09:05:00Z', false],
    ['a wake', 'woken on demand (aicost.dev/wake) at 2026-11-23T09:05:00Z, 2 replicas restored', false],
    ['a manual scale-up', 'manual scale-up noticed at 2026-11-23T09:05:00Z', false],
    ['a bad time', 'suspended by policy dev (idleGPU) at yesterday', false],
    [
      'a time in the future (a tenant hiding the workload from Audit)',
      'suspended by policy dev (idleGPU) at 2099-01-01T00:00:00Z',
      false,
    ],
    ['a time Date.parse takes but RFC 3339 does not', 'suspended by policy dev (idleGPU) at 3000', false],
  ])('%s', (_name, lastAction, expected) => {
    expect(recordedSince(lastAction, 'dev', 'idleGPU', SINCE, NOW)).toBe(expected);
  });
});

describe('pastRfc3339Ms', () => {
  it.each<[string, string | undefined, number | undefined]>([
    ['absent', undefined, undefined],
    ['what the operator writes', '2026-11-23T09:00:00Z', Date.UTC(2026, 10, 23, 9)],
    ['with fractions', '2026-11-23T09:00:00.5Z', Date.UTC(2026, 10, 23, 9) + 500],
    ['garbage', 'soon', undefined],
    ['a year alone, which Date.parse takes', '3000', undefined],
    ['an offset other than Z', '2026-11-23T10:00:00+01:00', undefined],
    ['in the future', '2026-11-23T09:10:00Z', undefined],
    ['now exactly', '2026-11-23T09:06:00Z', NOW],
  ])('%s', (_name, text, expected) => {
    expect(pastRfc3339Ms(text, NOW)).toBe(expected);
  });
});

describe('pastRfc3339Ms on untrusted text', () => {
  it.each(['2024-02-31T00:00:00Z', '2026-02-29T10:00:00Z', '2024-01-01T24:00:00Z', '2024-04-31T00:00:00.5Z'])(
    'refuses %s, a date Date.parse rolls over',
    (text) => {
      expect(pastRfc3339Ms(text, NOW)).toBeUndefined();
    },
  );

  it('gives undefined or a past time that reads back as the text, and reads back every past second (property)', () => {
    const stamp = fc.stringMatching(/^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d(\.\d{1,3})?Z$/);
    fc.assert(
      fc.property(fc.oneof(stamp, fc.string({ maxLength: 30 })), (text) => {
        const ms = pastRfc3339Ms(text, NOW);
        if (ms === undefined) return;
        expect(ms).toBeLessThanOrEqual(NOW);
        expect(new Date(ms).toISOString().slice(0, 19)).toBe(text.slice(0, 19));
      }),
      fuzzRuns(1000),
    );
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: NOW }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(pastRfc3339Ms(text, NOW)).toBe(ms);
        expect(pastRfc3339Ms(text.replace(/\.\d+Z$/, 'Z'), NOW)).toBe(Math.floor(ms / 1000) * 1000);
        expect(pastRfc3339Ms(text, ms - 1)).toBeUndefined();
      }),
      fuzzRuns(500),
    );
  });
});
